"""The policy function table: the pure ARM functions of ``azemu.templates`` plus what Azure Policy adds
(``field``, ``parameters``, ``resourceGroup``, ``subscription``, ``requestContext``, ``policy``, ``current``,
``ipRangeContains``, ``addDays``), evaluated by the shared :class:`~azemu.templates.Evaluator` in a
:class:`PolicyEnv` that carries the resource being evaluated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from azemu.domain.policy.paths import MISSING
from azemu.templates import (
    Env,
    Evaluator,
    ExpressionError,
    FunctionSpec,
    FunctionTable,
    Invocation,
    pure_functions,
)


class PolicyEnv(Env):
    """What one evaluation sees: the resource (through ``field``), the assignment's parameters, the resource
    group and subscription (loaded on first use), the request, and the members ``count`` is iterating."""

    __slots__ = ("_loaded", "_loader", "current", "field", "params", "policy", "request")

    def __init__(
        self,
        *,
        field: Callable[[str], Any],
        params: dict[str, Any],
        loader: Callable[[str], Any],
        request: dict[str, Any],
        policy: dict[str, Any],
        loaded: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.field = field
        self.params = params
        self._loader = loader  # "resourceGroup" | "subscription" -> value
        self._loaded: dict[str, Any] = {} if loaded is None else loaded  # shared by one write's evaluations
        self.request = request
        self.policy = policy
        self.current: dict[str, Any] = {}

    def _get(self, what: str) -> Any:
        if what not in self._loaded:
            self._loaded[what] = self._loader(what)
        return self._loaded[what]

    @property
    def resource_group(self) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._get("resourceGroup")
        return value

    @property
    def subscription(self) -> dict[str, Any]:
        value: dict[str, Any] = self._get("subscription")
        return value


class ResourceDependent(Exception):
    """Raised by resource-dependent functions while a rule is compiled: the expression cannot be folded."""


class StaticEnv(Env):
    """The env a rule's expressions are folded in at compile time: parameters only."""

    __slots__ = ("params",)

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__()
        self.params = params


def _env(inv: Invocation) -> PolicyEnv:
    env = inv.env
    if not isinstance(env, PolicyEnv):
        raise ResourceDependent()
    return env


def _parameters(inv: Invocation, args: Sequence[Any]) -> Any:
    name = args[0]
    params: dict[str, Any] = inv.env.params  # type: ignore[attr-defined]
    if not isinstance(name, str):
        raise ExpressionError("The template language function 'parameters' expects a string parameter.")
    for k, v in params.items():
        if k.lower() == name.lower():
            return v
    raise ExpressionError(f"The policy parameter '{name}' is not defined in the policy definition.")


def _field(inv: Invocation, args: Sequence[Any]) -> Any:
    value = _env(inv).field(str(args[0]))
    return None if value is MISSING else value


def _resource_group(inv: Invocation, args: Sequence[Any]) -> Any:
    rg = _env(inv).resource_group
    if rg is None:
        raise ExpressionError("The template function 'resourceGroup' is not expected at this location.")
    return rg


def _subscription(inv: Invocation, args: Sequence[Any]) -> Any:
    return _env(inv).subscription


def _request_context(inv: Invocation, args: Sequence[Any]) -> Any:
    return _env(inv).request


def _policy(inv: Invocation, args: Sequence[Any]) -> Any:
    return _env(inv).policy


def _current(inv: Invocation, args: Sequence[Any]) -> Any:
    env = _env(inv)
    if not env.current:
        raise ExpressionError("The 'current' function can only be used inside a count expression.")
    if not args:
        if len(env.current) == 1 or "" in env.current:
            return next(reversed(env.current.values()))
        raise ExpressionError("The 'current' function needs the name of the count being iterated.")
    key = str(args[0]).lower()
    if key not in env.current and "[*]" in key and any(k.endswith("[*]") for k in env.current):
        # a property of the member being counted: current('Microsoft.Network/.../subnets[*].addressPrefix')
        value = env.field(str(args[0]))
        return None if value is MISSING else value
    if key not in env.current:
        raise ExpressionError(
            f"The 'current' function refers to '{args[0]}', which no enclosing count iterates."
        )
    return env.current[key]


def _ip_range_contains(inv: Invocation, args: Sequence[Any]) -> Any:
    try:
        outer = ipaddress.ip_network(str(args[0]), strict=False)
        inner_text = str(args[1])
        inner = ipaddress.ip_network(inner_text, strict=False) if "/" in inner_text else None
        if inner is None:
            if "-" in inner_text:
                lo, hi = (ipaddress.ip_address(p.strip()) for p in inner_text.split("-", 1))
                return lo in outer and hi in outer
            return ipaddress.ip_address(inner_text) in outer
    except ValueError as e:
        raise ExpressionError(f"The function 'ipRangeContains' got an invalid IP range: {e}.") from e
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _add_days(inv: Invocation, args: Sequence[Any]) -> Any:
    text = str(args[0])
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    out = when + timedelta(days=float(args[1]))
    return (
        out.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if len(args) < 3
        else out.strftime(_net_format(str(args[2])))
    )


def _net_format(fmt: str) -> str:
    for net, py in (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")):
        fmt = fmt.replace(net, py)
    return fmt


def _spec(
    name: str, impl: Callable[[Invocation, Sequence[Any]], Any], lo: int, hi: int | None
) -> FunctionSpec:
    return FunctionSpec(name, impl, lo, hi)


@cache
def policy_functions() -> FunctionTable:
    """Pure ARM functions minus those Azure Policy does not offer, plus the policy functions."""
    return (
        pure_functions()
        .without("utcNow", "newGuid")
        .with_functions(
            _spec("parameters", _parameters, 1, 1),
            _spec("field", _field, 1, 1),
            _spec("resourceGroup", _resource_group, 0, 0),
            _spec("subscription", _subscription, 0, 0),
            _spec("requestContext", _request_context, 0, 0),
            _spec("policy", _policy, 0, 0),
            _spec("current", _current, 0, 1),
            _spec("ipRangeContains", _ip_range_contains, 2, 2),
            _spec("addDays", _add_days, 2, 3),
        )
    )


@cache
def evaluator() -> Evaluator:
    return Evaluator(policy_functions())
