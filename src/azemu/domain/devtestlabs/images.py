"""Lab custom images (``labs/{lab}/customimages``): from a lab VM, a VHD in the lab's storage account, a
managed image or a snapshot.

From a lab VM the OS state the creator gives decides what the lab does, as Azure's DevTest Labs does:

* ``DeprovisionRequested`` (Linux) - the lab runs ``waagent -deprovision+user -force`` in the guest (the VM is
  started first if it was stopped), deallocates the VM, marks it generalized and captures a managed image:
  the image's own user is gone, so a VM from it needs the user and password its creator gives;
* ``SysprepRequested`` (Windows) - the lab runs Sysprep (``/generalize /oobe /shutdown /quiet``) in the guest,
  then the same;
* ``DeprovisionApplied`` / ``SysprepApplied`` - the creator already did it: the VM is deallocated, marked
  generalized and captured, whatever its guest holds;
* ``NonDeprovisioned`` / ``NonSysprepped`` - a specialized image: a snapshot of the OS disk, booted as it was.

Each run's work happens in the custom image's ``create`` operation on azemu's clock; the managed image or
snapshot lives in the lab's resource group and goes with the custom image.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, shapes
from azemu.domain.devtestlabs import model
from azemu.domain.devtestlabs.labs import Labs
from azemu.domain.devtestlabs.vms import LabVms
from azemu.domain.disks import SNAPSHOT
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, BadRequest
from azemu.domain.images import TYPE as IMAGE
from azemu.domain.kinds import Registry, Write, Written
from azemu.domain.operations import Operations, Reschedule
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.domain.vm import VirtualMachines
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

UPLOADS = "uploads"  # the lab storage account's container for VHDs to import
# (OS type, whether the lab generalizes, whether it runs the tool in the guest) per OS state
OS_STATES = {
    "DeprovisionRequested": ("Linux", True, True),
    "DeprovisionApplied": ("Linux", True, False),
    "NonDeprovisioned": ("Linux", False, False),
    "SysprepRequested": ("Windows", True, True),
    "SysprepApplied": ("Windows", True, False),
    "NonSysprepped": ("Windows", False, False),
}
LINUX_DEPROVISION = "waagent -deprovision+user -force"
WINDOWS_SYSPREP = r"& $env:windir\System32\Sysprep\Sysprep.exe /generalize /oobe /shutdown /quiet"


class CustomImages:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        labs: Labs,
        lab_vms: LabVms,
        vms: VirtualMachines,
        vhd_import: Callable[[str], Any] | None,
    ) -> None:
        self.store = store
        self.vhd_import = vhd_import
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        self.labs = labs
        self.lab_vms = lab_vms
        self.vms = vms
        spec = model.CUSTOM_IMAGE_KIND
        operations.register(spec.op("create"), self._complete_create, on_failure=self._create_failed)
        operations.register(spec.op("delete"), self._complete_delete)
        registry.register(spec, self)

    # reads -----------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, lab_id: str) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            lab = self.tracked.require(tx, lab_id)
            return [
                r
                for r in tx.list_resources(parent_key=lab.key)
                if r.type.lower() == model.CUSTOM_IMAGE.lower()
            ]

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = copy.deepcopy(rec.body["properties"])
        props["provisioningState"] = model.ASYNC_LIFECYCLE.provisioning_state(rec.state)
        return envelope(rec, props)

    # create ----------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        lab_id = w.rid.rsplit("/", 2)[0]
        with self.store.transaction() as tx:
            lab = self.tracked.require(tx, lab_id)
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            props = dict(w.body.get("properties") or {})
            if existing is not None:  # description, tags: the source is fixed once captured
                existing.body["tags"] = dict(w.body.get("tags") or {})
                for key in ("description", "author"):
                    if key in props:
                        existing.body["properties"][key] = props[key]
                existing.state = model.ASYNC_LIFECYCLE.next(existing.state, "update")
                self.tracked.save(tx, existing)
                return Written(existing, False, None)
            os_type, source = self._source(tx, lab, props)
            computed = {
                "creationDate": iso(self.clock.now()),
                "author": props.get("author") or (w.client or {}).get("oid", ""),
                "uniqueIdentifier": model.unique(),
                "isPlanAuthorized": False,
            }
            doc = {"tags": dict(w.body.get("tags") or {}), "properties": shapes.keep(props, computed)}
            rec = self.tracked.new_record(
                tx,
                w.rid,
                model.CUSTOM_IMAGE,
                lab.location,
                doc,
                state=model.ASYNC_LIFECYCLE.initial,
                parent_key=lab.key,
                internal={"osType": os_type, "source": source, "owned": []},
            )
            op = self.operations.start_for(
                tx, rec, kind=model.CUSTOM_IMAGE_KIND.op("create"), family=model.FAMILY, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, op)

    def _source(self, tx: Txn, lab: ResourceRecord, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(OS type, what the create operation does) - refused now when the request cannot work."""
        given = [k for k in ("vm", "vhd", "managedImageId", "managedSnapshotId") if props.get(k)]
        if len(given) != 1:
            raise BadRequest(
                "Exactly one of 'vm', 'vhd', 'managedImageId' or 'managedSnapshotId' must be given to create a "
                "custom image.",
                code="InvalidCustomImageSource",
            )
        kind = given[0]
        if kind == "vm":
            vm = dict(props["vm"])
            source_id = str(vm.get("sourceVmId") or "")
            lab_vm = tx.get_resource(ids.key_of(source_id)) if source_id else None
            if lab_vm is None or lab_vm.type.lower() != model.VM.lower() or lab_vm.parent_key != lab.key:
                raise model.not_found("virtual machine", source_id or "(none)")
            vm_os = str(lab_vm.body["properties"].get("osType") or "")
            linux = (vm.get("linuxOsInfo") or {}).get("linuxOsState")
            windows = (vm.get("windowsOsInfo") or {}).get("windowsOsState")
            state = str(linux or windows or "")
            if state not in OS_STATES:
                raise BadRequest(
                    f"The OS state '{state}' is not valid: give linuxOsInfo.linuxOsState (DeprovisionRequested, "
                    "DeprovisionApplied, NonDeprovisioned) or windowsOsInfo.windowsOsState (SysprepRequested, "
                    "SysprepApplied, NonSysprepped).",
                    code="InvalidOsState",
                )
            os_type, generalize, run = OS_STATES[state]
            if os_type != vm_os:
                raise BadRequest(
                    f"The OS state '{state}' does not apply to the {vm_os} virtual machine '{lab_vm.name}'.",
                    code="InvalidOsState",
                )
            model.VM_LIFECYCLE.next(lab_vm.state, "capture", name=lab_vm.name)
            if not lab_vm.body["properties"].get("computeId"):
                raise model.DtlError(
                    f"The virtual machine '{lab_vm.name}' has no compute VM.", code="Conflict"
                )
            return os_type, {"kind": "vm", "labVm": lab_vm.id, "generalize": generalize, "run": run}
        if kind == "vhd":
            vhd = dict(props["vhd"])
            os_type = str(vhd.get("osType") or "")
            if os_type not in ("Linux", "Windows"):
                raise BadRequest("The VHD's 'osType' must be Linux or Windows.", code="InvalidOsType")
            name = str(vhd.get("imageName") or "")
            account = self.labs.storage_account(lab)
            uri = f"https://{account}.blob.core.windows.net/{UPLOADS}/{name}"
            if not name or self.vhd_import is None or self.vhd_import(uri) is None:
                raise BadRequest(
                    f"The blob name: {name} was not found in the lab storage account: {account}, container: "
                    f"{UPLOADS}",
                    code="BlobDoesNotExistInStorageAccount",
                )
            return os_type, {"kind": "vhd", "uri": uri, "generalize": bool(vhd.get("sysPrep")), "run": False}
        rid = ids.canonical(str(props[kind]))
        found = tx.get_resource(ids.key_of(rid))
        wanted = IMAGE if kind == "managedImageId" else SNAPSHOT
        if found is None or found.type.lower() != wanted.lower():
            raise model.not_found("managed image" if kind == "managedImageId" else "snapshot", rid)
        if kind == "managedImageId":
            os_type = str(found.body["properties"]["storageProfile"]["osDisk"]["osType"])
        else:
            os_type = str(found.body["properties"].get("osType") or "Linux")
        return os_type, {"kind": kind, "id": found.id, "generalize": kind == "managedImageId", "run": False}

    # the create operation ----------------------------------------------------------------------------
    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.state != "Creating":
            return
        pending = op.payload.get("pending")
        if pending:
            child = self.operations.get(str(pending))
            if child is not None and not child.done:
                raise Reschedule(max(1.0, child.due_at - self.clock.now()))
            if child is not None and child.status == "Failed":
                err = child.error or {}
                raise AzureError(
                    str(err.get("message", "")), code=str(err.get("code") or "Failed"), status=409
                )
        source = rec.internal["source"]
        stage = str(op.payload.get("stage") or "start")
        if source["kind"] == "vm":
            wait = self._from_vm(tx, rec, op, stage)
            if wait is not None:
                raise Reschedule(*wait)
        elif source["kind"] == "vhd":
            self._from_vhd(tx, rec)
        elif source["kind"] == "managedImageId":
            rec.internal.update(generalized=True, managedImageId=source["id"])
            rec.body["properties"]["managedImageId"] = source["id"]
        else:
            rec.internal.update(generalized=False, snapshotId=source["id"])
            rec.body["properties"]["managedSnapshotId"] = source["id"]
        rec.state = model.ASYNC_LIFECYCLE.next(rec.state, "created")
        self.tracked.save(tx, rec)

    def _from_vm(
        self, tx: Txn, rec: ResourceRecord, op: OperationRecord, stage: str
    ) -> tuple[float, dict[str, Any]] | None:
        """The stages of a capture from a lab VM; a (seconds, payload) wait, or None when captured."""
        source = rec.internal["source"]
        lab_vm = self.tracked.require(tx, source["labVm"])
        vm = self.lab_vms.compute_vm(tx, lab_vm)
        if vm is None:
            raise model.DtlError(f"The virtual machine '{lab_vm.name}' has no compute VM.", code="Conflict")
        if stage == "start" and source["run"]:
            if not self.vms.powered_on(vm):  # the tool runs in the guest: the lab starts the VM first
                started = self.lab_vms.power(tx, lab_vm, "start", op.tenant_id)
                return 1.0, {"stage": "run", "pending": started.id}
            stage = "run"
        if stage == "run" and source["run"]:
            vm = self.tracked.require(tx, vm.id)
            self._run_tool(tx, rec, vm)
            stage = "capture"
        if stage in ("start", "capture"):
            self._capture(tx, rec, self.tracked.require(tx, lab_vm.id), self.tracked.require(tx, vm.id))
        return None

    def _run_tool(self, tx: Txn, rec: ResourceRecord, vm: ResourceRecord) -> None:
        guest = self.vms.load_guest(tx, vm)
        windows = rec.internal["osType"] == "Windows"
        result = guest_api.run_script(
            guest,
            "RunPowerShellScript" if windows else "RunShellScript",
            [WINDOWS_SYSPREP if windows else LINUX_DEPROVISION],
            [],
            self.vms.exec_context(vm),
        )
        self.vms.store_guest(tx, vm, guest)
        self.vms.guest_power(tx, vm, result.power)
        self.vms.tracked.save(tx, vm)
        if result.exit_code != 0:
            tool = "Sysprep" if windows else "waagent -deprovision"
            raise model.DtlError(
                f"{tool} failed in the virtual machine '{vm.name}' (exit code {result.exit_code}): "
                f"{(result.stderr or result.stdout).strip()[-500:]}",
                code="CustomImageCreationFailed",
            )

    def _capture(self, tx: Txn, rec: ResourceRecord, lab_vm: ResourceRecord, vm: ResourceRecord) -> None:
        """Deallocate (a generalized capture) and capture: a managed image, or a snapshot of the OS disk."""
        source = rec.internal["source"]
        lab = tx.get_resource(rec.parent_key or "")
        assert lab is not None
        p = ids.parse(lab.id)
        assert p is not None and p.resource_group is not None
        name = f"{rec.name}-{rec.body['properties']['uniqueIdentifier'][:8]}"
        if source["generalize"]:
            power = self.vms.table.fact(vm.state, "power")
            if power not in ("deallocated", "stopped"):
                self.vms.begin_member_power(tx, vm, "deallocate")
                self.vms.settle_power(tx, vm, "deallocate")
            self.vms.generalize(vm.id)
            lab_vm = self.tracked.require(tx, lab_vm.id)
            if lab_vm.state == "Running":
                lab_vm.state = model.VM_LIFECYCLE.next(lab_vm.state, "stop", name=lab_vm.name)
                lab_vm.state = model.VM_LIFECYCLE.next(lab_vm.state, "settle", name=lab_vm.name)
                self.tracked.save(tx, lab_vm)
            image_id = ids.resource_id(
                p.subscription, p.resource_group, "Microsoft.Compute", ["images"], [name]
            )
            vm = self.tracked.require(tx, vm.id)
            self.registry.put(
                Write(
                    image_id,
                    {
                        "location": lab.location,
                        "tags": {
                            "hidden-DevTestLabs-LabUId": lab.body["properties"].get("uniqueIdentifier", "")
                        },
                        "properties": {
                            "sourceVirtualMachine": {"id": vm.id},
                            "hyperVGeneration": vm.body["properties"].get("hyperVGeneration", "V1"),
                        },
                    },
                    None,
                )
            )
            self._own(rec, generalized=True, managedImageId=image_id)
            return
        disk_id = vm.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        snap_id = ids.resource_id(
            p.subscription, p.resource_group, "Microsoft.Compute", ["snapshots"], [name]
        )
        self.registry.put(
            Write(
                snap_id,
                {
                    "location": lab.location,
                    "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
                },
                None,
            )
        )
        self._own(rec, generalized=False, snapshotId=snap_id)

    def _from_vhd(self, tx: Txn, rec: ResourceRecord) -> None:
        """A snapshot imported from the VHD; a managed image of it when the VHD was generalized."""
        source = rec.internal["source"]
        lab = tx.get_resource(rec.parent_key or "")
        assert lab is not None
        p = ids.parse(lab.id)
        assert p is not None and p.resource_group is not None
        name = f"{rec.name}-{rec.body['properties']['uniqueIdentifier'][:8]}"
        snap_id = ids.resource_id(
            p.subscription, p.resource_group, "Microsoft.Compute", ["snapshots"], [name]
        )
        os_type = rec.internal["osType"]
        self.registry.put(
            Write(
                snap_id,
                {
                    "location": lab.location,
                    "properties": {
                        "osType": os_type,
                        "creationData": {"createOption": "Import", "sourceUri": source["uri"]},
                    },
                },
                None,
            )
        )
        rec.internal["owned"] = [snap_id]
        if not source["generalize"]:
            self._own(rec, generalized=False, snapshotId=snap_id)
            return
        image_id = ids.resource_id(p.subscription, p.resource_group, "Microsoft.Compute", ["images"], [name])
        self.registry.put(
            Write(
                image_id,
                {
                    "location": lab.location,
                    "properties": {
                        "storageProfile": {
                            "osDisk": {
                                "osType": os_type,
                                "osState": "Generalized",
                                "snapshot": {"id": snap_id},
                            }
                        }
                    },
                },
                None,
            )
        )
        self._own(rec, generalized=True, managedImageId=image_id)

    def _own(self, rec: ResourceRecord, *, generalized: bool, **made: str) -> None:
        rec.internal["generalized"] = generalized
        owned = list(rec.internal.get("owned") or [])
        for key, rid in made.items():
            rec.internal[key] = rid
            owned.append(rid)
            rec.body["properties"]["managedSnapshotId" if key == "snapshotId" else key] = rid
        rec.internal["owned"] = owned

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Creating":
            rec.state = model.ASYNC_LIFECYCLE.next(rec.state, "failed")
            tx.put_resource(rec)

    # delete ----------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is None:
                self.tracked.require(tx, rid.rsplit("/", 2)[0])
                return None
            rec.state = model.ASYNC_LIFECYCLE.next(rec.state, "delete")
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=model.CUSTOM_IMAGE_KIND.op("delete"), family=model.FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The custom image goes with the managed image and snapshot the lab made for it."""
        for rid in reversed(list(rec.internal.get("owned") or [])):
            found = tx.get_resource(ids.key_of(rid))
            if found is not None:
                kind = self.registry.get(found.type)
                if kind is not None:
                    kind.service.purge(tx, found)
        tx.delete_resource(rec.key)
