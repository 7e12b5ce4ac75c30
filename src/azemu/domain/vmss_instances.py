"""A scale set's instances: made from its model through the virtual machine code path (the same first boot
as a VM of its own), listed, chosen for scale-in, reimaged to the model, deleted.

Flexible instances are ``Microsoft.Compute/virtualMachines`` carrying ``virtualMachineScaleSet.id``, each
with a network interface of its own; Uniform instances are ``virtualMachineScaleSets/virtualMachines``
records whose network interfaces live inside the scale set. Either way the record's parent key is the
scale set's, so its instances list with one indexed query.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from azemu.domain import ids, vm_sources
from azemu.domain import vmss_model as model
from azemu.domain.errors import AzureError, InvalidParameter
from azemu.domain.network import NIC, NS, VNET
from azemu.domain.vm import TYPE as VM_TYPE
from azemu.domain.vm import Member, VirtualMachines
from azemu.state.records import ResourceRecord
from azemu.state.store import Txn

UNIFORM_VM = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"


def info(rec: ResourceRecord) -> dict[str, Any]:
    """What the scale set knows of one of its instances (``internal['vmss']``)."""
    found: dict[str, Any] = rec.internal.setdefault("vmss", {})
    return found


def instance_id(rec: ResourceRecord) -> str:
    """Uniform: the decimal id; Flexible: the VM's name."""
    return str(info(rec).get("instanceId") or rec.name)


def latest_model_applied(vmss: ResourceRecord, rec: ResourceRecord) -> bool:
    return int(info(rec).get("model", 0)) == int(vmss.internal.get("modelVersion", 0))


@dataclass
class _Addresses:
    """Free private addresses of one subnet, handed out in order (Azure keeps the first four)."""

    subnet_id: str
    hosts: Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]
    used: set[str]

    def next(self) -> str:
        for host in self.hosts:
            if str(host) not in self.used:
                self.used.add(str(host))
                return str(host)
        name = self.subnet_id.rsplit("/", 1)[-1]
        raise AzureError(f"Subnet {name} has no free IP addresses.", code="SubnetIsFull", status=400)


def _mac() -> str:
    return "00-0D-3A-" + "-".join(f"{random.randint(0, 255):02X}" for _ in range(3))


class Instances:
    def __init__(self, vms: VirtualMachines) -> None:
        self.vms = vms

    # reading -----------------------------------------------------------------------------------------
    @staticmethod
    def members(tx: Txn, vmss: ResourceRecord) -> list[ResourceRecord]:
        recs = tx.list_resources(subscription_id=vmss.subscription_id, parent_key=vmss.key)
        live = [r for r in recs if r.type.lower() in (VM_TYPE.lower(), UNIFORM_VM.lower())]
        return sorted(live, key=lambda r: (float(info(r).get("created", r.created_at)), _order(r)))

    def find(self, tx: Txn, vmss: ResourceRecord, wanted: str) -> ResourceRecord | None:
        for rec in self.members(tx, vmss):
            if instance_id(rec).lower() == wanted.lower() or rec.name.lower() == wanted.lower():
                return rec
        return None

    def pick(self, tx: Txn, vmss: ResourceRecord, instance_ids: list[str] | None) -> list[ResourceRecord]:
        """The instances an action names (all of them for none or ``*``); an unknown id is refused."""
        members = self.members(tx, vmss)
        if not instance_ids or "*" in instance_ids:
            return members
        by_id = {instance_id(m).lower(): m for m in members}
        out = []
        for wanted in instance_ids:
            found = by_id.get(str(wanted).lower())
            if found is None:
                raise InvalidParameter(
                    f"The provided instanceId {wanted} is not an active Virtual Machine Scale Set VM instanceId.",
                    target="instanceIds",
                )
            out.append(found)
        return out

    # making instances --------------------------------------------------------------------------------
    def add(
        self,
        tx: Txn,
        vmss: ResourceRecord,
        count: int,
        tenant_id: str | None,
        client: dict[str, str],
        at: float | None = None,
    ) -> list[ResourceRecord]:
        """``count`` new instances at the scale set's current model, in their first state (not booted);
        ``at``: when they count as made (an autoscale tick evaluated after the clock moved on)."""
        if count <= 0:
            return []
        emu = vmss.internal
        profile = emu["model"]
        mode = vmss.body["properties"]["orchestrationMode"]
        storage = profile["storageProfile"]
        p = ids.parse(vmss.id)
        assert p is not None and p.resource_group is not None
        source = vm_sources.resolve(
            tx,
            storage.get("imageReference"),
            loc=vmss.location or "",
            subscription=p.subscription,
            vm_id=vmss.id,
            now=self.vms.clock.now(),
            images=self.vms.images,
            gallery=self.vms.gallery,
            tenant_id=tenant_id or "",
            client=client,
        )
        addresses = self._addresses(tx, vmss) if mode == model.FLEXIBLE else {}
        made = []
        for _ in range(count):
            if mode == model.FLEXIBLE:
                name = model.flexible_vm_name(vmss.name)
                rid = ids.resource_id(
                    p.subscription, p.resource_group, "Microsoft.Compute", ["virtualMachines"], [name]
                )
                computer = model.flexible_computer_name(emu["computerNamePrefix"])
                nics = self._flexible_nics(tx, vmss, rid, name, addresses)
                number = name
                rtype = VM_TYPE
            else:
                n = int(emu.get("nextInstanceId", 0))
                emu["nextInstanceId"] = n + 1
                rid = f"{vmss.id}/virtualMachines/{n}"
                name = model.uniform_vm_name(vmss.name, n)
                computer = model.uniform_computer_name(emu["computerNamePrefix"], n)
                nics = self._uniform_nics(vmss, rid)
                number = str(n)
                rtype = UNIFORM_VM
            body = self._vm_body(vmss, profile, computer, name)
            rec = self.vms.new_vm(
                tx,
                rid,
                body,
                tenant_id,
                client,
                member=Member(type=rtype, owner_key=vmss.key, source=source, nics=nics),
            )
            info(rec).update(
                instanceId=number,
                model=int(emu.get("modelVersion", 0)),
                created=at if at is not None else self.vms.clock.now(),
                vmName=name,
            )
            tx.put_resource(rec)
            made.append(rec)
        return made

    @staticmethod
    def _vm_body(vmss: ResourceRecord, profile: dict[str, Any], computer: str, name: str) -> dict[str, Any]:
        storage = profile["storageProfile"]
        os_disk = dict(storage.get("osDisk") or {})
        os_disk.pop("name", None)
        os_disk.setdefault("deleteOption", "Delete")
        props: dict[str, Any] = {
            "hardwareProfile": {"vmSize": vmss.body["sku"]["name"]},
            "storageProfile": {"imageReference": storage.get("imageReference"), "osDisk": os_disk},
            "virtualMachineScaleSet": {"id": vmss.id},
        }
        os_profile = vmss.internal.get("osProfile")
        if os_profile is not None:
            props["osProfile"] = {**os_profile, "computerName": computer}
        body: dict[str, Any] = {
            "location": vmss.location,
            "tags": dict(vmss.body.get("tags") or {}),
            "properties": props,
        }
        return body

    def _addresses(self, tx: Txn, vmss: ResourceRecord) -> dict[str, _Addresses]:
        """One allocator per subnet the model's network interfaces use, built once per scale-out."""
        wanted = {
            str(ip["properties"]["subnet"]["id"]).lower(): str(ip["properties"]["subnet"]["id"])
            for nic in vmss.internal["model"]
            .get("networkProfile", {})
            .get("networkInterfaceConfigurations", [])
            for ip in nic["properties"]["ipConfigurations"]
            if (ip.get("properties") or {}).get("subnet")
        }
        used: dict[str, set[str]] = {k: set() for k in wanted}
        for nic in tx.list_resources(subscription_id=vmss.subscription_id, type=NIC):
            for c in nic.body["properties"]["ipConfigurations"]:
                sid = str(c["properties"]["subnet"]["id"]).lower()
                if sid in used:
                    used[sid].add(c["properties"]["privateIPAddress"])
        out = {}
        for key, subnet_id in wanted.items():
            vnet_id = subnet_id.rpartition("/subnets/")[0]
            vnet = tx.get_resource(ids.key_of(vnet_id))
            subnet = None
            if vnet is not None and vnet.type.lower() == VNET.lower():
                subnet = next(
                    (s for s in vnet.body["properties"]["subnets"] if s["id"].lower() == key),
                    None,
                )
            if subnet is None:
                raise AzureError(
                    f"Resource {subnet_id} referenced by resource {vmss.id} was not found. Please make sure that the "
                    "referenced resource exists, and that both resources are in the same region.",
                    code="InvalidResourceReference",
                    status=400,
                )
            net = ipaddress.ip_network(subnet["properties"]["addressPrefix"], strict=False)
            hosts = net.hosts()
            for _ in range(3):  # .1-.3 are Azure's
                next(hosts, None)
            out[key] = _Addresses(subnet["id"], hosts, used[key])
        return out

    def _flexible_nics(
        self, tx: Txn, vmss: ResourceRecord, vm_id: str, vm_name: str, addresses: dict[str, _Addresses]
    ) -> list[dict[str, Any]]:
        """Flexible: each instance gets network interfaces of its own, named ``{vm}-{configuration}``."""
        p = ids.parse(vmss.id)
        assert p is not None and p.resource_group is not None
        out = []
        for config in (
            vmss.internal["model"].get("networkProfile", {}).get("networkInterfaceConfigurations", [])
        ):
            cprops = config.get("properties") or {}
            nic_name = f"{vm_name}-{config['name']}"[:80]
            nic_id = ids.resource_id(p.subscription, p.resource_group, NS, ["networkInterfaces"], [nic_name])
            ipconfigs = []
            for i, ipc in enumerate(cprops.get("ipConfigurations") or []):
                ip = dict(ipc.get("properties") or {})
                subnet_id = str((ip.get("subnet") or {}).get("id") or "")
                shaped: dict[str, Any] = {
                    "provisioningState": "Succeeded",
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": addresses[subnet_id.lower()].subnet_id},
                    "primary": i == 0,
                    "privateIPAddressVersion": "IPv4",
                    "privateIPAddress": addresses[subnet_id.lower()].next(),
                }
                for key in (
                    "loadBalancerBackendAddressPools",
                    "loadBalancerInboundNatPools",
                    "applicationSecurityGroups",
                ):
                    if ip.get(key):
                        shaped[key] = [{"id": x["id"]} for x in ip[key]]
                ipconfigs.append(
                    {
                        "name": ipc.get("name") or f"ipconfig{i + 1}",
                        "id": f"{nic_id}/ipConfigurations/{ipc.get('name') or f'ipconfig{i + 1}'}",
                        "type": f"{NIC}/ipConfigurations",
                        "properties": shaped,
                    }
                )
            doc: dict[str, Any] = {
                "tags": {},
                "properties": {
                    "ipConfigurations": ipconfigs,
                    "resourceGuid": str(uuid.uuid4()),
                    "enableAcceleratedNetworking": bool(cprops.get("enableAcceleratedNetworking", False)),
                    "enableIPForwarding": bool(cprops.get("enableIPForwarding", False)),
                    "nicType": "Standard",
                    "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
                    "primary": True,
                    "vnetEncryptionSupported": False,
                    "auxiliaryMode": "None",
                    "virtualMachine": {"id": vm_id},
                    "macAddress": _mac(),
                },
            }
            nsg = (cprops.get("networkSecurityGroup") or {}).get("id")
            if nsg:
                doc["properties"]["networkSecurityGroup"] = {"id": nsg}
            self.vms.tracked.new_record(tx, nic_id, NIC, vmss.location, doc)
            primary = str(cprops.get("primary", True)).lower() == "true"
            out.append({"id": nic_id, "properties": {"primary": primary, "deleteOption": "Delete"}})
        return out

    @staticmethod
    def _uniform_nics(vmss: ResourceRecord, vm_id: str) -> list[dict[str, Any]]:
        """Uniform: the network interfaces are the scale set's, below the instance."""
        configs = vmss.internal["model"].get("networkProfile", {}).get("networkInterfaceConfigurations", [])
        return [{"id": f"{vm_id}/networkInterfaces/{c['name']}"} for c in configs]

    # booting and removing ----------------------------------------------------------------------------
    def boot(self, tx: Txn, recs: list[ResourceRecord]) -> None:
        for rec in recs:
            fresh = tx.get_resource(rec.key)
            if fresh is not None and fresh.state == "creating":
                self.vms.boot_new(tx, fresh)

    def start_removing(self, tx: Txn, recs: list[ResourceRecord]) -> None:
        for rec in recs:
            self.vms.begin_member_power(tx, rec, "delete")

    def remove(self, tx: Txn, recs: list[ResourceRecord]) -> None:
        for rec in recs:
            fresh = tx.get_resource(rec.key)
            if fresh is not None:
                self.vms.purge(tx, fresh)

    # scale-in ----------------------------------------------------------------------------------------
    @staticmethod
    def choose_for_scale_in(
        members: list[ResourceRecord], count: int, policy: dict[str, Any]
    ) -> list[ResourceRecord]:
        """Which instances a scale-in removes: never one protected from scale-in; ``NewestVM`` the newest
        first, ``OldestVM`` the oldest first, ``Default`` balanced across zones and then the highest
        instance ids first (azemu's instances are zone-less, so the newest)."""
        eligible = [m for m in members if not (info(m).get("protection") or {}).get("protectFromScaleIn")]
        rule = (policy.get("rules") or ["Default"])[0]
        if rule == "OldestVM":
            ordered = sorted(eligible, key=lambda m: (float(info(m).get("created", 0)), _order(m)))
        else:
            ordered = sorted(
                eligible, key=lambda m: (float(info(m).get("created", 0)), _order(m)), reverse=True
            )
        return ordered[:count]


def _order(rec: ResourceRecord) -> tuple[int, str]:
    number = str(info(rec).get("instanceId") or "")
    return (int(number), "") if number.isdigit() else (0, rec.name)
