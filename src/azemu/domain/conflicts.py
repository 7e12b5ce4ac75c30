"""Identity conflicts: VMs that share a machine SID, machine-id, SSH host key or computer name.

This is how a user sees that an image was captured without Sysprep / deprovisioning: its clones collide.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from azemu.state.records import ResourceRecord
from azemu.state.store import Store

VM_TYPE = "Microsoft.Compute/virtualMachines"
# Uniform scale set instances are virtual machines too (vmss_instances.UNIFORM_VM)
VM_TYPES = (VM_TYPE, "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")
KINDS = {
    "sid": ("Duplicate machine SID", "Machine SID"),
    "machineId": ("Duplicate machine-id", "machine-id (/etc/machine-id)"),
    "sshHostKey": ("Duplicate SSH host key", "SSH host key"),
    "computerName": ("Duplicate computer name", "Computer name"),
}

# kind -> (why clones share it, how to avoid it): the real cause, which is not always "not generalized"
CAUSES = {
    "sid": (
        "The source image was captured without running Sysprep /generalize inside the guest (marking a VM "
        "generalized in Azure does not change the guest), so every VM made from it keeps the source's SID.",
        "Run 'C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown' in the source VM "
        "before you deallocate, generalize and capture it.",
    ),
    "machineId": (
        "The source's /etc/machine-id was captured with the image: 'waagent -deprovision' does not clear it "
        "(only on Arch and Flatcar/CoreOS), so even a deprovisioned, generalized image keeps it, and systemd "
        "reuses a machine-id that is present.",
        "Empty it in the source before capture ('truncate -s 0 /etc/machine-id', or 'cloud-init clean "
        "--machine-id'), or run 'rm /etc/machine-id && systemd-machine-id-setup' in each clone.",
    ),
    "sshHostKey": (
        "The source's SSH host keys were captured with the image: they are removed by 'waagent -deprovision' "
        "only when Provisioning.RegenerateSshHostKeyPair=y, and by 'cloud-init clean' only with host-key "
        "deletion configured; a specialized image keeps them by design.",
        "Delete /etc/ssh/ssh_host_*key* in the source before capture (first boot makes new ones), or run "
        "'ssh-keygen -A' after deleting them in each clone.",
    ),
    "computerName": (
        "The VMs were given the same computer name (osProfile.computerName), or were made from a specialized "
        "image, which keeps the source's name.",
        "Give each VM its own osProfile.computerName, or rename the guest ('hostnamectl set-hostname' / "
        "'Rename-Computer').",
    ),
}


def _facts(vm: ResourceRecord) -> list[tuple[str, str]]:
    ident: dict[str, Any] = vm.internal.get("identity") or {}
    out = []
    if ident.get("sid"):
        out.append(("sid", str(ident["sid"])))
    if ident.get("machineId"):
        out.append(("machineId", str(ident["machineId"]).strip()))
    for key in ident.get("sshHostKeys") or []:
        out.append(("sshHostKey", str(key)))
    if ident.get("computerName") and ident["computerName"] not in ("localhost", "localhost.localdomain"):
        out.append(("computerName", str(ident["computerName"]).lower()))
    return out


def groups(store: Store, subscription_ids: list[str]) -> list[dict[str, Any]]:
    """Every identity value held by more than one VM, with the VMs that hold it."""
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    with store.read() as tx:
        vms = [
            vm
            for sub in subscription_ids
            for vm_type in VM_TYPES
            for vm in tx.list_resources(subscription_id=sub, type=vm_type)
        ]
    for vm in vms:
        if vm.state in ("deleting", "deleted"):
            continue
        for fact in set(_facts(vm)):
            holders[fact].append(vm.id)
    return [
        {"kind": kind, "value": value, "virtualMachines": sorted(ids_)}
        for (kind, value), ids_ in sorted(holders.items())
        if len(ids_) > 1
    ]


def statuses_for(vm_id: str, all_groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Instance-view status entries warning about this VM's conflicts."""
    out = []
    for g in all_groups:
        members = [m for m in g["virtualMachines"] if m.lower() != vm_id.lower()]
        if len(members) == len(g["virtualMachines"]):
            continue
        title, noun = KINDS[g["kind"]]
        cause, fix = CAUSES[g["kind"]]
        out.append(
            {
                "code": f"AzEmu/IdentityConflict/{g['kind']}",
                "level": "Warning",
                "displayStatus": title,
                "message": f"{noun} '{g['value']}' is also used by: {', '.join(members)}. Cause: {cause} "
                f"Fix: {fix}",
            }
        )
    return out
