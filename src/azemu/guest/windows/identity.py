"""Who a Windows guest says it is: computer name, machine SID, enabled local users, domain, setup state."""

from __future__ import annotations

from typing import Any

from azemu.guest.machine import Guest
from azemu.guest.windows import layout as L


def identity(guest: Guest) -> dict[str, Any]:
    """``computerName`` is the running DNS host name (case kept); ``netbiosName`` the upper-case NetBIOS name;
    ``sid`` is None between ``sysprep /generalize`` and the next specialize pass."""
    users = sorted((u for u in L.users(guest) if L.user_enabled(guest, u)), key=str.lower)
    return {
        "computerName": L.dns_hostname(guest),
        "netbiosName": L.active_name(guest),
        "sid": L.machine_sid(guest),
        "users": users,
        "domain": L.domain(guest),
        "workgroup": None if L.domain(guest) else L.workgroup(guest),
        "imageState": L.image_state(guest),
    }
