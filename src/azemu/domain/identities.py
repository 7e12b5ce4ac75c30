"""User-assigned managed identities (``Microsoft.ManagedIdentity/userAssignedIdentities``): a small kind.

An identity is a service principal in its tenant: a ``clientId`` (its application id) and a ``principalId``
(its object id), both fixed when it is created and kept until it is deleted. Role assignments name the
principal (domain/rbac.py); Azure VM Image Builder acts as the identity its template names, and is allowed
what the identity's role assignments allow. Microsoft Graph finds the identity's service principal by its
client id (``az role assignment create --assignee <clientId>``).
"""

from __future__ import annotations

import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Resources",
    lifecycle=SIMPLE_LIFECYCLE,
    shape=shapes.kind_shape(TYPE),
    operations={},
    description="User-assigned managed identities: a principal that role assignments grant access to "
    "(Image Builder templates act as theirs).",
)


def document(rec: ResourceRecord) -> dict[str, Any]:
    return envelope(rec, dict(rec.body["properties"]))


def principal_of(rec: ResourceRecord) -> str:
    return str(rec.body["properties"]["principalId"])


class Identities:
    def __init__(self, store: Store, clock: Clock, groups: ResourceGroups, registry: Registry) -> None:
        self.store = store
        self.tracked = Tracked(clock, groups)
        registry.register(KIND, self)

    # the kind's uniform face -------------------------------------------------------------------------
    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    def put(self, w: Write) -> Written:
        body = w.body
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        given = dict(body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                computed = {
                    k: existing.body["properties"][k] for k in ("tenantId", "principalId", "clientId")
                }
                existing.body = {
                    "tags": dict(body.get("tags") or {}),
                    "properties": shapes.keep(given, computed),
                }
                self.tracked.save(tx, existing)
                return Written(existing, False, None)
            p = ids.parse(w.rid)
            assert p is not None
            sub = tx.get_subscription(p.subscription)
            computed = {
                "tenantId": sub.tenant_id if sub is not None else (w.tenant_id or ""),
                "principalId": str(uuid.uuid4()),
                "clientId": str(uuid.uuid4()),
            }
            doc = {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(given, computed)}
            rec = self.tracked.new_record(tx, w.rid, TYPE, loc, doc)
            return Written(rec, True, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    # for Microsoft Graph and the kinds that act as an identity ---------------------------------------
    def service_principal(self, tenant_id: str, app_or_object_id: str) -> dict[str, Any] | None:
        """Microsoft Graph's service principal of the identity whose client id (or principal id) is given."""
        wanted = app_or_object_id.lower()
        with self.store.read() as tx:
            for rec in tx.list_resources(type=TYPE):
                props = rec.body["properties"]
                if str(props.get("tenantId", "")).lower() != tenant_id.lower():
                    continue
                if wanted in (str(props["clientId"]).lower(), str(props["principalId"]).lower()):
                    return {
                        "id": props["principalId"],
                        "appId": props["clientId"],
                        "displayName": rec.name,
                        "servicePrincipalType": "ManagedIdentity",
                        "accountEnabled": True,
                        "alternativeNames": ["isExplicit=True", rec.id],
                        "servicePrincipalNames": [
                            props["clientId"],
                            f"https://identity.azure.net/{uuid.uuid5(uuid.NAMESPACE_URL, rec.key)}",
                        ],
                        "managedIdentityResourceId": rec.id,
                    }
        return None

    def find(self, tx: Txn, rid: str) -> ResourceRecord | None:
        rec = tx.get_resource(ids.key_of(rid))
        return rec if rec is not None and rec.type.lower() == TYPE.lower() else None
