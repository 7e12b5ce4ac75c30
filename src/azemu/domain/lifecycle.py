"""Declared lifecycle tables.

Every resource kind declares its states and allowed transitions as one literal table (in the spirit of
OpenStack Glance's status machine). Every mutation asks the table for the next state; a refused transition
raises the Azure error the table names for that state. What the platform says about a state - the
``provisioningState`` the wire shows, whether it is transitional (and what it settles to), kind-specific
facts such as a VM's power state or generalized flag - is declared beside it, so the rule, its error and
its facts live in one place and nothing parses state names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azemu.domain.errors import AzureError, Conflict

RefusalFactory = Callable[[str, Mapping[str, Any]], AzureError]


def _default_refusal(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return Conflict(f"Operation '{action}' is not allowed in the current state '{ctx.get('state')}'.")


@dataclass(frozen=True)
class State:
    """What a state means on the wire and to other kinds.

    ``provisioning``: the ``provisioningState`` a GET shows; ``settles_to``: set for a transitional state
    (an operation is under way and will lead there); ``facts``: kind-specific facts (e.g. ``generalized``).
    """

    provisioning: str = "Succeeded"
    settles_to: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


_PLAIN = State()


@dataclass(frozen=True)
class Refusals:
    """Refusal texts as data: per (state, action), else per state, else ``default``.

    Each text is a ``str.format`` template over the context the mutation passes (``name``, ``state``,
    ``action``, ``op`` - the action's display name - and anything else it gives); ``error`` builds the
    error (its code and status) from the text.
    """

    error: Callable[[str], AzureError]
    default: str
    by_state: Mapping[str, str] = field(default_factory=dict)
    by_state_action: Mapping[tuple[str, str], str] = field(default_factory=dict)
    action_names: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, action: str, ctx: Mapping[str, Any]) -> AzureError:
        state = str(ctx.get("state"))
        text = self.by_state_action.get((state, action)) or self.by_state.get(state) or self.default
        values = {**ctx, "action": action, "op": self.action_names.get(action, action)}
        return self.error(text.format_map(_Blank(values)))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class StateTable:
    """``transitions[state][action] -> next state``; ``refusals[state]`` builds the error otherwise."""

    kind: str
    initial: str
    transitions: Mapping[str, Mapping[str, str]]
    refusals: Mapping[str, RefusalFactory] = field(default_factory=dict)
    terminal: frozenset[str] = frozenset()
    states_info: Mapping[str, State] = field(default_factory=dict)

    def __post_init__(self) -> None:
        states = set(self.transitions) | self.terminal
        for state, actions in self.transitions.items():
            for action, target in actions.items():
                if target not in states:
                    raise ValueError(f"{self.kind}: {state} --{action}--> unknown state {target}")
        if self.initial not in states:
            raise ValueError(f"{self.kind}: unknown initial state {self.initial}")
        for state, info in self.states_info.items():
            if state not in states:
                raise ValueError(f"{self.kind}: facts for unknown state {state}")
            if info.settles_to is not None and info.settles_to not in states:
                raise ValueError(f"{self.kind}: {state} settles to unknown state {info.settles_to}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions) | self.terminal

    def allows(self, state: str, action: str) -> bool:
        return action in self.transitions.get(state, {})

    def next(self, state: str, action: str, **ctx: Any) -> str:
        """The state after ``action`` from ``state``, or raise the error the table names."""
        actions = self.transitions.get(state)
        if actions is None and state not in self.terminal:
            raise ValueError(f"{self.kind}: unknown state {state!r}")
        if actions is not None and action in actions:
            return actions[action]
        factory = self.refusals.get(state, _default_refusal)
        raise factory(action, {**self.info(state).facts, "state": state, **ctx})

    # what a state means ------------------------------------------------------------------------------
    def info(self, state: str) -> State:
        return self.states_info.get(state, _PLAIN)

    def provisioning_state(self, state: str) -> str:
        return self.info(state).provisioning

    def transitional(self, state: str) -> bool:
        return self.info(state).settles_to is not None

    def fact(self, state: str, name: str, default: Any = None) -> Any:
        return self.info(state).facts.get(name, default)
