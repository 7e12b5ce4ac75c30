"""Lambda functions: ``lambda``, ``lambdaVariables``, ``filter``, ``map``, ``reduce``, ``sort``, ``toObject``,
``mapValues``, ``groupBy``.

ARM JSON spells a lambda ``lambda('x', 'i', <body>)``: every argument but the last names a variable (a string
literal), the last is the body, read with ``lambdaVariables('x')``. ``map``/``filter`` pass the item and its index
(a lambda may take one or both); ``reduce`` passes the accumulator, the item and the index; ``sort`` calls its
lambda with two items and expects ``true`` when the first belongs before the second.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from ..errors import ExpressionError, see
from ..evaluator import LambdaValue, call_lambda
from ..nodes import Literal
from ..values import to_display, type_name
from .table import Invocation, fn, want_dict, want_list


@fn("lambda", 1, None, lazy=True)
def lambda_(inv: Invocation, args: Sequence[Any]) -> Any:
    nodes = inv.node.args
    params: list[str] = []
    for node in nodes[:-1]:
        if type(node) is not Literal or type(node.value) is not str:
            # azemu wording
            raise ExpressionError(
                "The template language function 'lambda' expects the names of its variables as string literals, "
                f"followed by the lambda body. {see()}"
            )
        params.append(node.value)
    return LambdaValue(tuple(params), nodes[-1], inv.evaluator, inv.env)


@fn("lambdaVariables", 1, 1)
def lambda_variables(inv: Invocation, args: Sequence[Any]) -> Any:
    name = args[0]
    scope = inv.env.lambda_vars or {}
    if type(name) is not str or name not in scope:
        # azemu wording
        raise ExpressionError(
            f"The template function 'lambdaVariables' refers to the lambda variable '{to_display(name)}', which is not "
            f"defined. {see()}"
        )
    return scope[name]


def _bool_result(name: str, v: Any) -> bool:
    if type(v) is not bool:
        raise ExpressionError(
            f"The template language function '{name}' expects its lambda to return a 'Boolean'. The returned value is "
            f"of type '{type_name(v)}'. {see()}"
        )
    return bool(v)


@fn("filter", 2, 2)
def filter_(inv: Invocation, args: Sequence[Any]) -> Any:
    items = want_list("filter", args, 0)
    return [x for i, x in enumerate(items) if _bool_result("filter", call_lambda(args[1], "filter", (x, i)))]


@fn("map", 2, 2)
def map_(inv: Invocation, args: Sequence[Any]) -> Any:
    items = want_list("map", args, 0)
    return [call_lambda(args[1], "map", (x, i)) for i, x in enumerate(items)]


@fn("reduce", 3, 3)
def reduce_(inv: Invocation, args: Sequence[Any]) -> Any:
    acc = args[1]
    for i, x in enumerate(want_list("reduce", args, 0)):
        acc = call_lambda(args[2], "reduce", (acc, x, i))
    return acc


@fn("sort", 2, 2)
def sort_(inv: Invocation, args: Sequence[Any]) -> Any:
    items = want_list("sort", args, 0)
    lam = args[1]

    def cmp(a: Any, b: Any) -> int:
        if _bool_result("sort", call_lambda(lam, "sort", (a, b))):
            return -1
        if _bool_result("sort", call_lambda(lam, "sort", (b, a))):
            return 1
        return 0

    return sorted(items, key=functools.cmp_to_key(cmp))


@fn("toObject", 2, 3)
def to_object(inv: Invocation, args: Sequence[Any]) -> Any:
    out: dict[str, Any] = {}
    for x in want_list("toObject", args, 0):
        key = call_lambda(args[1], "toObject", (x,))
        if type(key) is not str:
            raise ExpressionError(
                "The template language function 'toObject' expects its key lambda to return a 'String'. The returned "
                f"value is of type '{type_name(key)}'. {see()}"
            )
        out[key] = call_lambda(args[2], "toObject", (x,)) if len(args) == 3 else x
    return out


@fn("mapValues", 2, 2)
def map_values(inv: Invocation, args: Sequence[Any]) -> Any:
    return {k: call_lambda(args[1], "mapValues", (v,)) for k, v in want_dict("mapValues", args, 0).items()}


@fn("groupBy", 2, 2)
def group_by(inv: Invocation, args: Sequence[Any]) -> Any:
    out: dict[str, list[Any]] = {}
    for x in want_list("groupBy", args, 0):
        out.setdefault(to_display(call_lambda(args[1], "groupBy", (x,))), []).append(x)
    return out


SPECS = [lambda_, lambda_variables, filter_, map_, reduce_, sort_, to_object, map_values, group_by]
