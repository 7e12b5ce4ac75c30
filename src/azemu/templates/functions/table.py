"""The function table an evaluator calls through, and the helpers functions use to check their arguments.

A table is a value: deployments evaluate with the full ARM table, Azure Policy will pass its own (the pure ARM
functions plus ``field()``, ``current()``, ...). Names are case-insensitive, as in ARM. A table may have a
``fallback`` consulted for names it does not list (ARM's ``list*`` family: any function whose name starts with
``list``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..env import Env
from ..errors import ExpressionError, arg_count, see
from ..nodes import Call, Node
from ..values import is_int, type_name


class Evaluates(Protocol):
    """What a function implementation may ask of the evaluator running it (:class:`~..evaluator.Evaluator`)."""

    def evaluate(self, node: Node, env: Env) -> Any: ...


Thunk = Callable[[], Any]
FunctionImpl = Callable[["Invocation", Sequence[Any]], Any]


class Invocation:
    """One call being evaluated: what a function implementation may look at besides its arguments."""

    __slots__ = ("env", "evaluator", "node")

    def __init__(self, evaluator: Evaluates, env: Env, node: Call) -> None:
        self.evaluator = evaluator
        self.env = env
        self.node = node

    @property
    def written_name(self) -> str:
        """The function name as the template spells it."""
        return self.node.full_name


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A template function: its canonical name, implementation and arity.

    ``lazy`` functions receive thunks (zero-argument callables) instead of values, to evaluate only what they
    need (``if``, ``and``, ``or``, ``lambda``). ``arity_error`` replaces the generic argument-count message for
    functions whose real ARM text differs.
    """

    name: str
    impl: FunctionImpl
    min_args: int = 0
    max_args: int | None = None
    lazy: bool = False
    arity_error: Callable[[int], ExpressionError] | None = None


class FunctionTable:
    """An immutable, case-insensitive map from function name to :class:`FunctionSpec`."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec] = (),
        fallback: Callable[[str], FunctionSpec | None] | None = None,
    ) -> None:
        self._specs: dict[str, FunctionSpec] = {s.name.lower(): s for s in specs}
        self._fallback = fallback

    def lookup(self, name: str) -> FunctionSpec | None:
        spec = self._specs.get(name.lower())
        if spec is None and self._fallback is not None:
            return self._fallback(name)
        return spec

    def __contains__(self, name: str) -> bool:
        return self.lookup(name) is not None

    def names(self) -> list[str]:
        return sorted(s.name for s in self._specs.values())

    def with_functions(
        self, *specs: FunctionSpec, fallback: Callable[[str], FunctionSpec | None] | None = None
    ) -> FunctionTable:
        """A new table with ``specs`` added (replacing same-named ones) and optionally a new fallback."""
        out = FunctionTable((), fallback or self._fallback)
        out._specs = dict(self._specs)
        out._specs.update({s.name.lower(): s for s in specs})
        return out

    def without(self, *names: str) -> FunctionTable:
        out = FunctionTable((), self._fallback)
        drop = {n.lower() for n in names}
        out._specs = {k: v for k, v in self._specs.items() if k not in drop}
        return out

    def __or__(self, other: FunctionTable) -> FunctionTable:
        out = FunctionTable((), other._fallback or self._fallback)
        out._specs = {**self._specs, **other._specs}
        return out


def fn(
    name: str,
    min_args: int = 0,
    max_args: int | None = None,
    *,
    lazy: bool = False,
    arity_error: Callable[[int], ExpressionError] | None = None,
) -> Callable[[FunctionImpl], FunctionSpec]:
    """Decorator turning an implementation into a :class:`FunctionSpec`."""

    def make(impl: FunctionImpl) -> FunctionSpec:
        return FunctionSpec(name, impl, min_args, max_args, lazy, arity_error)

    return make


def check_arity(spec: FunctionSpec, got: int) -> None:
    if got < spec.min_args or (spec.max_args is not None and got > spec.max_args):
        if spec.arity_error is not None:
            raise spec.arity_error(got)
        raise arg_count(spec.name, spec.min_args, spec.max_args, got)


# --- argument checks with ARM's messages ---------------------------------------------------------------------

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def ordinal(i: int) -> str:
    return _ORDINALS[i] if i < len(_ORDINALS) else f"#{i + 1}"


def bad_arg(name: str, index: int, expected: str, value: Any) -> ExpressionError:
    # Real: "The template language function 'replace' expects its third parameter to be of type 'String'. The
    # provided value is of type 'Integer'." / "... 'split' expects its first parameter to be of type 'String'."
    return ExpressionError(
        f"The template language function '{name}' expects its {ordinal(index)} parameter to be of type "
        f"'{expected}'. The provided value is of type '{type_name(value)}'. {see()}"
    )


def want_str(name: str, args: Sequence[Any], i: int) -> str:
    v = args[i]
    if type(v) is not str:
        raise bad_arg(name, i, "String", v)
    return v


def want_int(name: str, args: Sequence[Any], i: int) -> int:
    v = args[i]
    if not is_int(v):
        raise bad_arg(name, i, "Integer", v)
    return int(v)


def want_bool(name: str, args: Sequence[Any], i: int) -> bool:
    v = args[i]
    if type(v) is not bool:
        raise bad_arg(name, i, "Boolean", v)
    return bool(v)


def want_list(name: str, args: Sequence[Any], i: int) -> list[Any]:
    v = args[i]
    if type(v) is not list:
        raise bad_arg(name, i, "Array", v)
    return v


def want_dict(name: str, args: Sequence[Any], i: int) -> dict[str, Any]:
    v = args[i]
    if type(v) is not dict:
        raise bad_arg(name, i, "Object", v)
    return v
