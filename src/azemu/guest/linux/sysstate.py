"""System state shared by the commands and the boot code: hostname, machine-id, systemd unit links."""

from __future__ import annotations

import posixpath
import secrets

from azemu.guest.fs import GuestFS
from azemu.guest.linux.distro import Distro

KERNEL_HOSTNAME = "/proc/sys/kernel/hostname"  # the running kernel's name (reset from /etc/hostname at boot)
MACHINE_ID = "/etc/machine-id"


def static_hostname(fs: GuestFS) -> str:
    return fs.read_text("/etc/hostname", "").strip()


def running_hostname(fs: GuestFS) -> str:
    return fs.read_text(KERNEL_HOSTNAME, "").strip() or static_hostname(fs) or "localhost"


def set_kernel_hostname(fs: GuestFS, name: str) -> None:
    fs.write(KERNEL_HOSTNAME, name + "\n")


def set_static_hostname(fs: GuestFS, name: str, now: float, newline: bool = True) -> None:
    fs.write("/etc/hostname", name + ("\n" if newline else ""), mtime=now)


def machine_id(fs: GuestFS) -> str:
    return fs.read_text(MACHINE_ID, "").strip()


def machine_id_needs_init(fs: GuestFS) -> bool:
    """systemd writes a new id when the file is missing, empty or holds ``uninitialized``."""
    value = machine_id(fs)
    return value in ("", "uninitialized")


def init_machine_id(fs: GuestFS, now: float) -> str:
    new = secrets.token_hex(16)
    fs.write(MACHINE_ID, new + "\n", 0o444, mtime=now)
    return new


def unit_name(unit: str) -> str:
    return unit if "." in unit else unit + ".service"


def enabled_links(fs: GuestFS, unit: str) -> list[str]:
    return fs.glob(f"/etc/systemd/system/*.wants/{unit_name(unit)}")


def is_enabled(fs: GuestFS, unit: str) -> bool:
    return bool(enabled_links(fs, unit))


def enable(fs: GuestFS, distro: Distro, unit: str) -> list[str]:
    name = unit_name(unit)
    if is_enabled(fs, name):
        return []
    link = f"/etc/systemd/system/multi-user.target.wants/{name}"
    target = posixpath.join(distro.unit_dir, name)
    fs.symlink(target, link)
    return [f"Created symlink {link} \u2192 {target}."]


def disable(fs: GuestFS, unit: str) -> list[str]:
    out = []
    for link in enabled_links(fs, unit):
        fs.remove(link)
        out.append(f'Removed "{link}".')
    return out
