"""Fault injection: rules that make matching operations fail or run slower."""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FaultRule:
    """Matches an operation kind (exact, or ``*``) and, optionally, a substring of its resource id.

    ``action`` is ``fail`` (the operation ends Failed with ``error``) or ``delay`` (``delay_seconds``
    more on azemu's clock). ``remaining`` counts down per match; ``None`` means forever.
    """

    kind: str = "*"
    resource_contains: str | None = None
    action: str = "fail"
    error_code: str = "InternalOperationError"
    error_message: str = "An internal execution error occurred. (injected by azemu)"
    delay_seconds: float = 0.0
    remaining: int | None = None
    region: str | None = None  # only this region of a replicated operation (gallery image versions)
    detail: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def matches(self, kind: str, resource_id: str | None, region: str | None = None) -> bool:
        if self.kind not in ("*", kind):
            return False
        if self.region is not None and (region is None or _squash(self.region) != _squash(region)):
            return False
        if self.resource_contains is None:
            return True
        return resource_id is not None and self.resource_contains.lower() in resource_id.lower()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultRegistry:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        if rule.action not in ("fail", "delay"):
            raise ValueError("action must be 'fail' or 'delay'")
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, kind: str, resource_id: str | None, region: str | None = None) -> list[FaultRule]:
        """The rules that apply to one new operation (consuming their counts)."""
        hits: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.matches(kind, resource_id, region) and (rule.remaining is None or rule.remaining > 0):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    hits.append(rule)
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return hits


def _squash(text: str) -> str:
    return "".join(text.split()).lower()
