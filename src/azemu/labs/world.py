"""The labs' two ways into the domain: :class:`Prep` makes a lab's starting state (VMs, images, galleries -
through the resource-kind registry and the VM service, as a client's requests would), :class:`World` reads
azemu's state for a lab's check (records, lifecycle facts, guests' files and registry, identity conflicts).

Both are bound to one lab's resource group in the default subscription. Nothing here speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from azemu.clock.clock import Clock
from azemu.clock.profiles import INSTANT
from azemu.domain import conflicts, ids, regions
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError
from azemu.domain.kinds import Write
from azemu.guest import api as guest_api
from azemu.guest.machine import Guest
from azemu.state.records import ResourceRecord

UBUNTU = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}
WINDOWS = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter-g2",
    "version": "latest",
}
ADMIN = "azureuser"
PASSWORD = "Az3mu!Passw0rd"
LOCATION = "eastus"

VM_TYPE = "Microsoft.Compute/virtualMachines"
IMAGE_TYPE = "Microsoft.Compute/images"
GALLERY_TYPE = "Microsoft.Compute/galleries"
VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"

# what a guest's files and registry say about its generalization
IMAGE_STATE_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
SYSPREPPED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
SETUPERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"
OVF_ENV = "/var/lib/waagent/ovf-env.xml"
CLOUD_INSTANCE = "/var/lib/cloud/instance"


class PrepFailed(Exception):
    """A lab's start could not make its state (a bug in the lab, or a fault rule that got in the way)."""


@contextmanager
def instant(clock: Clock) -> Iterator[None]:
    """Every operation started inside ends at once, whatever the latency profile: a lab's starting state is
    there when ``start`` answers. (Requests are answered one at a time, so no other client sees it.)"""
    saved = clock.profile
    clock.profile = INSTANT
    try:
        yield
    finally:
        clock.profile = saved


@dataclass
class Scope:
    emu: Emulator
    resource_group: str

    @property
    def subscription(self) -> str:
        return self.emu.defaults.subscription_id

    @property
    def tenant(self) -> str:
        return self.emu.defaults.tenant_id

    def rid(self, rtype: str, *names: str) -> str:
        namespace, _, path = rtype.partition("/")
        return ids.resource_id(
            self.subscription, self.resource_group, namespace, path.split("/"), list(names)
        )

    def vm_id(self, name: str) -> str:
        return self.rid(VM_TYPE, name)

    def image_id(self, name: str) -> str:
        return self.rid(IMAGE_TYPE, name)

    def gallery_id(self, name: str) -> str:
        return self.rid(GALLERY_TYPE, name)

    def definition_id(self, gallery: str, name: str) -> str:
        return self.rid("Microsoft.Compute/galleries/images", gallery, name)

    def version_id(self, gallery: str, definition: str, name: str) -> str:
        return self.rid("Microsoft.Compute/galleries/images/versions", gallery, definition, name)


@dataclass
class Prep(Scope):
    """A lab's starting state, made through the same domain calls a client's requests end in."""

    facts: dict[str, Any] = field(default_factory=dict)  # remembered for the check (an original SID ...)

    def group(self) -> None:
        self.emu.resource_groups.create_or_update(
            self.subscription, self.resource_group, LOCATION, None, None
        )

    def _put(self, rid: str, body: dict[str, Any], *, may_fail: bool = False) -> ResourceRecord:
        written = self.emu.kinds.put(Write(rid, body, self.tenant))
        op = written.operation
        if op is not None and op.status != "Succeeded" and not may_fail:
            raise PrepFailed(f"{rid}: {op.status} {op.error}")
        return written.record

    def _network(self) -> str:
        vnet = self.rid("Microsoft.Network/virtualNetworks", "labVnet")
        with self.emu.store.read() as tx:
            exists = tx.get_resource(ids.key_of(vnet)) is not None
        if not exists:
            self._put(
                vnet,
                {
                    "location": LOCATION,
                    "properties": {
                        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}],
                    },
                },
            )
        return f"{vnet}/subnets/default"

    def _nic(self, vm: str) -> str:
        subnet = self._network()
        nic = self.rid("Microsoft.Network/networkInterfaces", f"{vm}Nic")
        self._put(
            nic,
            {
                "location": LOCATION,
                "properties": {
                    "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}]
                },
            },
        )
        return nic

    def vm(
        self,
        name: str,
        *,
        windows: bool = False,
        image: dict[str, str] | None = None,
        image_id: str | None = None,
        specialized: bool = False,
        may_fail: bool = False,
    ) -> str:
        """A running VM from a platform image (Ubuntu 22.04 or Windows Server 2022, Gen2), a managed image or a
        gallery version (``image_id``); ``specialized`` boots a specialized gallery version (no osProfile);
        ``may_fail``: a create that ends Failed (as from an image that was never sysprepped) is what the lab
        wants."""
        reference: dict[str, str] = (
            {"id": image_id} if image_id else dict(image or (WINDOWS if windows else UBUNTU))
        )
        props: dict[str, Any] = {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": reference,
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
            },
            "networkProfile": {
                "networkInterfaces": [{"id": self._nic(name), "properties": {"deleteOption": "Delete"}}]
            },
        }
        if not specialized:
            props["osProfile"] = {
                "computerName": name[:15],
                "adminUsername": ADMIN,
                "adminPassword": PASSWORD,
            }
        rid = self.vm_id(name)
        self._put(rid, {"location": LOCATION, "properties": props}, may_fail=may_fail)
        return rid

    def run(self, vm: str, *script: str) -> str:
        """Run Command in a VM; its output (stdout and stderr as Azure shows them)."""
        rid = self.vm_id(vm)
        rec = self.emu.vms.get(rid)
        windows = rec.body["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
        command = "RunPowerShellScript" if windows else "RunShellScript"
        op = self.emu.vms.begin_run_command(rid, {"commandId": command, "script": list(script)}, self.tenant)
        if op.status != "Succeeded":
            raise PrepFailed(f"Run Command in {vm}: {op.status} {op.error}")
        return "\n".join(str(v.get("message", "")) for v in (op.output or {}).get("value", []))

    def power(self, vm: str, action: str) -> None:
        op = self.emu.vms.begin_power(self.vm_id(vm), action, self.tenant)
        if op.status != "Succeeded":
            raise PrepFailed(f"{action} {vm}: {op.status} {op.error}")

    def generalize(self, vm: str) -> None:
        self.emu.vms.generalize(self.vm_id(vm))

    def deprovision_linux(self, vm: str) -> None:
        """What a careful admin does: waagent's deprovisioning and an empty machine-id."""
        self.run(vm, "waagent -deprovision+user -force", "truncate -s 0 /etc/machine-id")

    def sysprep(self, vm: str) -> None:
        self.run(
            vm,
            r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet",
        )

    def capture(self, vm: str, image: str) -> str:
        """Deallocate, mark generalized and capture ``vm`` (whatever ran inside it before)."""
        self.power(vm, "deallocate")
        self.generalize(vm)
        rid = self.image_id(image)
        self._put(
            rid,
            {"location": LOCATION, "properties": {"sourceVirtualMachine": {"id": self.vm_id(vm)}}},
        )
        return rid

    def delete_vm(self, vm: str) -> None:
        op = self.emu.vms.begin_delete(self.vm_id(vm), self.tenant)
        if op is not None and op.status != "Succeeded":
            raise PrepFailed(f"delete {vm}: {op.status} {op.error}")

    def gallery(self, name: str) -> str:
        rid = self.gallery_id(name)
        self._put(rid, {"location": LOCATION, "properties": {"description": "A lab's gallery"}})
        return rid

    def definition(
        self, gallery: str, name: str, *, os_type: str = "Linux", state: str = "Generalized", sku: str = ""
    ) -> str:
        rid = self.definition_id(gallery, name)
        self._put(
            rid,
            {
                "location": LOCATION,
                "properties": {
                    "osType": os_type,
                    "osState": state,
                    "hyperVGeneration": "V2",
                    "identifier": {"publisher": "Contoso", "offer": name, "sku": sku or "1"},
                },
            },
        )
        return rid

    def version(
        self, gallery: str, definition: str, name: str, source: str, regions_: dict[str, int] | None = None
    ) -> str:
        rid = self.version_id(gallery, definition, name)
        targets = [
            {"name": region, "regionalReplicaCount": count}
            for region, count in (regions_ or {LOCATION: 1}).items()
        ]
        key = "virtualMachineId" if "/virtualmachines/" in source.lower() else "id"
        self._put(
            rid,
            {
                "location": LOCATION,
                "properties": {
                    "storageProfile": {"source": {key: source}},
                    "publishingProfile": {"targetRegions": targets},
                },
            },
        )
        return rid


@dataclass
class World(Scope):
    """azemu's state as a lab's check reads it."""

    facts: dict[str, Any] = field(default_factory=dict)  # what ``start`` remembered

    @property
    def textbook(self) -> bool:
        return self.emu.rules.textbook

    def _record(self, rid: str, rtype: str) -> ResourceRecord | None:
        with self.emu.store.read() as tx:
            rec = tx.get_resource(ids.key_of(rid))
        if (
            rec is None
            or rec.type.lower() != rtype.lower()
            or rec.state in ("deleting", "deleted", "Deleting")
        ):
            return None
        return rec

    # virtual machines --------------------------------------------------------------------------------
    def vm(self, name: str) -> ResourceRecord | None:
        return self._record(self.vm_id(name), VM_TYPE)

    def vms(self) -> list[ResourceRecord]:
        with self.emu.store.read() as tx:
            found = tx.list_resources(
                subscription_id=self.subscription, resource_group=self.resource_group, type=VM_TYPE
            )
        return [r for r in found if r.state not in ("deleting", "deleted")]

    def power(self, rec: ResourceRecord) -> str:
        return str(self.emu.vms.table.fact(rec.state, "power"))

    def generalized(self, rec: ResourceRecord) -> bool:
        return bool(self.emu.vms.table.fact(rec.state, "generalized", False))

    def guest(self, rec: ResourceRecord) -> Guest | None:
        try:
            return self.emu.vms.guest_of(rec.id)
        except AzureError:
            return None

    def source_of(self, rec: ResourceRecord) -> str:
        """The id of the image or gallery version a VM was made from ("" for a platform image or a disk)."""
        ref = rec.body["properties"]["storageProfile"].get("imageReference") or {}
        return str(ref.get("id") or "")

    def agent_ready(self, rec: ResourceRecord) -> bool:
        return bool((rec.internal.get("agent") or {}).get("ready"))

    # images ------------------------------------------------------------------------------------------
    def image(self, name: str) -> ResourceRecord | None:
        rec = self._record(self.image_id(name), IMAGE_TYPE)
        return rec if rec is not None and rec.state != "Failed" else None

    def image_guest(self, rec: ResourceRecord) -> Guest | None:
        """The guest an image (or a gallery version) holds: what every VM made from it starts from."""
        try:
            with self.emu.store.read() as tx:
                return self.emu.content.load_guest(tx, rec.key)
        except Exception:
            return None

    def image_source_vm(self, rec: ResourceRecord) -> str:
        return str((rec.body["properties"].get("sourceVirtualMachine") or {}).get("id") or "")

    # galleries ---------------------------------------------------------------------------------------
    def definition(self, gallery: str, name: str) -> ResourceRecord | None:
        return self._record(self.definition_id(gallery, name), "Microsoft.Compute/galleries/images")

    def version(self, gallery: str, definition: str, name: str) -> ResourceRecord | None:
        return self._record(
            self.version_id(gallery, definition, name), "Microsoft.Compute/galleries/images/versions"
        )

    def replication(self, version: ResourceRecord) -> dict[str, Any]:
        return self.emu.gallery_versions.replication_status(version)

    def latest(self, gallery: str, definition: str, region: str) -> str | None:
        rec = self.definition(gallery, definition)
        if rec is None:
            return None
        try:
            with self.emu.store.read() as tx:
                return self.emu.gallery_versions.latest(tx, rec, region).name
        except AzureError:
            return None

    @staticmethod
    def version_source(version: ResourceRecord) -> str:
        """The id of what a gallery version was made from (a managed image, a VM, a snapshot ...)."""
        source = (version.body["properties"].get("storageProfile") or {}).get("source") or {}
        return str(source.get("id") or source.get("virtualMachineId") or "")

    @staticmethod
    def target_regions(version: ResourceRecord) -> dict[str, int]:
        """Region (canonical name) -> replica count, as published."""
        pub = version.body["properties"].get("publishingProfile") or {}
        default = int(pub.get("replicaCount") or 1)
        out = {}
        for t in pub.get("targetRegions") or []:
            name = regions.canonical(str(t.get("name", ""))) or str(t.get("name", ""))
            out[name] = int(t.get("regionalReplicaCount") or default)
        return out

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        """A resource's ARM document, as a GET returns it."""
        return self.emu.kinds.document(rec)

    # scale sets --------------------------------------------------------------------------------------
    def scale_set(self, name: str) -> tuple[ResourceRecord, list[ResourceRecord]] | None:
        rec = self._record(self.rid(VMSS_TYPE, name), VMSS_TYPE)
        if rec is None:
            return None
        _, members = self.emu.scale_sets.members(rec.id)
        return rec, [m for m in members if m.state not in ("deleting", "deleted")]

    # identity ----------------------------------------------------------------------------------------
    def identity(self, guest: Guest | None) -> dict[str, Any]:
        return guest_api.identity(guest) if guest is not None else {}

    def conflicts(self) -> list[dict[str, Any]]:
        """Identity conflicts among this lab's VMs (shared SID, machine-id, host key, computer name)."""
        mine = {r.id.lower() for r in self.vms()}
        out = []
        for group in conflicts.groups(self.emu.store, [self.subscription]):
            members = [m for m in group["virtualMachines"] if m.lower() in mine]
            if len(members) > 1:
                out.append({**group, "virtualMachines": members})
        return out

    def conflicts_of(self, vm: ResourceRecord) -> list[dict[str, Any]]:
        return [g for g in self.conflicts() if vm.id.lower() in (m.lower() for m in g["virtualMachines"])]


def short(rid: str) -> str:
    """The last name of a resource id (``myVM`` of ``/subscriptions/…/virtualMachines/myVM``)."""
    return rid.rstrip("/").rsplit("/", 1)[-1] if rid else ""


def registry_value(guest: Guest | None, key: str, name: str) -> Any:
    if guest is None or guest.registry is None or not guest.registry.key_exists(key):
        return None
    typed = guest.registry.get_typed(key, name)
    return typed[1] if typed is not None else None


def image_state(guest: Guest | None) -> str | None:
    value = registry_value(guest, IMAGE_STATE_KEY, "ImageState")
    return str(value) if value is not None else None


def read_text(guest: Guest | None, path: str) -> str | None:
    if guest is None:
        return None
    try:
        return guest.fs.read(path).decode("utf-8", "replace")
    except Exception:
        return None


def exists(guest: Guest | None, path: str) -> bool:
    return guest is not None and guest.fs.exists(path)
