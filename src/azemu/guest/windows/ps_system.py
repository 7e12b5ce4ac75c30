"""Machine-level cmdlets: computer name and domain, server features, Defender, BitLocker, power, Sysprep."""

from __future__ import annotations

import re
import time
from typing import Any

from azemu.guest.windows import layout as L
from azemu.guest.windows import psops
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


# Windows' own texts (FormatMessage of the error netjoin returns)
DUPLICATE_SID = (  # ERROR_DOMAIN_SID_SAME_AS_LOCAL_WORKSTATION (8644)
    "The domain join cannot be completed because the SID of the domain you attempted to join was identical to "
    "the SID of this machine. This is a symptom of an improperly cloned operating system install.  You should "
    "run sysprep on this machine in order to generate a new machine SID. Please see "
    "http://go.microsoft.com/fwlink/?LinkId=168895 for more information."
)
ACCOUNT_REUSE = (  # NERR_AccountReuseBlockedByPolicy (2732)
    "An account with the same name exists in Active Directory. Re-using the account was blocked by security "
    "policy."
)


def _join_refusal(s: Session, domain: str, name: str) -> str | None:
    """Why the domain refuses this machine: another member already has its SID (a clone that was not
    sysprepped), or its computer name (a computer account that exists)."""
    if s.ctx.directory is None:
        return None
    members = s.ctx.directory(domain)
    sid = L.machine_sid(s.guest)
    if sid and any(member_sid == sid for _n, member_sid in members):
        return DUPLICATE_SID
    if any(member_name.lower() == name.lower() for member_name, _s in members):
        return ACCOUNT_REUSE
    return None


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
        refusal = _join_refusal(s, dom, a.str("NewName") if a.get("NewName") else name)
        if refusal is not None:
            raise PSErr(
                f"Computer '{name}' failed to join domain '{dom}' from its current workgroup "
                f"'{L.workgroup(s.guest)}' with following error message: {refusal}",
                category="OperationStopped",
                target=name,
                exception="InvalidOperationException",
                fqid="FailToJoinDomainFromWorkgroup,Microsoft.PowerShell.Commands.AddComputerCommand",
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


def _when(epoch: Any) -> str | None:
    """A scan time as Get-MpComputerStatus shows it (M/d/yyyy h:mm:ss tt), None when never."""
    if not epoch:
        return None
    t = time.gmtime(float(epoch))
    hour = t.tm_hour % 12 or 12
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"


def _scan_times(s: Session) -> dict[str, Any]:
    """Start/End per scan type; while a scan runs its start is newer than its end (the last finished one)."""
    clock = s.ctx.now + s.hang
    running = L.defender_scan(s.guest, clock)
    r = L.reg(s.guest)
    out: dict[str, Any] = {}
    for kind, label in (("FullScan", "FullScan"), ("QuickScan", "QuickScan")):
        start = r.get(L.K_DEFENDER_SCAN, f"Last{kind}Start")
        end = r.get(L.K_DEFENDER_SCAN, f"Last{kind}End")
        if running is not None and running[0] == kind:
            start = running[1]
        out[f"{label}StartTime"] = _when(start)
        out[f"{label}EndTime"] = _when(end)
        out[f"{label}Age"] = int((clock - float(end)) // 86400) if end else 4294967295
    return out


@cmdlet("Get-MpComputerStatus", (), (), (), cls="Get-MpComputerStatus")
def get_mp_computer_status(s: Session, a: Args) -> list[Any]:
    installed = L.feature_installed(s.guest, "Windows-Defender")
    rtp = L.realtime_on(s.guest)
    times = _scan_times(s)
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
                "FullScanAge": times["FullScanAge"],
                "FullScanEndTime": times["FullScanEndTime"],
                "FullScanStartTime": times["FullScanStartTime"],
                "IoavProtectionEnabled": rtp,
                "IsTamperProtected": False,
                "NISEnabled": installed,
                "OnAccessProtectionEnabled": rtp,
                "QuickScanAge": times["QuickScanAge"],
                "QuickScanEndTime": times["QuickScanEndTime"],
                "QuickScanStartTime": times["QuickScanStartTime"],
                "RealTimeProtectionEnabled": rtp,
            },
            "list",
        )
    ]


_SCAN_TYPES = {"quickscan": "QuickScan", "fullscan": "FullScan", "customscan": "CustomScan"}


def _no_defender(s: Session) -> None:
    if not L.feature_installed(s.guest, "Windows-Defender"):
        raise PSErr(
            "The term 'Start-MpScan' is not recognized as the name of a cmdlet, function, script file, or operable "
            "program. Check the spelling of the name, or if a path was included, verify that the path is correct and "
            "try again.",
            category="ObjectNotFound",
            target="Start-MpScan",
            exception="CommandNotFoundException",
            fqid="CommandNotFoundException",
        )


def _scan_now(s: Session, kind: str) -> None:
    """A scan the script waits for: it takes its time on azemu's clock, then it is finished."""
    clock = s.ctx.now + s.hang
    running = L.defender_scan(s.guest, clock)
    if running is not None:  # Defender finishes the scan in progress first
        s.hang += running[2] - clock
        clock = running[2]
        L.defender_scan(s.guest, clock)
    end = L.start_scan(s.guest, kind, clock)
    s.hang += end - clock
    L.defender_scan(s.guest, end)


@cmdlet(
    "Start-MpScan",
    ("ScanType", "ScanPath", "CimSession", "ThrottleLimit"),
    ("AsJob",),
    ("ScanPath",),
    cls="Start-MpScan",
)
def start_mp_scan(s: Session, a: Args) -> list[Any]:
    _no_defender(s)
    raw = a.str("ScanType", "QuickScan")
    kind = _SCAN_TYPES.get(raw.lower())
    if kind is None:
        raise PSErr(
            f"Cannot bind parameter 'ScanType'. Cannot convert value \"{raw}\" to type "
            '"Microsoft.PowerShell.Cmdletization.GeneratedTypes.MpScan.ScanType". Error: "Unable to match the '
            f"identifier name {raw} to a valid enumerator name. Specify one of the following enumerator names and try "
            'again:\nQuickScan, FullScan, CustomScan"',
            category="InvalidArgument",
            exception="ParameterBindingException",
            fqid="CannotConvertArgumentNoMessage",
        )
    if not a.has("AsJob"):
        _scan_now(s, kind)
        return []
    clock = s.ctx.now + s.hang
    running = L.defender_scan(s.guest, clock)
    if running is None:
        L.start_scan(s.guest, kind, clock)
    job = PSObj(
        "Microsoft.PowerShell.Cmdletization.Cim.CimJob",
        {
            "Id": len(s.jobs) + 1,
            "Name": f"Job{len(s.jobs) + 1}",
            "PSJobTypeName": "CimJob",
            "State": "Running",
            "HasMoreData": True,
            "Location": s.computer(),
            "Command": f"Start-MpScan -ScanType {kind}",
        },
        "table",
        ["Id", "Name", "PSJobTypeName", "State", "HasMoreData", "Location", "Command"],
    )
    s.jobs.append(job)
    return [job]


def _refresh_jobs(s: Session) -> None:
    running = L.defender_scan(s.guest, s.ctx.now + s.hang)
    for job in s.jobs:
        if job.get("State") == "Running" and running is None:
            job.set("State", "Completed")


def _pick_jobs(s: Session, a: Args) -> list[PSObj]:
    _refresh_jobs(s)
    chosen = [j for j in psops.as_list(a.get("Job")) if isinstance(j, PSObj)] + [
        j for j in a.input if isinstance(j, PSObj) and j.get("PSJobTypeName")
    ]
    ids = {str(x) for x in a.strs("Id")}
    names = {x.lower() for x in a.strs("Name")}
    if ids or names:
        chosen += [j for j in s.jobs if str(j.get("Id")) in ids or str(j.get("Name")).lower() in names]
    if not (a.get("Job") or a.input or ids or names):
        chosen = list(s.jobs)
    return chosen


@cmdlet("Get-Job", ("Id", "Name", "State"), (), ("Id",))
def get_job(s: Session, a: Args) -> list[Any]:
    return _pick_jobs(s, a)


@cmdlet("Stop-Job", ("Id", "Name", "Job"), ("PassThru",), ("Id",))
def stop_job(s: Session, a: Args) -> list[Any]:
    jobs = _pick_jobs(s, a)
    for job in jobs:
        if job.get("State") == "Running":
            L.cancel_scan(s.guest, s.ctx.now + s.hang)
            job.set("State", "Stopped")
    return jobs if a.has("PassThru") else []


@cmdlet("Wait-Job", ("Id", "Name", "Job", "Timeout"), ("Any", "Force"), ("Id",))
def wait_job(s: Session, a: Args) -> list[Any]:
    jobs = _pick_jobs(s, a)
    clock = s.ctx.now + s.hang
    running = L.defender_scan(s.guest, clock)
    if running is not None and any(j.get("State") == "Running" for j in jobs):
        timeout = a.get("Timeout")
        wait = running[2] - clock
        if timeout is not None and 0 <= psops.to_number(timeout) < wait:
            s.hang += float(psops.to_number(timeout))
            return []
        s.hang += wait
        _refresh_jobs(s)
    return jobs


@cmdlet("Receive-Job", ("Id", "Name", "Job"), ("Wait", "Keep", "AutoRemoveJob"), ("Id",))
def receive_job(s: Session, a: Args) -> list[Any]:
    if a.has("Wait"):
        wait_job(s, a)
    for job in _pick_jobs(s, a):
        job.set("HasMoreData", False)
    return []


@cmdlet("Remove-Job", ("Id", "Name", "Job"), ("Force",), ("Id",))
def remove_job(s: Session, a: Args) -> list[Any]:
    for job in _pick_jobs(s, a):
        if job.get("State") == "Running":
            if not a.has("Force"):
                raise PSErr(
                    f"The command cannot remove the job with the job ID {job.get('Id')} because the job is not "
                    "finished. To remove the job, first stop the job, or use the Force parameter.",
                    category="InvalidOperation",
                    target=str(job.get("Name")),
                    exception="ArgumentException",
                    fqid="JobObjectNotFinishedCannotBeRemoved",
                )
            L.cancel_scan(s.guest, s.ctx.now + s.hang)
        s.jobs.remove(job)
    return []


@native("MpCmdRun.exe")
def mpcmdrun(s: Session, argv: list[str]) -> int:
    """``MpCmdRun.exe -Scan -ScanType 1|2`` (waits for the scan) and ``-Scan -Cancel``. Wording is [mem]."""
    flags = [x.lower().lstrip("-/") for x in argv]
    if "scan" not in flags:
        s.out.append(
            "Usage:\nMpCmdRun.exe [command] [-options]\n\n  -Scan [-ScanType value]\n  -Scan -Cancel\n"
        )
        return 0 if not flags or flags[0] in ("?", "h") else 2
    if "cancel" in flags:
        if L.cancel_scan(s.guest, s.ctx.now + s.hang):
            _refresh_jobs(s)
            s.out.append("Scan cancelled.\n")  # [mem]
            return 0
        s.out.append("No scan is currently running.\n")  # [mem]
        return 0
    kind = "QuickScan"
    if "scantype" in flags and flags.index("scantype") + 1 < len(flags):
        kind = {"0": "QuickScan", "1": "QuickScan", "2": "FullScan", "3": "CustomScan"}.get(
            flags[flags.index("scantype") + 1], "QuickScan"
        )
    s.out.append("Scan starting...\n")
    _scan_now(s, kind)
    s.out.append("Scan finished.\nScanning found no threats.\n")  # [mem]
    return 0


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
