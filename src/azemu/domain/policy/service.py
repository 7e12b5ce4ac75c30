"""The policy resources of ``Microsoft.Authorization``: definitions and set definitions (initiatives) at
subscription scope, assignments and exemptions at subscription, resource-group and resource scope.

Each type is a :class:`~azemu.domain.kinds.KindSpec` served by :class:`PolicyResources` through the registry.
Built-in definitions are Microsoft's (``builtins``): listed beside the custom ones, never stored. Every change
tells the engine (``on_change``), which recompiles the rules once and re-evaluates compliance.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, shapes, timefmt
from azemu.domain.errors import AzureError, InvalidRequestContent
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.policy import builtins
from azemu.domain.policy.model import (
    ASSIGNMENTS,
    DEFINITIONS,
    EXEMPTIONS,
    SET_DEFINITIONS,
    PolicyError,
    effective_parameters,
    key,
    name_of,
    not_found,
    scope_of,
)
from azemu.domain.policy.rules import PolicyRuleError, compile_rule, static_value
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.resources import check_preconditions, new_etag
from azemu.domain.shapes import Choice
from azemu.domain.tracked import SIMPLE_LIFECYCLE
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

_META = {"displayName": str, "description": str, "metadata": dict, "version": str}
# request shapes: the spec's (scripts/gen-shapes, from azure-mgmt-resource-policy) where the pinned SDK models
# the kind; exemptions keep a hand-written one (no pinned SDK models Microsoft.Authorization/policyExemptions)
SHAPES: dict[str, Any] = {
    DEFINITIONS: shapes.kind_shape(DEFINITIONS),
    SET_DEFINITIONS: shapes.kind_shape(SET_DEFINITIONS),
    ASSIGNMENTS: shapes.kind_shape(ASSIGNMENTS),
    EXEMPTIONS: {
        "properties": {
            **_META,
            "policyAssignmentId": str,
            "policyDefinitionReferenceIds": [str],
            "exemptionCategory": Choice("Waiver", "Mitigated"),
            "expiresOn": str,
            "assignmentScopeValidation": str,
        }
    },
}


def _spec(
    full_type: str, description: str, scope: str, operations: dict[str, float] | None = None
) -> KindSpec:
    return KindSpec(
        type=full_type,
        lro_family="Microsoft.Resources",
        lifecycle=SIMPLE_LIFECYCLE,
        shape=SHAPES[full_type],
        operations=operations or {},
        description=description,
        scope=scope,
    )


DEFINITION_KIND = _spec(
    DEFINITIONS, "Azure Policy definitions (custom, and Microsoft's built-ins).", "subscription"
)
SET_DEFINITION_KIND = _spec(
    SET_DEFINITIONS, "Azure Policy initiatives (policy set definitions).", "subscription"
)
ASSIGNMENT_KIND = _spec(
    ASSIGNMENTS,
    "Policy assignments at subscription, resource-group and resource scope: deny, audit, append, "
    "modify, denyAction, auditIfNotExists, deployIfNotExists, evaluated on every write.",
    "extension",
    # an existence check (auditIfNotExists/deployIfNotExists) runs ~10 minutes after the write; an on-demand
    # scan (triggerEvaluation) takes minutes in Azure
    {"evaluate": 600.0, "scan": 300.0},
)
EXEMPTION_KIND = _spec(
    EXEMPTIONS, "Policy exemptions (Waiver, Mitigated) with expiry on azemu's clock.", "extension"
)
KINDS = (DEFINITION_KIND, SET_DEFINITION_KIND, ASSIGNMENT_KIND, EXEMPTION_KIND)

EFFECTS = frozenset(
    {
        "deny",
        "audit",
        "append",
        "modify",
        "disabled",
        "denyaction",
        "auditifnotexists",
        "deployifnotexists",
        "manual",
    }
)
_NOT_FOUND = {
    DEFINITIONS.lower(): "PolicyDefinitionNotFound",
    SET_DEFINITIONS.lower(): "PolicySetDefinitionNotFound",
    ASSIGNMENTS.lower(): "PolicyAssignmentNotFound",
    EXEMPTIONS.lower(): "PolicyExemptionNotFound",
}


def _type_of(rid: str) -> str:
    low = rid.lower()
    for t in (EXEMPTIONS, ASSIGNMENTS, SET_DEFINITIONS, DEFINITIONS):
        if f"/providers/{t.lower()}/" in low:
            return t
    raise InvalidRequestContent(f"'{rid}' is not the id of a policy resource.")


def _system_data(who: str, now: float, created: dict[str, Any] | None = None) -> dict[str, Any]:
    stamp = timefmt.iso(now).replace("+00:00", "Z")
    base = created or {"createdBy": who, "createdByType": "Application", "createdAt": stamp}
    return {**base, "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": stamp}


class PolicyResources:
    """The kind service of the four policy resource types."""

    def __init__(self, store: Store, clock: Clock, groups: ResourceGroups, registry: Registry) -> None:
        self.store = store
        self.clock = clock
        self.groups = groups
        self.registry = registry
        self.on_change: Callable[[str], None] = lambda rid: None  # the engine's hook (set by the emulator)
        for spec in KINDS:
            registry.register(spec, self)

    # reads -------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = tx.get_resource(key(rid))
        if rec is None:
            raise not_found(_NOT_FOUND[_type_of(rid).lower()], name_of(rid))
        return rec

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        doc: dict[str, Any] = {"properties": copy.deepcopy(rec.body.get("properties") or {})}
        for extra in ("location", "identity"):
            if rec.body.get(extra) is not None:
                doc[extra] = rec.body[extra]
        doc.update(id=rec.id, type=rec.type, name=rec.name)
        if rec.body.get("systemData"):
            doc["systemData"] = rec.body["systemData"]
        return doc

    def show(self, rid: str) -> dict[str, Any]:
        """A definition or set definition (built-in ones included), an assignment or an exemption."""
        t = _type_of(rid)
        if t == DEFINITIONS and rid.lower().startswith("/providers/"):
            found = builtins.definition(name_of(rid))
            if found is None:
                raise not_found("PolicyDefinitionNotFound", name_of(rid))
            return _builtin_view(found)
        if t == DEFINITIONS:
            found = builtins.definition(name_of(rid)) if self._is_builtin_id(rid) else None
            if found is not None:
                return _builtin_view(found)
        return self.document(self.get(rid))

    @staticmethod
    def _is_builtin_id(rid: str) -> bool:
        return rid.lower().startswith("/providers/microsoft.authorization/policydefinitions/")

    def definition(self, definition_id: str) -> dict[str, Any] | None:
        """A definition's document by id (built-in or custom); None when there is none."""
        if self._is_builtin_id(definition_id):
            found = builtins.definition(name_of(definition_id))
            return _builtin_view(found) if found is not None else None
        with self.store.read() as tx:
            rec = tx.get_resource(key(definition_id))
        return self.document(rec) if rec is not None else None

    def listing(
        self, full_type: str, subscription_id: str | None, *, builtin: bool = True
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if full_type == DEFINITIONS and builtin:
            out += [_builtin_view(d) for d in builtins.definitions()]
        if subscription_id is not None:
            with self.store.read() as tx:
                recs = tx.list_resources(subscription_id=subscription_id, type=full_type)
            out += [self.document(r) for r in sorted(recs, key=lambda r: r.created_at)]
        return out

    def records(self, full_type: str, subscription_id: str | None = None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            return tx.list_resources(subscription_id=subscription_id, type=full_type)

    # writes ------------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        t = _type_of(w.rid)
        body = copy.deepcopy(w.body)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'properties' is required."
            )
        who = w.client.get("oid") or w.client.get("appid") or ""
        if t == DEFINITIONS:
            self._check_definition(w.rid, props)
        elif t == SET_DEFINITIONS:
            self._check_set_definition(w.rid, props)
        elif t == ASSIGNMENTS:
            self._check_assignment(w.rid, props)
        else:
            self._check_exemption(w.rid, props)
        p = ids.parse(scope_of(w.rid)) if scope_of(w.rid) else None
        with self.store.transaction() as tx:
            existing = tx.get_resource(key(w.rid))
            check_preconditions(existing, w.if_match, w.if_none_match)
            if p is not None and p.resource_group is not None:
                self.groups.require(tx, p.subscription, p.resource_group)
            now = self.clock.now()
            stamp = timefmt.iso(now).replace("+00:00", "Z")
            meta = props.setdefault("metadata", {}) if isinstance(props.get("metadata", {}), dict) else {}
            if t in (DEFINITIONS, SET_DEFINITIONS):
                props["policyType"] = "Custom"
                meta.setdefault("createdBy", who)
                meta.setdefault("createdOn", stamp)
                if existing is not None:
                    old = (existing.body.get("properties") or {}).get("metadata") or {}
                    meta["createdBy"], meta["createdOn"] = (
                        old.get("createdBy", who),
                        old.get("createdOn", stamp),
                    )
                    meta["updatedBy"], meta["updatedOn"] = who, stamp
                else:
                    meta.setdefault("updatedBy", None)
                    meta.setdefault("updatedOn", None)
                props.setdefault("version", "1.0.0")
                props.setdefault("versions", [props["version"]])
                if t == DEFINITIONS:
                    props.setdefault("mode", "Indexed")
                    props.setdefault("parameters", {})
                else:
                    props.setdefault("parameters", {})
                    props.setdefault("policyDefinitionGroups", [])
            elif t == ASSIGNMENTS:
                props["scope"] = scope_of(w.rid)
                props.setdefault("notScopes", [])
                props.setdefault("enforcementMode", "Default")
                props.setdefault("parameters", {})
                props.setdefault("definitionVersion", "1.*.*")
                meta.setdefault("createdBy", who)
                meta.setdefault("createdOn", stamp)
                if existing is not None:
                    meta["updatedBy"], meta["updatedOn"] = who, stamp
                props.setdefault("assignmentType", "Custom")
            else:
                props.setdefault("policyDefinitionReferenceIds", [])
                props.setdefault("assignmentScopeValidation", "Default")
            created = None if existing is None else existing.body.get("systemData")
            body["systemData"] = _system_data(
                who,
                now,
                None if created is None else {k: v for k, v in created.items() if k.startswith("created")},
            )
            scope = scope_of(w.rid)
            sp = ids.parse(scope) if scope.lower().startswith("/subscriptions/") else None
            sub = sp.subscription if sp is not None else ids.parse(w.rid).subscription  # type: ignore[union-attr]
            rec = ResourceRecord(
                id=existing.id if existing is not None else w.rid,
                type=t,
                name=name_of(w.rid),
                subscription_id=sub,
                resource_group=sp.resource_group if sp is not None else None,
                location=body.get("location"),
                state="Succeeded",
                body={
                    k: v for k, v in body.items() if k in ("properties", "identity", "systemData", "location")
                },
                etag=new_etag(),
                created_at=existing.created_at if existing is not None else now,
                changed_at=now,
            )
            tx.put_resource(rec)
        self.on_change(rec.id)
        return Written(rec, existing is None, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        t = _type_of(rid)
        with self.store.transaction() as tx:
            rec = tx.get_resource(key(rid))
            if rec is None:
                return None
            if t in (DEFINITIONS, SET_DEFINITIONS):
                self._check_unreferenced(tx, rec)
            tx.delete_resource(rec.key)
        self.on_change(rid)
        return None

    def delete(self, rid: str) -> dict[str, Any] | None:
        """DELETE: the deleted resource's document (assignments and exemptions answer with it), or None."""
        try:
            doc = self.document(self.get(rid))
        except AzureError:
            return None
        self.begin_delete(rid, None)
        return doc

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)
        self.on_change(rec.id)

    # validation --------------------------------------------------------------------------------------
    def _check_definition(self, rid: str, props: dict[str, Any]) -> None:
        _declared_shape(props.get("parameters"), "properties.parameters")
        rule = props.get("policyRule")
        if not isinstance(rule, dict):
            raise PolicyError("The policy definition is missing the policy rule.", code="InvalidPolicyRule")
        lowered = {k.lower(): v for k, v in rule.items()}
        if "if" not in lowered or "then" not in lowered or not isinstance(lowered["then"], dict):
            raise PolicyError(
                f"The policy definition '{name_of(rid)}' rule is invalid. The policy rule must contain the 'if' and "
                "'then' properties.",
                code="InvalidPolicyRule",
            )
        mode = str(props.get("mode", "Indexed"))
        if mode.lower() not in ("all", "indexed") and "." not in mode:
            raise PolicyError(
                f"The policy definition '{name_of(rid)}' has an invalid mode '{mode}'. Supported modes are 'All' and "
                "'Indexed'.",
                code="InvalidPolicyMode",
            )
        if "mode" in props and mode.lower() in ("all", "indexed"):  # a string in the spec: spelled here
            props["mode"] = "All" if mode.lower() == "all" else "Indexed"
        params = _dummy_parameters(props.get("parameters") or {})
        try:
            compile_rule(lowered["if"], params)
        except PolicyRuleError as e:
            raise PolicyError(
                f"The policy definition '{name_of(rid)}' rule is invalid. {e}", code="InvalidPolicyRule"
            ) from e
        then = {k.lower(): v for k, v in lowered["then"].items()}
        effect = then.get("effect")
        if not isinstance(effect, str):
            raise PolicyError(
                f"The policy definition '{name_of(rid)}' rule is invalid. The policy effect must be a string.",
                code="InvalidPolicyRuleEffect",
            )
        if isinstance(effect, str) and not effect.startswith("[") and effect.lower() not in EFFECTS:
            raise PolicyError(
                f"The policy definition '{name_of(rid)}' rule is invalid. The policy effect '{effect}' is not "
                "recognized.",
                code="InvalidPolicyRuleEffect",
            )
        if isinstance(effect, str) and effect.lower() == "modify":
            details = then.get("details") or {}
            if not isinstance(details, dict) or not details.get("roleDefinitionIds"):
                raise PolicyError(
                    f"The policy definition '{name_of(rid)}' rule is invalid. The 'roleDefinitionIds' property is "
                    "required when the policy effect is 'modify'.",
                    code="InvalidPolicyRuleEffectDetails",
                )

    def _check_set_definition(self, rid: str, props: dict[str, Any]) -> None:
        members = props.get("policyDefinitions")
        if not isinstance(members, list) or not members:
            raise PolicyError(
                f"The policy set definition '{name_of(rid)}' must contain at least one policy definition.",
                code="InvalidPolicySetDefinition",
            )
        _declared_shape(props.get("parameters"), "properties.parameters")
        seen: set[str] = set()
        for i, m in enumerate(members):
            if not isinstance(m, dict) or not isinstance(m.get("policyDefinitionId"), str):
                raise PolicyError(
                    f"The policy set definition '{name_of(rid)}' member {i} has no 'policyDefinitionId'.",
                    code="InvalidPolicySetDefinition",
                )
            if self.definition(m["policyDefinitionId"]) is None:
                raise not_found("PolicyDefinitionNotFound", name_of(m["policyDefinitionId"]))
            ref = m.setdefault("policyDefinitionReferenceId", f"{name_of(m['policyDefinitionId'])}_{i}")
            if str(ref).lower() in seen:
                raise PolicyError(
                    f"The policy set definition '{name_of(rid)}' has duplicate policy definition reference id "
                    f"'{ref}'.",
                    code="InvalidPolicySetDefinition",
                )
            seen.add(str(ref).lower())
            m.setdefault("parameters", {})
            m.setdefault("groupNames", [])
            _values_shape(m["parameters"], f"properties.policyDefinitions[{i}].parameters")

    def _check_assignment(self, rid: str, props: dict[str, Any]) -> None:
        target = props.get("policyDefinitionId")
        if not isinstance(target, str) or not target:
            raise PolicyError(
                "The policy assignment request is missing the policy definition id.",
                code="MissingPolicyDefinitionId",
            )
        declared = self.declared_parameters(target)
        given = props.get("parameters") or {}
        if not isinstance(given, dict):
            raise InvalidRequestContent("The policy assignment parameters must be an object.")
        declared_ci = {k.lower() for k in declared}
        extra = [k for k in given if k.lower() not in declared_ci]
        if extra:
            raise PolicyError(
                f"The policy assignment '{name_of(rid)}' has the parameter(s) '{', '.join(extra)}' which are not "
                f"defined in the policy definition '{name_of(target)}'.",
                code="UndefinedPolicyParameter",
            )
        given_ci = {k.lower() for k in given}
        missing = [
            k
            for k, spec in declared.items()
            if k.lower() not in given_ci and not (isinstance(spec, dict) and "defaultValue" in spec)
        ]
        if missing:
            raise PolicyError(
                f"The policy assignment '{name_of(rid)}' is missing the parameter(s) '{', '.join(missing)}' as "
                f"defined in the policy definition '{name_of(target)}'.",
                code="MissingPolicyParameter",
            )
        _values_shape(given, "properties.parameters")
        definition = None if "/policysetdefinitions/" in target.lower() else self.definition(target)
        if definition is not None:  # the effect a parameter chooses must be one Azure knows
            then = {k.lower(): v for k, v in (definition["properties"].get("policyRule") or {}).items()}.get(
                "then"
            )
            raw = {k.lower(): v for k, v in then.items()}.get("effect") if isinstance(then, dict) else None
            try:
                effect = static_value(raw, effective_parameters(declared, given))
            except PolicyRuleError:
                effect = None
            if not isinstance(effect, str) or effect.lower() not in EFFECTS:
                raise PolicyError(
                    f"The policy assignment '{name_of(rid)}' sets the effect of policy definition "
                    f"'{name_of(target)}' to '{effect}', which is not a policy effect.",
                    code="InvalidPolicyParameterValue",
                )
        mode = props.get("enforcementMode", "Default")
        if str(mode).lower() not in ("default", "donotenforce", "enroll"):
            raise PolicyError(
                f"The policy assignment enforcement mode '{mode}' is not valid. Supported values are 'Default' and "
                "'DoNotEnforce'.",
                code="InvalidPolicyAssignmentEnforcementMode",
            )
        props["enforcementMode"] = "DoNotEnforce" if str(mode).lower() == "donotenforce" else "Default"

    def declared_parameters(self, target: str) -> dict[str, Any]:
        if "/policysetdefinitions/" in target.lower():
            with self.store.read() as tx:
                rec = tx.get_resource(key(target))
            if rec is None:
                raise not_found("PolicySetDefinitionNotFound", name_of(target))
            declared: dict[str, Any] = (rec.body.get("properties") or {}).get("parameters") or {}
            return declared
        definition = self.definition(target)
        if definition is None:
            raise not_found("PolicyDefinitionNotFound", name_of(target))
        found: dict[str, Any] = definition["properties"].get("parameters") or {}
        return found

    def _check_exemption(self, rid: str, props: dict[str, Any]) -> None:
        target = props.get("policyAssignmentId")
        if not isinstance(target, str) or not target:
            raise PolicyError(
                "The policy exemption is missing the policy assignment id.", code="InvalidPolicyExemption"
            )
        with self.store.read() as tx:
            found = tx.get_resource(key(target))
        if found is None:
            raise not_found("PolicyAssignmentNotFound", name_of(target))
        category = str(props.get("exemptionCategory", ""))
        if category.lower() not in ("waiver", "mitigated"):
            raise PolicyError(
                f"The policy exemption category '{category}' is not valid. Supported values are 'Waiver' and "
                "'Mitigated'.",
                code="InvalidPolicyExemptionCategory",
            )
        props["exemptionCategory"] = "Waiver" if category.lower() == "waiver" else "Mitigated"
        expires = props.get("expiresOn")
        if expires is not None and timefmt_parse(str(expires)) is None:
            raise InvalidRequestContent(
                f"The request content was invalid and could not be deserialized: 'Could not convert string to "
                f"DateTime: {expires}. Path 'properties.expiresOn'.'"
            )

    def _check_unreferenced(self, tx: Txn, rec: ResourceRecord) -> None:
        users = [
            r
            for r in tx.list_resources(type=ASSIGNMENTS) + tx.list_resources(type=SET_DEFINITIONS)
            if key(str((r.body.get("properties") or {}).get("policyDefinitionId", ""))) == rec.key
            or any(
                key(str(m.get("policyDefinitionId", ""))) == rec.key
                for m in (r.body.get("properties") or {}).get("policyDefinitions") or []
                if isinstance(m, dict)
            )
        ]
        if users:
            what = "policy definition" if rec.type.lower() == DEFINITIONS.lower() else "policy set definition"
            raise AzureError(
                f"The {what} '{rec.name}' cannot be deleted because it is referenced by "
                f"{', '.join(repr(u.name) for u in users)}. Delete the referencing resources first.",
                code="PolicyDefinitionInUse" if what == "policy definition" else "PolicySetDefinitionInUse",
                status=400,
            )


def _declared_shape(declared: Any, path: str) -> None:
    """Declared parameters: ``{"name": {"type": ..., "defaultValue"?, "allowedValues"?, "metadata"?}}``."""
    if declared is None:
        return
    if not isinstance(declared, dict):
        raise InvalidRequestContent(
            f"The request content was invalid and could not be deserialized: 'Error converting value to type "
            f"'ParameterDefinitions'. Path '{path}'.'"
        )
    for name, spec in declared.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("type", "String"), str):
            raise InvalidRequestContent(
                f"The request content was invalid and could not be deserialized: 'Error converting value to type "
                f"'ParameterDefinitionsValue'. Path '{path}.{name}'.'"
            )


def _values_shape(values: Any, path: str) -> None:
    """Parameter values: ``{"name": {"value": ...}}``."""
    if not isinstance(values, dict):
        raise InvalidRequestContent(
            f"The request content was invalid and could not be deserialized: 'Error converting value to type "
            f"'ParameterValues'. Path '{path}'.'"
        )
    for name, v in values.items():
        if not isinstance(v, dict) or "value" not in v:
            raise PolicyError(
                f"The policy parameter '{name}' at '{path}' must be an object with a 'value' property.",
                code="InvalidPolicyParameters",
            )


def timefmt_parse(text: str) -> float | None:
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _builtin_view(d: dict[str, Any]) -> dict[str, Any]:
    return {"properties": d["properties"], "id": d["id"], "type": DEFINITIONS, "name": d["name"]}


def _dummy_parameters(declared: dict[str, Any]) -> dict[str, Any]:
    """Placeholder values of each declared type, to check that a rule compiles."""
    samples = {
        "array": [],
        "object": {},
        "string": "",
        "integer": 0,
        "boolean": False,
        "float": 0.0,
        "datetime": "",
    }
    out = effective_parameters(declared, None)
    for name, spec in declared.items():
        if name not in out:
            out[name] = samples.get(str((spec or {}).get("type", "string")).lower(), "")
    return out


def new_name() -> str:
    return uuid.uuid4().hex[:24]


__all__ = ["KINDS", "PolicyResources", "static_value"]
