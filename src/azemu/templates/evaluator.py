"""Evaluation of expression trees against a function table.

The evaluator knows nothing about deployments: literals evaluate to themselves, a call looks its function up
in the table it was given (case-insensitively) and runs it, ``.name`` and ``[...]`` select properties and
elements with ARM's rules and messages. Everything a function needs beyond its arguments travels in the
:class:`Env` it runs in; hosts (the deployment engine, later Azure Policy) subclass :class:`Env` to carry their
own state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .env import Env
from .errors import FUNCTIONS_HELP, ExpressionError, function_not_valid, see
from .functions.table import Evaluates, FunctionTable, Invocation, check_arity
from .nodes import Call, Index, Literal, Member, Node
from .parser import is_expression, parse_expression, unescape_literal
from .values import find_key, is_int, type_name

Compiled = Callable[["Env"], Any]


class LambdaValue:
    """The value of ``lambda('x', 'y', body)``: callable by ``filter``, ``map``, ``reduce``, ``sort``, ..."""

    __slots__ = ("body", "env", "evaluator", "params")

    def __init__(self, params: tuple[str, ...], body: Node, evaluator: Evaluates, env: Env) -> None:
        self.params = params
        self.body = body
        self.evaluator = evaluator
        self.env = env

    def invoke(self, *values: Any) -> Any:
        bound = dict(zip(self.params, values, strict=False))
        return self.evaluator.evaluate(self.body, self.env.with_lambda_vars(bound))


class Evaluator:
    """Evaluates expression trees with one function table.

    Each tree is compiled once into nested closures with its functions already looked up (trees are shared through
    the parser's cache, so a copy loop compiles its expressions once and runs them per iteration).
    """

    __slots__ = ("_compiled", "functions")

    def __init__(self, functions: FunctionTable) -> None:
        self.functions = functions
        self._compiled: dict[Node, Compiled] = {}

    def evaluate(self, node: Node, env: Env) -> Any:
        fn = self._compiled.get(node)
        if fn is None:
            fn = self._compile(node)
            if len(self._compiled) > 50_000:
                self._compiled.clear()
            self._compiled[node] = fn
        return fn(env)

    def evaluate_string(self, s: str, env: Env) -> Any:
        """A template string: its expression's value, or its literal text."""
        if is_expression(s):
            return self.evaluate(parse_expression(s[1:-1]), env)
        return unescape_literal(s)

    def _compile(self, node: Node) -> Compiled:
        t = type(node)
        if t is Literal:
            value = node.value  # type: ignore[union-attr]
            return lambda env: value
        if t is Member:
            target = self._compile(node.target)  # type: ignore[union-attr]
            name = node.name  # type: ignore[union-attr]
            return lambda env: select_property(target(env), name)
        if t is Index:
            base = self._compile(node.target)  # type: ignore[union-attr]
            index = self._compile(node.index)  # type: ignore[union-attr]
            return lambda env: select_index(base(env), index(env))
        return self._compile_call(node)  # type: ignore[arg-type]

    def _compile_call(self, node: Call) -> Compiled:
        spec = self.functions.lookup(node.full_name)
        if spec is None:
            error = node.full_name

            def unknown(env: Env) -> Any:
                raise function_not_valid(error)

            return unknown
        arity_ok = spec.min_args <= len(node.args) and (
            spec.max_args is None or len(node.args) <= spec.max_args
        )
        if not arity_ok:

            def wrong_arity(env: Env) -> Any:
                check_arity(spec, len(node.args))
                return None

            return wrong_arity
        args = [self._compile(a) for a in node.args]
        impl, lazy, name = spec.impl, spec.lazy, spec.name

        def call(env: Env) -> Any:
            values: list[Any] = [_thunk(a, env) for a in args] if lazy else [a(env) for a in args]
            try:
                return impl(Invocation(self, env, node), values)
            except (ValueError, TypeError, ArithmeticError, IndexError, KeyError, RecursionError) as e:
                # a function meeting a value it did not foresee: report it as ARM reports a failed function
                raise ExpressionError(
                    f"Unable to evaluate template language function '{name}': {e}. {see(FUNCTIONS_HELP)}"
                ) from e

        return call


def _thunk(fn: Compiled, env: Env) -> Any:
    return lambda: fn(env)


def select_property(target: Any, name: str) -> Any:
    """``target.name``: a property of an object, looked up ignoring case."""
    if type(target) is dict:
        key = find_key(target, name)
        if key is None:
            # Real: "The language expression property 'templateLink' doesn't exist, available properties are
            # 'template, templateHash, parameters, mode, debugSetting, provisioningState'."
            raise ExpressionError(
                f"The language expression property '{name}' doesn't exist, available properties are "
                f"'{', '.join(target)}'."
            )
        return target[key]
    if target is None:
        # Real: "The language expression property 'token' can't be evaluated." (property of a null value)
        raise ExpressionError(f"The language expression property '{name}' can't be evaluated.")
    # azemu wording for selecting a property of a non-object.
    raise ExpressionError(
        f"The language expression property '{name}' can't be evaluated, the value is of type "
        f"'{type_name(target)}'; property selection is supported on objects only."
    )


def select_index(target: Any, key: Any) -> Any:
    """``target[key]``: an array element by integer index, or an object property by name."""
    if type(target) is list:
        if not is_int(key):
            # azemu wording
            raise ExpressionError(
                f"The language expression array index must be an integer, but the provided value is of type "
                f"'{type_name(key)}'."
            )
        if key < 0 or key >= len(target):
            # Real: "The language expression property array index '1' is out of bounds."
            raise ExpressionError(f"The language expression property array index '{key}' is out of bounds.")
        return target[key]
    if type(key) is str:
        return select_property(target, key)
    if target is None:
        raise ExpressionError(f"The language expression property '{key}' can't be evaluated.")
    raise ExpressionError(
        f"The language expression property '{key}' can't be evaluated, the value is of type "
        f"'{type_name(target)}' and the index of type '{type_name(key)}'."
    )


def call_lambda(value: Any, function: str, args: Sequence[Any]) -> Any:
    if not isinstance(value, LambdaValue):
        # azemu wording
        raise ExpressionError(
            f"The template language function '{function}' expects a lambda function as its parameter. The "
            f"provided value is of type '{type_name(value)}'."
        )
    return value.invoke(*args)
