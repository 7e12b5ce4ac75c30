"""The guest as a whole, and the contracts between the guest and the VM that runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azemu.guest.fs import GuestFS
from azemu.guest.registry import Registry


@dataclass
class Guest:
    """One OS disk's operating system: its files (and registry on Windows) are the whole truth."""

    os_type: str  # "Linux" | "Windows"
    distro: str  # "ubuntu-22.04" | "ubuntu-24.04" | "debian-12" | "rhel-9" | "windows-2019" | ... | "windows-2025"
    fs: GuestFS
    registry: Registry | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "osType": self.os_type,
            "distro": self.distro,
            "fs": self.fs.to_dict(),
            "registry": self.registry.to_dict() if self.registry is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guest:
        reg = data.get("registry")
        return cls(
            data["osType"],
            data["distro"],
            GuestFS.from_dict(data["fs"]),
            Registry.from_dict(reg) if reg is not None else None,
        )

    def copy(self) -> Guest:
        reg = Registry.from_dict(self.registry.to_dict()) if self.registry is not None else None
        return Guest(self.os_type, self.distro, self.fs.copy(), reg)


@dataclass
class ExecContext:
    """What a command can know about the world outside the guest."""

    now: float  # azemu's clock (seconds since the epoch), for timestamps in logs
    vm_id: str  # the VM's unique id (the SMBIOS UUID the guest sees)
    vm_name: str = ""
    # the machines another guest sees joined to a domain: DNS domain -> [(computer name, machine SID)]
    # (what a domain controller would know; other VMs' guests, kept by the platform)
    directory: Callable[[str], list[tuple[str, str]]] | None = None
    tty: bool = False  # a terminal (the serial console): sudo prompts on it, stdout and stderr are one stream


@dataclass
class ExecResult:
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    # The guest asked to power off ("poweroff") or reboot ("reboot") when the script ended
    # (sysprep /shutdown, shutdown -h now, cloud-init clean -r, Stop-Computer ...).
    power: str | None = None
    # The script did not return for this long on azemu's clock (sysprep hanging on Defender: 1800 s).
    hang_seconds: float = 0.0
    # On a terminal: the command read past what was typed so far and waits for another line (nothing it did
    # is kept; it runs again, from the start, with that line added - see guest.api.run_terminal).
    wants_input: bool = False


@dataclass
class OsProfile:
    """What ``osProfile`` hands the guest at first boot of a VM made from a generalized image."""

    computer_name: str
    admin_username: str
    admin_password: str | None = None
    ssh_public_keys: list[tuple[str, str]] = field(default_factory=list)  # (path, keyData)
    disable_password_authentication: bool = False
    custom_data: str | None = None  # base64


@dataclass
class BootResult:
    """How a boot ended, as the platform sees it."""

    agent_ready: bool  # the VM agent reported Ready
    oobe: bool = False  # Windows is waiting at the out-of-box screen (sysprepped, never specialized)
    messages: list[str] = field(default_factory=list)  # what the boot logged (for the instance view)
