"""Protection: containers, protectable items and protected items of Azure VM backup, and the schedule each
protected item runs on azemu's clock.

A protected item's life (its ``protectionState``) is one declared table: enabling protection leaves it
``IRPending`` until its first recovery point; stopping protection keeps its points forever
(``ProtectionStopped``) or as its policy says (``BackupsSuspended``); deleting its data soft-deletes it
when the vault's soft delete is on (kept ``deferredDeleteTimeInUTC`` days, undelete brings it back stopped
with its points) and purges it otherwise; resuming gives it a policy again.

Each item has one schedule operation at a time, due at the earliest of: its next scheduled backup, its
next point's expiry, the end of its soft-deleted days. When it falls due it does what is due (a scheduled
``Backup`` job, expired points purged - their content released -, a soft-deleted item purged), ends, and
leaves the next one due: a chain, so ``azemu wait`` and a clock advance both end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azemu.domain.errors import AzureError, Conflict
from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import State, StateTable
from azemu.state.records import ResourceRecord

CONTAINER = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers"
ITEM = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"
PROTECTABLE = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems"
FABRIC = "Azure"
VM_TYPE = "Microsoft.Compute/virtualMachines"


def _refused(action: str, ctx: Mapping[str, Any]) -> AzureError:
    state = ctx.get("state")
    if state == "SoftDeleted":
        return Conflict(
            f"The backup item '{ctx.get('name')}' is in soft deleted state. Undelete it (az backup protection "
            "undelete) before this operation.",
            code="UserErrorItemSoftDeleted",
        )
    if action == "backup":
        return AzureError(
            f"Backup of item '{ctx.get('name')}' is not possible: its protection is stopped. Resume protection "
            "(az backup protection resume) with a policy first.",
            code="UserErrorProtectionStopped",
            status=400,
        )
    return Conflict(
        f"Operation '{action}' is not allowed on the backup item '{ctx.get('name')}' in protection state "
        f"'{state}'.",
        code="UserErrorInvalidProtectionState",
    )


LIFECYCLE = StateTable(
    kind="protectedItem",
    initial="IRPending",
    transitions={
        "IRPending": {
            "backup": "Protected",
            "setPolicy": "IRPending",
            "stop": "ProtectionStopped",
            "suspend": "BackupsSuspended",
            "delete": "SoftDeleted",
        },
        "Protected": {
            "backup": "Protected",
            "setPolicy": "Protected",
            "stop": "ProtectionStopped",
            "suspend": "BackupsSuspended",
            "delete": "SoftDeleted",
        },
        "ProtectionStopped": {"resume": "Protected", "stop": "ProtectionStopped", "delete": "SoftDeleted"},
        "BackupsSuspended": {
            "resume": "Protected",
            "stop": "ProtectionStopped",
            "suspend": "BackupsSuspended",
            "delete": "SoftDeleted",
        },
        "SoftDeleted": {"undelete": "ProtectionStopped"},
    },
    refusals={
        s: _refused
        for s in ("IRPending", "Protected", "ProtectionStopped", "BackupsSuspended", "SoftDeleted")
    },
    states_info={
        "IRPending": State(facts={"protectionState": "IRPending", "scheduled": True, "expires": True}),
        "Protected": State(facts={"protectionState": "Protected", "scheduled": True, "expires": True}),
        "ProtectionStopped": State(
            facts={"protectionState": "ProtectionStopped", "scheduled": False, "expires": False}
        ),
        "BackupsSuspended": State(
            facts={"protectionState": "BackupsSuspended", "scheduled": False, "expires": True}
        ),
        "SoftDeleted": State(
            facts={"protectionState": "ProtectionStopped", "scheduled": False, "expires": False}
        ),
    },
)
CONTAINER_KIND = KindSpec(
    type=CONTAINER,
    lro_family="backup",
    lifecycle=StateTable(kind="container", initial="Registered", transitions={"Registered": {}}),
    shape=None,
    operations={},
    description="Backup protection containers (read-only): one per protected Azure VM.",
    parent="Microsoft.RecoveryServices/vaults",
    api_type="vaults/backupFabrics/protectionContainers",
)
SHAPE = {
    "location": str,
    "tags": dict,
    "eTag": str,
    "properties": {
        "protectedItemType": str,
        "policyId": str,
        "sourceResourceId": str,
        "virtualMachineId": str,
        "protectionState": str,
        "isRehydrate": bool,
        "extendedProperties": {"diskExclusionProperties": {"diskLunList": [int], "isInclusionList": bool}},
    },
}
BACKUP_SHAPE = {"properties": {"objectType": str, "recoveryPointExpiryTimeInUTC": str}}
RESTORE_SHAPE = {
    "properties": {
        "objectType": str,
        "recoveryType": str,
        "recoveryPointId": str,
        "sourceResourceId": str,
        "targetResourceGroupId": str,
        "targetVirtualMachineId": str,
        "storageAccountId": str,
        "virtualNetworkId": str,
        "subnetId": str,
        "region": str,
        "restoreDiskLunList": [int],
        "zones": [str],
        "originalStorageAccountOption": bool,
        "createNewCloudService": bool,
    }
}
ITEM_KIND = KindSpec(
    type=ITEM,
    lro_family="backup",
    lifecycle=LIFECYCLE,
    shape=SHAPE,
    operations={"schedule": 0.0},
    description="Protected items: Azure VMs under a backup policy - enable, change policy, stop with retain or "
    "delete data (soft delete, undelete), resume; scheduled backups and retention on azemu's clock.",
    uses=(VM_TYPE, "Microsoft.RecoveryServices/vaults/backupPolicies"),
    parent=CONTAINER,
    api_type="vaults/backupFabrics/protectionContainers/protectedItems",
)


def names(vm_id: str) -> tuple[str, str]:
    """(container name, item name) Azure gives a VM: ``IaasVMContainer;iaasvmcontainerv2;rg;vm`` and
    ``VM;iaasvmcontainerv2;rg;vm`` (resource group and VM name lower-cased)."""
    parts = vm_id.split("/")
    low = [p.lower() for p in parts]
    rg = parts[low.index("resourcegroups") + 1].lower()
    vm = parts[-1].lower()
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}", f"VM;iaasvmcontainerv2;{rg};{vm}"


def container_id(vault_id: str, container: str) -> str:
    return f"{vault_id}/backupFabrics/{FABRIC}/protectionContainers/{container}"


def item_id(vault_id: str, container: str, item: str) -> str:
    return f"{container_id(vault_id, container)}/protectedItems/{item}"


def protection_state(rec: ResourceRecord) -> str:
    return str(LIFECYCLE.fact(rec.state, "protectionState"))


def scheduled(rec: ResourceRecord) -> bool:
    return bool(LIFECYCLE.fact(rec.state, "scheduled"))


def points_expire(rec: ResourceRecord) -> bool:
    return bool(LIFECYCLE.fact(rec.state, "expires"))
