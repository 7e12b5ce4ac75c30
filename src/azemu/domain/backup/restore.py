"""Restores from a recovery point (``.../recoveryPoints/{rp}/restore``), as ``az backup restore
restore-disks`` asks for them:

* ``RestoreDisks`` (a target resource group): managed disks made from the point's content in that group
  (copy-on-write: a restored disk costs metadata), and in the named storage account the VM's configuration
  and the template Azure writes to recreate the VM from those disks - readable through a SAS URL in the
  job's property bag, and deployable as is (``az deployment group create --template-uri``);
* ``AlternateLocation``: the same disks, and a new VM (with a new network interface in the given subnet)
  attached to them;
* ``OriginalLocation``: the source VM's disks take the point's content back (its disks replaced in place),
  and the VM boots from them.

A VM restored from a point is a *specialized* copy of its source: it boots as the guest was - same computer
name, machine SID, SSH host keys -, which azemu reports as an identity conflict while the source exists
(``domain/conflicts.py``). From its disks a user can capture a specialized gallery version, or generalize it
(Sysprep / waagent, then ``az vm generalize``) and capture a generalized image.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from azemu.domain import ids, shapes
from azemu.domain.backup import points
from azemu.domain.backup import protection as prot
from azemu.domain.content import data_key
from azemu.domain.errors import AzureError, BadRequest, NotFound
from azemu.domain.kinds import Write
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

RESTORE_TASKS_SNAPSHOT = [("Transfer data", 420.0)]  # from the snapshot tier: minutes
RESTORE_TASKS_VAULT = [("Transfer data", 2400.0)]  # from the vault tier: much longer
MODES = ("RestoreDisks", "AlternateLocation", "OriginalLocation")
SAS_SECONDS = 24 * 3600.0


class Restores:
    def __init__(self, backup: Any, storage: Any) -> None:
        """``backup``: the Backup service (domain/backup/service.py), which builds this one."""
        self.backup = backup
        self.storage = storage

    def trigger(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, base_url: str
    ) -> OperationRecord:
        """Check the request now (what Azure refuses synchronously), then start the Restore job."""
        shapes.check(body, prot.RESTORE_SHAPE)
        props = dict(body.get("properties") or {})
        mode = str(props.get("recoveryType") or "RestoreDisks")
        if mode not in MODES:
            raise BadRequest(
                f"Recovery type '{mode}' is not supported for Azure virtual machines. Supported values are "
                f"{', '.join(MODES)}.",
                code="BMSUserErrorInvalidInput",
            )
        b = self.backup
        with b.store.transaction() as tx:
            point = b.children.find(tx, rid)
            if point is None or point.type.lower() != points.TYPE.lower():
                b.require(tx, rid.rsplit("/recoveryPoints/", 1)[0], "Item")
                raise NotFound("Recovery point not found.", code="BMSUserErrorRecoveryPointNotFound")
            vault = b.vault(tx, rid)
            now = b.clock.now()
            if not points.restorable(point, now):
                raise BadRequest(
                    "The recovery point has no valid tier to restore from.",
                    code="UserErrorRecoveryPointNotFound",
                )
            params: dict[str, Any] = {"point": point.id, "mode": mode, "base": base_url}
            vm_name = point.internal["vm"]["name"]
            if mode in ("RestoreDisks", "AlternateLocation"):
                target_rg = str(props.get("targetResourceGroupId") or "")
                if not target_rg:
                    raise BadRequest(
                        "azemu restores managed disks only (instant restore): give a target resource group "
                        "(--target-resource-group). Restoring as unmanaged disks into a storage account is not "
                        "served.",
                        code="BMSUserErrorInvalidInput",
                    )
                p = ids.parse(target_rg)
                if p is None or p.resource_group is None:
                    raise BadRequest(
                        f"Invalid target resource group id '{target_rg}'.", code="BMSUserErrorInvalidInput"
                    )
                b.disks.tracked.groups.require(tx, p.subscription, p.resource_group)
                params["targetRg"] = ids.resource_group_id(p.subscription, p.resource_group)
                account_id = str(props.get("storageAccountId") or "")
                account = tx.get_resource(ids.key_of(account_id)) if account_id else None
                if account is None:
                    raise NotFound(
                        f"Storage account '{account_id}' was not found.",
                        code="UserErrorStorageAccountNotFound",
                    )
                params["account"] = account.id
                params["luns"] = props.get("restoreDiskLunList")
            if mode == "AlternateLocation":
                target_vm = str(props.get("targetVirtualMachineId") or "")
                subnet = str(props.get("subnetId") or "")
                if not target_vm or not subnet:
                    raise BadRequest(
                        "A new VM needs targetVirtualMachineId, virtualNetworkId and subnetId.",
                        code="BMSUserErrorInvalidInput",
                    )
                if not _subnet_exists(tx, subnet):
                    raise NotFound(f"Subnet '{subnet}' was not found.", code="UserErrorSubnetNotFound")
                if tx.get_resource(ids.key_of(target_vm)) is not None:
                    raise BadRequest(
                        f"A virtual machine '{target_vm.rsplit('/', 1)[1]}' already exists in the target resource "
                        "group: restore to a new VM name.",
                        code="UserErrorVmNameAlreadyExists",
                    )
                params["targetVm"] = target_vm
                params["subnet"] = subnet
                params["zones"] = props.get("zones")
            if mode == "OriginalLocation":
                source = tx.get_resource(ids.key_of(point.internal["vm"]["id"]))
                if source is None:
                    raise NotFound(
                        "The original virtual machine no longer exists: restore to a new VM or restore disks.",
                        code="UserErrorVmNotFound",
                    )
            tasks = RESTORE_TASKS_SNAPSHOT if points.in_snapshot_tier(point, now) else RESTORE_TASKS_VAULT
            bag = {
                "Job Type": {
                    "RestoreDisks": "Recover disks",
                    "AlternateLocation": "Recover to a new virtual machine",
                    "OriginalLocation": "Recover to the original virtual machine",
                }[mode],
                "Recovery point time ": _bag_time(point.created_at),
                "VM Name": vm_name,
            }
            op: OperationRecord
            _job, op = b.jobs.start(
                tx,
                vault,
                operation="Restore",
                entity=vm_name,
                tasks=tasks,
                work="restore",
                params=params,
                bag=bag,
                tenant_id=tenant_id,
            )
            return op

    # the job's work ----------------------------------------------------------------------------------
    def run(self, tx: Txn, job: ResourceRecord, _task: int) -> None:
        params = job.internal["params"]
        point = self.backup.children.find(tx, params["point"])
        if point is None:
            raise AzureError(
                "The recovery point no longer exists.", code="UserErrorRecoveryPointNotFound", status=400
            )
        mode = params["mode"]
        bag = job.body["properties"]["extendedInfo"]["propertyBag"]
        if mode == "OriginalLocation":
            self._original_location(tx, point)
            bag["Target VM Name"] = point.internal["vm"]["name"]
        else:
            disks = self._restore_disks(tx, point, params)
            bag["Target resource group"] = params["targetRg"].rsplit("/", 1)[1]
            bag["Restored disk(s)"] = ", ".join(
                d.rsplit("/", 1)[1] for d in [disks["os"], *disks["data"].values()]
            )
            if mode == "RestoreDisks":
                bag.update(self._write_blobs(tx, point, disks, params))
            else:
                vm_id = self._new_vm(tx, point, disks, params, job)
                bag["Target VM Name"] = vm_id.rsplit("/", 1)[1]
        self.backup.children.save(tx, job)

    def _restore_disks(self, tx: Txn, point: ResourceRecord, params: dict[str, Any]) -> dict[str, Any]:
        """Managed disks from the point's content, in the target group (copy-on-write)."""
        b = self.backup
        emu = point.internal
        vm_name = emu["vm"]["name"]
        stamp = dt.datetime.fromtimestamp(b.clock.now(), dt.UTC).strftime("%Y%m%d-%H%M%S")
        p = ids.parse(params["targetRg"])
        assert p is not None and p.resource_group is not None
        sub, group = p.subscription, p.resource_group
        loc = emu["vm"]["location"]

        def disk_id(name: str) -> str:
            return ids.resource_id(sub, group, "Microsoft.Compute", ["disks"], [name])

        os_spec = emu["os"]
        os_id = disk_id(f"{vm_name}-osdisk-{stamp}")
        b.disks.new_os_disk(
            tx,
            os_id,
            loc,
            os_type=os_spec["osType"],
            hyper_v=os_spec.get("hyperVGeneration", "V1"),
            architecture="x64",
            size_gb=int(os_spec["sizeGB"]),
            sku=os_spec["sku"],
            creation={"createOption": "Restore", "sourceResourceId": point.id},
            vm_id=None,
            source_key=point.key,
        )
        wanted = params.get("luns")
        data: dict[int, str] = {}
        for d in emu.get("data", []):
            if wanted is not None and int(d["lun"]) not in [int(x) for x in wanted]:
                continue
            did = disk_id(f"{vm_name}-datadisk-{d['lun']}-{stamp}")
            b.disks.new_os_disk(
                tx,
                did,
                loc,
                os_type="",
                hyper_v="",
                architecture="x64",
                size_gb=int(d["sizeGB"] or 1),
                sku=d["sku"],
                creation={"createOption": "Restore", "sourceResourceId": point.id},
                vm_id=None,
                source_key=data_key(point.key, d["lun"]),
            )
            data[int(d["lun"])] = did
        return {"os": os_id, "data": data}

    def _write_blobs(
        self, tx: Txn, point: ResourceRecord, disks: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, str]:
        """The VM's configuration and the template that recreates it from the restored disks, as blobs."""
        account = self.storage.require_in(tx, params["account"])
        emu = point.internal
        vm_name = emu["vm"]["name"]
        container = f"{vm_name.lower()[:40]}-{uuid.uuid4().hex}"
        guid = str(uuid.uuid4())
        config_name = f"config-{vm_name.lower()}-{guid}.json"
        template_name = f"azuredeploy{uuid.uuid4()}.json"
        config = emu["vm"]["config"]
        template = restore_template(point, disks)
        self.storage.write_blob(tx, account, container, config_name, json.dumps(config, indent=2).encode())
        self.storage.write_blob(
            tx, account, container, template_name, json.dumps(template, indent=2).encode()
        )
        base = params["base"]
        return {
            "Config Blob Container Name": container,
            "Config Blob Name": config_name,
            "Config Blob Uri": self.storage.blob_url(account, container, config_name),
            "Target Storage Account Name": account.name,
            "Template Blob Uri": self.storage.blob_url(account, container, template_name),
            # azemu serves these blobs itself: the SAS URL is ready to deploy (docs/azure-differences.md)
            "Template Blob Sas Uri": self.storage.sas_url(
                account, base, container, template_name, SAS_SECONDS
            ),
            "Config Blob Sas Uri": self.storage.sas_url(account, base, container, config_name, SAS_SECONDS),
        }

    def _new_vm(
        self,
        tx: Txn,
        point: ResourceRecord,
        disks: dict[str, Any],
        params: dict[str, Any],
        job: ResourceRecord,
    ) -> str:
        """A new VM on the restored disks, with a network interface of its own in the given subnet."""
        b = self.backup
        emu = point.internal
        vm_id = params["targetVm"]
        p = ids.parse(vm_id)
        assert p is not None and p.resource_group is not None
        nic_id = ids.resource_id(
            p.subscription, p.resource_group, "Microsoft.Network", ["networkInterfaces"], [f"{p.name}-nic"]
        )
        loc = emu["vm"]["location"]
        b.registry.put(
            Write(
                rid=nic_id,
                body={
                    "location": loc,
                    "properties": {
                        "ipConfigurations": [
                            {
                                "name": "ipconfig1",
                                "properties": {
                                    "privateIPAllocationMethod": "Dynamic",
                                    "subnet": {"id": params["subnet"]},
                                },
                            }
                        ]
                    },
                },
                tenant_id=None,
            )
        )
        body: dict[str, Any] = {
            "location": loc,
            "properties": {
                "hardwareProfile": {"vmSize": emu["vm"]["vmSize"]},
                "storageProfile": _storage_profile(emu, disks["os"], disks["data"]),
                "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
            },
        }
        if params.get("zones"):
            body["zones"] = list(params["zones"])
        b.registry.put(Write(rid=vm_id, body=body, tenant_id=None))
        return str(vm_id)

    def _original_location(self, tx: Txn, point: ResourceRecord) -> None:
        """The source VM's disks take the point's content back (replaced in place), and the VM boots."""
        b = self.backup
        emu = point.internal
        vm = tx.get_resource(ids.key_of(emu["vm"]["id"]))
        if vm is None:
            raise AzureError(
                "The original virtual machine no longer exists.", code="UserErrorVmNotFound", status=400
            )
        storage = vm.body["properties"]["storageProfile"]
        b.content.copy(tx, point.key, storage["osDisk"]["managedDisk"]["id"])
        by_lun = {int(d["lun"]): d["managedDisk"]["id"] for d in storage.get("dataDisks") or []}
        for d in emu.get("data", []):
            target = by_lun.get(int(d["lun"]))
            if target is not None:
                b.content.copy(tx, data_key(point.key, d["lun"]), target)
        guest = b.vms.load_guest(tx, vm)
        if b.vms.powered_on(vm):
            guest_api.boot(guest, b.vms.exec_context(vm))
        b.vms.store_guest(tx, vm, guest)
        tx.put_resource(vm)


def _subnet_exists(tx: Txn, subnet_id: str) -> bool:
    vnet_id, _, name = subnet_id.rpartition("/subnets/")
    vnet = tx.get_resource(ids.key_of(vnet_id)) if vnet_id else None
    if vnet is None:
        return False
    return any(
        str(s.get("name", "")).lower() == name.lower()
        for s in vnet.body.get("properties", {}).get("subnets") or []
    )


def _storage_profile(emu: dict[str, Any], os_id: str, data: dict[int, str]) -> dict[str, Any]:
    return {
        "osDisk": {
            "osType": emu["os"]["osType"],
            "createOption": "Attach",
            "caching": emu["os"].get("caching", "ReadWrite"),
            "managedDisk": {"id": os_id},
        },
        "dataDisks": [
            {
                "lun": lun,
                "createOption": "Attach",
                "caching": next(
                    (d.get("caching", "None") for d in emu.get("data", []) if int(d["lun"]) == lun), "None"
                ),
                "managedDisk": {"id": did},
            }
            for lun, did in sorted(data.items())
        ],
    }


def restore_template(point: ResourceRecord, disks: dict[str, Any]) -> dict[str, Any]:
    """The template a disk restore writes: a VM (and its network interface) attached to the restored disks.
    Its parameters name the VM and the existing network it joins."""
    emu = point.internal
    storage = _storage_profile(emu, disks["os"], disks["data"])
    nic = "[resourceId('Microsoft.Network/networkInterfaces', parameters('NetworkInterfaceName'))]"
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "VirtualMachineName": {"type": "string", "defaultValue": emu["vm"]["name"]},
            "VirtualNetwork": {"type": "string"},
            "VirtualNetworkResourceGroup": {"type": "string", "defaultValue": "[resourceGroup().name]"},
            "Subnet": {"type": "string"},
            "NetworkInterfaceName": {
                "type": "string",
                "defaultValue": "[concat(parameters('VirtualMachineName'), '-nic')]",
            },
        },
        "resources": [
            {
                "type": "Microsoft.Network/networkInterfaces",
                "apiVersion": "2023-05-01",
                "name": "[parameters('NetworkInterfaceName')]",
                "location": emu["vm"]["location"],
                "properties": {
                    "ipConfigurations": [
                        {
                            "name": "ipconfig1",
                            "properties": {
                                "privateIPAllocationMethod": "Dynamic",
                                "subnet": {
                                    "id": "[resourceId(parameters('VirtualNetworkResourceGroup'), "
                                    "'Microsoft.Network/virtualNetworks/subnets', parameters('VirtualNetwork'), "
                                    "parameters('Subnet'))]"
                                },
                            },
                        }
                    ]
                },
            },
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2023-03-01",
                "name": "[parameters('VirtualMachineName')]",
                "location": emu["vm"]["location"],
                "dependsOn": [nic],
                "properties": {
                    "hardwareProfile": {"vmSize": emu["vm"]["vmSize"]},
                    "storageProfile": storage,
                    "networkProfile": {"networkInterfaces": [{"id": nic}]},
                },
            },
        ],
        "outputs": {
            "virtualMachineId": {
                "type": "string",
                "value": "[resourceId('Microsoft.Compute/virtualMachines', parameters('VirtualMachineName'))]",
            }
        },
    }


def _bag_time(ts: float) -> str:
    """``12/25/2019 10:07:11 PM``: how the job's property bag writes the point's time."""
    d = dt.datetime.fromtimestamp(ts, dt.UTC)
    return f"{d.month}/{d.day}/{d.year} {d.strftime('%I:%M:%S %p').lstrip('0')}"
