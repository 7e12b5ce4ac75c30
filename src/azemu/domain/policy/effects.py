"""What an effect does to a request: ``append`` and ``modify`` change the body, ``deny`` and ``denyAction``
refuse it with ARM's ``RequestDisallowedByPolicy`` (403), naming the policies as Azure names them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azemu.domain.errors import AzureError
from azemu.domain.policy import paths


class RequestDisallowedByPolicy(AzureError):
    code, status = "RequestDisallowedByPolicy", 403


@dataclass
class Violation:
    """One policy that denies a request: the identifiers Azure reports and the evaluation details."""

    assignment: dict[str, Any]  # {"id", "name", "displayName", "scope", "parameters"}
    definition: dict[str, Any]  # {"id", "name", "displayName", "version"}
    set_definition: dict[str, Any] | None
    reference_id: str | None
    effect: str
    message: str | None
    evaluated: list[dict[str, Any]] = field(default_factory=list)
    exemptions: list[str] = field(default_factory=list)

    def identifiers(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "policyAssignment": {
                "name": self.assignment.get("displayName") or self.assignment["name"],
                "id": self.assignment["id"],
            },
            "policyDefinition": {
                "name": self.definition.get("displayName") or self.definition["name"],
                "id": self.definition["id"],
                "version": self.definition.get("version", "1.0.0"),
            },
        }
        if self.set_definition is not None:
            out["policySetDefinition"] = {
                "name": self.set_definition.get("displayName") or self.set_definition["name"],
                "id": self.set_definition["id"],
                "version": self.set_definition.get("version", "1.0.0"),
            }
        return out

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.set_definition is not None:
            info["policySetDefinitionDisplayName"] = self.set_definition.get("displayName") or ""
        info["policyDefinitionDisplayName"] = self.definition.get("displayName") or ""
        info["policyDefinitionVersion"] = self.definition.get("version", "1.0.0")
        info["evaluationDetails"] = {"evaluatedExpressions": self.evaluated}
        info["policyDefinitionId"] = self.definition["id"]
        info["policyDefinitionName"] = self.definition["name"]
        info["policyDefinitionEffect"] = self.effect
        if self.set_definition is not None:
            info["policySetDefinitionId"] = self.set_definition["id"]
            info["policySetDefinitionName"] = self.set_definition["name"]
            info["policySetDefinitionVersion"] = self.set_definition.get("version", "1.0.0")
            info["policyDefinitionReferenceId"] = self.reference_id
        info["policyAssignmentId"] = self.assignment["id"]
        info["policyAssignmentName"] = self.assignment["name"]
        info["policyAssignmentDisplayName"] = self.assignment.get("displayName") or ""
        info["policyAssignmentScope"] = self.assignment.get("scope", "")
        info["policyAssignmentParameters"] = self.assignment.get("parameters") or {}
        info["policyExemptionIds"] = self.exemptions
        info["policyEnrollmentIds"] = []
        return info


def disallowed(resource_name: str, violations: list[Violation]) -> RequestDisallowedByPolicy:
    """ARM's 403 for a request that policy denies (Azure's text, the identifiers as a JSON array)."""
    reasons = [v.message for v in violations if v.message]
    if reasons:
        joined = "', '".join(reasons)
        message = (
            f"Resource '{resource_name}' was disallowed by policy. Reasons: '{joined}'. See error details for policy "
            "resource IDs."
        )
    else:
        ids = json.dumps([v.identifiers() for v in violations], separators=(",", ":"))
        message = f"Resource '{resource_name}' was disallowed by policy. Policy identifiers: '{ids}'."
    return RequestDisallowedByPolicy(
        message,
        target=resource_name,
        additional_info=[{"type": "PolicyViolation", "info": v.info()} for v in violations],
    )


def action_denied(resource_name: str, action: str, violations: list[Violation]) -> RequestDisallowedByPolicy:
    """A ``denyAction`` refusal (deleting a protected resource)."""
    ids = json.dumps([v.identifiers() for v in violations], separators=(",", ":"))
    return RequestDisallowedByPolicy(
        f"The action '{action}' on resource '{resource_name}' was disallowed by policy. Policy identifiers: '{ids}'.",
        target=resource_name,
        additional_info=[{"type": "PolicyViolation", "info": v.info()} for v in violations],
    )


# append / modify ------------------------------------------------------------------------------------------
def _body_path(field_name: str, aliases: Mapping[str, str]) -> paths.Path | None:
    return paths.field_path(field_name, aliases)


def _set(body: dict[str, Any], path: paths.Path, value: Any, *, replace: bool) -> bool:
    """Set ``value`` at ``path`` (creating objects on the way); a ``[*]`` step appends array members."""
    node: Any = body
    steps = path.steps
    for i, (k, star) in enumerate(steps):
        last = i == len(steps) - 1
        if type(node) is not dict:
            return False
        existing = next((key for key in node if key.lower() == k.lower()), None)
        k = existing or k
        if star:
            arr = node.get(k)
            if type(arr) is not list:
                arr = node[k] = []
            if last:
                items = value if type(value) is list else [value]
                arr.extend(x for x in items if x not in arr)
                return True
            changed = False
            for member in arr:
                if type(member) is dict:
                    changed |= _set(member, paths.Path(steps[i + 1 :], path.text), value, replace=replace)
            return changed
        if last:
            if existing is not None and node[k] is not None and not replace:
                return False
            node[k] = value
            return True
        if type(node.get(k)) is not dict:
            node[k] = {}
        node = node[k]
    return False


def _remove(body: dict[str, Any], path: paths.Path) -> bool:
    node: Any = body
    for i, (k, _star) in enumerate(path.steps):
        if type(node) is not dict:
            return False
        existing = next((key for key in node if key.lower() == k.lower()), None)
        if existing is None:
            return False
        if i == len(path.steps) - 1:
            del node[existing]
            return True
        node = node[existing]
    return False


def apply_modify(body: dict[str, Any], operations: list[dict[str, Any]], aliases: Mapping[str, str]) -> bool:
    """``modify``: ``add`` (only where absent), ``addOrReplace``, ``remove`` on tags and aliased properties."""
    changed = False
    for op in operations:
        kind = str(op.get("operation", "")).lower()
        path = _body_path(str(op.get("field", "")), aliases)
        if path is None:
            continue
        if kind == "remove":
            changed |= _remove(body, path)
        elif kind in ("add", "addorreplace"):
            changed |= _set(body, path, op.get("value"), replace=kind == "addorreplace")
    return changed


def apply_append(body: dict[str, Any], details: list[dict[str, Any]], aliases: Mapping[str, str]) -> bool:
    """``append``: each ``{field, value}`` added where absent (``[*]`` fields gain members)."""
    changed = False
    for d in details:
        path = _body_path(str(d.get("field", "")), aliases)
        if path is not None:
            changed |= _set(body, path, d.get("value"), replace=False)
    return changed
