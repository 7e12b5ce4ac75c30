"""The Windows guest personality: marketplace images, PowerShell through Run Command, Sysprep, and boots."""

from azemu.guest.windows.identity import identity
from azemu.guest.windows.images import DISTROS, base_guest
from azemu.guest.windows.powershell import run_powershell
from azemu.guest.windows.provisioning import boot, first_boot
from azemu.guest.windows.ps_services import start_type as service_start_type

__all__ = ["DISTROS", "base_guest", "boot", "first_boot", "identity", "run_powershell", "service_start_type"]
