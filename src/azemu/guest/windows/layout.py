"""Where a Windows guest keeps each fact, and small accessors over them.

Everything is real Windows data where Windows has a well-known place for it:

- Setup state: ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State!ImageState`` mirrored in
  ``C:\\Windows\\Setup\\State\\State.ini`` (``[State]`` / ``ImageState=``); ``HKLM\\SYSTEM\\Setup!SetupType``,
  ``!CmdLine``; ``HKLM\\SYSTEM\\Setup\\Status\\SysprepStatus!GeneralizationState``, ``!CleanupState``.
- Names: ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName!ComputerName`` (the NetBIOS name
  in effect at next boot: a pending ``Rename-Computer`` lands here) and ``...\\ActiveComputerName!ComputerName``
  (the running name); ``HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters!Hostname`` (DNS host name,
  case kept) and ``!NV Hostname`` (the pending one).
- Machine SID: ``HKLM\\SECURITY\\Policy\\PolAcDmS!Sid`` (string form). Absent after ``sysprep /generalize``:
  the specialize pass at next boot makes a new one.
- Domain / workgroup membership (LSA policy, as Windows keeps it):
  ``HKLM\\SECURITY\\Policy\\PolPrDmN!Name`` = workgroup name (``WORKGROUP``) or the domain's NetBIOS name;
  ``HKLM\\SECURITY\\Policy\\PolDnDDN!Name`` = the DNS domain name, present only when domain-joined;
  ``Tcpip\\Parameters!Domain`` / ``!NV Domain`` = the DNS domain ("" in a workgroup).
- Local users: ``HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names\\<name>`` with RID, Enabled, FullName,
  Description (and PasswordHash, an emulator digest, never the password). Group members:
  ``HKLM\\SAM\\SAM\\Domains\\Builtin\\Aliases\\Names\\<group>!Members`` (REG_MULTI_SZ of user names).
- Server features: ``HKLM\\SOFTWARE\\Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\<Name>``
  ``!InstallState`` (1 installed / 0 available), ``!DisplayName``, ``!Depth`` (tree level for the table).
- Defender: ``HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection!DisableRealtimeMonitoring``.
- Appx: provisioned packages under ``...\\Appx\\AppxAllUserStore\\Applications\\<PackageFullName>``, per-user
  registrations under ``...\\Appx\\AppxAllUserStore\\<UserSID>\\<PackageFullName>``.

Emulator-only models (Windows keeps these facts somewhere opaque):
- BitLocker on C: ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\BitLockerStatus\\Volumes\\C!ProtectionStatus``
  (0 off / 1 on) and ``!EncryptionPercentage``.
- Sysprep runs so far: ``HKLM\\SYSTEM\\Setup\\Status\\SysprepStatus!SysprepCount`` (the 1001 limit).
- A Sysprep process still running: ``HKLM\\SYSTEM\\Setup\\Status\\SysprepStatus!SysprepRunning`` = 1.
- Defender scans (MsMpEng keeps this in its own database): ``HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Scan``
  ``!RunningScanType`` (QuickScan/FullScan/CustomScan), ``!RunningScanStart``/``!RunningScanEnd`` (epoch seconds on
  azemu's clock) while a scan runs in the background (``Start-MpScan -AsJob``); ``!Last<Type>Start``/``!Last<Type>End``
  for finished ones. A scan is over once the clock passes its end.
"""

from __future__ import annotations

import hashlib
import random
import string

from azemu.guest.machine import Guest
from azemu.guest.registry import Registry

K_SETUP_STATE = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
STATE_INI = r"C:\Windows\Setup\State\State.ini"
K_SETUP = r"HKLM\SYSTEM\Setup"
K_SYSPREP_STATUS = r"HKLM\SYSTEM\Setup\Status\SysprepStatus"
K_NT_CV = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
K_SPP = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
K_COMPUTERNAME = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
K_ACTIVE_COMPUTERNAME = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName"
K_TCPIP = r"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"
K_POLACDMS = r"HKLM\SECURITY\Policy\PolAcDmS"
K_POLPRDMN = r"HKLM\SECURITY\Policy\PolPrDmN"
K_POLDNDDN = r"HKLM\SECURITY\Policy\PolDnDDN"
K_USERS = r"HKLM\SAM\SAM\Domains\Account\Users\Names"
K_GROUPS = r"HKLM\SAM\SAM\Domains\Builtin\Aliases\Names"
K_FEATURES = r"HKLM\SOFTWARE\Microsoft\ServerManager\ServicingStorage\ServerComponentCache"
K_DEFENDER_RTP = r"HKLM\SOFTWARE\Microsoft\Windows Defender\Real-Time Protection"
K_APPX_STORE = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore"
K_APPX_PROVISIONED = K_APPX_STORE + r"\Applications"
K_BITLOCKER_C = r"HKLM\SYSTEM\CurrentControlSet\Control\BitLockerStatus\Volumes\C"
K_DEFENDER_SCAN = r"HKLM\SOFTWARE\Microsoft\Windows Defender\Scan"
SCAN_SECONDS = {"QuickScan": 300, "FullScan": 2700, "CustomScan": 120}  # how long a scan of the OS disk takes
K_CDROM = r"HKLM\SYSTEM\CurrentControlSet\Services\cdrom"

SYSPREP_DIR = r"C:\Windows\System32\Sysprep"
SYSPREP_EXE = SYSPREP_DIR + r"\sysprep.exe"
SYSPREP_PANTHER = SYSPREP_DIR + r"\Panther"
SYSPREP_TAG = SYSPREP_DIR + r"\Sysprep_succeeded.tag"
PANTHER = r"C:\Windows\Panther"
EVTX_DIR = r"C:\Windows\System32\winevt\Logs"

SYSTEM_SID = "S-1-5-18"
BUILTIN_USERS = ("Administrator", "DefaultAccount", "Guest", "WDAGUtilityAccount")

GENERALIZE_OOBE = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
GENERALIZE_AUDIT = "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT"
SPECIALIZE_OOBE = "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE"
SPECIALIZE_AUDIT = "IMAGE_STATE_SPECIALIZE_RESEAL_TO_AUDIT"
COMPLETE = "IMAGE_STATE_COMPLETE"
UNDEPLOYABLE = "IMAGE_STATE_UNDEPLOYABLE"


def reg(guest: Guest) -> Registry:
    if guest.registry is None:
        guest.registry = Registry()
    return guest.registry


# setup state -----------------------------------------------------------------------------------------
def image_state(guest: Guest) -> str:
    return str(reg(guest).get(K_SETUP_STATE, "ImageState", COMPLETE))


def set_image_state(guest: Guest, state: str) -> None:
    reg(guest).set(K_SETUP_STATE, "ImageState", state, "REG_SZ")
    guest.fs.write(STATE_INI, f"[State]\r\nImageState={state}\r\n")


def set_setup(guest: Guest, setup_type: int, cmdline: str) -> None:
    reg(guest).set(K_SETUP, "SetupType", setup_type, "REG_DWORD")
    reg(guest).set(K_SETUP, "CmdLine", cmdline, "REG_SZ")


# identity --------------------------------------------------------------------------------------------
def new_sid(rng: random.Random | None = None) -> str:
    r = rng or random.SystemRandom()
    return "S-1-5-21-" + "-".join(str(r.randrange(1, 2**32)) for _ in range(3))


def random_computer_name(rng: random.Random | None = None) -> str:
    r = rng or random.SystemRandom()
    return "WIN-" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(11))


def machine_sid(guest: Guest) -> str | None:
    sid = reg(guest).get(K_POLACDMS, "Sid")
    return str(sid) if sid else None


def set_machine_sid(guest: Guest, sid: str) -> None:
    reg(guest).set(K_POLACDMS, "Sid", sid, "REG_SZ")


def netbios(name: str) -> str:
    return name[:15].upper()


def active_name(guest: Guest) -> str:
    return str(reg(guest).get(K_ACTIVE_COMPUTERNAME, "ComputerName", ""))


def dns_hostname(guest: Guest) -> str:
    return str(reg(guest).get(K_TCPIP, "Hostname", "") or active_name(guest))


def set_computer_name(guest: Guest, name: str, *, active: bool) -> None:
    """Set the name for next boot; with ``active`` also the running one (specialize, boot)."""
    r = reg(guest)
    r.set(K_COMPUTERNAME, "ComputerName", netbios(name), "REG_SZ")
    r.set(K_TCPIP, "NV Hostname", name, "REG_SZ")
    if active:
        r.set(K_ACTIVE_COMPUTERNAME, "ComputerName", netbios(name), "REG_SZ")
        r.set(K_TCPIP, "Hostname", name, "REG_SZ")


def pending_name(guest: Guest) -> str | None:
    """The DNS name a ``Rename-Computer`` left for the next boot, or None."""
    r = reg(guest)
    nv = str(r.get(K_TCPIP, "NV Hostname", "") or "")
    if nv and nv != r.get(K_TCPIP, "Hostname", ""):
        return nv
    return None


def domain(guest: Guest) -> str | None:
    d = reg(guest).get(K_POLDNDDN, "Name")
    return str(d) if d else None


def workgroup(guest: Guest) -> str:
    return str(reg(guest).get(K_POLPRDMN, "Name", "WORKGROUP"))


def join_domain(guest: Guest, dns_domain: str) -> None:
    r = reg(guest)
    r.set(K_POLPRDMN, "Name", dns_domain.split(".")[0].upper()[:15], "REG_SZ")
    r.set(K_POLDNDDN, "Name", dns_domain, "REG_SZ")
    r.set(K_TCPIP, "Domain", dns_domain, "REG_SZ")
    r.set(K_TCPIP, "NV Domain", dns_domain, "REG_SZ")


def join_workgroup(guest: Guest, name: str) -> None:
    r = reg(guest)
    r.set(K_POLPRDMN, "Name", name.upper(), "REG_SZ")
    r.delete_key(K_POLDNDDN)
    r.set(K_TCPIP, "Domain", "", "REG_SZ")
    r.set(K_TCPIP, "NV Domain", "", "REG_SZ")


# users -----------------------------------------------------------------------------------------------
def user_key(name: str) -> str:
    return K_USERS + "\\" + name


def users(guest: Guest) -> list[str]:
    return reg(guest).subkeys(K_USERS)


def find_user(guest: Guest, name: str) -> str | None:
    """The user's name as created, matched case-insensitively."""
    for u in users(guest):
        if u.lower() == name.lower():
            return u
    return None


def add_user(
    guest: Guest,
    name: str,
    *,
    rid: int | None = None,
    enabled: bool = True,
    full_name: str = "",
    description: str = "",
    password: str | None = None,
) -> None:
    r = reg(guest)
    if rid is None:
        rids = [int(r.get(user_key(u), "RID", 0)) for u in users(guest)]
        rid = max([999, *rids]) + 1
    k = user_key(name)
    r.set(k, "RID", rid, "REG_DWORD")
    r.set(k, "Enabled", 1 if enabled else 0, "REG_DWORD")
    r.set(k, "FullName", full_name, "REG_SZ")
    r.set(k, "Description", description, "REG_SZ")
    if password is not None:
        r.set(k, "PasswordHash", hashlib.sha256(password.encode("utf-16-le")).hexdigest(), "REG_SZ")


def user_enabled(guest: Guest, name: str) -> bool:
    return bool(reg(guest).get(user_key(name), "Enabled", 0))


def group_members(guest: Guest, group: str) -> list[str]:
    return list(reg(guest).get(K_GROUPS + "\\" + group, "Members", []) or [])


def add_group_member(guest: Guest, group: str, member: str) -> None:
    members = group_members(guest, group)
    if member.lower() not in (m.lower() for m in members):
        members.append(member)
    reg(guest).set(K_GROUPS + "\\" + group, "Members", members, "REG_MULTI_SZ")


def remove_from_groups(guest: Guest, member: str) -> None:
    r = reg(guest)
    for group in r.subkeys(K_GROUPS):
        members = group_members(guest, group)
        kept = [m for m in members if m.lower() != member.lower()]
        if kept != members:
            r.set(K_GROUPS + "\\" + group, "Members", kept, "REG_MULTI_SZ")


# features, Defender, BitLocker, Appx ------------------------------------------------------------------
def feature_installed(guest: Guest, name: str) -> bool:
    return bool(reg(guest).get(K_FEATURES + "\\" + name, "InstallState", 0))


def realtime_on(guest: Guest) -> bool:
    return feature_installed(guest, "Windows-Defender") and not reg(guest).get(
        K_DEFENDER_RTP, "DisableRealtimeMonitoring", 0
    )


def defender_scan(guest: Guest, now: float) -> tuple[str, float, float] | None:
    """(type, start, end) of the scan running at ``now``; a scan whose time is up is recorded as finished."""
    r = reg(guest)
    kind = str(r.get(K_DEFENDER_SCAN, "RunningScanType", "") or "")
    if not kind:
        return None
    start = float(r.get(K_DEFENDER_SCAN, "RunningScanStart", 0) or 0)
    end = float(r.get(K_DEFENDER_SCAN, "RunningScanEnd", 0) or 0)
    if now >= end:
        finish_scan(guest, kind, start, end)
        return None
    return kind, start, end


def start_scan(guest: Guest, kind: str, now: float) -> float:
    """A background scan from ``now``; returns when it will be done."""
    end = now + SCAN_SECONDS.get(kind, SCAN_SECONDS["QuickScan"])
    r = reg(guest)
    r.set(K_DEFENDER_SCAN, "RunningScanType", kind, "REG_SZ")
    r.set(K_DEFENDER_SCAN, "RunningScanStart", int(now), "REG_QWORD")
    r.set(K_DEFENDER_SCAN, "RunningScanEnd", int(end), "REG_QWORD")
    return end


def finish_scan(guest: Guest, kind: str, start: float, end: float) -> None:
    r = reg(guest)
    r.set(K_DEFENDER_SCAN, f"Last{kind}Start", int(start), "REG_QWORD")
    r.set(K_DEFENDER_SCAN, f"Last{kind}End", int(end), "REG_QWORD")
    for name in ("RunningScanType", "RunningScanStart", "RunningScanEnd"):
        r.delete_value(K_DEFENDER_SCAN, name)


def cancel_scan(guest: Guest, now: float) -> bool:
    """Stop a running scan (it never finishes: no new Last...End); False when none was running."""
    running = defender_scan(guest, now)
    if running is None:
        return False
    r = reg(guest)
    r.set(K_DEFENDER_SCAN, f"Last{running[0]}Start", int(running[1]), "REG_QWORD")
    for name in ("RunningScanType", "RunningScanStart", "RunningScanEnd"):
        r.delete_value(K_DEFENDER_SCAN, name)
    return True


def bitlocker_on(guest: Guest) -> bool:
    return bool(reg(guest).get(K_BITLOCKER_C, "ProtectionStatus", 0))


def set_bitlocker(guest: Guest, on: bool) -> None:
    reg(guest).set(K_BITLOCKER_C, "ProtectionStatus", 1 if on else 0, "REG_DWORD")
    reg(guest).set(K_BITLOCKER_C, "EncryptionPercentage", 100 if on else 0, "REG_DWORD")


def provisioned_packages(guest: Guest) -> list[str]:
    return reg(guest).subkeys(K_APPX_PROVISIONED)


def user_packages(guest: Guest) -> list[tuple[str, str]]:
    """(user SID, PackageFullName) for every per-user registration."""
    r = reg(guest)
    return [
        (sid, pkg)
        for sid in r.subkeys(K_APPX_STORE)
        if sid.upper().startswith("S-1-")
        for pkg in r.subkeys(K_APPX_STORE + "\\" + sid)
    ]


def user_sid(guest: Guest, name: str) -> str:
    """A local user's SID: machine SID + RID (SYSTEM's own SID for the SYSTEM account)."""
    if name.lower() in ("system", "nt authority\\system"):
        return SYSTEM_SID
    rid = reg(guest).get(user_key(name), "RID", 0)
    return f"{machine_sid(guest) or 'S-1-5-21-0-0-0'}-{rid}"
