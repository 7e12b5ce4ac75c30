"""What makes one Linux guest distinguishable from another (for clone comparisons and the instance view)."""

from __future__ import annotations

from typing import Any

from azemu.guest.linux import accounts, hostkeys, sysstate
from azemu.guest.machine import Guest


def identity(guest: Guest) -> dict[str, Any]:
    fs = guest.fs
    return {
        "hostname": sysstate.static_hostname(fs),
        "machineId": sysstate.machine_id(fs),
        "sshHostKeys": hostkeys.fingerprints(fs),
        "users": sorted(u.name for u in accounts.users(fs) if u.uid >= 1000 and u.uid != 65534),
    }
