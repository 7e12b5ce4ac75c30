"""Requirements several labs share, each a small function from azemu's state to a :class:`Finding` that says
what is right or wrong and cites the chapter (the seed) and, where it differs or adds, Azure."""

from __future__ import annotations

from azemu.guest.machine import Guest
from azemu.labs.model import Cite, Finding
from azemu.labs.world import (
    CLOUD_INSTANCE,
    OVF_ENV,
    SETUPERR,
    SYSPREPPED,
    World,
    exists,
    image_state,
    read_text,
    short,
)
from azemu.state.records import ResourceRecord

# the chapter's words, quoted where a requirement comes from ----------------------------------------------
SEED_DEALLOCATE = (
    'Step 3: "If you only stop (not deallocate), the VM retains its hardware reservation and cannot be '
    'captured." Key takeaway: "The VM must be deallocated (stopped) before generalization and capture."'
)
AZURE_DEALLOCATE = (
    "Azure generalizes and captures a VM that is stopped (powered off) but still allocated - only a running one "
    "is refused: (OperationNotAllowed) Operation 'generalize' is not allowed on VM '…' since the VM is "
    "running. Please power off explicitly in case you shut down the VM from inside the guest operating "
    "system. A stopped VM still holds its hardware and is billed; `azemu serve --rules textbook` applies the "
    "chapter's rule."
)
SEED_FLAG = (
    'Step 4: "Use `az vm generalize` or the portal to set the generalization flag. … Without this step, Azure '
    'will not allow you to create an image."'
)
AZURE_FLAG = (
    "az image create from a VM that is not marked generalized: (OperationNotAllowed) The operation 'Create "
    "Image' requires the Virtual Machine '…' to be Generalized."
)
SEED_CAPTURE = (
    'Step 5: "Use `az image create` or the portal to create a managed image from the generalized VM. … The '
    'capture process creates a `Microsoft.Compute/images` resource."'
)
SEED_WAAGENT = (
    'Step 2: "For Linux: run `sudo waagent -deprovision+user`. … waagent removes SSH host keys, hostname, and '
    'user accounts." "For cloud-init images, you may use cloud-init clean instead."'
)
AZURE_WAAGENT = (
    "Run Command has no terminal: `waagent -deprovision+user` without `-force` prints its warnings and 'Do you "
    "want to proceed (y/n)', reads no answer and changes nothing. waagent never shuts the VM down (the chapter "
    "says it does). Whether it deletes the SSH host keys depends on the distribution's waagent.conf (Ubuntu "
    "keeps them; cloud-init makes new ones at first boot)."
)
SEED_SYSPREP = (
    'Step 2: "For Windows: run `sysprep /generalize /oobe /shutdown` from an elevated command prompt. … Sysprep '
    'clears the SID, computer name, and other unique data."'
)
AZURE_SYSPREP = (
    "Sysprep's /shutdown powers the guest off: Azure shows PowerState/stopped, still allocated (and billed) - "
    "deallocate it yourself. Sysprep's verdict is in C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log "
    "and the ImageState registry value (IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE once it succeeded)."
)
SEED_MACHINE_ID = (
    'Trap 2: "specialized images cause SID conflicts and cannot be used for multiple identical VMs" - a '
    "generalized image must not carry one machine's identity either."
)
AZURE_MACHINE_ID = (
    "waagent -deprovision does not clear /etc/machine-id (on Debian, Ubuntu or RHEL) and systemd reuses a "
    "machine-id that is present, so clones of such an image share it. Empty it before capture: "
    "`truncate -s 0 /etc/machine-id` or `cloud-init clean --machine-id`."
)


def gone(requirement: str, what: str, cite: Cite | None = None) -> Finding:
    return Finding(requirement, False, what, cite or Cite())


# Linux -----------------------------------------------------------------------------------------------
def linux_deprovisioned(world: World, vm: str, image: ResourceRecord | None = None) -> Finding:
    """The guest was generalized the Linux way (read from the image when there is one: what clones get)."""
    requirement = (
        f"{vm}'s guest is generalized the Linux way (waagent -deprovision+user, or cloud-init clean)"
    )
    cite = Cite(SEED_WAAGENT, AZURE_WAAGENT)
    rec = world.vm(vm)
    guest: Guest | None = world.image_guest(image) if image is not None else None
    where = f"the image {image.name}" if image is not None else vm
    if guest is None and rec is not None:
        guest = world.guest(rec)
    if guest is None:
        return gone(requirement, f"{vm} does not exist and no image of it holds its disk.", cite)
    ident = world.identity(guest)
    waagent = not exists(guest, OVF_ENV)
    cloud = not exists(guest, CLOUD_INSTANCE)
    if waagent:
        hostname = ident.get("computerName")
        return Finding(
            requirement,
            True,
            f"In {where}: waagent's provisioning data (/var/lib/waagent/ovf-env.xml) is gone and the host name "
            f"is '{hostname}' - waagent -deprovision ran.",
            cite,
        )
    if cloud:
        return Finding(
            requirement,
            True,
            f"In {where}: cloud-init's instance data (/var/lib/cloud/instance) is gone - cloud-init clean ran.",
            cite,
        )
    users = ", ".join(ident.get("users") or []) or "none"
    return Finding(
        requirement,
        False,
        f"In {where}: /var/lib/waagent/ovf-env.xml and /var/lib/cloud/instance are still there, the host name "
        f"is '{ident.get('computerName')}' and the users are {users}: nothing deprovisioned the guest. (Under Run "
        "Command, `waagent -deprovision+user` needs -force, or it waits for a y/n answer and changes nothing.)",
        cite,
    )


def machine_id_cleared(world: World, image: ResourceRecord | None, advisory: bool = True) -> Finding:
    requirement = "the image's /etc/machine-id is empty, so each VM made from it gets its own"
    cite = Cite(SEED_MACHINE_ID, AZURE_MACHINE_ID)
    guest = world.image_guest(image) if image is not None else None
    if guest is None:
        return Finding(requirement, False, "There is no image to look into yet.", cite, advisory)
    value = (read_text(guest, "/etc/machine-id") or "").strip()
    if value in ("", "uninitialized"):
        return Finding(
            requirement, True, f"{image.name if image else ''}: /etc/machine-id is empty.", cite, advisory
        )
    return Finding(
        requirement,
        False,
        f"{image.name if image else ''} keeps /etc/machine-id '{value}': every VM made from it will share that "
        "machine-id (azemu reports it as AzEmu/IdentityConflict/machineId).",
        cite,
        advisory,
    )


# Windows ---------------------------------------------------------------------------------------------
def sysprepped(world: World, vm: str, image: ResourceRecord | None = None) -> Finding:
    requirement = f"Sysprep /generalize /oobe ran to completion in {vm}'s guest"
    cite = Cite(SEED_SYSPREP, AZURE_SYSPREP)
    rec = world.vm(vm)
    guest: Guest | None = world.image_guest(image) if image is not None else None
    where = f"the image {image.name}" if image is not None else vm
    if guest is None and rec is not None:
        guest = world.guest(rec)
    if guest is None:
        return gone(requirement, f"{vm} does not exist and no image of it holds its disk.", cite)
    state = image_state(guest)
    sid = world.identity(guest).get("sid")
    if state == SYSPREPPED and not sid:
        return Finding(
            requirement,
            True,
            f"In {where}: ImageState is {SYSPREPPED} and the machine SID is cleared.",
            cite,
        )
    errors = [line.strip() for line in (read_text(guest, SETUPERR) or "").splitlines() if line.strip()]
    reasons = [line for line in errors if "LaunchModule" not in line] or errors  # the reason, not the module
    why = f" setuperr.log says: {reasons[-1]}" if errors else " Sysprep has not run (no setuperr.log)."
    return Finding(
        requirement,
        False,
        f"In {where}: ImageState is {state or 'missing'} and the machine SID is {sid or 'cleared'}.{why}",
        cite,
    )


# the platform's side -------------------------------------------------------------------------------------
def deallocated(world: World, vm: str, *, may_be_gone: bool = True) -> Finding:
    requirement = f"{vm} is deallocated (step 3)"
    cite = Cite(SEED_DEALLOCATE, AZURE_DEALLOCATE)
    rec = world.vm(vm)
    if rec is None:
        ok = may_be_gone
        return Finding(requirement, ok, f"{vm} no longer exists.", cite)
    power = world.power(rec)
    if power == "deallocated":
        return Finding(requirement, True, f"{vm} is deallocated (PowerState/deallocated).", cite)
    if power == "stopped":
        ok = not world.textbook
        verdict = (
            "Azure accepted that for generalize and capture; the chapter does not (and `--rules textbook` "
            "refuses it): deallocate it - a stopped VM keeps its hardware and is billed."
            if ok
            else "the chapter's rule (this azemu runs --rules textbook) wants it deallocated."
        )
        return Finding(
            requirement, ok, f"{vm} is stopped but still allocated (PowerState/stopped): {verdict}", cite
        )
    return Finding(
        requirement,
        False,
        f"{vm} is {power} (PowerState/{power}): Azure refuses to generalize a running VM, and so capture.",
        cite,
    )


def marked_generalized(world: World, vm: str, *, may_be_gone: bool = True) -> Finding:
    requirement = f"{vm} is marked generalized in Azure (az vm generalize, step 4)"
    cite = Cite(SEED_FLAG, AZURE_FLAG)
    rec = world.vm(vm)
    if rec is None:
        return Finding(requirement, may_be_gone, f"{vm} no longer exists.", cite)
    if world.generalized(rec):
        return Finding(requirement, True, f"{vm}'s instance view shows OSState/generalized.", cite)
    return Finding(requirement, False, f"{vm} is not marked generalized (no OSState/generalized).", cite)


def image_from(world: World, image: str, vm: str) -> Finding:
    requirement = f"the managed image {image} is captured from {vm} (step 5)"
    cite = Cite(SEED_CAPTURE)
    rec = world.image(image)
    if rec is None:
        return gone(requirement, f"There is no image '{image}' in {world.resource_group}.", cite)
    source = world.image_source_vm(rec)
    if short(source).lower() != vm.lower():
        return Finding(
            requirement,
            False,
            f"{image} was captured from '{short(source) or 'a disk or snapshot'}', not {vm}.",
            cite,
        )
    return Finding(
        requirement,
        True,
        f"{image} exists ({rec.body['properties'].get('hyperVGeneration')}, osState Generalized), source {vm}.",
        cite,
    )


def vm_exists_running(world: World, vm: str) -> tuple[ResourceRecord | None, str]:
    rec = world.vm(vm)
    if rec is None:
        return None, f"There is no VM '{vm}' in {world.resource_group}."
    power = world.power(rec)
    if power != "running":
        return None, f"{vm} is {power}, not running."
    return rec, ""
