"""The policy resources as data: types, ids, errors, and what a definition, an assignment and an exemption
say (parameters with their defaults, scopes, enforcement, expiry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azemu.domain.errors import AzureError

NS = "Microsoft.Authorization"
DEFINITIONS = f"{NS}/policyDefinitions"
SET_DEFINITIONS = f"{NS}/policySetDefinitions"
ASSIGNMENTS = f"{NS}/policyAssignments"
EXEMPTIONS = f"{NS}/policyExemptions"
POLICY_TYPES = frozenset(t.lower() for t in (DEFINITIONS, SET_DEFINITIONS, ASSIGNMENTS, EXEMPTIONS))


class PolicyError(AzureError):
    code, status = "InvalidRequestContent", 400


def not_found(kind: str, name: str) -> AzureError:
    texts = {
        "PolicyDefinitionNotFound": f"The policy definition '{name}' could not be found.",
        "PolicySetDefinitionNotFound": f"The policy set definition '{name}' could not be found.",
        "PolicyAssignmentNotFound": f"The policy assignment '{name}' is not found.",
        "PolicyExemptionNotFound": f"The policy exemption '{name}' is not found.",
    }
    return AzureError(texts[kind], code=kind, status=404)


def scope_of(rid: str) -> str:
    """The scope an extension resource sits at: what precedes its last ``/providers/Microsoft.Authorization``."""
    low = rid.lower()
    i = low.rfind("/providers/microsoft.authorization/")
    return rid[:i] if i >= 0 else ""


def name_of(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


def key(rid: str) -> str:
    return rid.lower().rstrip("/")


def in_scope(resource_key: str, scope_key: str) -> bool:
    """Is the resource at or below the scope (both lower-case ids)?"""
    return resource_key == scope_key or resource_key.startswith(scope_key + "/") or scope_key == ""


def effective_parameters(declared: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter values: what the assignment gives (``{"p": {"value": v}}``), else the definition's defaults."""
    out: dict[str, Any] = {}
    given_ci = {k.lower(): v for k, v in (given or {}).items()}
    for name, spec in (declared or {}).items():
        g = given_ci.get(name.lower())
        if isinstance(g, dict) and "value" in g:
            out[name] = g["value"]
        elif isinstance(spec, dict) and "defaultValue" in spec:
            out[name] = spec["defaultValue"]
    return out


@dataclass(frozen=True)
class Member:
    """One policy definition as an assignment applies it (directly, or as a member of an initiative)."""

    definition_id: str
    definition: dict[str, Any]  # the definition's document
    params: dict[str, Any]
    reference_id: str | None = None
    group_names: tuple[str, ...] = ()


@dataclass
class Exemption:
    id: str
    scope_key: str
    assignment_key: str
    reference_ids: frozenset[str]
    category: str
    expires: float | None
    document: dict[str, Any] = field(default_factory=dict)
