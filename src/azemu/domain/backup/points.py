"""Recovery points of protected VMs (``.../protectedItems/{item}/recoveryPoints``).

A point references the content its VM's disks had when the snapshot was taken - the OS disk under the
point's own key, each data disk under ``point#lunN`` - through ``domain/content.py``: no byte is copied, a
point costs its metadata, and what a later point shares with an earlier one is stored once. Deleting a
point (its retention ended, its item's data was deleted, its vault went) releases those references through
the one delete path, and the content store gives back what no one else holds.

Tiers, as Azure shows them: the snapshot tier (``InstantRP``) is valid from the end of "Take Snapshot"
until the policy's instant-restore retention ends (then ``Deleted``); the vault tier (``HardenedRP``)
appears when "Transfer data to vault" ends and lasts until the point expires.

Consistency, as Azure decides it: a VM that is not running gives a crash-consistent point; a running
Windows guest with the Volume Shadow Copy service usable an application-consistent one (without it,
file-system-consistent); a running Linux guest a file-system-consistent one unless its snapshot plugin's
pre/post scripts are enabled.
"""

from __future__ import annotations

from typing import Any

from azemu.domain.content import DiskContent, data_key
from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import StateTable
from azemu.domain.recoveryservices.common import document, iso_z
from azemu.state.records import ResourceRecord
from azemu.state.store import Txn

TYPE = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints"
LIFECYCLE = StateTable(kind="recoveryPoint", initial="Valid", transitions={"Valid": {"expire": "Deleted"}},
                       terminal=frozenset({"Deleted"}))  # fmt: skip
KIND = KindSpec(
    type=TYPE,
    lro_family="backup",
    lifecycle=LIFECYCLE,
    shape=None,
    operations={},
    description="Recovery points (read-only): snapshot and vault tiers, crash / file-system / application "
    "consistent, content shared copy-on-write with the VM's disks.",
    parent="Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
    api_type="vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
)


def consistency(running: bool, guest_says: str) -> str:
    return guest_says if running else "CrashConsistent"


def tiers(rec: ResourceRecord, now: float) -> list[dict[str, Any]]:
    emu = rec.internal
    out = []
    if emu.get("snapshotUntil") is not None:
        alive = now < float(emu["snapshotUntil"])
        out.append({"type": "InstantRP", "status": "Valid" if alive else "Deleted"})
    if emu.get("vaulted"):
        out.append({"type": "HardenedRP", "status": "Valid"})
    return out


def in_snapshot_tier(rec: ResourceRecord, now: float) -> bool:
    until = rec.internal.get("snapshotUntil")
    return until is not None and now < float(until)


def restorable(rec: ResourceRecord, now: float) -> bool:
    return in_snapshot_tier(rec, now) or bool(rec.internal.get("vaulted"))


def point_document(rec: ResourceRecord, now: float) -> dict[str, Any]:
    emu = rec.internal
    disks = [emu["os"], *emu.get("data", [])]
    props: dict[str, Any] = {
        "objectType": "IaasVMRecoveryPoint",
        "recoveryPointType": emu["consistency"],
        "recoveryPointTime": iso_z(rec.created_at),
        "recoveryPointAdditionalInfo": "",
        "sourceVMStorageType": "NormalStorage",
        "isSourceVMEncrypted": False,
        "isInstantIlrSessionActive": False,
        "recoveryPointTierDetails": tiers(rec, now),
        "isManagedVirtualMachine": True,
        "virtualMachineSize": emu["vm"]["vmSize"],
        "originalStorageAccountOption": False,
        "osType": emu["os"]["osType"],
        "recoveryPointDiskConfiguration": {
            "numberOfDisksIncludedInBackup": len(disks),
            "numberOfDisksAttachedToVm": int(emu.get("attachedDisks", len(disks))),
            "includedDiskList": [{"lun": d.get("lun", -1), "name": d["name"]} for d in disks],
            "excludedDiskList": list(emu.get("excluded", [])),
        },
        "recoveryPointMoveReadinessInfo": {
            "ArchivedRP": {
                "isReadyForMove": False,
                "additionalInfo": "Recovery point cannot be moved to Archive tier: azemu serves no archive tier.",
            }
        },
        "securityType": "None",
        "isPrivateAccessEnabledOnAnyDisk": False,
    }
    if emu["vm"].get("zones"):
        props["zones"] = list(emu["vm"]["zones"])
    return document(rec, props)


def link_disks(tx: Txn, content: DiskContent, rec: ResourceRecord) -> None:
    """The point references what its VM's included disks hold now (metadata only)."""
    content.copy(tx, rec.internal["os"]["diskId"], rec.key)
    for d in rec.internal.get("data", []):
        content.copy(tx, d["diskId"], data_key(rec.key, d["lun"]))


def purge(tx: Txn, content: DiskContent, rec: ResourceRecord) -> None:
    """The one delete path of a point: the record goes and every content reference it holds is released."""
    tx.delete_resource(rec.key)
    content.release(tx, rec.key)
