"""Resource groups: create/update, tags, and a long-running delete that removes everything inside through
each kind's own delete, in dependency order (the registry's cascade)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import (
    AzureError,
    InvalidResourceGroupLocation,
    LocationNotAvailableForResourceGroup,
    LocationRequired,
    ResourceGroupBeingDeleted,
    resource_group_not_found,
)
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.naming import check_resource_group_name
from azemu.domain.operations import Operations
from azemu.domain.resources import check_preconditions, new_etag
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Resources/resourceGroups"


def _being_deleted(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return ResourceGroupBeingDeleted(
        f"The resource group '{ctx.get('name')}' is in deprovisioning state and cannot perform this operation."
    )


LIFECYCLE = StateTable(
    kind="resourceGroup",
    initial="Succeeded",
    transitions={
        "Succeeded": {"update": "Succeeded", "delete": "Deleting", "use": "Succeeded"},
        "Deleting": {"purge": "Deleted", "delete_failed": "Succeeded"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Deleting": _being_deleted},
    states_info={"Deleting": State(provisioning="Deleting", settles_to="Deleted")},
)

KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Resources",
    lifecycle=LIFECYCLE,
    shape=shapes.RESOURCE_GROUP,
    operations={"delete": 20.0},
    description="Resource groups; deleting one removes what it holds through each kind's own delete.",
    scope="subscription",
)
DELETE_KIND = KIND.op("delete")


def document(rec: ResourceRecord) -> dict[str, Any]:
    doc = envelope(rec, {"provisioningState": LIFECYCLE.provisioning_state(rec.state)})
    return doc


class ResourceGroups:
    def __init__(self, store: Store, clock: Clock, operations: Operations, registry: Registry) -> None:
        self.store = store
        self.clock = clock
        self.operations = operations
        self.registry = registry
        operations.register(DELETE_KIND, self._complete_delete, on_failure=self._delete_failed)
        registry.register(KIND, self)

    # the kind's uniform face (deployments at subscription scope create groups through it) -----------
    def put(self, w: Write) -> Written:
        sub, name = _parse(w.rid)
        body = w.body
        rec, created = self.create_or_update(
            sub,
            name,
            body.get("location"),
            body.get("tags"),
            body.get("managedBy"),
            if_match=w.if_match,
            if_none_match=w.if_none_match,
        )
        return Written(rec, created, None)

    def get(self, rid: str) -> ResourceRecord:
        sub, name = _parse(rid)
        return self.get_group(sub, name)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        sub, name = _parse(rid)
        return self.begin_delete_group(sub, name, tenant_id)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        contents = [
            r for r in tx.list_resources(subscription_id=rec.subscription_id, resource_group=rec.name)
        ]
        self.registry.purge_all(tx, [r for r in contents if r.key != rec.key])
        tx.delete_resource(rec.key)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    # reads -----------------------------------------------------------------------------------------
    def get_group(self, subscription_id: str, name: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.require(tx, subscription_id, name)

    def require(self, tx: Txn, subscription_id: str, name: str) -> ResourceRecord:
        rec = tx.get_resource(ids.key_of(ids.resource_group_id(subscription_id, name)))
        if rec is None:
            raise resource_group_not_found(name)
        return rec

    def require_usable(self, tx: Txn, subscription_id: str, name: str) -> ResourceRecord:
        """The group a new or changed child resource lives in: it must exist and not be deleting."""
        rec = self.require(tx, subscription_id, name)
        LIFECYCLE.next(rec.state, "use", name=rec.name)
        return rec

    def list(self, subscription_id: str) -> list[ResourceRecord]:
        with self.store.read() as tx:
            return tx.list_resources(subscription_id=subscription_id, type=TYPE)

    # writes ----------------------------------------------------------------------------------------
    def create_or_update(
        self,
        subscription_id: str,
        name: str,
        location: str | None,
        tags: dict[str, str] | None,
        managed_by: str | None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> tuple[ResourceRecord, bool]:
        check_resource_group_name(name)
        if not location:
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.canonical(location)
        if loc is None:
            available = ",".join(r["name"] for r in regions.all_regions())
            raise LocationNotAvailableForResourceGroup(
                f"The provided location '{location}' is not available for resource group. List of available "
                f"regions is '{available}'."
            )
        now = self.clock.now()
        with self.store.transaction() as tx:
            key = ids.key_of(ids.resource_group_id(subscription_id, name))
            existing = tx.get_resource(key)
            check_preconditions(existing, if_match, if_none_match)
            if existing is not None:
                LIFECYCLE.next(existing.state, "update", name=existing.name)
                if existing.location != loc:
                    raise InvalidResourceGroupLocation(
                        f"Invalid resource group location '{location}'. The Resource group already exists in "
                        f"location '{existing.location}'."
                    )
                existing.body = {"tags": dict(tags or {}), "managedBy": managed_by}
                existing.etag, existing.changed_at = new_etag(), now
                tx.put_resource(existing)
                return existing, False
            rec = ResourceRecord(
                id=ids.resource_group_id(subscription_id, name),
                type=TYPE,
                name=name,
                subscription_id=subscription_id,
                resource_group=name,
                location=loc,
                state=LIFECYCLE.initial,
                body={"tags": dict(tags or {}), "managedBy": managed_by},
                etag=new_etag(),
                created_at=now,
                changed_at=now,
            )
            tx.put_resource(rec)
            return rec, True

    def update(
        self,
        subscription_id: str,
        name: str,
        patch: dict[str, Any],
        if_match: str | None = None,
    ) -> ResourceRecord:
        with self.store.transaction() as tx:
            rec = self.require(tx, subscription_id, name)
            check_preconditions(rec, if_match, None)
            LIFECYCLE.next(rec.state, "update", name=rec.name)
            if "tags" in patch and patch["tags"] is not None:
                rec.body["tags"] = dict(patch["tags"])
            if "managedBy" in patch:
                rec.body["managedBy"] = patch["managedBy"]
            rec.etag, rec.changed_at = new_etag(), self.clock.now()
            tx.put_resource(rec)
            return rec

    def begin_delete_group(
        self, subscription_id: str, name: str, tenant_id: str | None, if_match: str | None = None
    ) -> OperationRecord | None:
        """Start deleting; ``None`` when there is nothing to delete (Azure answers 404). Azure Policy's
        ``denyAction`` with a cascade to resource groups refuses it first."""
        self.registry.admit_delete(ids.resource_group_id(subscription_id, name))
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(ids.resource_group_id(subscription_id, name)))
            if rec is None:
                return None
            check_preconditions(rec, if_match, None)
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            rec.changed_at = self.clock.now()
            tx.put_resource(rec)
            return self.operations.start(
                tx,
                kind=DELETE_KIND,
                family="Microsoft.Resources",
                subscription_id=subscription_id,
                location=rec.location or "",
                resource_id=rec.id,
                tenant_id=tenant_id,
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rg = tx.get_resource(ids.key_of(op.resource_id))
        if rg is None:
            return None
        LIFECYCLE.next(rg.state, "purge", name=rg.name)
        self.purge(tx, rg)
        return None

    def _delete_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rg = tx.get_resource(ids.key_of(op.resource_id))
        if rg is not None and rg.state == "Deleting":
            rg.state = LIFECYCLE.next(rg.state, "delete_failed", name=rg.name)
            tx.put_resource(rg)


def _parse(rid: str) -> tuple[str, str]:
    p = ids.parse(rid)
    if p is None or p.resource_group is None:
        raise ValueError(f"not a resource group id: {rid}")
    return p.subscription, p.resource_group
