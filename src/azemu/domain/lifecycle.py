"""Declared lifecycle tables.

Every resource family declares its states and allowed transitions as one literal table (in the spirit of
OpenStack Glance's status machine). Every mutation asks the table for the next state; a refused transition
raises the Azure error the table names for that state, so the rule and its error live in one place.
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
class StateTable:
    """``transitions[state][action] -> next state``; ``refusals[state]`` builds the error otherwise."""

    kind: str
    initial: str
    transitions: Mapping[str, Mapping[str, str]]
    refusals: Mapping[str, RefusalFactory] = field(default_factory=dict)
    terminal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        states = set(self.transitions) | self.terminal
        for state, actions in self.transitions.items():
            for action, target in actions.items():
                if target not in states:
                    raise ValueError(f"{self.kind}: {state} --{action}--> unknown state {target}")
        if self.initial not in states:
            raise ValueError(f"{self.kind}: unknown initial state {self.initial}")

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
        raise factory(action, {"state": state, **ctx})
