"""Marketplace Windows Server images: what a fresh, generalized (sysprepped) OS disk holds.

Where each fact lives is described in :mod:`azemu.guest.windows.layout`.
"""

from __future__ import annotations

import random

from azemu.guest.fs import GuestFS
from azemu.guest.machine import Guest
from azemu.guest.registry import Registry
from azemu.guest.windows import layout as L

DISTROS = ("windows-2016", "windows-2019", "windows-2022", "windows-2025")

# distro -> (ProductName, CurrentBuild, DisplayVersion, UBR)
_VERSIONS = {
    "windows-2016": ("Windows Server 2016 Datacenter", "14393", "", 7515),
    "windows-2019": ("Windows Server 2019 Datacenter", "17763", "", 6189),
    "windows-2022": ("Windows Server 2022 Datacenter", "20348", "21H2", 2849),
    "windows-2025": ("Windows Server 2025 Datacenter", "26100", "24H2", 2605),
}

# (Name, Display Name, depth, installed by default) in Get-WindowsFeature order
FEATURES: tuple[tuple[str, str, int, bool], ...] = (
    ("AD-Certificate", "Active Directory Certificate Services", 0, False),
    ("AD-Domain-Services", "Active Directory Domain Services", 0, False),
    ("DHCP", "DHCP Server", 0, False),
    ("DNS", "DNS Server", 0, False),
    ("FileAndStorage-Services", "File and Storage Services", 0, True),
    ("File-Services", "File and iSCSI Services", 1, True),
    ("FS-FileServer", "File Server", 2, True),
    ("Storage-Services", "Storage Services", 1, True),
    ("Web-Server", "Web Server (IIS)", 0, False),
    ("NET-Framework-45-Features", ".NET Framework 4.8 Features", 0, True),
    ("NET-Framework-45-Core", ".NET Framework 4.8", 1, True),
    ("NET-WCF-Services45", "WCF Services", 1, True),
    ("NET-WCF-TCP-PortSharing45", "TCP Port Sharing", 2, True),
    ("GPMC", "Group Policy Management", 0, False),
    ("Windows-Defender", "Microsoft Defender Antivirus", 0, True),
    ("RSAT", "Remote Server Administration Tools", 0, False),
    ("RSAT-Role-Tools", "Role Administration Tools", 1, False),
    ("RSAT-AD-Tools", "AD DS and AD LDS Tools", 2, False),
    ("RSAT-AD-PowerShell", "Active Directory module for Windows PowerShell", 3, False),
    ("RSAT-ADDS", "AD DS Tools", 3, False),
    ("System-DataArchiver", "System Data Archiver", 0, True),
    ("PowerShellRoot", "Windows PowerShell", 0, True),
    ("PowerShell", "Windows PowerShell 5.1", 1, True),
    ("PowerShell-ISE", "Windows PowerShell ISE", 1, True),
    ("WoW64-Support", "WoW64 Support", 0, True),
)

PROVISIONED_APPX = (
    "Microsoft.SecHealthUI_1000.25873.9001.0_x64__8wekyb3d8bbwe",
    "Microsoft.VCLibs.140.00_14.0.33519.0_x64__8wekyb3d8bbwe",
)

_USERS = (
    ("Administrator", 500, False, "Built-in account for administering the computer/domain"),
    ("Guest", 501, False, "Built-in account for guest access to the computer/domain"),
    ("DefaultAccount", 503, False, "A user account managed by the system."),
    (
        "WDAGUtilityAccount",
        504,
        False,
        "A user account managed and used by the system for Windows Defender Application Guard scenarios.",
    ),
)

_SETUP_LOG = "2024-01-09 03:11:42, Info                  [windeploy.exe] Windows Deploy is launched\r\n"


def base_guest(distro: str, now: float) -> Guest:
    if distro not in _VERSIONS:
        raise ValueError(f"unknown Windows distro {distro!r}; expected one of {', '.join(DISTROS)}")
    rng = random.SystemRandom()
    product, build, display_version, ubr = _VERSIONS[distro]
    if distro in ("windows-2016", "windows-2019"):
        features = tuple(
            (n, d.replace("Microsoft Defender", "Windows Defender").replace("4.8", "4.7"), dep, i)
            for n, d, dep, i in FEATURES
        )
    else:
        features = FEATURES
    guest = Guest("Windows", distro, GuestFS(case_insensitive=True), Registry())
    r = L.reg(guest)

    r.set(L.K_NT_CV, "ProductName", product)
    r.set(L.K_NT_CV, "CurrentBuild", build)
    r.set(L.K_NT_CV, "CurrentBuildNumber", build)
    r.set(L.K_NT_CV, "UBR", ubr)
    r.set(L.K_NT_CV, "EditionID", "ServerDatacenter")
    r.set(L.K_NT_CV, "InstallationType", "Server")
    r.set(L.K_NT_CV, "CurrentVersion", "6.3")
    r.set(L.K_NT_CV, "SystemRoot", r"C:\Windows")
    if display_version:
        r.set(L.K_NT_CV, "DisplayVersion", display_version)

    # generalized: the image was sysprepped /generalize /oobe by its publisher
    L.set_image_state(guest, L.GENERALIZE_OOBE)
    r.set(L.K_SYSPREP_STATUS, "GeneralizationState", 7)
    r.set(L.K_SYSPREP_STATUS, "CleanupState", 2)
    r.set(L.K_SYSPREP_STATUS, "SysprepCount", 1)
    L.set_setup(guest, 2, r"oobe\windeploy.exe")

    L.set_computer_name(guest, L.random_computer_name(rng), active=True)
    L.set_machine_sid(guest, L.new_sid(rng))
    L.join_workgroup(guest, "WORKGROUP")
    for name, rid, enabled, description in _USERS:
        L.add_user(guest, name, rid=rid, enabled=enabled, description=description)
    L.add_group_member(guest, "Administrators", "Administrator")
    L.add_group_member(guest, "Guests", "Guest")
    L.add_group_member(guest, "System Managed Accounts Group", "DefaultAccount")
    r.set(L.K_GROUPS + r"\Users", "Members", [], "REG_MULTI_SZ")
    r.set(L.K_GROUPS + r"\Remote Desktop Users", "Members", [], "REG_MULTI_SZ")

    for name, display, depth, installed in features:
        key = L.K_FEATURES + "\\" + name
        r.set(key, "InstallState", 1 if installed else 0)
        r.set(key, "DisplayName", display)
        r.set(key, "Depth", depth)
    r.set(L.K_DEFENDER_RTP, "DisableRealtimeMonitoring", 0)
    for pkg in PROVISIONED_APPX:
        r.set(
            L.K_APPX_PROVISIONED + "\\" + pkg, "Path", rf"C:\Program Files\WindowsApps\{pkg}\AppxManifest.xml"
        )
    r.set(L.K_APPX_STORE + r"\Config", "SystemAppData", 1)
    L.set_bitlocker(guest, False)
    r.set(L.K_CDROM, "Start", 1)
    r.set(L.K_SPP, "SkipRearm", 0)

    fs = guest.fs
    for d in (
        r"C:\Users\Public",
        r"C:\Users\Default",
        r"C:\Windows\Temp",
        r"C:\Program Files\WindowsApps",
        L.SYSPREP_PANTHER,
        r"C:\Windows\Panther\UnattendGC",
        r"C:\Windows\System32\config",
    ):
        fs.mkdir(d)
    fs.write(L.SYSPREP_EXE, b"MZ\x90\x00sysprep", mtime=now)
    for action in ("Cleanup", "Generalize", "Specialize"):
        fs.write(
            rf"{L.SYSPREP_DIR}\ActionFiles\{action}.xml",
            f'<?xml version="1.0"?>\r\n<sysprepInformation><imaging exclusive="1">'
            f"<!-- {action} providers --></imaging></sysprepInformation>\r\n",
            mtime=now,
        )
    fs.write(r"C:\Program Files\Windows Defender\MpCmdRun.exe", b"MZ\x90\x00", mtime=now)
    for exe in (
        "manage-bde.exe",
        "shutdown.exe",
        "hostname.exe",
        "whoami.exe",
        "WindowsPowerShell\\v1.0\\powershell.exe",
    ):
        fs.write(rf"C:\Windows\System32\{exe}", b"MZ\x90\x00", mtime=now)
    fs.write(rf"{L.PANTHER}\setupact.log", _SETUP_LOG, mtime=now)
    fs.write(rf"{L.PANTHER}\UnattendGC\setupact.log", _SETUP_LOG, mtime=now)
    for log in ("Application", "System", "Security", "Setup"):
        fs.write(rf"{L.EVTX_DIR}\{log}.evtx", b"ElfFile\x00", mtime=now)
    fs.write(
        r"C:\Windows\System32\drivers\etc\hosts",
        "# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n"
        "# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\r\n#\r\n"
        "# localhost name resolution is handled within DNS itself.\r\n"
        "#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n",
        mtime=now,
    )
    return guest
