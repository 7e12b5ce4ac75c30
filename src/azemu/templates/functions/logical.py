"""Logical and comparison functions: ``if``, ``and``, ``or``, ``not``, ``bool``, ``true``, ``false``, ``null``,
``coalesce``, ``equals``, ``greater``, ``greaterOrEquals``, ``less``, ``lessOrEquals``.

``if``, ``and`` and ``or`` evaluate lazily (ARM docs: with ``if`` only the branch that matches the condition is
evaluated). ``equals`` compares deeply and strings exactly; ``less``/``greater`` compare numbers by value and
strings in culture order, so ``greater('A', 'a')`` is true (docs example).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ExpressionError, see
from ..values import arm_equals, culture_compare, is_number, type_name
from .table import FunctionSpec, Invocation, bad_arg, fn


def _need_bool(name: str, value: Any, index: int) -> bool:
    if type(value) is not bool:
        raise bad_arg(name, index, "Boolean", value)
    return bool(value)


@fn("if", 3, 3, lazy=True)
def if_(inv: Invocation, args: Sequence[Any]) -> Any:
    cond = _need_bool("if", args[0](), 0)
    return args[1]() if cond else args[2]()


@fn("and", 2, None, lazy=True)
def and_(inv: Invocation, args: Sequence[Any]) -> Any:
    return all(_need_bool("and", thunk(), i) for i, thunk in enumerate(args))


@fn("or", 2, None, lazy=True)
def or_(inv: Invocation, args: Sequence[Any]) -> Any:
    return any(_need_bool("or", thunk(), i) for i, thunk in enumerate(args))


@fn("not", 1, 1)
def not_(inv: Invocation, args: Sequence[Any]) -> Any:
    return not _need_bool("not", args[0], 0)


@fn("bool", 1, 1)
def bool_(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if type(v) is bool:
        return v
    if type(v) is int:
        return v != 0
    if type(v) is str and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    # Real: "The template language function 'bool' was invoked with a parameter that is not valid. The value
    # cannot be converted to the target type." (Bicep baselines)
    raise ExpressionError(
        "The template language function 'bool' was invoked with a parameter that is not valid. The value cannot "
        f"be converted to the target type. {see()}"
    )


@fn("true", 0, 0)
def true_(inv: Invocation, args: Sequence[Any]) -> Any:
    return True


@fn("false", 0, 0)
def false_(inv: Invocation, args: Sequence[Any]) -> Any:
    return False


@fn("null", 0, 0)
def null_(inv: Invocation, args: Sequence[Any]) -> Any:
    return None


@fn("coalesce", 1, None)
def coalesce(inv: Invocation, args: Sequence[Any]) -> Any:
    for v in args:
        if v is not None:
            return v
    return None


@fn("equals", 2, 2)
def equals(inv: Invocation, args: Sequence[Any]) -> Any:
    return arm_equals(args[0], args[1])


def _compare(name: str, a: Any, b: Any) -> int:
    if is_number(a) and is_number(b):
        return -1 if a < b else (1 if a > b else 0)
    if type(a) is str and type(b) is str:
        return culture_compare(a, b)
    # azemu wording; ARM's exact text for mismatched comparison operands was not found.
    raise ExpressionError(
        f"The template language function '{name}' expects its parameters to be both integers or both strings. "
        f"The provided values are of type '{type_name(a)}' and '{type_name(b)}'. {see()}"
    )


def _comparison(name: str, test: Callable[[int], bool]) -> FunctionSpec:
    def impl(inv: Invocation, args: Sequence[Any]) -> Any:
        return test(_compare(name, args[0], args[1]))

    return FunctionSpec(name, impl, 2, 2)


SPECS = [
    if_,
    and_,
    or_,
    not_,
    bool_,
    true_,
    false_,
    null_,
    coalesce,
    equals,
    _comparison("greater", lambda c: c > 0),
    _comparison("greaterOrEquals", lambda c: c >= 0),
    _comparison("less", lambda c: c < 0),
    _comparison("lessOrEquals", lambda c: c <= 0),
]
