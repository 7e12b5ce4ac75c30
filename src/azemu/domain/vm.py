"""Virtual machines: create (with first-boot provisioning of the guest), power operations, generalize,
Run Command, delete. The guest's files are the truth about its identity; this module moves them between
the disk store and the guest personality, and decides what the platform says about them."""

from __future__ import annotations

import base64
import binascii
import builtins
import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from azemu.clock.clock import Clock
from azemu.domain import conflicts, ids, osprofile, regions, shapes, sizes, vm_sources, vm_views
from azemu.domain.disks import TYPE as DISK
from azemu.domain.disks import Disks, data_disk_entries
from azemu.domain.errors import AzureError, Conflict, InvalidParameter, LocationRequired, NotFound
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import StateTable
from azemu.domain.network import NIC, Network
from azemu.domain.operations import Fail, Operations, Reschedule
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.domain.vm_lifecycle import AZURE, TEXTBOOK
from azemu.guest import api as guest_api
from azemu.guest.fs import GuestFS
from azemu.guest.machine import BootResult, ExecContext, Guest, OsProfile
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/virtualMachines"
FAMILY = "Microsoft.Compute"
KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=AZURE,
    textbook=TEXTBOOK,
    shape=shapes.VM,
    operations={
        "create": 45.0,
        "start": 10.0,
        "powerOff": 31.0,
        "deallocate": 30.0,
        "restart": 73.0,
        "redeploy": 124.0,
        "delete": 31.0,
        "runCommand": 31.0,
    },
    description="Virtual machines whose guests are data: power lifecycle, generalize, Run Command, first boot.",
    uses=(DISK, NIC),
)
POWER_ACTIONS = ("start", "powerOff", "deallocate", "restart")


@dataclass(frozen=True)
class Member:
    """How a scale set's instance differs from a VM created on its own (vmss_instances.py)."""

    type: str  # virtualMachines (Flexible) or virtualMachineScaleSets/virtualMachines (Uniform)
    owner_key: str  # the scale set's key (kept as the record's parent key: its instances list fast)
    source: vm_sources.OsSource | None = None  # resolved once for a whole scale-out
    nics: list[dict[str, Any]] | None = None  # the instance's network interfaces, made by the scale set


class Agent(TypedDict):
    ready: bool
    messages: list[str]


class VmInternal(TypedDict, total=False):
    """What the platform knows of a VM and never shows as such (``ResourceRecord.internal``)."""

    userData: str  # base64; shown only with ``$expand=userData``
    domains: list[int]  # [update domain, fault domain] in its availability set
    hibernated: bool  # the last deallocate hibernated the guest

    agent: Agent  # the VM agent's last report
    oobe: bool  # Windows waits at the out-of-box screen
    busy: str | None  # the Run Command operation in progress
    identity: dict[str, Any]  # the guest's identity facts (for conflict detection)
    provisioning: str  # Creating | Succeeded | Failed
    firstBoot: dict[str, Any]  # what the first boot will do (osProfile, or specialized)
    imageGuest: str  # the guest personality (ubuntu-22.04 ...)
    warnings: list[str]
    osState: str  # generalized | specialized, as the instance view shows it
    load: list[dict[str, Any]]  # the guest's busy processes (guest/cpuload.py), for the CPU metrics


def internal(rec: ResourceRecord) -> VmInternal:
    return cast(VmInternal, rec.internal)


AGENT_NOT_READY = (
    "VM '{vm}' has not reported status for VM agent or extensions. Verify that the OS is up and healthy, the VM "
    "has a running VM agent, and that it can establish outbound connections to Azure storage. Please refer to "
    "https://aka.ms/vmextensionlinuxtroubleshoot for additional VM agent troubleshooting information."
)


class VirtualMachines:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        disks: Disks,
        network: Network,
        registry: Registry,
        textbook: bool,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.disks = disks
        self.network = network
        self.table: StateTable = KIND.lifecycle_for(textbook)
        self.images: Any = None  # managed images (set by the emulator): a source for new VMs
        self.availability_sets: Any = None  # availability sets (set by the emulator)
        self.extensions: Any = None  # VM extensions (set by the emulator)
        self.registry = registry
        self.gallery: Any = None  # gallery image versions (set by the emulator): a source for new VMs
        operations.register(KIND.op("create"), self._complete_create, on_failure=self._create_failed)
        for action in POWER_ACTIONS:
            operations.register(KIND.op(action), self._complete_power)
        operations.register(KIND.op("delete"), self._complete_delete)
        operations.register(
            KIND.op("runCommand"), self._complete_run_command, on_failure=self._run_command_failed
        )
        registry.register(KIND, self)

    # the kind's uniform face -------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        rec, created, op = self.create_or_update(
            w.rid, w.body, w.tenant_id, w.if_match, w.if_none_match, dict(w.client)
        )
        return Written(rec, created, op)

    def document(
        self, rec: ResourceRecord, instance_view: dict[str, Any] | None = None, *, user_data: bool = False
    ) -> dict[str, Any]:
        return vm_views.document(self.table, rec, instance_view, user_data=user_data)

    def instance_view(self, rec: ResourceRecord, subscription_ids: Sequence[str]) -> dict[str, Any]:
        view = vm_views.instance_view(self.table, rec, self.identity_conflicts(subscription_ids))
        if self.extensions is not None and rec.body.get("resources"):
            with self.store.read() as tx:
                view["extensions"] = self.extensions.instance_views(tx, rec)
            view["vmAgent"]["extensionHandlers"] = [
                {
                    "type": e["type"],
                    "typeHandlerVersion": e["typeHandlerVersion"],
                    "status": {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Ready",
                    },
                }
                for e in view["extensions"]
            ]
        return view

    # helpers -----------------------------------------------------------------------------------------
    def _ctx(self, rec: ResourceRecord) -> ExecContext:
        return ExecContext(
            now=self.clock.now(),
            vm_id=rec.body["properties"]["vmId"],
            vm_name=rec.name,
            directory=lambda domain: self.domain_members(rec, domain),
        )

    def domain_members(self, rec: ResourceRecord, domain: str) -> builtins.list[tuple[str, str]]:
        """(computer name, SID) of the other VMs of the subscription whose guests joined ``domain``: what
        its domain controller knows when this VM asks to join."""
        with self.store.read() as tx:
            vms = tx.list_resources(subscription_id=rec.subscription_id, type=TYPE)
        out = []
        for vm in vms:
            ident = internal(vm).get("identity") or {}
            if vm.key == rec.key or str(ident.get("domain") or "").lower() != domain.lower():
                continue
            out.append((str(ident.get("computerName") or ""), str(ident.get("sid") or "")))
        return out

    def _guest(self, tx: Txn, rec: ResourceRecord) -> Guest:
        disk_id = rec.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        return self.disks.content.load_guest(tx, disk_id)

    def _save_guest(self, tx: Txn, rec: ResourceRecord, guest: Guest) -> None:
        disk_id = rec.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        self.disks.content.save_guest(tx, disk_id, guest)
        internal(rec)["identity"] = guest_api.identity(guest)
        internal(rec)["load"] = guest_api.busy_processes(guest)  # what the CPU metrics read (metrics.py)

    @staticmethod
    def _apply_boot(rec: ResourceRecord, boot: BootResult) -> None:
        emu = internal(rec)
        emu["agent"] = {"ready": boot.agent_ready, "messages": list(boot.messages)}
        emu["oobe"] = boot.oobe

    def _transition(self, rec: ResourceRecord, action: str) -> None:
        rec.state = self.table.next(rec.state, action, name=rec.name)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    # create / update ---------------------------------------------------------------------------------
    def create_or_update(
        self,
        rid: str,
        body: dict[str, Any],
        tenant_id: str | None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        client: dict[str, str] | None = None,
    ) -> tuple[ResourceRecord, bool, OperationRecord | None]:
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            self.tracked.preconditions(existing, if_match, if_none_match)
            if existing is not None and existing.state != "deleted":
                return self._update(tx, existing, body), False, None
            rec, op = self._create(tx, rid, body, tenant_id, client)
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, True, op

    def update(self, rid: str, body: dict[str, Any], if_match: str | None = None) -> ResourceRecord:
        """PATCH: tags and hardware profile."""
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            self.tracked.preconditions(rec, if_match, None)
            return self._update(tx, rec, body)

    def _update(self, tx: Txn, rec: ResourceRecord, body: dict[str, Any]) -> ResourceRecord:
        self._transition(rec, "update")
        props = body.get("properties") or {}
        if "osProfile" in props and "osProfile" not in rec.body["properties"]:
            raise Conflict(
                "Changing property 'osProfile' is not allowed.",
                code="PropertyChangeNotAllowed",
                target="osProfile",
            )
        _refuse_changes(rec.body["properties"], props)
        if body.get("tags") is not None:
            rec.body["tags"] = dict(body["tags"])
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        if size:
            rec.body["properties"]["hardwareProfile"]["vmSize"] = size
        if "userData" in props:
            internal(rec)["userData"] = _user_data(props["userData"])
        given_os = (props.get("storageProfile") or {}).get("osDisk")
        if isinstance(given_os, dict):
            self._swap_os_disk(tx, rec, given_os)
        given_disks = (props.get("storageProfile") or {}).get("dataDisks")
        if given_disks is not None:
            self._update_data_disks(tx, rec, given_disks)
        given_nics = (props.get("networkProfile") or {}).get("networkInterfaces")
        if given_nics is not None:
            self._update_nics(tx, rec, given_nics)
        # what the platform owns is changed only by the rules above; every other property the client
        # sends replaces the stored one (shapes.keep: the new value wins, what it leaves out stays)
        given = {k: v for k, v in props.items() if k not in _OWNED}
        rec.body["properties"] = shapes.keep(rec.body["properties"], given)
        rec.body.update(shapes.keep(rec.body, _top_level(body)))
        self.tracked.save(tx, rec)
        return rec

    def _create(
        self,
        tx: Txn,
        rid: str,
        body: dict[str, Any],
        tenant_id: str | None,
        client: dict[str, str] | None = None,
    ) -> tuple[ResourceRecord, OperationRecord]:
        rec = self.new_vm(tx, rid, body, tenant_id, client)
        op = self.operations.start_for(tx, rec, kind=KIND.op("create"), family=FAMILY, tenant_id=tenant_id)
        return rec, op

    def new_vm(
        self,
        tx: Txn,
        rid: str,
        body: dict[str, Any],
        tenant_id: str | None,
        client: dict[str, str] | None = None,
        *,
        member: Member | None = None,
    ) -> ResourceRecord:
        """A VM record in its first state, its disks made from the source; nothing booted yet. A scale set's
        instance is made here too (``member``: its record type, owner, resolved source and network)."""
        p = ids.parse(rid)
        assert p is not None and p.resource_group is not None
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = body.get("properties") or {}
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        if not size:
            raise InvalidParameter(
                "Required parameter 'hardwareProfile.vmSize' is missing (null).", target="vmSize"
            )
        user_data = _user_data(props["userData"]) if "userData" in props else None
        self._check_references(tx, props)
        storage = props.get("storageProfile") or {}
        os_disk_in = dict(storage.get("osDisk") or {})
        for i, d in enumerate([os_disk_in, *(storage.get("dataDisks") or [])]):
            blob = "vhd" if d.get("vhd") else "image" if d.get("image") else None
            if blob is not None:
                raise InvalidParameter(
                    "Blob-based (unmanaged) disks are not served by azemu, which serves no storage accounts: "
                    "give a managed disk (managedDisk) instead.",
                    target=f"storageProfile.{'osDisk' if i == 0 else f'dataDisks[{i - 1}]'}.{blob}",
                )
        image_ref = storage.get("imageReference")
        option = str(os_disk_in.get("createOption") or ("FromImage" if image_ref else "")).lower()
        os_profile_in = props.get("osProfile")
        emu: VmInternal = {
            "agent": {"ready": False, "messages": []},
            "oobe": False,
            "busy": None,
            "identity": {},
            "provisioning": "Creating",
        }
        caching = os_disk_in.get("caching") or "ReadWrite"
        delete_option = os_disk_in.get("deleteOption") or "Detach"

        if option == "fromimage":
            src = (
                member.source
                if member is not None and member.source is not None
                else vm_sources.resolve(
                    tx,
                    image_ref,
                    loc=loc,
                    subscription=p.subscription,
                    vm_id=rid,
                    now=self.clock.now(),
                    images=self.images,
                    gallery=self.gallery,
                    tenant_id=tenant_id or "",
                    client=client or {},
                )
            )
            if member is not None and src.guest is not None:  # a platform image: a new guest per instance
                src = dataclasses.replace(src, guest=src.guest.copy())
            self._first_boot_rule(emu, src.generalized, os_profile_in, src.os_type, p.name)
            if src.image_guest:
                emu["imageGuest"] = src.image_guest
            if src.warnings:
                emu["warnings"] = src.warnings
            disk_name = os_disk_in.get("name") or f"{p.name}_OsDisk_1_{uuid.uuid4().hex}"
            disk_id = ids.resource_id(
                p.subscription, p.resource_group, "Microsoft.Compute", ["disks"], [disk_name]
            )
            sku = (os_disk_in.get("managedDisk") or {}).get("storageAccountType") or "Premium_LRS"
            size_gb = int(os_disk_in.get("diskSizeGB") or src.size_gb)
            self.disks.new_os_disk(
                tx,
                disk_id,
                loc,
                os_type=src.os_type,
                hyper_v=src.hyper_v,
                architecture=src.architecture,
                size_gb=size_gb,
                sku=sku,
                creation=src.creation,
                vm_id=rid,
                guest=src.guest,
                source_key=src.source_key,
            )
            os_type, hyper_v, image_out = src.os_type, src.hyper_v, src.image_out
            image_specs, data_creation = src.data_specs, src.data_creation
            create_option = "FromImage"
        elif option == "attach":
            src_id = (os_disk_in.get("managedDisk") or {}).get("id")
            if not src_id:
                raise InvalidParameter(
                    "Required parameter 'osDisk.managedDisk.id' is missing (null).",
                    target="osDisk.managedDisk.id",
                )
            self._first_boot_rule(emu, False, os_profile_in, "", p.name)
            disk = self.disks.attach(tx, src_id, rid)
            dp = disk.body["properties"]
            os_type = os_disk_in.get("osType") or dp.get("osType")
            if not os_type:
                raise InvalidParameter(
                    "Required parameter 'osDisk.osType' is missing (null).", target="osType"
                )
            hyper_v, size_gb, image_out = dp.get("hyperVGeneration", "V1"), dp["diskSizeGB"], None
            image_specs, data_creation = [], {}
            disk_id, disk_name, sku = disk.id, disk.name, disk.body["sku"]["name"]
            create_option = "Attach"
        else:
            raise InvalidParameter(
                f"The value '{os_disk_in.get('createOption')}' of parameter 'osDisk.createOption' is not valid.",
                target="createOption",
            )

        data_disks = self._data_disks(
            tx, storage.get("dataDisks") or [], image_specs, data_creation, p, loc, rid, str(size)
        )
        os_disk_out = shapes.keep(
            os_disk_in,
            {
                "osType": os_type,
                "name": disk_name,
                "createOption": create_option,
                "caching": caching,
                "managedDisk": {"storageAccountType": sku, "id": disk_id},
                "deleteOption": delete_option,
                "diskSizeGB": size_gb,
            },
        )
        storage_out: dict[str, Any] = {
            "osDisk": os_disk_out,
            "dataDisks": data_disks,
            "diskControllerType": storage.get("diskControllerType") or "SCSI",
        }
        if image_out is not None:
            storage_out = {"imageReference": shapes.keep(image_ref, image_out), **storage_out}
        props_out: dict[str, Any] = {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": storage_out,
            "networkProfile": {
                "networkInterfaces": member.nics
                if member is not None and member.nics is not None
                else self._attach_nics(tx, props, rid)
            },
            "vmId": str(uuid.uuid4()),
            "timeCreated": iso(self.clock.now()),
        }
        if os_profile_in is not None:
            props_out["osProfile"] = osprofile.public_view(
                {**os_profile_in, "computerName": os_profile_in.get("computerName") or p.name}, os_type
            )
        props_out["hyperVGeneration"] = hyper_v
        if props.get("virtualMachineScaleSet"):
            props_out["virtualMachineScaleSet"] = props["virtualMachineScaleSet"]
        # every property the client sent is kept (shapes.keep), under what the platform computed
        given = {k: v for k, v in props.items() if k not in _OWNED}
        given["storageProfile"] = {
            k: v for k, v in storage.items() if k not in ("imageReference", "osDisk", "dataDisks")
        }
        given["hardwareProfile"] = props.get("hardwareProfile") or {}
        given["networkProfile"] = {
            k: v for k, v in (props.get("networkProfile") or {}).items() if k != "networkInterfaces"
        }
        doc = shapes.keep(
            _top_level(body),
            {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(given, props_out)},
        )
        if user_data is not None:
            emu["userData"] = user_data
        avset = (props.get("availabilitySet") or {}).get("id")
        if avset and self.availability_sets is not None:
            emu["domains"] = list(self.availability_sets.join(tx, str(avset), rid))
        return self.tracked.new_record(
            tx,
            rid,
            member.type if member is not None else TYPE,
            loc,
            doc,
            state=self.table.initial,
            parent_key=member.owner_key if member is not None else None,
            internal=cast(dict[str, Any], emu),
        )

    @staticmethod
    def _first_boot_rule(
        emu: VmInternal,
        generalized: bool,
        os_profile_in: dict[str, Any] | None,
        os_type: str,
        vm_name: str,
    ) -> None:
        """A generalized source needs ``osProfile`` (first boot provisions the guest); a specialized one
        refuses it (the guest boots as it is)."""
        if generalized:
            if os_profile_in is None:
                raise InvalidParameter(
                    "Required parameter 'osProfile' is missing (null).", target="osProfile"
                )
            profile = osprofile.parse(os_profile_in, os_type, vm_name)
            emu["firstBoot"] = {"profile": profile.__dict__, "source": "generalized"}
            return
        if os_profile_in is not None:
            raise InvalidParameter("Parameter 'osProfile' is not allowed.", target="osProfile")
        emu["firstBoot"] = {"source": "specialized"}
        emu["osState"] = "specialized"

    # resources a VM may name; one azemu does not serve cannot exist, and is answered as Azure answers a
    # reference to a resource that does not exist
    _REFERENCES = (
        ("availabilitySet", "Availability Set"),
        ("proximityPlacementGroup", "Proximity Placement Group"),
        ("host", "Dedicated Host"),
        ("hostGroup", "Dedicated Host Group"),
        ("virtualMachineScaleSet", "Virtual Machine Scale Set"),
    )

    def _check_references(self, tx: Txn, props: dict[str, Any]) -> None:
        refs = [(key, noun, (props.get(key) or {}).get("id")) for key, noun in self._REFERENCES]
        group = ((props.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
        refs.append(("capacityReservation.capacityReservationGroup", "Capacity Reservation Group", group))
        for key, noun, ref in refs:
            if not ref:
                continue
            p = ids.parse(str(ref))
            found = tx.get_resource(ids.key_of(str(ref))) if p is not None else None
            if found is None or p is None or self.registry.get(p.full_type) is None:
                raise NotFound(f"{noun} {ref} cannot be found.", target=key)

    def _attach_nics(self, tx: Txn, props: dict[str, Any], vm_id: str) -> Sequence[dict[str, Any]]:
        network = props.get("networkProfile") or {}
        if network.get("networkInterfaceConfigurations") or network.get("networkApiVersion"):
            raise InvalidParameter(
                "Network interface configurations (networkApiVersion), which have the platform create a VM's "
                "network interfaces, are not served by azemu: create the network interface and name it in "
                "networkProfile.networkInterfaces.",
                target="networkProfile.networkInterfaceConfigurations",
            )
        nics_out = []
        for nic_ref in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
            self.network.attach(tx, nic_ref["id"], vm_id)
            nics_out.append(
                {
                    "id": nic_ref["id"],
                    **({"properties": nic_ref["properties"]} if nic_ref.get("properties") else {}),
                }
            )
        if not nics_out:
            raise InvalidParameter(
                "Required parameter 'networkProfile' is missing (null).", target="networkProfile"
            )
        return nics_out

    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        self.boot_new(tx, self.tracked.require(tx, op.resource_id))

    def boot_new(self, tx: Txn, rec: ResourceRecord) -> None:
        """A new VM's first boot: provisioning from ``osProfile`` (generalized source) or as it is."""
        emu = internal(rec)
        guest = self._guest(tx, rec)
        emu["imageGuest"] = guest.distro
        first = emu.pop("firstBoot", {})
        if first.get("source") == "generalized":
            prof = dict(first["profile"])
            prof["ssh_public_keys"] = [tuple(k) for k in prof.get("ssh_public_keys", [])]
            boot = guest_api.first_boot(guest, OsProfile(**prof), self._ctx(rec))
        else:
            boot = guest_api.boot(guest, self._ctx(rec))
        self._apply_boot(rec, boot)
        self._save_guest(tx, rec, guest)
        self._transition(rec, "created")
        timed_out = next((m for m in boot.messages if "did not finish in the allotted time" in m), None)
        emu["provisioning"] = "Failed" if timed_out else "Succeeded"
        self.tracked.save(tx, rec)
        if timed_out:  # the guest did boot (and its agent may run): what the boot wrote stays, as on Azure
            raise Fail(AzureError(timed_out, code="OSProvisioningTimedOut", status=409))

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            internal(rec)["provisioning"] = "Failed"
            if rec.state == "creating":
                self._transition(rec, "create_failed")
            tx.put_resource(rec)

    # power -------------------------------------------------------------------------------------------
    def begin_power(
        self, rid: str, action: str, tenant_id: str | None, *, hibernate: bool = False
    ) -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            if hibernate:
                caps = rec.body["properties"].get("additionalCapabilities") or {}
                if not caps.get("hibernationEnabled"):
                    raise AzureError(
                        f"Hibernation is not enabled on Virtual Machine '{rec.name}'. Hibernation can be enabled "
                        "only when the VM is created or deallocated, with "
                        "'additionalCapabilities.hibernationEnabled' set to true.",
                        code="OperationNotAllowed",
                        status=409,
                    )
            self._transition(rec, action)
            internal(rec)["hibernated"] = hibernate
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op(action), family=FAMILY, tenant_id=tenant_id
            )

    def _complete_power(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        self.settle_power(tx, self.tracked.require(tx, op.resource_id), op.kind.rsplit(".", 1)[1])

    def begin_member_power(self, tx: Txn, rec: ResourceRecord, action: str) -> None:
        """One instance of a scale-set action: the table's transition now, ``settle_power`` at its end."""
        self._transition(rec, action)
        self.tracked.save(tx, rec)

    def settle_power(self, tx: Txn, rec: ResourceRecord, action: str) -> None:
        """A power operation ends: the VM settles where the table says, and its guest and disks follow."""
        if self.table.transitional(rec.state):
            self._transition(rec, "settle")
        if action in ("start", "restart"):
            guest = self._guest(tx, rec)
            self._apply_boot(rec, guest_api.boot(guest, self._ctx(rec)))
            self._save_guest(tx, rec, guest)
            for each in self._disk_ids(rec):
                self._disk_state(tx, each, "Attached")
        elif action == "deallocate":
            for each in self._disk_ids(rec):
                self._disk_state(tx, each, "Reserved")
            internal(rec)["agent"] = {"ready": False, "messages": []}
        elif action == "powerOff":
            internal(rec)["agent"] = {"ready": False, "messages": []}
        self.tracked.save(tx, rec)

    def _disk_state(self, tx: Txn, disk_id: str, wanted: str) -> None:
        disk = tx.get_resource(ids.key_of(disk_id))
        if disk is None or disk.state == wanted:
            return
        self.disks.set_state(tx, disk_id, "reserve" if wanted == "Reserved" else "unreserve")

    def generalize(self, rid: str) -> None:
        """Mark the VM generalized (a metadata flag: nothing runs inside the guest)."""
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            self._transition(rec, "generalize")
            internal(rec)["osState"] = "generalized"
            self.tracked.save(tx, rec)

    def capture(self, rid: str) -> None:
        """The legacy ``capture`` action: Azure serves it only for VMs with blob-based (unmanaged) disks."""
        self.get(rid)
        raise AzureError(
            "The Capture action is only supported on a Virtual Machine with blob based disks. Please use the "
            "'Image' resource APIs to create an Image from a managed Virtual Machine.",
            code="OperationNotAllowed",
            status=409,
        )

    # run command -------------------------------------------------------------------------------------
    def begin_run_command(self, rid: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        command_id = body.get("commandId")
        if command_id not in ("RunShellScript", "RunPowerShellScript"):
            raise InvalidParameter(
                f"The value of parameter commandId is invalid: '{command_id}'. Supported values are "
                "RunShellScript, RunPowerShellScript.",
                target="commandId",
            )
        script = body.get("script") or []
        if not isinstance(script, list) or not all(isinstance(x, str) for x in script):
            raise InvalidParameter("The value of parameter script is invalid.", target="script")
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            self._transition(rec, "runCommand")
            os_type = rec.body["properties"]["storageProfile"]["osDisk"]["osType"]
            if (command_id == "RunPowerShellScript") != (os_type == "Windows"):
                raise Conflict(
                    f"Run command '{command_id}' is not supported for the {os_type} operating system.",
                    code="OperationNotAllowed",
                )
            busy = internal(rec).get("busy")
            if busy:
                running = self.operations.get(busy)
                if running is not None and not running.done:
                    raise Conflict(
                        "Run command extension execution is in progress. Please wait for completion "
                        "before invoking a run command.",
                        code="Conflict",
                    )
            op = self.operations.start_for(
                tx,
                rec,
                kind=KIND.op("runCommand"),
                family=FAMILY,
                tenant_id=tenant_id,
                payload={
                    "commandId": command_id,
                    "script": script,
                    "parameters": body.get("parameters") or [],
                },
            )
            if not op.done:
                internal(rec)["busy"] = op.id
                self.tracked.save(tx, rec)
            return op

    def _complete_run_command(self, tx: Txn, op: OperationRecord) -> Any:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        if "result" in op.payload:  # a hang that has now run its course
            return self._finish_run_command(tx, rec, op.payload["result"])
        if rec.state != "running":
            raise AzureError(
                "The operation requires the VM to be running (or set to run).",
                code="OperationNotAllowed",
                status=409,
            )
        if not internal(rec)["agent"]["ready"]:
            raise AzureError(
                AGENT_NOT_READY.format(vm=rec.name), code="VMAgentStatusCommunicationError", status=409
            )
        guest = self._guest(tx, rec)
        result = guest_api.run_script(
            guest, op.payload["commandId"], op.payload["script"], op.payload["parameters"], self._ctx(rec)
        )
        self._save_guest(tx, rec, guest)
        outcome = {
            "exitCode": result.exit_code,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "power": result.power,
            "windows": op.payload["commandId"] == "RunPowerShellScript",
        }
        if result.hang_seconds > 0:  # the script waits inside the guest: skipped under ``instant``
            self.tracked.save(tx, rec)
            raise Reschedule(result.hang_seconds, {"result": outcome}, simulated=True)
        return self._finish_run_command(tx, rec, outcome)

    def _finish_run_command(self, tx: Txn, rec: ResourceRecord, outcome: dict[str, Any]) -> Any:
        internal(rec)["busy"] = None
        self.guest_power(tx, rec, outcome.get("power"))
        self.tracked.save(tx, rec)
        return run_command_output(outcome)

    def guest_power(self, tx: Txn, rec: ResourceRecord, power: str | None) -> None:
        """The guest asked to power off or reboot (a script ran ``shutdown``): the VM follows."""
        if power == "poweroff":
            self._transition(rec, "guest_poweroff")
            internal(rec)["agent"] = {
                "ready": False,
                "messages": ["The guest operating system shut down."],
            }
        elif power == "reboot":
            self._transition(rec, "guest_reboot")
            guest = self._guest(tx, rec)
            self._apply_boot(rec, guest_api.boot(guest, self._ctx(rec)))
            self._save_guest(tx, rec, guest)

    def _run_command_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and internal(rec).get("busy") == op.id:
            internal(rec)["busy"] = None
            tx.put_resource(rec)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            self._transition(rec, "delete")
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family=FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The VM goes; its disks and NICs are deleted or detached as their ``deleteOption`` says."""
        props = rec.body["properties"]
        storage = props["storageProfile"]
        for disk in [storage["osDisk"], *storage.get("dataDisks", [])]:
            disk_id = disk["managedDisk"]["id"]
            if tx.get_resource(ids.key_of(disk_id)) is not None:
                if str(disk.get("deleteOption", "Detach")).lower() == "delete":
                    self.disks.remove_now(tx, disk_id)
                else:
                    self.disks.set_state(tx, disk_id, "detach")
        avset = (props.get("availabilitySet") or {}).get("id")
        if avset and self.availability_sets is not None:
            self.availability_sets.leave(tx, avset, rec.id)
        for child in tx.list_resources(parent_key=rec.key):  # its extensions go with it
            tx.delete_resource(child.key)
        for nic in props["networkProfile"]["networkInterfaces"]:
            self.network.detach(tx, nic["id"])
            if str((nic.get("properties") or {}).get("deleteOption", "Detach")).lower() == "delete":
                found = tx.get_resource(ids.key_of(nic["id"]))
                if found is not None:
                    self.network.purge(tx, found)
        tx.delete_resource(rec.key)

    @staticmethod
    def _disk_ids(rec: ResourceRecord) -> Sequence[str]:
        storage = rec.body["properties"]["storageProfile"]
        return [d["managedDisk"]["id"] for d in [storage["osDisk"], *storage.get("dataDisks", [])]]

    def _data_disks(
        self,
        tx: Txn,
        given: Sequence[dict[str, Any]],
        image_specs: Sequence[vm_sources.DataSpec],
        creation_ref: dict[str, Any],
        p: Any,
        loc: str,
        vm_id: str,
        size_name: str,
    ) -> builtins.list[dict[str, Any]]:
        """The VM's data disks: one per image data disk (copy-on-write, ``FromImage`` entries may set caching,
        SKU and delete option), plus the request's ``Empty`` (a new disk) and ``Attach`` (an existing one)."""
        requested = dict(data_disk_entries(given, "dataDisks"))
        out = []
        for lun, size_gb, caching, sku_in, content_key in image_specs:
            d = requested.pop(lun, {})
            if d and str(d.get("createOption") or "FromImage").lower() != "fromimage":
                raise InvalidParameter(
                    f"The data disk with lun {lun} must use createOption 'FromImage': the image has a data disk "
                    "at this lun.",
                    target="dataDisks.createOption",
                )
            disk_id, name = self._data_disk_id(d, p, lun, from_image=True)
            sku = (d.get("managedDisk") or {}).get("storageAccountType") or sku_in or "Standard_LRS"
            self.disks.new_os_disk(
                tx,
                disk_id,
                loc,
                os_type="",
                hyper_v="",
                architecture="x64",
                size_gb=int(d.get("diskSizeGB") or size_gb),
                sku=sku,
                creation={"createOption": "FromImage", **creation_ref},
                vm_id=vm_id,
                source_key=content_key,
            )
            out.append(self._data_disk_out(lun, name, disk_id, "FromImage", d, caching, sku, size_gb))
        for lun, d in sorted(requested.items()):
            option = str(d.get("createOption") or "").lower()
            if option == "empty":
                wanted = d.get("diskSizeGB")
                if not isinstance(wanted, int) or wanted <= 0:
                    raise InvalidParameter(
                        "Required parameter 'dataDisk.diskSizeGB' is missing (null).",
                        target="dataDisk.diskSizeGB",
                    )
                disk_id, name = self._data_disk_id(d, p, lun)
                sku = (d.get("managedDisk") or {}).get("storageAccountType") or "Premium_LRS"
                size_gb = wanted
                self.disks.new_os_disk(
                    tx,
                    disk_id,
                    loc,
                    os_type="",
                    hyper_v="",
                    architecture="x64",
                    size_gb=size_gb,
                    sku=sku,
                    creation={"createOption": "Empty"},
                    vm_id=vm_id,
                    guest=Guest("", "", GuestFS()),
                )
                out.append(self._data_disk_out(lun, name, disk_id, "Empty", d, "None", sku, size_gb))
            elif option == "attach":
                ref = (d.get("managedDisk") or {}).get("id")
                if not ref:
                    raise InvalidParameter(
                        "Required parameter 'dataDisk.managedDisk.id' is missing (null).",
                        target="dataDisk.managedDisk.id",
                    )
                disk = self.disks.attach(tx, str(ref), vm_id)
                sku = disk.body["sku"]["name"]
                size_gb = int(disk.body["properties"]["diskSizeGB"])
                out.append(self._data_disk_out(lun, disk.name, disk.id, "Attach", d, "None", sku, size_gb))
            elif option == "fromimage":
                raise InvalidParameter(
                    f"The image has no data disk with lun {lun}; a data disk with createOption 'FromImage' must "
                    "match one of the image's data disks.",
                    target="dataDisks.lun",
                )
            else:
                raise InvalidParameter(
                    f"The value '{d.get('createOption')}' of parameter 'dataDisk.createOption' is not valid.",
                    target="dataDisk.createOption",
                )
        limit = sizes.find(size_name)
        if limit is not None and len(out) > limit.max_data_disks:
            raise AzureError(
                f"The maximum number of data disks allowed to be attached to a VM of this size is "
                f"{limit.max_data_disks}.",
                code="OperationNotAllowed",
                status=409,
                target="dataDisks",
            )
        return sorted(out, key=lambda d: int(d["lun"]))

    def _swap_os_disk(self, tx: Txn, rec: ResourceRecord, given: dict[str, Any]) -> None:
        """``az vm update --os-disk``: a PUT naming another managed disk as the OS disk swaps it in while the VM is
        deallocated - the disk must be unattached and carry the VM's OS type; the old OS disk stays, unattached.
        The guest is the new disk's from the next start."""
        os_disk = rec.body["properties"]["storageProfile"]["osDisk"]
        ref = str((given.get("managedDisk") or {}).get("id") or "")
        if not ref or ref.lower() == str(os_disk["managedDisk"]["id"]).lower():
            os_disk.update({k: given[k] for k in ("caching", "deleteOption") if given.get(k) is not None})
            return
        if self.table.fact(rec.state, "power") != "deallocated":
            raise Conflict(
                f"The OS disk of virtual machine '{rec.name}' can be swapped only while it is stopped (deallocated).",
                code="OperationNotAllowed",
                target="osDisk",
            )
        disk = self.disks.tracked.require(tx, ref)
        wanted_os = str(os_disk.get("osType") or "")
        has_os = str(disk.body["properties"].get("osType") or "")
        if has_os.lower() != wanted_os.lower():
            raise InvalidParameter(
                f"The disk '{disk.name}' cannot be the OS disk of virtual machine '{rec.name}': its OS type is "
                f"'{has_os or 'none'}', the virtual machine's is '{wanted_os}'.",
                target="osDisk.managedDisk.id",
            )
        disk = self.disks.attach(tx, ref, rec.id)
        self._disk_state(tx, disk.id, "Reserved")
        self.disks.set_state(tx, str(os_disk["managedDisk"]["id"]), "detach")
        os_disk.update(
            {
                "name": disk.name,
                "diskSizeGB": int(
                    disk.body["properties"].get("diskSizeGB") or os_disk.get("diskSizeGB") or 0
                ),
                "managedDisk": {
                    **os_disk["managedDisk"],
                    "id": disk.id,
                    "storageAccountType": disk.body["sku"]["name"],
                },
            }
        )
        os_disk.update({k: given[k] for k in ("caching", "deleteOption") if given.get(k) is not None})

    def _update_nics(self, tx: Txn, rec: ResourceRecord, given: Sequence[dict[str, Any]]) -> None:
        """A PUT of an existing VM lists its network interfaces as they should be (``az vm nic add|remove|set``):
        adding or removing one needs the VM deallocated; with several, exactly one is primary; a kept one may
        change its ``primary`` and ``deleteOption``."""
        network = rec.body["properties"]["networkProfile"]
        current = {str(n["id"]).lower(): n for n in network.get("networkInterfaces") or []}
        wanted: dict[str, dict[str, Any]] = {}
        for n in given:
            ref = str((n or {}).get("id") or "")
            if not ref:
                raise InvalidParameter(
                    "Required parameter 'networkInterface.id' is missing (null).",
                    target="networkProfile.networkInterfaces.id",
                )
            wanted[ref.lower()] = n
        if not wanted:
            raise InvalidParameter(
                "Required parameter 'networkProfile' is missing (null).", target="networkProfile"
            )
        added = [k for k in wanted if k not in current]
        removed = [k for k in current if k not in wanted]
        if (added or removed) and self.table.fact(rec.state, "power") != "deallocated":
            raise Conflict(
                f"Network interfaces of virtual machine '{rec.name}' can be added or removed only while it is "
                "stopped (deallocated).",
                code="OperationNotAllowed",
            )
        if len(wanted) > 1:
            primaries = [n for n in wanted.values() if _primary(n)]
            if len(primaries) != 1:
                nic = next(iter(wanted.values()))["id"]
                raise InvalidParameter(
                    f"Network interface {nic} must have Primary property set."
                    if not primaries
                    else f"Virtual machine {rec.name} must have exactly one network interface set as primary.",
                    code="NetworkInterfaceMustHavePrimaryPropertySet"
                    if not primaries
                    else "InvalidParameter",
                    target="networkProfile.networkInterfaces",
                )
        for key in added:
            self.network.attach(tx, str(wanted[key]["id"]), rec.id)
        for key in removed:
            self.network.detach(tx, str(current[key]["id"]))
        out = []
        for key, n in wanted.items():
            entry = dict(current.get(key) or {"id": n["id"]})
            props_in = {k: v for k, v in (n.get("properties") or {}).items() if v is not None}
            for k in ("primary", "deleteOption"):
                if k in n and n[k] is not None:
                    props_in[k] = n[k]
            if props_in:
                entry["properties"] = {**(entry.get("properties") or {}), **props_in}
            out.append(entry)
        network["networkInterfaces"] = out

    def _update_data_disks(self, tx: Txn, rec: ResourceRecord, given: Sequence[dict[str, Any]]) -> None:
        """A PUT of an existing VM lists its data disks as they should be (``az vm disk attach|detach`` send
        the whole list): a new lun is attached (``Empty`` makes the disk, ``Attach`` takes an unattached one), a
        lun left out or marked ``toBeDetached`` is detached (the disk stays, unattached), a kept lun may change
        its caching, write accelerator and delete option."""
        storage = rec.body["properties"]["storageProfile"]
        current = {int(d["lun"]): d for d in storage.get("dataDisks") or []}
        wanted = dict(data_disk_entries(given, "dataDisks"))
        kept: builtins.list[dict[str, Any]] = []
        detached: builtins.list[dict[str, Any]] = []
        for lun, d in current.items():
            w = wanted.pop(lun, None)
            if w is None or w.get("toBeDetached") is True:
                detached.append(d)
                continue
            ref = str((w.get("managedDisk") or {}).get("id") or "")
            if ref and ref.lower() != str(d["managedDisk"]["id"]).lower():
                raise InvalidParameter(
                    f"A disk at LUN {lun} already exists. Please choose a different LUN.",
                    target="dataDisks",
                )
            kept.append({**d, **{k: w[k] for k in _DATA_DISK_CHANGEABLE if k in w}})
        p = ids.parse(rec.id)
        size = str(rec.body["properties"]["hardwareProfile"]["vmSize"])
        added = (
            self._data_disks(tx, builtins.list(wanted.values()), [], {}, p, rec.location or "", rec.id, size)
            if wanted
            else []
        )
        limit = sizes.find(size)
        if limit is not None and len(kept) + len(added) > limit.max_data_disks:
            raise AzureError(
                f"The maximum number of data disks allowed to be attached to a VM of this size is "
                f"{limit.max_data_disks}.",
                code="OperationNotAllowed",
                status=409,
                target="dataDisks",
            )
        deallocated = self.table.fact(rec.state, "power") == "deallocated"
        for d in added:
            if deallocated:
                self._disk_state(tx, d["managedDisk"]["id"], "Reserved")
        for d in detached:
            self.disks.set_state(tx, d["managedDisk"]["id"], "detach")
        storage["dataDisks"] = sorted([*kept, *added], key=lambda d: int(d["lun"]))

    @staticmethod
    def _data_disk_id(d: dict[str, Any], p: Any, lun: int, *, from_image: bool = False) -> tuple[str, str]:
        """Azure's default names: ``vm_lun_0_2_<hex>`` for a disk from an image's data disk,
        ``vm_disk2_<hex>`` for a new empty one."""
        default = (
            f"{p.name}_lun_{lun}_2_{uuid.uuid4().hex}"
            if from_image
            else f"{p.name}_disk{lun + 2}_{uuid.uuid4().hex}"
        )
        name = str(d.get("name") or default)
        return ids.resource_id(p.subscription, p.resource_group, "Microsoft.Compute", ["disks"], [name]), name

    @staticmethod
    def _data_disk_out(
        lun: int,
        name: str,
        disk_id: str,
        option: str,
        d: dict[str, Any],
        caching: str,
        sku: str,
        size_gb: int,
    ) -> dict[str, Any]:
        computed = {
            "lun": lun,
            "name": name,
            "createOption": option,
            "caching": d.get("caching") or caching,
            "managedDisk": {"storageAccountType": sku, "id": disk_id},
            "deleteOption": d.get("deleteOption") or "Detach",
            "diskSizeGB": size_gb,
            "toBeDetached": bool(d.get("toBeDetached", False)),
        }
        out: dict[str, Any] = shapes.keep(d, computed)
        return out

    def identity_conflicts(self, subscription_ids: Sequence[str]) -> builtins.list[dict[str, Any]]:
        """VMs of these subscriptions sharing a SID, machine-id, SSH host key or computer name."""
        return conflicts.groups(self.store, list(subscription_ids))

    # the guest, for other domain services (SSH sessions) ---------------------------------------------
    def load_guest(self, tx: Txn, rec: ResourceRecord) -> Guest:
        return self._guest(tx, rec)

    def store_guest(self, tx: Txn, rec: ResourceRecord, guest: Guest) -> None:
        """Save the guest's files to the OS disk (in ``tx``) and refresh what the platform knows of it."""
        self._save_guest(tx, rec, guest)

    def exec_context(self, rec: ResourceRecord) -> ExecContext:
        return self._ctx(rec)

    def powered_on(self, rec: ResourceRecord) -> bool:
        return bool(self.table.fact(rec.state, "power") == "running")

    # guest inspection --------------------------------------------------------------------------------
    def guest_of(self, rid: str) -> Guest:
        with self.store.read() as tx:
            rec = self.tracked.require(tx, rid)
            return self._guest(tx, rec)


# what the VM's own rules build from the request (storageProfile's disks and image, NICs, osProfile's
# public view, userData kept apart); every other property is stored as the client sent it
_OWNED = ("storageProfile", "networkProfile", "osProfile", "hardwareProfile", "userData")


# what a PUT of an existing VM may not change: (where, key) -> Azure's target
_FIXED = (
    (("osProfile",), "computerName", "osProfile.computerName"),
    (("osProfile",), "adminUsername", "osProfile.adminUsername"),
    (("storageProfile",), "imageReference", "imageReference"),
)


def _refuse_changes(stored: dict[str, Any], given: dict[str, Any]) -> None:
    """Azure's 409 ``PropertyChangeNotAllowed`` for a property fixed at creation that a PUT changes."""
    for path, key, target in _FIXED:
        have: Any = stored
        want: Any = given
        for step in path:
            have = (have or {}).get(step) if isinstance(have, dict) else None
            want = (want or {}).get(step) if isinstance(want, dict) else None
        if not isinstance(want, dict) or want.get(key) is None or not isinstance(have, dict):
            continue
        old, new = have.get(key), want[key]
        if isinstance(new, dict) and isinstance(old, dict):
            same = {
                k.lower(): str(v).lower() for k, v in new.items() if v is not None and k != "exactVersion"
            } == {k.lower(): str(v).lower() for k, v in old.items() if v is not None and k != "exactVersion"}
        else:
            same = str(new).lower() == str(old).lower()
        if not same:
            raise Conflict(
                f"Changing property '{target}' is not allowed.",
                code="PropertyChangeNotAllowed",
                target=target,
            )


def _primary(nic: dict[str, Any]) -> bool:
    return bool((nic.get("properties") or {}).get("primary", nic.get("primary")))


# what a PUT may change on a data disk the VM keeps
_DATA_DISK_CHANGEABLE = ("caching", "writeAcceleratorEnabled", "deleteOption")
# top-level ARM properties besides location, tags and properties, kept as sent
_TOP_LEVEL = ("identity", "plan", "zones", "extendedLocation", "placement")


def _top_level(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in _TOP_LEVEL if k in body}


USER_DATA_MAX = 87384


def _user_data(value: Any) -> str:
    """``userData`` as Azure accepts it: base64, at most 87384 characters."""
    text = str(value)
    try:
        base64.b64decode(text, validate=True)
        ok = len(text) <= USER_DATA_MAX
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        raise InvalidParameter(
            f"UserData must be in Base64 encoding and with a maximum length of {USER_DATA_MAX} characters.",
            target="userData",
        )
    return text


def run_command_output(outcome: dict[str, Any]) -> dict[str, Any]:
    """Run Command's result document, in Azure's exact shape."""
    out, err, code = outcome["stdout"], outcome["stderr"], int(outcome["exitCode"])
    if outcome.get("windows"):
        return {
            "value": [
                {
                    "code": "ComponentStatus/StdOut/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": out,
                },
                {
                    "code": "ComponentStatus/StdErr/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": err,
                },
            ]
        }
    if code == 0:
        return {
            "value": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": f"Enable succeeded: \n[stdout]\n{out}\n[stderr]\n{err}",
                }
            ]
        }
    return {
        "value": [
            {
                "code": "ProvisioningState/failed/1",
                "level": "Error",
                "displayStatus": "Provisioning failed",
                "message": f"Enable failed: failed to execute command: command terminated with exit status="
                f"{code}\n[stdout]\n{out}\n[stderr]\n{err}",
            }
        ]
    }


def find_vm_for_guest(store: Store, rid: str) -> ResourceRecord:
    with store.read() as tx:
        rec = tx.get_resource(ids.key_of(rid))
    if rec is None or rec.type != TYPE:
        raise NotFound(f"Virtual machine '{rid}' not found.")
    return rec
