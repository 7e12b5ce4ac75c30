"""Managed images (``Microsoft.Compute/images``): capture of a generalized VM, or of a disk or snapshot.

An image is a reference to its source's content tree - capture costs metadata, not bytes - and outlives
its source. Images are generalized-only, as in Azure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.content import DiskContent, data_key
from azemu.domain.disks import SNAPSHOT, data_disk_entries
from azemu.domain.disks import TYPE as DISK
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, NotFound, OperationNotAllowed
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import Tracked
from azemu.domain.vm import TYPE as VM
from azemu.domain.vm import VirtualMachines
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/images"


def _refuse(action: str, ctx: Mapping[str, Any]) -> AzureError:
    state, name = ctx.get("state"), ctx.get("name")
    if state == "Deleting":
        return OperationNotAllowed(
            f"Operation '{action}' is not allowed on Image '{name}' since the Image is marked for deletion. You can "
            "only retry the Delete operation (or wait for an ongoing one to complete)."
        )
    if state == "Creating" and action == "use":
        return OperationNotAllowed(
            f"The resource {ctx.get('user')} cannot be created from Image {ctx.get('id')} until Image has been "
            "successfully created."
        )
    return OperationNotAllowed(f"Operation '{action}' is not allowed on Image '{name}' in state '{state}'.")


LIFECYCLE = StateTable(
    kind="image",
    initial="Creating",
    transitions={
        "Creating": {"created": "Succeeded", "failed": "Failed", "delete": "Deleting"},
        "Succeeded": {"use": "Succeeded", "update": "Succeeded", "delete": "Deleting"},
        "Failed": {"delete": "Deleting", "update": "Failed"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={s: _refuse for s in ("Creating", "Succeeded", "Failed", "Deleting", "Deleted")},
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)

KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Compute",
    lifecycle=LIFECYCLE,
    shape=shapes.IMAGE,
    operations={"create": 31.0, "delete": 31.0},
    description="Managed images captured from a generalized VM, a disk or a snapshot (with data disks).",
)


def document(rec: ResourceRecord) -> dict[str, Any]:
    props = dict(rec.body["properties"])
    props["provisioningState"] = LIFECYCLE.provisioning_state(rec.state)
    return envelope(rec, props)


class Images:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        content: DiskContent,
        vms: VirtualMachines,
        registry: Registry,
        textbook: bool,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.content = content
        self.vms = vms
        self.textbook = textbook
        operations.register(KIND.op("create"), self._complete_create, on_failure=self._create_failed)
        operations.register(KIND.op("delete"), self._complete_delete)
        registry.register(KIND, self)

    def put(self, w: Write) -> Written:
        rec, created, op = self.create_or_update(w.rid, w.body, w.tenant_id)
        return Written(rec, created, op)

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

    def require_ready(self, tx: Txn, image_id: str, user: str = "") -> ResourceRecord:
        rec = tx.get_resource(ids.key_of(image_id))
        if rec is None or rec.type.lower() != TYPE.lower():
            raise NotFound(f"The Image {image_id} cannot be found.", target="imageReference")
        LIFECYCLE.next(rec.state, "use", name=rec.name, user=user, id=image_id)
        return rec

    # create ------------------------------------------------------------------------------------------
    def create_or_update(
        self, rid: str, body: dict[str, Any], tenant_id: str | None
    ) -> tuple[ResourceRecord, bool, OperationRecord | None]:
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            if existing is not None:
                if body.get("tags") is not None:
                    existing.body["tags"] = dict(body["tags"])
                self._check_unchanged(existing, body.get("properties") or {})
                existing.state = LIFECYCLE.next(existing.state, "update", name=existing.name)
                self.tracked.save(tx, existing)
                return existing, False, None
            rec = self._new(tx, rid, body)
            op = self.operations.start_for(
                tx, rec, kind=KIND.op("create"), family=KIND.lro_family, tenant_id=tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, True, op

    def _new(self, tx: Txn, rid: str, body: dict[str, Any]) -> ResourceRecord:
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = body.get("properties") or {}
        hyper_v = props.get("hyperVGeneration") or "V1"
        if hyper_v not in ("V1", "V2"):
            raise InvalidParameter(
                f"The value '{hyper_v}' of parameter 'hyperVGeneration' is not valid.",
                target="hyperVGeneration",
            )
        storage_in = props.get("storageProfile") or {}
        zone_resilient = bool(storage_in.get("zoneResilient", False))
        src_vm = (props.get("sourceVirtualMachine") or {}).get("id")
        out: dict[str, Any] = {"hyperVGeneration": hyper_v}
        if src_vm:
            vm = self._capture_check(tx, src_vm)
            vm_gen = vm.body["properties"].get("hyperVGeneration") or "V1"
            given_gen = props.get("hyperVGeneration")
            if given_gen and given_gen != vm_gen:
                raise InvalidParameter(
                    f"The Input HyperVGeneration property: '{given_gen}' does not match with the HyperVGeneration "
                    f"property: 'Gen{vm_gen[1:]}' belonging to source: 'sourceVirtualMachine'.",
                    target="hyperVGeneration",
                )
            out["hyperVGeneration"] = vm_gen
            storage = vm.body["properties"]["storageProfile"]
            os_disk = storage["osDisk"]
            source_key = ids.key_of(os_disk["managedDisk"]["id"])
            out["sourceVirtualMachine"] = {"id": vm.id}
            data_sources = {
                str(d["lun"]): ids.key_of(d["managedDisk"]["id"]) for d in storage.get("dataDisks", [])
            }
            out["storageProfile"] = {
                "osDisk": {
                    "osType": os_disk["osType"],
                    "osState": "Generalized",
                    "diskSizeGB": os_disk["diskSizeGB"],
                    "managedDisk": {"id": os_disk["managedDisk"]["id"]},
                    "caching": os_disk.get("caching", "ReadWrite"),
                    "storageAccountType": os_disk["managedDisk"].get("storageAccountType", "Standard_LRS"),
                },
                "dataDisks": [
                    {
                        "lun": d["lun"],
                        "managedDisk": {"id": d["managedDisk"]["id"]},
                        "caching": d.get("caching", "None"),
                        "diskSizeGB": d["diskSizeGB"],
                        "storageAccountType": d["managedDisk"].get("storageAccountType", "Standard_LRS"),
                    }
                    for d in storage.get("dataDisks", [])
                ],
                "zoneResilient": zone_resilient,
            }
        else:
            os_in = storage_in.get("osDisk") or {}
            ref_kind, ref_id = next(
                (
                    (k, (os_in.get(k) or {}).get("id"))
                    for k in ("snapshot", "managedDisk")
                    if (os_in.get(k) or {}).get("id")
                ),
                (None, None),
            )
            if ref_id is None:
                if os_in.get("blobUri"):
                    raise InvalidParameter(
                        "Images from VHD blobs (blobUri) are not supported by azemu.",
                        target="storageProfile.osDisk.blobUri",
                    )
                raise InvalidParameter(
                    "Required parameter 'sourceVirtualMachine' or 'storageProfile.osDisk' is missing (null).",
                    target="storageProfile",
                )
            src = tx.get_resource(ids.key_of(ref_id))
            wanted = SNAPSHOT if ref_kind == "snapshot" else DISK
            if src is None or src.type.lower() != wanted.lower():
                raise NotFound(f"Source {ref_id} is not found.", target=f"storageProfile.osDisk.{ref_kind}")
            if not os_in.get("osType"):
                raise InvalidParameter("Required parameter 'osType' is missing (null).", target="osType")
            os_state = os_in.get("osState") or "Generalized"
            if os_state != "Generalized":
                raise InvalidParameter(
                    "The value 'Specialized' of parameter 'osState' is not allowed for managed "
                    "images. Managed images must be generalized; use an Azure Compute Gallery "
                    "for specialized images.",
                    target="osState",
                )
            if not props.get("hyperVGeneration") and src.body["properties"].get("hyperVGeneration"):
                out["hyperVGeneration"] = src.body["properties"]["hyperVGeneration"]
            source_key = src.key
            data_out, data_sources = self._data_disks(tx, storage_in.get("dataDisks") or [])
            out["storageProfile"] = {
                "osDisk": {
                    "osType": os_in["osType"],
                    "osState": "Generalized",
                    "diskSizeGB": os_in.get("diskSizeGB") or src.body["properties"]["diskSizeGB"],
                    ref_kind: {"id": src.id},
                    "caching": os_in.get("caching", "ReadWrite"),
                    "storageAccountType": os_in.get("storageAccountType", "Standard_LRS"),
                },
                "dataDisks": data_out,
                "zoneResilient": zone_resilient,
            }
        # every property the client sent is kept under what capture computed
        doc = {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(props, out)}
        doc.update({k: body[k] for k in ("extendedLocation",) if k in body})
        internal = {"source": source_key, "dataSources": data_sources}
        return self.tracked.new_record(tx, rid, TYPE, loc, doc, state=LIFECYCLE.initial, internal=internal)

    @staticmethod
    def _check_unchanged(rec: ResourceRecord, props: dict[str, Any]) -> None:
        """An image's source and disks cannot change (Image_Update sends them back unchanged)."""
        current = rec.body["properties"]
        gen = props.get("hyperVGeneration")
        if gen and gen != current.get("hyperVGeneration"):
            raise AzureError(
                "Changing property 'hyperVGeneration' is not allowed.",
                code="PropertyChangeNotAllowed",
                status=409,
                target="hyperVGeneration",
            )
        src = (props.get("sourceVirtualMachine") or {}).get("id")
        have = (current.get("sourceVirtualMachine") or {}).get("id")
        if src and have and ids.key_of(src) != ids.key_of(have):
            raise AzureError(
                "Changing property 'sourceVirtualMachine' is not allowed.",
                code="PropertyChangeNotAllowed",
                status=409,
                target="sourceVirtualMachine",
            )

    def _data_disks(self, tx: Txn, given: Sequence[Any]) -> tuple[Sequence[dict[str, Any]], dict[str, str]]:
        """Image data disks from snapshots or managed disks: (as the image shows them, lun -> content source)."""
        out: list[dict[str, Any]] = []
        sources: dict[str, str] = {}
        for lun, d in data_disk_entries(given, "dataDisks"):
            kind = "snapshot" if (d.get("snapshot") or {}).get("id") else "managedDisk"
            ref = (d.get(kind) or {}).get("id")
            src = tx.get_resource(ids.key_of(str(ref))) if ref else None
            if src is None or src.type.lower() not in (SNAPSHOT.lower(), DISK.lower()):
                raise NotFound(f"Source {ref} is not found.", target=f"storageProfile.dataDisks.{kind}")
            sources[str(lun)] = src.key
            out.append(
                {
                    "lun": lun,
                    kind: {"id": src.id},
                    "caching": d.get("caching", "None"),
                    "diskSizeGB": d.get("diskSizeGB") or src.body["properties"]["diskSizeGB"],
                    "storageAccountType": d.get("storageAccountType", "Standard_LRS"),
                }
            )
        return out, sources

    def _capture_check(self, tx: Txn, vm_id: str) -> ResourceRecord:
        vm = tx.get_resource(ids.key_of(vm_id))
        if vm is None or vm.type.lower() != VM.lower():
            raise NotFound(
                f"Source Virtual Machine '{vm_id}' specified in the request does not exist in this Azure "
                "location."
            )
        if not self.vms.table.fact(vm.state, "generalized", False):
            raise OperationNotAllowed(
                f"The operation 'Create Image' requires the Virtual Machine '{vm.name}' to be Generalized."
            )
        if self.textbook and self.vms.table.fact(vm.state, "power") != "deallocated":
            raise OperationNotAllowed(
                f"The operation 'Create Image' requires the Virtual Machine '{vm.name}' to be deallocated. (azemu "
                "--rules textbook: the AZ-104 chapter requires a deallocated VM for capture; Azure accepts a "
                "stopped one.)"
            )
        self.vms.table.next(vm.state, "capture", name=vm.name)
        return vm

    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        if rec.state != "Creating":
            return None
        self._link_content(tx, rec)
        rec.state = LIFECYCLE.next(rec.state, "created", name=rec.name)
        self.tracked.save(tx, rec)
        return None

    def _link_content(self, tx: Txn, rec: ResourceRecord) -> None:
        self.content.copy(tx, rec.internal["source"], rec.key)
        for lun, source in (rec.internal.get("dataSources") or {}).items():
            self.content.copy(tx, source, data_key(rec.id, lun))

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Creating":
            rec.state = LIFECYCLE.next(rec.state, "failed", name=rec.name)
            tx.put_resource(rec)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family=KIND.lro_family, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)
        self.content.release(tx, rec.key)

    # the portal's "capture and delete the VM" --------------------------------------------------------
    def capture_and_delete(
        self, vm_id: str, image_id: str, tenant_id: str | None
    ) -> tuple[ResourceRecord, OperationRecord | None]:
        """Image first (complete, whatever the latency profile), then the VM: never the other way round."""
        p = ids.parse(vm_id)
        assert p is not None
        with self.store.transaction() as tx:
            vm = self.tracked.require(tx, vm_id)
            rec = self._new(
                tx,
                image_id,
                {
                    "location": vm.location,
                    "properties": {
                        "sourceVirtualMachine": {"id": vm.id},
                        "hyperVGeneration": vm.body["properties"].get("hyperVGeneration", "V1"),
                    },
                },
            )
            self._link_content(tx, rec)
            rec.state = LIFECYCLE.next(rec.state, "created", name=rec.name)
            self.tracked.save(tx, rec)
        op = self.vms.begin_delete(vm_id, tenant_id)
        return rec, op
