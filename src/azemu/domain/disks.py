"""Managed disks (``Microsoft.Compute/disks``): the resource that holds a guest's content.

This is the part virtual machines need (OS disks, attach/detach, copy, delete rules); capture, snapshots
and the copy-on-write content store extend it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions
from azemu.domain.content import DiskContent
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, OperationNotAllowed
from azemu.domain.lifecycle import StateTable
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import Tracked
from azemu.guest.fs import GuestFS
from azemu.guest.machine import Guest
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/disks"
PUT_KIND = "disks.create"
DELETE_KIND = "disks.delete"


def _attached(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return OperationNotAllowed(f"Disk {ctx.get('name')} is attached to VM {ctx.get('vm')}.")


LIFECYCLE = StateTable(
    kind="disk",
    initial="Unattached",
    transitions={
        "Unattached": {
            "attach": "Attached",
            "delete": "Deleting",
            "update": "Unattached",
            "copy": "Unattached",
        },
        "Attached": {"detach": "Unattached", "reserve": "Reserved", "update": "Attached", "copy": "Attached"},
        "Reserved": {
            "detach": "Unattached",
            "unreserve": "Attached",
            "update": "Reserved",
            "copy": "Reserved",
        },
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Attached": _attached, "Reserved": _attached},
)


def disk_view_properties(rec: ResourceRecord) -> dict[str, Any]:
    props = dict(rec.body["properties"])
    props["diskState"] = rec.state if rec.state in ("Unattached", "Attached", "Reserved") else "Unattached"
    props["provisioningState"] = "Deleting" if rec.state == "Deleting" else "Succeeded"
    return props


class Disks:
    def __init__(
        self, store: Store, clock: Clock, groups: ResourceGroups, operations: Operations, content: DiskContent
    ) -> None:
        self.content = content
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        operations.register(DELETE_KIND, self._complete_delete)
        operations.register(PUT_KIND, lambda tx, op: self._output(tx, op))

    def _output(self, tx: Txn, op: OperationRecord) -> Any:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        return None if rec is None else {"id": rec.id, "name": rec.name}

    # used by virtual machines ------------------------------------------------------------------------
    def new_os_disk(
        self,
        tx: Txn,
        rid: str,
        location: str,
        *,
        os_type: str,
        hyper_v: str,
        architecture: str,
        size_gb: int,
        sku: str,
        creation: dict[str, Any],
        vm_id: str,
        guest: Guest | None = None,
        source_key: str | None = None,
        zones: list[str] | None = None,
    ) -> ResourceRecord:
        body = {
            "tags": {},
            "sku": {"name": sku, "tier": sku.split("_")[0]},
            "managedBy": vm_id,
            "properties": self._props(os_type, hyper_v, architecture, size_gb, creation),
        }
        if zones:
            body["zones"] = zones
        rec = self.tracked.new_record(tx, rid, TYPE, location, body, state="Attached")
        if guest is not None:
            self.content.save_guest(tx, rec.key, guest)
        elif source_key is not None:
            self.content.copy(tx, source_key, rec.key)
        return rec

    def _props(
        self, os_type: str | None, hyper_v: str | None, arch: str, size_gb: int, creation: dict[str, Any]
    ) -> dict[str, Any]:
        props: dict[str, Any] = {
            "creationData": creation,
            "diskSizeGB": size_gb,
            "diskSizeBytes": size_gb * 1024**3,
            "uniqueId": str(uuid.uuid4()),
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "networkAccessPolicy": "AllowAll",
            "publicNetworkAccess": "Enabled",
            "timeCreated": _iso(self.clock.now()),
            "supportedCapabilities": {"architecture": arch},
        }
        if os_type:
            props["osType"] = os_type
        if hyper_v:
            props["hyperVGeneration"] = hyper_v
        return props

    def attach(self, tx: Txn, disk_id: str, vm_id: str) -> ResourceRecord:
        rec = self.tracked.require(tx, disk_id)
        owner = rec.body.get("managedBy")
        if owner and owner.lower() != vm_id.lower():
            raise AzureError(
                f"Disk '{rec.name}' cannot be attached as the disk is already owned by VM '{owner}'.",
                code="ConflictingUserInput",
                status=409,
            )
        rec.state = LIFECYCLE.next(rec.state, "attach", name=rec.name, vm=owner)
        rec.body["managedBy"] = vm_id
        self.tracked.save(tx, rec)
        return rec

    def set_state(self, tx: Txn, disk_id: str, action: str) -> None:
        rec = tx.get_resource(ids.key_of(disk_id))
        if rec is not None:
            rec.state = LIFECYCLE.next(rec.state, action, name=rec.name, vm=rec.body.get("managedBy"))
            if rec.state == "Unattached":
                rec.body.pop("managedBy", None)
            self.tracked.save(tx, rec)

    def remove_now(self, tx: Txn, disk_id: str) -> None:
        key = ids.key_of(disk_id)
        tx.delete_resource(key)
        self.content.unlink(tx, key)

    # the disks API -----------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    def create(
        self, rid: str, body: dict[str, Any], tenant_id: str | None
    ) -> tuple[ResourceRecord, OperationRecord]:
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = body.get("properties") or {}
        creation = dict(props.get("creationData") or {})
        option = str(creation.get("createOption") or "")
        sku = (body.get("sku") or {}).get("name") or "Standard_LRS"
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            if existing is not None:
                existing.body["tags"] = dict(body.get("tags") or existing.body.get("tags") or {})
                self.tracked.save(tx, existing)
                rec = existing
            elif option.lower() == "empty":
                size = props.get("diskSizeGB")
                if not isinstance(size, int) or size <= 0:
                    raise InvalidParameter(
                        "Required parameter 'diskSizeGB' is missing (null).", target="diskSizeGB"
                    )
                doc = {
                    "tags": dict(body.get("tags") or {}),
                    "sku": {"name": sku, "tier": sku.split("_")[0]},
                    "properties": self._props(
                        props.get("osType"),
                        props.get("hyperVGeneration"),
                        "x64",
                        size,
                        {"createOption": "Empty"},
                    ),
                }
                rec = self.tracked.new_record(tx, rid, TYPE, loc, doc, state="Unattached")
                self.content.save_guest(tx, rec.key, Guest("", "", GuestFS()))
            elif option.lower() == "copy":
                src_id = str(creation.get("sourceResourceId") or "")
                src = self.tracked.find(tx, src_id) if src_id else None
                if src is None:
                    raise AzureError(f"Resource {src_id} is not found.", code="NotFound", status=404)
                sp = src.body["properties"]
                size = int(props.get("diskSizeGB") or sp["diskSizeGB"])
                creation = {
                    "createOption": "Copy",
                    "sourceResourceId": src.id,
                    "sourceUniqueId": sp["uniqueId"],
                }
                doc = {
                    "tags": dict(body.get("tags") or {}),
                    "sku": {"name": sku, "tier": sku.split("_")[0]},
                    "properties": self._props(
                        sp.get("osType"),
                        sp.get("hyperVGeneration"),
                        sp.get("supportedCapabilities", {}).get("architecture", "x64"),
                        size,
                        creation,
                    ),
                }
                rec = self.tracked.new_record(tx, rid, TYPE, loc, doc, state="Unattached")
                self.content.copy(tx, src.id, rec.key)
            else:
                raise InvalidParameter(
                    f"The value '{option}' of parameter 'creationData.createOption' is not "
                    "supported by azemu for disks yet.",
                    target="createOption",
                )
            p = ids.parse(rid)
            assert p is not None
            op = self.operations.start(
                tx,
                kind=PUT_KIND,
                family="disk",
                subscription_id=p.subscription,
                location=loc,
                resource_id=rid,
                tenant_id=tenant_id,
            )
            return rec, op

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is None:
                p = ids.parse(rid)
                assert p is not None and p.resource_group is not None
                self.tracked.groups.require(tx, p.subscription, p.resource_group)
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name, vm=rec.body.get("managedBy"))
            tx.put_resource(rec)
            return self.operations.start(
                tx,
                kind=DELETE_KIND,
                family="disk",
                subscription_id=rec.subscription_id,
                location=rec.location or "",
                resource_id=rec.id,
                tenant_id=tenant_id,
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        self.remove_now(tx, op.resource_id)


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="microseconds")
