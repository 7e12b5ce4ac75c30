"""Windows Update, as the WindowsUpdate customizer of Azure VM Image Builder drives it (the community
``packer-provisioner-windows-update`` by rgl, which Image Builder ships): search the updates the guest
still needs, apply the filters, install up to a limit, and say whether a restart is pending.

What a guest needs follows from its build revision (``UBR`` under ``HKLM\\...\\Windows NT\\CurrentVersion``):
a marketplace image is a month's cumulative update behind the newest one azemu knows for its build, plus
the monthly Defender definitions and Malicious Software Removal Tool, which every fresh image lacks.
Installed updates are recorded in the registry (``HKLM\\SOFTWARE\\azemu\\WindowsUpdate``) and the UBR moves
to the cumulative update's; a newer platform image version therefore needs fewer updates.

The output lines are the provisioner's own (``Searching for Windows updates...``,
``Found Windows update (…): …``, ``Installing Windows updates...``).
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass

from azemu.guest.machine import Guest
from azemu.guest.windows import layout as L

K_INSTALLED = r"HKLM\SOFTWARE\azemu\WindowsUpdate\Installed"
DEFAULT_CRITERIA = "BrowseOnly=0 and IsInstalled=0"
DEFAULT_LIMIT = 1000

# build -> (the newest cumulative update's KB, the UBR it brings, its release month, its size in MB)
_CUMULATIVE = {
    "14393": ("KB5048671", 7606, "2024-12", 1702.4),
    "17763": ("KB5048661", 6659, "2024-12", 1323.9),
    "20348": ("KB5048654", 2966, "2024-12", 381.2),
    "26100": ("KB5048667", 2605 + 289, "2024-12", 612.8),
}
_OS_NAME = {
    "14393": "Windows Server 2016",
    "17763": "Windows Server 2019",
    "20348": "Microsoft server operating system version 21H2",
    "26100": "Microsoft server operating system version 24H2",
}


@dataclass(frozen=True)
class Update:
    kb: str
    title: str
    size_mb: float
    categories: tuple[str, ...]
    ubr: int | None = None  # a cumulative update moves the build revision
    reboot: bool = False


def _installed(guest: Guest) -> set[str]:
    reg = L.reg(guest)
    return (
        {k.rsplit("\\", 1)[-1].upper() for k in reg.subkeys(K_INSTALLED)}
        if reg.key_exists(K_INSTALLED)
        else set()
    )


def available(guest: Guest) -> list[Update]:
    """Every update the guest does not have yet, newest cumulative first."""
    reg = L.reg(guest)
    build = str(reg.get(L.K_NT_CV, "CurrentBuild", ""))
    ubr = int(reg.get(L.K_NT_CV, "UBR", 0) or 0)
    have = _installed(guest)
    out: list[Update] = []
    cu = _CUMULATIVE.get(build)
    if cu is not None and ubr < cu[1] and cu[0] not in have:
        kb, new_ubr, month, size = cu
        out.append(
            Update(
                kb,
                f"{month} Cumulative Update for {_OS_NAME[build]} for x64-based Systems ({kb})",
                size,
                ("Security Updates",),
                new_ubr,
                True,
            )
        )
    for kb, title, size, cats in (
        (
            "KB890830",
            "Windows Malicious Software Removal Tool x64 - v5.128 (KB890830)",
            71.1,
            ("Update Rollups",),
        ),
        (
            "KB2267602",
            "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.417.76.0)",
            102.3,
            ("Definition Updates",),
        ),
    ):
        if kb not in have:
            out.append(Update(kb, title, size, cats))
    return out


def _included(update: Update, filters: list[str]) -> bool:
    """The provisioner's filters, in order: the first ``include:``/``exclude:`` that matches decides; the
    expressions azemu reads are ``$true``, ``$_.Title -like '…'`` and ``$_.Title -match '…'``."""
    if not filters:
        return True
    for f in filters:
        action, _, expr = f.partition(":")
        expr = expr.strip()
        if _matches(update, expr):
            return action.strip().lower() == "include"
    return False


def _matches(update: Update, expr: str) -> bool:
    low = expr.lower()
    if low in ("$true", "1"):
        return True
    for op in ("-like", "-match"):
        if op in low and "$_.title" in low:
            pattern = expr[low.index(op) + len(op) :].strip().strip("'\"")
            if op == "-like":
                return fnmatch.fnmatchcase(update.title.lower(), pattern.lower())
            return pattern.lower() in update.title.lower()
    return False


@dataclass
class UpdateRun:
    lines: list[str]
    installed: list[Update]
    reboot: bool


def install(guest: Guest, filters: list[str], limit: int, now: float) -> UpdateRun:
    """One pass of the provisioner: search, filter, install up to ``limit``; the caller restarts the guest
    when ``reboot`` says so and runs another pass, until nothing is found."""
    lines = ["Searching for Windows updates..."]
    found = [u for u in available(guest) if _included(u, filters)][: max(0, limit)]
    if not found:
        lines.append("No Windows updates found")
        return UpdateRun(lines, [], False)
    for u in found:
        lines.append(
            f"Found Windows update ({time.strftime('%Y-%m-%d', time.gmtime(now))}; {u.size_mb} MB): {u.title}"
        )
    total = round(sum(u.size_mb for u in found), 1)
    lines.append(f"Downloading Windows updates ({len(found)} updates; {total} MB)...")
    lines.append("Installing Windows updates...")
    reg = L.reg(guest)
    for u in found:
        key = f"{K_INSTALLED}\\{u.kb}"
        reg.set(key, "Title", u.title)
        reg.set(key, "InstalledOn", time.strftime("%m/%d/%Y", time.gmtime(now)))
        if u.ubr is not None:
            reg.set(L.K_NT_CV, "UBR", u.ubr)
    reboot = any(u.reboot for u in found)
    if reboot:
        lines.append("Windows updates installed; a restart is required")
    return UpdateRun(lines, found, reboot)
