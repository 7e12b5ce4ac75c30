"""Azure RBAC, kept small: role assignments (``Microsoft.Authorization/roleAssignments``) at subscription,
resource-group and resource scope, and role definitions (``roleDefinitions``: Microsoft's built-ins as data,
custom roles stored).

azemu does not enforce RBAC on its own API callers (the default principal may do anything). What it does
check, as Azure checks it, is what a *service* acting as a managed identity may do: Azure VM Image Builder
acts as the identity its template names (domain/imagebuilder), and is allowed exactly what that identity's
role assignments allow at the scope it touches - an assignment applies to its scope and everything below it,
its role's ``actions`` minus ``notActions`` (wildcards as Azure matches them).

Azure Policy (``Microsoft.Authorization/policy*``) lives in its own package; the two share only the namespace.
"""

from __future__ import annotations

import fnmatch
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, shapes
from azemu.domain.errors import AzureError, BadRequest, Conflict, NotFound
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.resources import new_etag
from azemu.domain.timefmt import iso
from azemu.domain.tracked import SIMPLE_LIFECYCLE
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

NS = "Microsoft.Authorization"
ASSIGNMENTS = f"{NS}/roleAssignments"
DEFINITIONS = f"{NS}/roleDefinitions"

# request shapes: the spec's (scripts/gen-shapes, azure-mgmt-authorization's 2022-04-01 models)
ASSIGNMENT_SHAPE = shapes.kind_shape(ASSIGNMENTS)
DEFINITION_SHAPE = shapes.kind_shape(DEFINITIONS)

ASSIGNMENT_KIND = KindSpec(
    type=ASSIGNMENTS,
    lro_family="Microsoft.Resources",
    lifecycle=SIMPLE_LIFECYCLE,
    shape=ASSIGNMENT_SHAPE,
    operations={},
    description="Role assignments at subscription, resource-group and resource scope: what a managed identity "
    "may do when a service (Image Builder) acts as it.",
    scope="extension",
)
DEFINITION_KIND = KindSpec(
    type=DEFINITIONS,
    lro_family="Microsoft.Resources",
    lifecycle=SIMPLE_LIFECYCLE,
    shape=DEFINITION_SHAPE,
    operations={},
    description="Role definitions: Microsoft's built-in roles (read-only) and custom roles.",
    scope="extension",
)


@dataclass(frozen=True)
class Role:
    name: str  # the definition's GUID
    role_name: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...] = ()
    builtin: bool = True
    scopes: tuple[str, ...] = ("/",)

    def allows(self, action: str) -> bool:
        return _matches_any(action, self.actions) and not _matches_any(action, self.not_actions)


def _matches_any(action: str, patterns: Iterable[str]) -> bool:
    """ARM's wildcard: ``*`` is any text, and ``/*/`` also any number of segments, none included
    (``userAssignedIdentities/*/assign/action`` grants ``userAssignedIdentities/assign/action``)."""
    low = action.lower()
    return any(
        fnmatch.fnmatchcase(low, p.lower())
        or ("/*/" in p and fnmatch.fnmatchcase(low, p.lower().replace("/*/", "/")))
        for p in patterns
    )


@cache
def builtin_roles() -> tuple[Role, ...]:
    raw = json.loads(resources.files("azemu.data").joinpath("builtin_roles.json").read_text(encoding="utf-8"))
    return tuple(
        Role(
            r["name"],
            r["roleName"],
            r["description"],
            tuple(r["actions"]),
            tuple(r["notActions"]),
            tuple(r.get("dataActions", ())),
        )
        for r in raw["roles"]
    )


def builtin(role_name: str) -> Role:
    """A built-in role by its name (``Contributor``)."""
    return next(r for r in builtin_roles() if r.role_name.lower() == role_name.lower())


def scope_of(rid: str) -> str:
    """The scope an extension resource sits at: what precedes its last ``/providers/Microsoft.Authorization``."""
    low = rid.lower()
    i = low.rfind("/providers/microsoft.authorization/")
    return rid[:i] if i >= 0 else ""


def in_scope(target: str, scope: str) -> bool:
    """Does an assignment at ``scope`` apply to ``target`` (the same scope, or anything below it)?"""
    t, s = target.lower().rstrip("/"), scope.lower().rstrip("/")
    return s in ("", "/") or t == s or t.startswith(s + "/")


def definition_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/{DEFINITIONS}/{name}"


def _guid_of(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1]


class RoleDefinitionDoesNotExist(AzureError):
    code, status = "RoleDefinitionDoesNotExist", 400


class Rbac:
    """Role assignments and role definitions: one service for both kinds."""

    def __init__(self, store: Store, clock: Clock, registry: Registry) -> None:
        self.store = store
        self.clock = clock
        registry.register(ASSIGNMENT_KIND, self)
        registry.register(DEFINITION_KIND, self)

    # the kinds' uniform face -------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        if w.rid.lower().rsplit("/", 2)[-2] == "roledefinitions":
            return self._put_definition(w)
        return self._put_assignment(w)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(rid))
        if rec is None:
            if "/roledefinitions/" in rid.lower():
                raise AzureError(
                    f"The specified role definition with ID '{_guid_of(rid)}' does not exist.",
                    code="RoleDefinitionDoesNotExist",
                    status=404,
                )
            raise NotFound(
                f"The role assignment '{_guid_of(rid)}' is not found.", code="RoleAssignmentNotFound"
            )
        return rec

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(rid))
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return {"id": rec.id, "type": rec.type, "name": rec.name, "properties": dict(rec.body["properties"])}

    # role definitions --------------------------------------------------------------------------------
    def _put_definition(self, w: Write) -> Written:
        props = dict(w.body.get("properties") or {})
        name = str(props.get("roleName") or "")
        if not name:
            raise BadRequest("The role definition name is required.", code="RoleDefinitionNameRequired")
        if any(r.role_name.lower() == name.lower() for r in builtin_roles()):
            raise Conflict(
                "A role definition cannot be updated with a name that already exists.",
                code="RoleDefinitionWithSameNameExists",
            )
        scope = scope_of(w.rid)
        p = ids.parse(scope) if scope else None
        if p is None:
            raise BadRequest(f"The scope '{scope}' is not valid for a custom role definition.")
        now = iso(self.clock.now())
        with self.store.transaction() as tx:
            existing = tx.get_resource(ids.key_of(w.rid))
            computed = {
                "roleName": name,
                "type": "CustomRole",
                "description": props.get("description") or "",
                "assignableScopes": list(props.get("assignableScopes") or [scope]),
                "permissions": [
                    {
                        "actions": list(perm.get("actions") or []),
                        "notActions": list(perm.get("notActions") or []),
                        "dataActions": list(perm.get("dataActions") or []),
                        "notDataActions": list(perm.get("notDataActions") or []),
                    }
                    for perm in props.get("permissions") or []
                ],
                "createdOn": existing.body["properties"]["createdOn"] if existing is not None else now,
                "updatedOn": now,
                "createdBy": (w.client or {}).get("oid") or None,
                "updatedBy": (w.client or {}).get("oid") or None,
            }
            rec = self._record(w.rid, DEFINITIONS, p, {"properties": computed}, existing)
            tx.put_resource(rec)
            return Written(rec, existing is None, None)

    def role(self, tx: Txn, subscription_id: str, role_definition_id: str) -> Role | None:
        guid = _guid_of(role_definition_id)
        for r in builtin_roles():
            if r.name.lower() == guid.lower():
                return r
        for rec in tx.list_resources(type=DEFINITIONS):
            if rec.name.lower() == guid.lower():
                props = rec.body["properties"]
                perms = props.get("permissions") or [{}]
                return Role(
                    rec.name,
                    props["roleName"],
                    props.get("description", ""),
                    tuple(a for perm in perms for a in perm.get("actions") or []),
                    tuple(a for perm in perms for a in perm.get("notActions") or []),
                    builtin=False,
                    scopes=tuple(props.get("assignableScopes") or []),
                )
        return None

    def definition_document(self, subscription_id: str, role: Role) -> dict[str, Any]:
        return {
            "id": definition_id(subscription_id, role.name),
            "type": DEFINITIONS,
            "name": role.name,
            "properties": {
                "roleName": role.role_name,
                "type": "BuiltInRole",
                "description": role.description,
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": list(role.actions),
                        "notActions": list(role.not_actions),
                        "dataActions": list(role.data_actions),
                        "notDataActions": [],
                    }
                ],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": None,
            },
        }

    def list_definitions(self, scope: str, role_name: str | None = None) -> list[dict[str, Any]]:
        p = ids.parse(scope)
        sub = p.subscription if p is not None else ""
        out = [self.definition_document(sub, r) for r in builtin_roles()]
        with self.store.read() as tx:
            for rec in tx.list_resources(type=DEFINITIONS):
                scopes = rec.body["properties"].get("assignableScopes") or []
                if any(in_scope(scope, s) or in_scope(s, scope) for s in scopes):
                    out.append(self.document(rec))
        if role_name is not None:
            out = [d for d in out if d["properties"]["roleName"].lower() == role_name.lower()]
        return out

    def definition(self, scope: str, name: str) -> dict[str, Any]:
        p = ids.parse(scope)
        sub = p.subscription if p is not None else ""
        for r in builtin_roles():
            if r.name.lower() == name.lower():
                return self.definition_document(sub, r)
        with self.store.read() as tx:
            for rec in tx.list_resources(type=DEFINITIONS):
                if rec.name.lower() == name.lower():
                    return self.document(rec)
        raise AzureError(
            f"The specified role definition with ID '{name}' does not exist.",
            code="RoleDefinitionDoesNotExist",
            status=404,
        )

    # role assignments --------------------------------------------------------------------------------
    def _put_assignment(self, w: Write) -> Written:
        props = dict(w.body.get("properties") or {})
        scope = scope_of(w.rid)
        p = ids.parse(scope) if scope else None
        if p is None:
            raise BadRequest(f"The scope '{scope}' is not valid for a role assignment.", code="InvalidScope")
        principal = str(props.get("principalId") or "")
        try:
            uuid.UUID(principal)
        except ValueError:
            raise BadRequest(
                f"The principal ID '{principal}' is not valid. Principal ID must be a GUID.",
                code="InvalidPrincipalId",
            ) from None
        with self.store.transaction() as tx:
            if scope.count("/") > 2:  # a group or a resource: it must exist
                self._require_scope(tx, scope)
            role = self.role(tx, p.subscription, str(props.get("roleDefinitionId") or ""))
            if role is None:
                raise RoleDefinitionDoesNotExist(
                    "The specified role definition with ID "
                    f"'{_guid_of(str(props.get('roleDefinitionId') or ''))}' does not exist."
                )
            role_id = definition_id(p.subscription, role.name)
            existing = tx.get_resource(ids.key_of(w.rid))
            if existing is not None:
                old = existing.body["properties"]
                if (
                    old["principalId"].lower() != principal.lower()
                    or _guid_of(old["roleDefinitionId"]) != role.name
                ):
                    raise Conflict(
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                        code="RoleAssignmentUpdateNotPermitted",
                    )
            for other in tx.list_resources(subscription_id=p.subscription, type=ASSIGNMENTS):
                op = other.body["properties"]
                if (
                    other.key != ids.key_of(w.rid)
                    and op["principalId"].lower() == principal.lower()
                    and _guid_of(op["roleDefinitionId"]).lower() == role.name.lower()
                    and op["scope"].lower() == scope.lower()
                ):
                    raise Conflict("The role assignment already exists.", code="RoleAssignmentExists")
            now = iso(self.clock.now())
            oid = (w.client or {}).get("oid") or None
            computed = {
                "roleDefinitionId": role_id,
                "principalId": principal,
                "principalType": props.get("principalType") or "User",
                "scope": scope,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "createdOn": existing.body["properties"]["createdOn"] if existing is not None else now,
                "updatedOn": now,
                "createdBy": existing.body["properties"]["createdBy"] if existing is not None else oid,
                "updatedBy": oid,
                "delegatedManagedIdentityResourceId": props.get("delegatedManagedIdentityResourceId"),
                "description": props.get("description"),
            }
            rec = self._record(w.rid, ASSIGNMENTS, p, {"properties": computed}, existing)
            tx.put_resource(rec)
            return Written(rec, existing is None, None)

    def _require_scope(self, tx: Txn, scope: str) -> None:
        found = tx.get_resource(ids.key_of(scope))
        if found is None:
            p = ids.parse(scope)
            what = "resource group" if p is not None and p.namespace is None else "resource"
            raise NotFound(
                f"The {what} '{scope}' could not be found.",
                code="ResourceGroupNotFound" if what == "resource group" else "ResourceNotFound",
            )

    def _record(
        self,
        rid: str,
        full_type: str,
        scope: ids.ParsedId,
        body: dict[str, Any],
        existing: ResourceRecord | None,
    ) -> ResourceRecord:
        now = self.clock.now()
        return ResourceRecord(
            id=existing.id if existing is not None else rid,
            type=full_type,
            name=rid.rstrip("/").rsplit("/", 1)[-1],
            subscription_id=scope.subscription,
            resource_group=scope.resource_group,
            location=None,
            state="Succeeded",
            body=body,
            etag=new_etag(),
            created_at=existing.created_at if existing is not None else now,
            changed_at=now,
        )

    def list_assignments(
        self, scope: str, *, principal_id: str | None = None, at_scope: bool = False
    ) -> list[dict[str, Any]]:
        """Assignments that apply at ``scope`` (``atScope()``: at it and above), else also those below it;
        ``principal_id`` keeps one principal's."""
        p = ids.parse(scope)
        with self.store.read() as tx:
            recs = tx.list_resources(
                subscription_id=p.subscription if p is not None else None, type=ASSIGNMENTS
            )
        out = []
        for rec in recs:
            props = rec.body["properties"]
            if principal_id is not None and props["principalId"].lower() != principal_id.lower():
                continue
            above = in_scope(scope, props["scope"])
            below = in_scope(props["scope"], scope)
            if above or (below and not at_scope):
                out.append(self.document(rec))
        return out

    # what a principal may do ---------------------------------------------------------------------------
    def allowed(self, tx: Txn, principal_id: str, action: str, target: str) -> bool:
        """May ``principal_id`` perform ``action`` (``Microsoft.Compute/images/write``) on ``target``?"""
        p = ids.parse(target)
        if p is None:
            return False
        for rec in tx.list_resources(subscription_id=p.subscription, type=ASSIGNMENTS):
            props = rec.body["properties"]
            if props["principalId"].lower() != principal_id.lower() or not in_scope(target, props["scope"]):
                continue
            role = self.role(tx, p.subscription, props["roleDefinitionId"])
            if role is not None and role.allows(action):
                return True
        return False

    def assign(self, tx: Txn, scope: str, role_name: str, principal_id: str, description: str) -> None:
        """A role assignment the platform makes itself (Image Builder's Contributor on its staging group)."""
        p = ids.parse(scope)
        assert p is not None
        role = builtin(role_name)
        rid = (
            f"{scope}/providers/{ASSIGNMENTS}/{uuid.uuid5(uuid.NAMESPACE_URL, scope.lower() + principal_id)}"
        )
        if tx.get_resource(ids.key_of(rid)) is not None:
            return
        now = iso(self.clock.now())
        props = {
            "roleDefinitionId": definition_id(p.subscription, role.name),
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
            "scope": scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": now,
            "updatedOn": now,
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": description,
        }
        tx.put_resource(self._record(rid, ASSIGNMENTS, p, {"properties": props}, None))
