"""The Windows guest personality: marketplace images, PowerShell through Run Command, Sysprep, and boots."""

from azemu.guest.windows.identity import identity
from azemu.guest.windows.images import DISTROS, base_guest
from azemu.guest.windows.powershell import run_powershell
from azemu.guest.windows.provisioning import boot, first_boot

__all__ = ["DISTROS", "base_guest", "boot", "first_boot", "identity", "run_powershell"]
