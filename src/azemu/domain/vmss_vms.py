"""A scale set's instances as ``virtualMachineScaleSets/virtualMachines``: the Uniform instance kind, and the
per-instance API both modes answer (get, instance view, protection from scale-in, delete one instance).

Flexible instances are addressed by their VM name under the scale set too (Azure: "for Flexible, the
instance ID is simply the name of the virtual machine").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from azemu.domain import ids, shapes
from azemu.domain.errors import resource_not_found
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.vm import KIND as VM_KIND
from azemu.domain.vm import VirtualMachines
from azemu.domain.vmss import TYPE as VMSS
from azemu.domain.vmss import ScaleSets, uniform_instance_document
from azemu.domain.vmss_instances import UNIFORM_VM, info, instance_id, latest_model_applied
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

KIND = KindSpec(
    type=UNIFORM_VM,
    lro_family="Microsoft.Compute",
    lifecycle=VM_KIND.lifecycle,
    textbook=VM_KIND.textbook,
    shape=shapes.VMSS_VM,
    operations={},
    description="Uniform scale set instances (virtualMachineScaleSets/{name}/virtualMachines/{instanceId}).",
    parent=VMSS,
)


class ScaleSetVms:
    def __init__(self, scale_sets: ScaleSets, vms: VirtualMachines, registry: Registry) -> None:
        self.scale_sets = scale_sets
        self.vms = vms
        registry.register(KIND, self)

    def _vmss_id(self, rid: str) -> str:
        return rid.rsplit("/virtualMachines/", 1)[0]

    def resolve(self, tx: Txn, vmss_id: str, wanted: str) -> tuple[ResourceRecord, ResourceRecord]:
        vmss = self.scale_sets.tracked.require(tx, vmss_id)
        rec = self.scale_sets.instances.find(tx, vmss, wanted)
        if rec is None:
            p = ids.parse(vmss_id)
            raise resource_not_found(
                f"Microsoft.Compute/virtualMachineScaleSets/{vmss.name}/virtualMachines/{wanted}",
                p.resource_group if p is not None and p.resource_group else "",
            )
        return vmss, rec

    def instance(self, vmss_id: str, wanted: str) -> tuple[ResourceRecord, ResourceRecord]:
        with self.scale_sets.store.read() as tx:
            return self.resolve(tx, vmss_id, wanted)

    # the kind's uniform face (Uniform instances) -----------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        return self.instance(self._vmss_id(rid), rid.rsplit("/", 1)[-1])[1]

    def put(self, w: Write) -> Written:
        """A PUT of one instance: what may change is its protection policy."""
        rec = self.protect(
            self._vmss_id(w.rid),
            w.rid.rsplit("/", 1)[-1],
            (w.body.get("properties") or {}).get("protectionPolicy"),
        )
        return Written(rec, False, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        return self.scale_sets.begin_action(self._vmss_id(rid), "delete", [rid.rsplit("/", 1)[-1]], tenant_id)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        self.vms.purge(tx, rec)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        with self.scale_sets.store.read() as tx:
            vmss = tx.get_resource(rec.parent_key or "")
        assert vmss is not None
        return self.view(vmss, rec)

    # views -------------------------------------------------------------------------------------------
    def view(
        self, vmss: ResourceRecord, rec: ResourceRecord, instance_view: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if rec.type.lower() == UNIFORM_VM.lower():
            doc = uniform_instance_document(vmss, rec, self.vms.table)
        else:  # Flexible: the VM itself, with what the scale set adds
            doc = self.vms.document(rec)
            doc["instanceId"] = instance_id(rec)
            doc["properties"]["latestModelApplied"] = latest_model_applied(vmss, rec)
            protection = info(rec).get("protection")
            if protection:
                doc["properties"]["protectionPolicy"] = protection
        if instance_view is not None:
            doc["properties"]["instanceView"] = instance_view
        return doc

    def instance_view(self, rec: ResourceRecord, subscription_ids: Sequence[str]) -> dict[str, Any]:
        view = self.vms.instance_view(rec, subscription_ids)
        view.setdefault("platformUpdateDomain", 0)
        view.setdefault("platformFaultDomain", 0)
        return view

    def protect(self, vmss_id: str, wanted: str, policy: dict[str, Any] | None) -> ResourceRecord:
        with self.scale_sets.store.transaction() as tx:
            _, rec = self.resolve(tx, vmss_id, wanted)
            if policy is not None:
                info(rec)["protection"] = {
                    "protectFromScaleIn": bool(policy.get("protectFromScaleIn", False)),
                    "protectFromScaleSetActions": bool(policy.get("protectFromScaleSetActions", False)),
                }
                self.vms.tracked.save(tx, rec)
            return rec
