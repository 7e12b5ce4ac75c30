"""Every command the shell knows, by module: importing this registers them in ``shcore.COMMANDS``."""

from __future__ import annotations

from azemu.guest.linux import (
    blockio,
    builtins,
    cloudinit,
    coreutils,
    loadcmds,
    sudo,
    sysadmin,
    textutils,
    waagent,
)

MODULES = (blockio, builtins, cloudinit, coreutils, loadcmds, sudo, sysadmin, textutils, waagent)
