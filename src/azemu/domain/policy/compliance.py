"""Policy states (``Microsoft.PolicyInsights``): the latest compliance of each resource against each policy of
each assignment, with the reasons, as ``az policy state list`` and ``summarize`` show them.

States are derived data: kept in memory, replaced by every evaluation (on a write, on an assignment change, on
``triggerEvaluation``) and rebuilt by a full scan after a restart, before the first query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from azemu.domain import timefmt


@dataclass(slots=True)
class State:
    """One (assignment, policy, resource) result."""

    resource_id: str
    resource_type: str
    resource_location: str
    resource_group: str
    subscription_id: str
    resource_tags: dict[str, str]
    assignment: dict[str, Any]
    definition: dict[str, Any]
    set_definition: dict[str, Any] | None
    reference_id: str | None
    effect: str
    compliance: str  # Compliant | NonCompliant | Exempt
    timestamp: float
    evaluated: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    group_names: tuple[str, ...] = ()

    def key(self) -> tuple[str, str, str]:
        return (self.assignment["id"].lower(), (self.reference_id or "").lower(), self.resource_id.lower())

    def view(self, expand_details: bool) -> dict[str, Any]:
        a, d, s = self.assignment, self.definition, self.set_definition
        out: dict[str, Any] = {
            "@odata.id": None,
            "@odata.context": "https://management.azure.com/subscriptions/"
            f"{self.subscription_id}/providers/Microsoft.PolicyInsights/policyStates/$metadata#latest/$entity",
            "timestamp": timefmt.iso(self.timestamp).replace("+00:00", "Z"),
            "resourceId": self.resource_id,
            "policyAssignmentId": a["id"],
            "policyDefinitionId": d["id"],
            "effectiveParameters": "",
            "isCompliant": self.compliance == "Compliant",
            "subscriptionId": self.subscription_id,
            "resourceType": self.resource_type,
            "resourceLocation": self.resource_location,
            "resourceGroup": self.resource_group,
            "resourceTags": "tbd" if not self.resource_tags else str(self.resource_tags),
            "policyAssignmentName": a["name"],
            "policyAssignmentOwner": "tbd",
            "policyAssignmentParameters": _json(a.get("parameters") or {}),
            "policyAssignmentScope": a.get("scope", ""),
            "policyDefinitionName": d["name"],
            "policyDefinitionAction": self.effect.lower(),
            "policyDefinitionCategory": str((d.get("metadata") or {}).get("category", "tbd")),
            "policySetDefinitionId": s["id"] if s else "",
            "policySetDefinitionName": s["name"] if s else "",
            "policySetDefinitionOwner": "",
            "policySetDefinitionCategory": str((s.get("metadata") or {}).get("category", "")) if s else "",
            "policySetDefinitionParameters": "",
            "managementGroupIds": "",
            "policyDefinitionReferenceId": self.reference_id or "",
            "complianceState": self.compliance,
            "policyDefinitionGroupNames": list(self.group_names),
            "policyDefinitionVersion": d.get("version", "1.0.0"),
            "policySetDefinitionVersion": s.get("version", "") if s else "",
            "policyAssignmentVersion": "",
        }
        if expand_details:
            out["policyEvaluationDetails"] = {"evaluatedExpressions": self.evaluated}
        return out


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


class ComplianceStore:
    """The latest states, by (assignment, reference id, resource)."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str, str], State] = {}
        self._lock = threading.Lock()
        self.scanned = False

    def record(self, states: Iterable[State]) -> None:
        with self._lock:
            for s in states:
                self._states[s.key()] = s

    def forget(self, predicate: Callable[[tuple[str, str, str]], bool]) -> None:
        with self._lock:
            for k in [k for k in self._states if predicate(k)]:
                del self._states[k]

    def forget_resource(self, resource_key: str) -> None:
        self.forget(lambda k: k[2] == resource_key)

    def forget_assignment(self, assignment_key: str) -> None:
        self.forget(lambda k: k[0] == assignment_key)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self.scanned = False

    def query(self, keep: Callable[[State], bool]) -> list[State]:
        with self._lock:
            found = [s for s in self._states.values() if keep(s)]
        return sorted(found, key=lambda s: (s.timestamp, s.resource_id.lower()), reverse=True)


def summarize(states: list[State], top: int | None = None) -> dict[str, Any]:
    """The ``summarize`` answer: non-compliant counts overall, per assignment and per policy."""
    non = [s for s in states if s.compliance == "NonCompliant"]

    def results(group: list[State]) -> dict[str, Any]:
        bad = [s for s in group if s.compliance == "NonCompliant"]
        resources = {s.resource_id.lower() for s in group}
        bad_res = {s.resource_id.lower() for s in bad}
        return {
            "queryResultsUri": None,
            "nonCompliantResources": len(bad_res),
            "nonCompliantPolicies": len({(s.assignment["id"].lower(), s.reference_id) for s in bad}),
            "resourceDetails": _details(group, resources, key=lambda s: s.resource_id.lower()),
            "policyDetails": _details(
                group,
                {(s.assignment["id"].lower(), s.reference_id) for s in group},
                key=lambda s: (s.assignment["id"].lower(), s.reference_id),
            ),
            "policyGroupDetails": [],
        }

    by_assignment: dict[str, list[State]] = {}
    for s in states:
        by_assignment.setdefault(s.assignment["id"].lower(), []).append(s)
    assignments = []
    for group in by_assignment.values():
        first = group[0]
        policies = []
        by_policy: dict[str | None, list[State]] = {}
        for s in group:
            by_policy.setdefault(s.reference_id, []).append(s)
        for ref, members in by_policy.items():
            policies.append(
                {
                    "policyDefinitionId": members[0].definition["id"],
                    "policyDefinitionReferenceId": ref or "",
                    "policyDefinitionGroupNames": list(members[0].group_names),
                    "effect": members[0].effect.lower(),
                    "results": results(members),
                }
            )
        assignments.append(
            {
                "policyAssignmentId": first.assignment["id"],
                "policySetDefinitionId": first.set_definition["id"] if first.set_definition else "",
                "results": results(group),
                "policyDefinitions": policies,
                "policyGroups": [],
            }
        )
    assignments.sort(key=lambda a: -a["results"]["nonCompliantResources"])
    if top is not None:
        assignments = assignments[:top]
    del non
    return {
        "@odata.id": None,
        "@odata.context": "https://management.azure.com/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary/$entity",
        "results": results(states),
        "policyAssignments": assignments,
    }


def _details(group: list[State], universe: set[Any], key: Callable[[State], Any]) -> list[dict[str, Any]]:
    worst: dict[Any, str] = {}
    rank = {"NonCompliant": 2, "Compliant": 1, "Exempt": 0}
    for s in group:
        k = key(s)
        if rank.get(s.compliance, 0) >= rank.get(worst.get(k, "Exempt"), 0):
            worst[k] = s.compliance
    counts: dict[str, int] = {}
    for state in worst.values():
        counts[state.lower()] = counts.get(state.lower(), 0) + 1
    return [{"complianceState": c, "count": n} for c, n in sorted(counts.items())]
