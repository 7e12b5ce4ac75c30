"""Availability sets (``Microsoft.Compute/availabilitySets``): a small kind, so that a VM's
``availabilitySet`` reference names something real - validated, listed in the set's ``virtualMachines``,
and giving the VM its update and fault domains in the instance view."""

from __future__ import annotations

from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, NotFound
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/availabilitySets"
KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Compute",
    lifecycle=SIMPLE_LIFECYCLE,
    shape=shapes.AVAILABILITY_SET,
    operations={},
    description="Availability sets: update and fault domains for the VMs placed in them.",
)
MAX_FAULT_DOMAINS = 3
MAX_UPDATE_DOMAINS = 20


def document(rec: ResourceRecord) -> dict[str, Any]:
    return envelope(rec, dict(rec.body["properties"]))


class AvailabilitySets:
    def __init__(self, store: Store, clock: Clock, groups: ResourceGroups, registry: Registry) -> None:
        self.store = store
        self.tracked = Tracked(clock, groups)
        registry.register(KIND, self)

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
        props = dict(body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            current = existing.body["properties"] if existing is not None else {}
            fault = int(props.get("platformFaultDomainCount", current.get("platformFaultDomainCount", 2)))
            update = int(props.get("platformUpdateDomainCount", current.get("platformUpdateDomainCount", 5)))
            if not 1 <= fault <= MAX_FAULT_DOMAINS:
                raise InvalidParameter(
                    f"The specified fault domain count {fault} must fall in the range 1 to {MAX_FAULT_DOMAINS}.",
                    target="platformFaultDomainCount",
                )
            if not 1 <= update <= MAX_UPDATE_DOMAINS:
                raise InvalidParameter(
                    f"The specified update domain count {update} must fall in the range 1 to "
                    f"{MAX_UPDATE_DOMAINS}.",
                    target="platformUpdateDomainCount",
                )
            if (
                existing is not None
                and current.get("virtualMachines")
                and (
                    fault != current.get("platformFaultDomainCount")
                    or update != current.get("platformUpdateDomainCount")
                )
            ):
                raise AzureError(
                    "Changing the fault or update domain count of an availability set that holds virtual "
                    "machines is not allowed.",
                    code="PropertyChangeNotAllowed",
                    status=409,
                )
            computed = {
                "platformUpdateDomainCount": update,
                "platformFaultDomainCount": fault,
                "virtualMachines": current.get("virtualMachines", []),
            }
            doc = {
                "tags": dict(body.get("tags") or {}),
                "sku": body.get("sku") or {"name": "Classic"},
                "properties": shapes.keep(
                    {k: v for k, v in props.items() if k != "virtualMachines"}, computed
                ),
            }
            if existing is None:
                rec = self.tracked.new_record(tx, w.rid, TYPE, loc, doc)
            else:
                rec = existing
                rec.body = doc
                self.tracked.save(tx, rec)
            return Written(rec, existing is None, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            if rec.body["properties"].get("virtualMachines"):
                raise AzureError(
                    f"Availability Set {rec.name} cannot be deleted. Before deleting an Availability Set please "
                    "ensure that it does not contain any VM.",
                    code="OperationNotAllowed",
                    status=409,
                )
            self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    # used by virtual machines ------------------------------------------------------------------------
    def join(self, tx: Txn, set_id: str, vm_id: str) -> tuple[int, int]:
        """Place a VM in the set: (its update domain, its fault domain)."""
        rec = tx.get_resource(ids.key_of(set_id))
        if rec is None or rec.type.lower() != TYPE.lower():
            raise NotFound(f"Availability Set {set_id} cannot be found.", target="availabilitySet")
        props = rec.body["properties"]
        members = props.setdefault("virtualMachines", [])
        index = len(members)
        members.append({"id": vm_id.upper()})
        self.tracked.save(tx, rec)
        return index % int(props["platformUpdateDomainCount"]), index % int(props["platformFaultDomainCount"])

    def leave(self, tx: Txn, set_id: str, vm_id: str) -> None:
        rec = tx.get_resource(ids.key_of(set_id))
        if rec is None:
            return
        members = rec.body["properties"].get("virtualMachines") or []
        rec.body["properties"]["virtualMachines"] = [m for m in members if m["id"].lower() != vm_id.lower()]
        self.tracked.save(tx, rec)
