"""Bringing a scale set's instances to its model: reimage (a new OS disk from the model's image, booted
anew - the same first boot as a new VM, the computer name kept), manual upgrade, and rolling upgrades in
batches of ``maxBatchInstancePercent`` on azemu's clock, with ``pauseTimeBetweenBatches`` between them and
the upgraded instances' health checked against ``maxUnhealthyUpgradedInstancePercent``.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from azemu.domain import ids, vm_sources
from azemu.domain.errors import NotFound
from azemu.domain.operations import Operations, Reschedule
from azemu.domain.timefmt import iso
from azemu.domain.vm import VirtualMachines, internal
from azemu.domain.vmss import FAMILY, KIND, ScaleSets, tenant_of
from azemu.domain.vmss_instances import info, latest_model_applied
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

_DURATION = re.compile(r"^P(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def seconds_of(text: str) -> float:
    """ISO 8601 ``PT#H#M#S`` (the rolling policy's pause) in seconds."""
    m = _DURATION.match(text or "PT0S")
    if not m:
        return 0.0
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


class Upgrades:
    def __init__(self, scale_sets: ScaleSets, vms: VirtualMachines, operations: Operations) -> None:
        self.scale_sets = scale_sets
        self.vms = vms
        self.operations = operations
        self.clock = vms.clock
        operations.register(KIND.op("manualUpgrade"), self._complete_manual)
        operations.register(KIND.op("rollingBatch"), self._complete_batch, on_failure=self._rolling_failed)
        scale_sets.upgrades = self

    # reimage -----------------------------------------------------------------------------------------
    def reimage(
        self, tx: Txn, vmss: ResourceRecord, members: list[ResourceRecord], *, to_model: bool = True
    ) -> None:
        """Each instance gets a new OS disk from the scale set's current model and boots it: a generalized
        image is provisioned again (same computer name, new identity), a specialized one is a clone."""
        if not members:
            return
        emu = vmss.internal
        p = ids.parse(vmss.id)
        assert p is not None and p.resource_group is not None
        src = vm_sources.resolve(
            tx,
            emu["model"]["storageProfile"].get("imageReference"),
            loc=vmss.location or "",
            subscription=p.subscription,
            vm_id=vmss.id,
            now=self.clock.now(),
            images=self.vms.images,
            gallery=self.vms.gallery,
            tenant_id=tenant_of(tx, vmss),
            client={"scope": vmss.id},
        )
        for member in members:
            rec = tx.get_resource(member.key)
            if rec is None:
                continue
            self._reimage_one(tx, vmss, rec, src)

    def _reimage_one(
        self, tx: Txn, vmss: ResourceRecord, rec: ResourceRecord, src: vm_sources.OsSource
    ) -> None:
        emu = vmss.internal
        props = rec.body["properties"]
        os_disk = props["storageProfile"]["osDisk"]
        old_disk = os_disk["managedDisk"]["id"]
        rec.state = self.vms.table.next(rec.state, "reimage", name=rec.name)
        p = ids.parse(rec.id)
        assert p is not None and p.resource_group is not None
        vm_name = str(info(rec).get("vmName") or rec.name)
        disk_name = f"{vm_name}_OsDisk_1_{uuid.uuid4().hex}"
        disk_id = ids.resource_id(
            p.subscription, p.resource_group, "Microsoft.Compute", ["disks"], [disk_name]
        )
        self.vms.disks.new_os_disk(
            tx,
            disk_id,
            rec.location or "",
            os_type=src.os_type,
            hyper_v=src.hyper_v,
            architecture=src.architecture,
            size_gb=int(os_disk.get("diskSizeGB") or src.size_gb),
            sku=os_disk["managedDisk"].get("storageAccountType") or "Premium_LRS",
            creation=src.creation,
            vm_id=rec.id,
            guest=src.guest.copy() if src.guest is not None else None,
            source_key=src.source_key,
        )
        if tx.get_resource(ids.key_of(old_disk)) is not None:
            self.vms.disks.remove_now(tx, old_disk)
        os_disk.update(name=disk_name, managedDisk={**os_disk["managedDisk"], "id": disk_id})
        props["storageProfile"]["imageReference"] = src.image_out
        computer = (props.get("osProfile") or {}).get("computerName") or rec.name
        profile = emu.get("osProfile")
        vm_emu = internal(rec)
        self.vms._first_boot_rule(
            vm_emu,
            src.generalized,
            {**profile, "computerName": computer} if profile is not None and src.generalized else None,
            src.os_type,
            rec.name,
        )
        info(rec)["model"] = int(emu.get("modelVersion", 0))
        self.vms.tracked.save(tx, rec)
        self.vms.boot_new(tx, rec)

    # manual upgrade ----------------------------------------------------------------------------------
    def begin_manual(
        self, rid: str, instance_ids: list[str] | None, tenant_id: str | None
    ) -> OperationRecord:
        with self.scale_sets.store.transaction() as tx:
            rec = self.scale_sets.tracked.require(tx, rid)
            chosen = self.scale_sets.instances.pick(tx, rec, instance_ids)
            return self.operations.start_for(
                tx,
                rec,
                kind=KIND.op("manualUpgrade"),
                family=FAMILY,
                tenant_id=tenant_id,
                payload={"instances": [m.key for m in chosen]},
            )

    def _complete_manual(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        vmss = self.scale_sets.tracked.require(tx, op.resource_id)
        members = [r for k in op.payload["instances"] if (r := tx.get_resource(k)) is not None]
        self.upgrade(tx, vmss, [m for m in members if not latest_model_applied(vmss, m)])

    def upgrade(self, tx: Txn, vmss: ResourceRecord, members: list[ResourceRecord]) -> None:
        self.reimage(tx, vmss, members)

    # rolling upgrades --------------------------------------------------------------------------------
    def start_rolling(self, tx: Txn, rid: str, tenant_id: str | None) -> OperationRecord | None:
        vmss = self.scale_sets.tracked.require(tx, rid)
        members = self.scale_sets.instances.members(tx, vmss)
        pending = [m.key for m in members if not latest_model_applied(vmss, m) and m.state != "deleting"]
        if not pending:
            return None
        now = self.clock.now()
        vmss.internal["rolling"] = {
            "code": "RollingForward",
            "startTime": now,
            "lastAction": "Start",
            "lastActionTime": now,
            "pending": pending,
            "succeeded": 0,
            "failed": 0,
            "total": len(members),
            "batches": [],
        }
        tx.put_resource(vmss)
        return self.operations.start_for(
            tx, vmss, kind=KIND.op("rollingBatch"), family=FAMILY, tenant_id=tenant_id
        )

    def _complete_batch(self, tx: Txn, op: OperationRecord) -> None:
        """One batch (under ``instant``: every batch, their times simulated); the next is due after the
        batch's duration and the policy's pause, on azemu's clock."""
        assert op.resource_id is not None
        vmss = self.scale_sets.tracked.require(tx, op.resource_id)
        state = vmss.internal.get("rolling")
        if not state or state["code"] != "RollingForward":
            return
        policy = vmss.body["properties"]["upgradePolicy"].get("rollingUpgradePolicy") or {}
        size = max(1, math.ceil(state["total"] * int(policy.get("maxBatchInstancePercent", 20)) / 100))
        pause = seconds_of(str(policy.get("pauseTimeBetweenBatches") or "PT0S"))
        batch_seconds = self.operations.realistic_seconds(KIND.op("rollingBatch"))
        simulated = float(op.payload.get("simulatedAt") or self.clock.now())
        while state["pending"]:
            batch_keys, state["pending"] = state["pending"][:size], state["pending"][size:]
            batch = [r for k in batch_keys if (r := tx.get_resource(k)) is not None]
            self.reimage(tx, vmss, batch)
            healthy = [r for k in batch_keys if (r := tx.get_resource(k)) is not None and self._healthy(r)]
            state["succeeded"] += len(healthy)
            state["failed"] += len(batch) - len(healthy)
            state["batches"].append({"instances": len(batch), "at": simulated})
            state["lastActionTime"] = simulated
            limit = int(policy.get("maxUnhealthyUpgradedInstancePercent", 20))
            if state["failed"] * 100 > limit * max(1, state["total"]):
                state["code"] = "Faulted"
                vmss.internal["rolling"] = state
                tx.put_resource(vmss)
                return
            if not state["pending"]:
                break
            if self.clock.profile.instant:  # no client waits: the next batch's time is simulated
                simulated += batch_seconds + pause
                continue
            vmss.internal["rolling"] = state
            tx.put_resource(vmss)
            raise Reschedule(self.clock.profile.scale(batch_seconds) + pause)
        state["code"] = "Completed"
        state["lastActionTime"] = simulated
        vmss.internal["rolling"] = state
        tx.put_resource(vmss)

    @staticmethod
    def _healthy(rec: ResourceRecord) -> bool:
        emu = internal(rec)
        return (
            bool(emu.get("agent", {}).get("ready"))
            and not emu.get("oobe")
            and emu.get("provisioning") != "Failed"
        )

    def _rolling_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        vmss = tx.get_resource(ids.key_of(op.resource_id))
        if vmss is not None and vmss.internal.get("rolling"):
            vmss.internal["rolling"]["code"] = "Faulted"
            tx.put_resource(vmss)

    def cancel(self, rid: str) -> None:
        with self.scale_sets.store.transaction() as tx:
            vmss = self.scale_sets.tracked.require(tx, rid)
            state = vmss.internal.get("rolling")
            if not state or state["code"] != "RollingForward":
                raise NotFound("There is no ongoing Rolling Upgrade to cancel.", code="NotFound")
            state.update(code="Cancelled", lastAction="Cancel", lastActionTime=self.clock.now())
            tx.put_resource(vmss)

    def latest(self, rid: str) -> dict[str, Any]:
        vmss = self.scale_sets.get(rid)
        state = vmss.internal.get("rolling")
        if not state:
            raise NotFound("The entity was not found in this Azure location.", code="NotFound")
        policy = vmss.body["properties"]["upgradePolicy"].get("rollingUpgradePolicy") or {}
        pending = len(state["pending"])
        return {
            "properties": {
                "policy": policy,
                "runningStatus": {
                    "code": state["code"],
                    "startTime": iso(state["startTime"]),
                    "lastAction": state["lastAction"],
                    "lastActionTime": iso(state["lastActionTime"]),
                },
                "progress": {
                    "successfulInstanceCount": state["succeeded"],
                    "failedInstanceCount": state["failed"],
                    "inProgressInstanceCount": 0,
                    "pendingInstanceCount": pending,
                },
            },
            "type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades",
            "location": vmss.location,
        }
