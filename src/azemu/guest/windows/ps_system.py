"""Machine-level cmdlets: computer name and domain, server features, Defender, BitLocker, power, Sysprep."""

from __future__ import annotations

import re
from typing import Any

from azemu.guest.windows import layout as L
from azemu.guest.windows.images import FEATURES
from azemu.guest.windows.ps_core import now
from azemu.guest.windows.psformat import PSObj, text
from azemu.guest.windows.psruntime import Args, PSErr, Session, cmdlet, native
from azemu.guest.windows.sysprep import run_sysprep

_SM = "Microsoft.Windows.ServerManager.Commands."
_MGMT_TOOLS = {
    "AD-Domain-Services": (
        "GPMC",
        "RSAT",
        "RSAT-Role-Tools",
        "RSAT-AD-Tools",
        "RSAT-AD-PowerShell",
        "RSAT-ADDS",
    )
}
_RESTART_FEATURES = {"windows-defender"}
_BDE_HEADER = (
    "BitLocker Drive Encryption: Configuration Tool version 10.0.{build}\n"
    "Copyright (C) 2013 Microsoft Corporation. All rights reserved.\n\n"
)


def _restart_warning(s: Session) -> None:
    s.out.append(f"WARNING: The changes will take effect after you restart the computer {s.computer()}.\n")


def _power(s: Session, kind: str) -> None:
    s.power = kind
    s.halted = True


# computer name and domain ----------------------------------------------------------------------------------
def _valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9-]{1,63}", name)) and not name.isdigit()


@cmdlet(
    "Rename-Computer",
    ("NewName", "ComputerName", "DomainCredential", "LocalCredential", "Protocol"),
    ("Force", "Restart", "PassThru", "WsmanAuthentication"),
    ("NewName",),
)
def rename_computer(s: Session, a: Args) -> list[Any]:
    new = a.str("NewName")
    old = s.computer()
    if not _valid_name(new):
        raise PSErr(
            f"Skip computer '{old}' with new name '{new}' because the new name is not valid. The new computer "
            "name entered is not properly formatted. Standard names may contain letters (a-z, A-Z), numbers "
            "(0-9), and hyphens (-), but no spaces or periods (.). The name may not consist entirely of "
            "digits, and may not be longer than 63 characters.",
            category="InvalidArgument",
            target=new,
            exception="InvalidOperationException",
            fqid="InvalidNewName",
        )
    if L.netbios(new) == old and L.pending_name(s.guest) is None:
        raise PSErr(
            f"Skip computer '{old}' with new name '{new}' because the new name is the same as the current "
            "name.",
            category="InvalidArgument",
            target=new,
            exception="InvalidOperationException",
            fqid="NewNameIsOldName",
        )
    L.set_computer_name(s.guest, new, active=False)
    if a.has("Restart"):
        _power(s, "reboot")
    else:
        _restart_warning(s)
    return [_change_info(old, new)] if a.has("PassThru") else []


def _change_info(old: str, new: str) -> PSObj:
    return PSObj(
        "RenameComputerChangeInfo", {"HasSucceeded": True, "NewComputerName": new, "OldComputerName": old}
    )


@cmdlet(
    "Add-Computer",
    (
        "DomainName",
        "WorkgroupName",
        "Credential",
        "OUPath",
        "NewName",
        "Server",
        "Options",
        "UnjoinDomainCredential",
        "LocalCredential",
    ),
    ("Restart", "Force", "PassThru", "Unsecure"),
    ("DomainName",),
)
def add_computer(s: Session, a: Args) -> list[Any]:
    name = s.computer()
    if a.get("WorkgroupName") and not a.get("DomainName"):
        L.join_workgroup(s.guest, a.str("WorkgroupName"))
    else:
        dom = a.str("DomainName")
        current = L.domain(s.guest)
        if current and current.lower() == dom.lower():
            raise PSErr(
                f"Cannot add computer '{name}' to domain '{dom}' because it is already in that domain.",
                category="InvalidOperation",
                target=name,
                exception="InvalidOperationException",
                fqid="AddComputerToSameDomain",
            )
        L.join_domain(s.guest, dom)
    if a.get("NewName"):
        L.set_computer_name(s.guest, a.str("NewName"), active=False)
    if a.has("Restart"):
        _power(s, "reboot")
    else:
        _restart_warning(s)
    return []


@cmdlet(
    "Remove-Computer",
    ("UnjoinDomainCredential", "LocalCredential", "WorkgroupName", "ComputerName"),
    ("Restart", "Force", "PassThru"),
    (),
)
def remove_computer(s: Session, a: Args) -> list[Any]:
    name = s.computer()
    if not L.domain(s.guest):
        # [mem] wording
        raise PSErr(
            f"Cannot remove computer '{name}' from its domain because it is not in a domain.",
            category="InvalidOperation",
            target=name,
            exception="InvalidOperationException",
            fqid="ComputerNotInDomain",
        )
    if not a.has("Force"):
        # the "you will need the local Administrator password" confirmation cannot be answered here
        raise PSErr(
            "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
            category="InvalidOperation",
            exception="PSInvalidOperationException",
            fqid="InvalidOperation",
        )
    L.join_workgroup(s.guest, a.str("WorkgroupName", "WORKGROUP"))
    if a.has("Restart"):
        _power(s, "reboot")
    else:
        _restart_warning(s)
    return []


# server features -------------------------------------------------------------------------------------------
def _feature_names(s: Session) -> list[str]:
    known = [f[0] for f in FEATURES]
    present = {k.lower(): k for k in L.reg(s.guest).subkeys(L.K_FEATURES)}
    ordered = [present.pop(n.lower()) for n in known if n.lower() in present]
    return ordered + sorted(present.values())


def _feature(s: Session, name: str) -> dict[str, Any]:
    values = L.reg(s.guest).values(L.K_FEATURES + "\\" + name)
    return {
        "Name": name,
        "DisplayName": values.get("DisplayName", name),
        "Depth": int(values.get("Depth", 0)),
        "Installed": bool(values.get("InstallState", 0)),
    }


def _resolve(s: Session, names: list[str], cls: str) -> list[str]:
    all_names = {n.lower(): n for n in _feature_names(s)}
    out = []
    for n in names:
        if n.lower() not in all_names:
            raise PSErr(
                f"ArgumentNotValid: The role, role service, or feature name is not valid: '{n}'. The name was "
                "not found.",
                category="InvalidArgument",
                target=n,
                exception="Exception",
                fqid="NameDoesNotExist",
            )
        out.append(all_names[n.lower()])
    return out


def _family(s: Session, name: str, up: bool) -> list[str]:
    """The feature's parents (up) or children (down) in the Get-WindowsFeature tree."""
    order = _feature_names(s)
    i = order.index(name)
    depth = _feature(s, name)["Depth"]
    out: list[str] = []
    if up:
        for j in range(i - 1, -1, -1):
            d = _feature(s, order[j])["Depth"]
            if d < depth:
                out.append(order[j])
                depth = d
    else:
        for j in range(i + 1, len(order)):
            if _feature(s, order[j])["Depth"] <= depth:
                break
            out.append(order[j])
    return out


def _result(s: Session, changed: list[str], restart: bool, a: Args) -> list[Any]:
    display = [_feature(s, n)["DisplayName"] for n in changed]
    code = "NoChangeNeeded" if not changed else ("SuccessRestartRequired" if restart else "Success")
    obj = PSObj(
        "FeatureOperationResult",
        {
            "Success": True,
            "Restart Needed": "Yes" if restart else "No",
            "Exit Code": code,
            "Feature Result": display,
        },
        custom=_render_result,
    )
    if restart and a.has("Restart"):
        _power(s, "reboot")
    elif restart:
        s.out.append("WARNING: You must restart this server to finish the installation process.\n")
    return [obj]


def _render_result(objs: list[PSObj]) -> str:
    rows = [
        "",
        "Success Restart Needed Exit Code      Feature Result",
        "------- -------------- ---------      --------------",
    ]
    for o in objs:
        fr = text(o.get("Feature Result"))
        fr = fr if len(fr) <= 45 else fr[:42] + "..."
        rows.append(
            f"{text(o.get('Success')):<7} {o.get('Restart Needed'):<14} {o.get('Exit Code'):<14} {fr}".rstrip()
        )
    return "\n".join(rows) + "\n\n\n"


def _install(s: Session, a: Args) -> list[Any]:
    names = _resolve(s, a.strs("Name"), "AddWindowsFeatureCommand")
    wanted: list[str] = []
    for n in names:
        wanted += [*reversed(_family(s, n, up=True)), n]
        if a.has("IncludeAllSubFeature"):
            wanted += _family(s, n, up=False)
        if a.has("IncludeManagementTools"):
            wanted += [
                m for m in _MGMT_TOOLS.get(n, ()) if m.lower() in {x.lower() for x in _feature_names(s)}
            ]
    changed = []
    for n in dict.fromkeys(wanted):
        if not _feature(s, n)["Installed"]:
            L.reg(s.guest).set(L.K_FEATURES + "\\" + n, "InstallState", 1)
            changed.append(n)
    return _result(s, changed, any(n.lower() in _RESTART_FEATURES for n in changed), a)


@cmdlet(
    "Install-WindowsFeature",
    ("Name", "Source", "ComputerName", "LogPath", "ConfigurationFilePath", "Vhd"),
    ("IncludeManagementTools", "IncludeAllSubFeature", "Restart"),
    ("Name",),
    cls=_SM + "AddWindowsFeatureCommand",
)
def install_windows_feature(s: Session, a: Args) -> list[Any]:
    return _install(s, a)


@cmdlet(
    "Add-WindowsFeature",
    ("Name", "Source", "ComputerName", "LogPath"),
    ("IncludeManagementTools", "IncludeAllSubFeature", "Restart"),
    ("Name",),
    cls=_SM + "AddWindowsFeatureCommand",
)
def add_windows_feature(s: Session, a: Args) -> list[Any]:
    return _install(s, a)


def _uninstall(s: Session, a: Args) -> list[Any]:
    names = _resolve(s, a.strs("Name"), "RemoveWindowsFeatureCommand")
    changed = []
    for n in dict.fromkeys(x for name in names for x in [name, *_family(s, name, up=False)]):
        if _feature(s, n)["Installed"]:
            L.reg(s.guest).set(L.K_FEATURES + "\\" + n, "InstallState", 0)
            changed.append(n)
    return _result(
        s,
        changed,
        bool(changed) and any(n.lower() in _RESTART_FEATURES | {"ad-domain-services"} for n in changed),
        a,
    )


@cmdlet(
    "Uninstall-WindowsFeature",
    ("Name", "ComputerName", "LogPath", "Vhd"),
    ("IncludeManagementTools", "Remove", "Restart"),
    ("Name",),
    cls=_SM + "RemoveWindowsFeatureCommand",
)
def uninstall_windows_feature(s: Session, a: Args) -> list[Any]:
    return _uninstall(s, a)


@cmdlet(
    "Remove-WindowsFeature",
    ("Name", "ComputerName", "LogPath"),
    ("IncludeManagementTools", "Restart"),
    ("Name",),
    cls=_SM + "RemoveWindowsFeatureCommand",
)
def remove_windows_feature(s: Session, a: Args) -> list[Any]:
    return _uninstall(s, a)


@cmdlet(
    "Get-WindowsFeature",
    ("Name", "ComputerName", "LogPath", "Vhd"),
    (),
    ("Name",),
    cls=_SM + "GetWindowsFeatureCommand",
)
def get_windows_feature(s: Session, a: Args) -> list[Any]:
    patterns = [p.lower() for p in a.strs("Name")]
    out = []
    for n in _feature_names(s):
        if patterns and not any(
            re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), n.lower()) for p in patterns
        ):
            continue
        f = _feature(s, n)
        out.append(
            PSObj(
                "Feature",
                {
                    "Display Name": f["DisplayName"],
                    "Name": n,
                    "Install State": "Installed" if f["Installed"] else "Available",
                    "Installed": f["Installed"],
                    "Depth": f["Depth"],
                },
                custom=_render_features,
            )
        )
    return out


def _render_features(objs: list[PSObj]) -> str:
    rows = [
        "",
        f"{'Display Name':<56}{'Name':<27}Install State",
        f"{'------------':<56}{'----':<27}-------------",
    ]
    for o in objs:
        mark = "[X]" if o.get("Installed") else "[ ]"
        disp = "    " * int(o.get("Depth") or 0) + f"{mark} {o.get('Display Name')}"
        rows.append(f"{disp:<55} {o.get('Name'):<27}{o.get('Install State'):>13}")
    return "\n".join(rows) + "\n\n\n"


# Defender --------------------------------------------------------------------------------------------------
@cmdlet(
    "Set-MpPreference",
    (
        "DisableRealtimeMonitoring",
        "DisableBehaviorMonitoring",
        "DisableIOAVProtection",
        "ExclusionPath",
        "ExclusionProcess",
        "DisableScriptScanning",
        "MAPSReporting",
        "SubmitSamplesConsent",
    ),
    ("Force",),
    (),
    cls="Set-MpPreference",
)
def set_mp_preference(s: Session, a: Args) -> list[Any]:
    if a.get("DisableRealtimeMonitoring") is not None:
        v = a.get("DisableRealtimeMonitoring")
        on = v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "$true")
        L.reg(s.guest).set(L.K_DEFENDER_RTP, "DisableRealtimeMonitoring", 1 if on else 0)
    for name in ("ExclusionPath", "ExclusionProcess"):
        for item in a.strs(name):  # Defender keeps each exclusion as a value named after it
            L.reg(s.guest).set(rf"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\{name[9:]}s", item, 0)
    return []


@cmdlet("Get-MpPreference", (), (), (), cls="Get-MpPreference")
def get_mp_preference(s: Session, a: Args) -> list[Any]:
    disabled = bool(L.reg(s.guest).get(L.K_DEFENDER_RTP, "DisableRealtimeMonitoring", 0))
    return [
        PSObj(
            "MSFT_MpPreference",
            {
                "DisableBehaviorMonitoring": False,
                "DisableIOAVProtection": False,
                "DisableRealtimeMonitoring": disabled,
                "DisableScriptScanning": False,
                "MAPSReporting": 2,
                "SubmitSamplesConsent": 1,
            },
            "list",
        )
    ]


@cmdlet("Get-MpComputerStatus", (), (), (), cls="Get-MpComputerStatus")
def get_mp_computer_status(s: Session, a: Args) -> list[Any]:
    installed = L.feature_installed(s.guest, "Windows-Defender")
    rtp = L.realtime_on(s.guest)
    return [
        PSObj(
            "MSFT_MpComputerStatus",
            {
                "AMEngineVersion": "1.1.24090.11",
                "AMProductVersion": "4.18.24090.11",
                "AMRunningMode": "Normal",
                "AMServiceEnabled": installed,
                "AntispywareEnabled": installed,
                "AntivirusEnabled": installed,
                "BehaviorMonitorEnabled": rtp,
                "ComputerID": "00000000-0000-0000-0000-000000000000",
                "IoavProtectionEnabled": rtp,
                "IsTamperProtected": False,
                "NISEnabled": installed,
                "OnAccessProtectionEnabled": rtp,
                "RealTimeProtectionEnabled": rtp,
            },
            "list",
        )
    ]


# BitLocker -------------------------------------------------------------------------------------------------
def _volume(s: Session, mount: str) -> str:
    m = (mount or "C:").strip().rstrip("\\").upper()
    if m != "C:":
        raise PSErr(
            f"The system cannot find the drive specified. ({m})",
            category="ObjectNotFound",
            target=m,
            exception="COMException",
            fqid="System.Runtime.InteropServices.COMException",
        )
    return m


def _bl_obj(s: Session) -> PSObj:
    on = L.bitlocker_on(s.guest)
    return PSObj(
        "BitLockerVolume",
        {
            "ComputerName": s.computer(),
            "VolumeType": "OperatingSystem",
            "MountPoint": "C:",
            "CapacityGB": 126.45,
            "VolumeStatus": "FullyEncrypted" if on else "FullyDecrypted",
            "EncryptionPercentage": 100 if on else 0,
            "KeyProtector": ["RecoveryPassword"] if on else [],
            "AutoUnlockEnabled": None,
            "ProtectionStatus": "On" if on else "Off",
        },
        custom=_render_bl,
    )


def _render_bl(objs: list[PSObj]) -> str:
    rows = [
        f"\n\n   ComputerName: {objs[0].get('ComputerName')}\n",
        "VolumeType      Mount CapacityGB VolumeStatus           Encryption KeyProtector              AutoUnlock Protection",
        "                Point                                   Percentage                           Enabled    Status",
        "----------      ----- ---------- ------------           ---------- ------------              ---------- ----------",
    ]
    for o in objs:
        rows.append(
            f"{o.get('VolumeType'):<15} {o.get('MountPoint'):<5} {o.get('CapacityGB'):>10} "
            f"{o.get('VolumeStatus'):<22} {o.get('EncryptionPercentage'):<10} {text(o.get('KeyProtector')):<25} "
            f"{'':<10} {o.get('ProtectionStatus')}"
        )
    return "\n".join(rows) + "\n\n\n"


@cmdlet("Get-BitLockerVolume", ("MountPoint",), (), ("MountPoint",), cls="Get-BitLockerVolume")
def get_bitlocker_volume(s: Session, a: Args) -> list[Any]:
    _volume(s, a.str("MountPoint"))
    return [_bl_obj(s)]


@cmdlet(
    "Enable-BitLocker",
    ("MountPoint", "EncryptionMethod", "RecoveryPassword", "Pin", "StartupKeyPath"),
    ("UsedSpaceOnly", "RecoveryPasswordProtector", "TpmProtector", "SkipHardwareTest", "HardwareEncryption"),
    ("MountPoint",),
    cls="Enable-BitLocker",
)
def enable_bitlocker(s: Session, a: Args) -> list[Any]:
    _volume(s, a.str("MountPoint"))
    L.set_bitlocker(s.guest, True)
    return [_bl_obj(s)]


@cmdlet("Disable-BitLocker", ("MountPoint",), (), ("MountPoint",), cls="Disable-BitLocker")
def disable_bitlocker(s: Session, a: Args) -> list[Any]:
    _volume(s, a.str("MountPoint"))
    L.set_bitlocker(s.guest, False)  # decryption is instant here; on a real disk it takes a while
    return [_bl_obj(s)]


@native("manage-bde.exe")
def manage_bde(s: Session, argv: list[str]) -> int:
    build = L.reg(s.guest).get(L.K_NT_CV, "CurrentBuild", "20348")
    s.out.append(_BDE_HEADER.format(build=build))
    flags = [x.lower() for x in argv]
    if "-status" in flags or "/status" in flags:
        on = L.bitlocker_on(s.guest)
        s.out.append(
            "Disk volumes that can be protected with\nBitLocker Drive Encryption:\nVolume C: [Windows]\n"
            "[OS Volume]\n\n"
            "    Size:                 126.45 GB\n"
            f"    BitLocker Version:    {'2.0' if on else 'None'}\n"
            f"    Conversion Status:    {'Used Space Only Encrypted' if on else 'Fully Decrypted'}\n"
            f"    Percentage Encrypted: {'100.0' if on else '0.0'}%\n"
            f"    Encryption Method:    {'XTS-AES 128' if on else 'None'}\n"
            f"    Protection Status:    {'Protection On' if on else 'Protection Off'}\n"
            "    Lock Status:          Unlocked\n    Identification Field: None\n"
            f"    Key Protectors:       {'Numerical Password' if on else 'None Found'}\n\n"
        )
        return 0
    if "-off" in flags or "/off" in flags:
        if not L.bitlocker_on(s.guest):
            s.out.append("ERROR: The volume C: is already fully decrypted.\n")  # [mem]
            return -1
        L.set_bitlocker(s.guest, False)
        s.out.append("Decryption is now in progress.\n")
        return 0
    if "-on" in flags or "/on" in flags:
        L.set_bitlocker(s.guest, True)
        s.out.append("Volume C: [Windows]\n[OS Volume]\n\nEncryption is now in progress.\n")
        return 0
    s.out.append("ERROR: An invalid command line argument was specified.\n")  # [mem]
    return -1


# power -----------------------------------------------------------------------------------------------------
@cmdlet("Stop-Computer", ("ComputerName", "Credential", "Protocol"), ("Force", "AsJob"), ("ComputerName",))
def stop_computer(s: Session, a: Args) -> list[Any]:
    _power(s, "poweroff")
    return []


@cmdlet(
    "Restart-Computer",
    ("ComputerName", "Credential", "For", "Timeout", "Delay", "Protocol"),
    ("Force", "Wait", "AsJob"),
    ("ComputerName",),
)
def restart_computer(s: Session, a: Args) -> list[Any]:
    _power(s, "reboot")
    return []


@native("shutdown.exe")
def shutdown(s: Session, argv: list[str]) -> int:
    flags = [x.lower().replace("-", "/") for x in argv]
    delay = 30
    if "/t" in flags and flags.index("/t") + 1 < len(flags):
        try:
            delay = int(flags[flags.index("/t") + 1])
        except ValueError:
            delay = 30
    if "/a" in flags:
        if s.power is None:
            s.out.append("Unable to abort the system shutdown because no shutdown was in progress.(1116)\n")
            return 1116
        s.power = None
        return 0
    kind = (
        "poweroff"
        if ("/s" in flags or "/p" in flags)
        else "reboot"
        if ("/r" in flags or "/g" in flags)
        else None
    )
    if kind is None:
        s.out.append(
            "Usage: shutdown [/i | /l | /s | /sg | /r | /g | /a | /p | /h | /e | /o] [/hybrid] [/soft] "
            '[/fw] [/f]\n    [/m \\\\computer][/t xxx][/d [p|u:]xx:yy [/c "comment"]]\n'
        )
        return 0
    s.power = kind
    if delay == 0 or "/p" in flags:
        s.halted = True
    return 0


# Sysprep ---------------------------------------------------------------------------------------------------
@native("sysprep.exe")
def sysprep(s: Session, argv: list[str]) -> int:
    result = run_sysprep(s.guest, argv, now(s))
    if result.stderr:
        s.err.append(result.stderr.replace("\r\n", "\n"))
    s.hang += result.hang_seconds
    if result.power:
        _power(s, result.power)
    return result.exit_code
