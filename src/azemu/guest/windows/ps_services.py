"""Services and the session's environment: Get-Service / Start-Service / Stop-Service / Restart-Service /
Set-Service, Get-/Set-ExecutionPolicy, and Invoke-WebRequest / Invoke-RestMethod (no network in a guest).

A service's start type is real Windows data (``HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>!Start``: 2
automatic, 3 manual, 4 disabled); whether it runs is an emulator model (``!AzemuStopped`` = 1 after
Stop-Service), since a disk does not record running processes.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from azemu.guest.windows import layout as L
from azemu.guest.windows.psformat import PSObj
from azemu.guest.windows.psruntime import ALIASES, Args, PSErr, Session, cmdlet

K_SERVICES = r"HKLM\SYSTEM\CurrentControlSet\Services"
# name, display name, start (2 auto / 3 manual), the feature that brings it (or "")
_SERVICES = (
    ("Dhcp", "DHCP Client", 2, ""),
    ("Dnscache", "DNS Client", 2, ""),
    ("EventLog", "Windows Event Log", 2, ""),
    ("LanmanServer", "Server", 2, ""),
    ("LanmanWorkstation", "Workstation", 2, ""),
    ("MpsSvc", "Windows Defender Firewall", 2, ""),
    ("Netlogon", "Netlogon", 3, ""),
    ("RdAgent", "RdAgent", 2, ""),
    ("TermService", "Remote Desktop Services", 3, ""),
    ("VSS", "Volume Shadow Copy", 3, ""),
    ("W32Time", "Windows Time", 3, ""),
    ("W3SVC", "World Wide Web Publishing Service", 2, "Web-Server"),
    ("WinDefend", "Microsoft Defender Antivirus Service", 2, "Windows-Defender"),
    ("WindowsAzureGuestAgent", "Windows Azure Guest Agent", 2, ""),
    ("WinRM", "Windows Remote Management (WS-Management)", 2, ""),
    ("wuauserv", "Windows Update", 3, ""),
)
_START = {2: "Automatic", 3: "Manual", 4: "Disabled"}
_RUN_BY_DEFAULT = {"Dhcp", "Dnscache", "EventLog", "LanmanServer", "LanmanWorkstation", "MpsSvc", "RdAgent",
                   "TermService", "W32Time", "W3SVC", "WinDefend", "WindowsAzureGuestAgent", "WinRM"}  # fmt: skip


def _installed(s: Session) -> list[tuple[str, str]]:
    return [
        (n, d) for n, d, _start, feature in _SERVICES if not feature or L.feature_installed(s.guest, feature)
    ]


def _start_type(s: Session, name: str) -> int:
    default = next((st for n, _d, st, _f in _SERVICES if n == name), 3)
    return int(L.reg(s.guest).get(f"{K_SERVICES}\\{name}", "Start", default) or default)


def start_type(guest: Any, name: str) -> int:
    """A service's start type as the registry holds it (2 automatic, 3 manual, 4 disabled)."""
    default = next((st for n, _d, st, _f in _SERVICES if n == name), 3)
    return int(L.reg(guest).get(f"{K_SERVICES}\\{name}", "Start", default) or default)


def _running(s: Session, name: str) -> bool:
    r = L.reg(s.guest)
    if r.get(f"{K_SERVICES}\\{name}", "AzemuStopped", 0):
        return False
    if r.get(f"{K_SERVICES}\\{name}", "AzemuStarted", 0):
        return True
    return name in _RUN_BY_DEFAULT and _start_type(s, name) != 4


def _service(s: Session, name: str, display: str) -> PSObj:
    return PSObj(
        "System.ServiceProcess.ServiceController",
        {
            "Status": "Running" if _running(s, name) else "Stopped",
            "Name": name,
            "DisplayName": display,
            "StartType": _START.get(_start_type(s, name), "Manual"),
            "ServiceName": name,
        },
        "table",
        ["Status", "Name", "DisplayName"],
        string=name,
    )


def _find(s: Session, a: Args, cmd: str) -> list[PSObj]:
    known = _installed(s)
    wanted = a.strs("Name") or [str(x.get("Name")) for x in a.input if isinstance(x, PSObj) and x.get("Name")]
    if a.get("DisplayName") is not None:
        displays = [p.lower() for p in a.strs("DisplayName")]
        return [_service(s, n, d) for n, d in known if any(fnmatch.fnmatch(d.lower(), p) for p in displays)]
    if not wanted:
        return [_service(s, n, d) for n, d in known]
    out: list[PSObj] = []
    for pattern in wanted:
        hits = [(n, d) for n, d in known if fnmatch.fnmatch(n.lower(), pattern.lower())]
        if not hits and not any(c in pattern for c in "*?["):
            raise PSErr(
                f"Cannot find any service with service name '{pattern}'.",
                category="ObjectNotFound",
                target=pattern,
                exception="ServiceCommandException",
                fqid="NoServiceFoundForGivenName",
            )
        out.extend(_service(s, n, d) for n, d in hits)
    return out


@cmdlet(
    "Get-Service",
    ("Name", "DisplayName", "ComputerName", "Include", "Exclude"),
    ("DependentServices", "RequiredServices"),
    ("Name",),
)
def get_service(s: Session, a: Args) -> list[Any]:
    return _find(s, a, "Get-Service")


def _set_running(s: Session, svc: PSObj, running: bool) -> None:
    key = f"{K_SERVICES}\\{svc.get('Name')}"
    r = L.reg(s.guest)
    if running and _start_type(s, str(svc.get("Name"))) == 4:
        raise PSErr(
            f"Service '{svc.get('DisplayName')} ({svc.get('Name')})' cannot be started due to the following error: "
            f"Cannot start service {svc.get('Name')} on computer '.'.",
            category="OpenError",
            target=str(svc.get("Name")),
            exception="ServiceCommandException",
            fqid="CouldNotStartService",
        )
    r.set(key, "AzemuStopped", 0 if running else 1, "REG_DWORD")
    r.set(key, "AzemuStarted", 1 if running else 0, "REG_DWORD")
    svc.set("Status", "Running" if running else "Stopped")


@cmdlet("Start-Service", ("Name", "DisplayName", "InputObject"), ("PassThru",), ("Name",))
def start_service(s: Session, a: Args) -> list[Any]:
    services = _find(s, a, "Start-Service")
    for svc in services:
        _set_running(s, svc, True)
    return services if a.has("PassThru") else []


@cmdlet("Stop-Service", ("Name", "DisplayName", "InputObject"), ("PassThru", "Force", "NoWait"), ("Name",))
def stop_service(s: Session, a: Args) -> list[Any]:
    services = _find(s, a, "Stop-Service")
    for svc in services:
        _set_running(s, svc, False)
    return services if a.has("PassThru") else []


@cmdlet("Restart-Service", ("Name", "DisplayName", "InputObject"), ("PassThru", "Force"), ("Name",))
def restart_service(s: Session, a: Args) -> list[Any]:
    services = _find(s, a, "Restart-Service")
    for svc in services:
        _set_running(s, svc, True)
    return services if a.has("PassThru") else []


@cmdlet(
    "Set-Service",
    ("Name", "StartupType", "Status", "DisplayName", "Description", "InputObject"),
    ("PassThru",),
    ("Name",),
)
def set_service(s: Session, a: Args) -> list[Any]:
    services = _find(s, a, "Set-Service")
    startup = a.str("StartupType").lower()
    codes = {"automatic": 2, "manual": 3, "disabled": 4, "automaticdelayedstart": 2}
    if startup and startup not in codes:
        raise PSErr(
            f"Cannot bind parameter 'StartupType'. Cannot convert value \"{a.str('StartupType')}\" to type "
            '"System.ServiceProcess.ServiceStartMode".',
            category="InvalidArgument",
            exception="ParameterBindingException",
            fqid="CannotConvertArgumentNoMessage",
        )
    for svc in services:
        if startup:
            L.reg(s.guest).set(f"{K_SERVICES}\\{svc.get('Name')}", "Start", codes[startup], "REG_DWORD")
            svc.set("StartType", _START[codes[startup]])
        status = a.str("Status").lower()
        if status in ("running", "stopped"):
            _set_running(s, svc, status == "running")
    return services if a.has("PassThru") else []


@cmdlet("Set-ExecutionPolicy", ("ExecutionPolicy", "Scope"), ("Force",), ("ExecutionPolicy",))
def set_execution_policy(s: Session, a: Args) -> list[Any]:
    s.vars["azemu_execution_policy"] = a.str("ExecutionPolicy", "Unrestricted")
    return []


@cmdlet("Get-ExecutionPolicy", ("Scope",), ("List",), ())
def get_execution_policy(s: Session, a: Args) -> list[Any]:
    return [s.vars.get("azemu_execution_policy") or "Unrestricted"]


def _no_network(s: Session, a: Args) -> list[Any]:
    raise PSErr(
        "Unable to connect to the remote server (azemu: guests have no network access).",
        category="InvalidOperation",
        target="System.Net.HttpWebRequest",
        exception="WebException",
        fqid="WebCmdletWebResponseException",
    )


for _name in ("Invoke-WebRequest", "Invoke-RestMethod"):
    cmdlet(
        _name,
        ("Uri", "OutFile", "Method", "Headers", "Body", "ContentType", "TimeoutSec", "Credential"),
        ("UseBasicParsing", "PassThru", "UseDefaultCredentials"),
        ("Uri",),
    )(_no_network)

ALIASES.update(
    {
        "gsv": "Get-Service",
        "iwr": "Invoke-WebRequest",
        "irm": "Invoke-RestMethod",
        "curl": "Invoke-WebRequest",
        "wget": "Invoke-WebRequest",
    }
)
