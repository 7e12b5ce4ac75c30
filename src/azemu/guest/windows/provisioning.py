"""Boots of a Windows OS disk: Azure's first boot with an osProfile answer file, and ordinary boots.

Facts section 5.1 (Windows): specialize applies ComputerName and a new machine SID; oobeSystem creates the
admin account and skips the OOBE screens; ImageState goes UNDEPLOYABLE -> SPECIALIZE_RESEAL_TO_OOBE -> COMPLETE;
then the guest agent reports Ready.
"""

from __future__ import annotations

import base64
import binascii
import time

from azemu.guest.machine import BootResult, ExecContext, Guest, OsProfile
from azemu.guest.windows import layout as L

TIMED_OUT = (
    "OS Provisioning for VM '{0}' did not finish in the allotted time. The VM may still finish "
    "provisioning successfully. Please check provisioning state later. Also, make sure the image has "
    "been properly prepared (generalized)."
)
TIMED_OUT_AGENT = (
    "OS Provisioning for VM '{0}' did not finish in the allotted time. However, the VM guest agent "
    "was detected running. This suggests the guest OS has not been properly prepared to be used as a "
    "VM image (with CreateOption=FromImage). To resolve this issue, either use the VHD as is with "
    "CreateOption=Attach or prepare it properly for use as an image"
)


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))


def _panther(guest: Guest, now: float, lines: list[str], sub: str = "") -> None:
    path = rf"{L.PANTHER}\{sub + chr(92) if sub else ''}setupact.log"
    guest.fs.write(
        path, "".join(f"{_stamp(now)}, {'Info':<22}{x}\r\n" for x in lines), append=True, mtime=now
    )


def _specialize(guest: Guest, computer_name: str | None, ctx: ExecContext) -> list[str]:
    """The specialize pass: new machine SID, the given (or a random WIN-...) computer name."""
    L.set_image_state(guest, L.UNDEPLOYABLE)
    L.set_machine_sid(guest, L.new_sid())
    name = computer_name or L.random_computer_name()
    L.set_computer_name(guest, name, active=True)
    _panther(
        guest,
        ctx.now,
        [
            "[windeploy.exe] Windows Deploy is launched",
            "[setup.exe] Running specialize pass",
            f"[Shell Unattend] ComputerName set to {L.netbios(name)}",
            "[setup.exe] Specialize pass completed",
        ],
    )
    L.set_image_state(guest, L.SPECIALIZE_OOBE)
    return [f"Specialize: computer name {L.netbios(name)}, new machine SID"]


def first_boot(guest: Guest, profile: OsProfile, ctx: ExecContext) -> BootResult:
    vm = ctx.vm_name or ctx.vm_id
    state = L.image_state(guest)
    r = L.reg(guest)
    if state in (L.COMPLETE, L.UNDEPLOYABLE) or state.endswith("_TO_AUDIT"):
        # never sysprepped (or mid-setup): nothing reads Azure's answer file; the old system boots as it was
        result = boot(guest, ctx)
        if result.agent_ready:
            result.messages.append(TIMED_OUT_AGENT.format(vm))
        else:
            result.messages.append(TIMED_OUT.format(vm))
        return result
    if r.get(L.K_CDROM, "Start", 1) != 1:
        # [facts 3.3] without the CD-ROM driver the provisioning ISO is invisible: the VM hangs at OOBE
        hung = _specialize(guest, None, ctx) if state == L.GENERALIZE_OOBE else []
        return BootResult(
            False, oobe=True, messages=[*hung, "Windows is waiting at the OOBE screen", TIMED_OUT.format(vm)]
        )
    messages: list[str] = []
    if state == L.GENERALIZE_OOBE:
        messages += _specialize(guest, profile.computer_name, ctx)
    # oobeSystem from Azure's unattend: admin account, OOBE screens skipped
    existing = L.find_user(guest, profile.admin_username)
    if existing is None:
        L.add_user(guest, profile.admin_username, password=profile.admin_password)
        existing = profile.admin_username
    else:
        L.add_user(
            guest, existing, rid=int(r.get(L.user_key(existing), "RID", 0)), password=profile.admin_password
        )
    L.add_group_member(guest, "Administrators", existing)
    if profile.custom_data:
        try:
            data = base64.b64decode(profile.custom_data, validate=False)
        except (binascii.Error, ValueError):
            data = profile.custom_data.encode()
        guest.fs.write(r"C:\AzureData\CustomData.bin", data, mtime=ctx.now)
    L.set_image_state(guest, L.COMPLETE)
    L.set_setup(guest, 0, "")
    _panther(
        guest,
        ctx.now,
        [
            "[oobeSystem] Applying unattend settings",
            f"[Shell Unattend] Created local account {existing}",
            "[oobeSystem] OOBE skipped by unattend; setup complete",
        ],
        "UnattendGC",
    )
    _panther(guest, ctx.now, ["[windeploy.exe] Windows Deploy completed; ImageState IMAGE_STATE_COMPLETE"])
    messages += [f"oobeSystem: administrator account {existing} created", "VM agent reported Ready"]
    return BootResult(True, messages=messages)


def boot(guest: Guest, ctx: ExecContext) -> BootResult:
    state = L.image_state(guest)
    if state in (L.GENERALIZE_OOBE, L.GENERALIZE_AUDIT):
        messages = _specialize(guest, None, ctx)
        if state == L.GENERALIZE_AUDIT:
            return _audit(guest, messages)
        return BootResult(
            False,
            oobe=True,
            messages=[
                *messages,
                "Windows is waiting at the OOBE screen (the disk was sysprepped and started without "
                "Azure's provisioning answer file); the VM agent is not running",
            ],
        )
    if state == L.SPECIALIZE_OOBE:
        return BootResult(
            False, oobe=True, messages=["Windows is waiting at the OOBE screen; the VM agent is not running"]
        )
    if state == L.SPECIALIZE_AUDIT:
        return _audit(guest, [])
    messages = []
    pending = L.pending_name(guest)
    if pending:
        L.set_computer_name(guest, pending, active=True)
        messages.append(f"Computer renamed to {L.netbios(pending)}")
    return BootResult(True, messages=[*messages, "VM agent reported Ready"])


def _audit(guest: Guest, messages: list[str]) -> BootResult:
    L.set_image_state(guest, L.SPECIALIZE_AUDIT)
    return BootResult(True, messages=[*messages, "Windows started in audit mode", "VM agent reported Ready"])
