"""The Linux guest personality: marketplace images, Run Command's shell, waagent, cloud-init, boot."""

from azemu.guest.linux.identity import identity
from azemu.guest.linux.images import DISTROS, base_guest
from azemu.guest.linux.provisioning import boot, first_boot
from azemu.guest.linux.shell import run_shell

__all__ = ["DISTROS", "base_guest", "boot", "first_boot", "identity", "run_shell"]
