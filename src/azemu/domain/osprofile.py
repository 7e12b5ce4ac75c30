"""``osProfile`` validation, worded as the Compute RP words it."""

from __future__ import annotations

import re
from typing import Any

from azemu.domain.errors import InvalidParameter
from azemu.guest.machine import OsProfile

BLOCKED_USERS = {
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
}
BLOCKED_PASSWORDS = {
    "abc@123",
    "P@$$w0rd",
    "P@ssw0rd",
    "P@ssword123",
    "Pa$$word",
    "pass@word1",
    "Password!",
    "Password1",
    "Password22",
    "iloveyou!",
}
_WIN_NAME_BAD = re.compile(r"[`~!@#$%^&*()=+_\[\]{}\\|;:.'\",<>/?\s]")


def _password_ok(pw: str, lo: int, hi: int) -> bool:
    if not lo <= len(pw) <= hi or pw in BLOCKED_PASSWORDS or any(ord(c) < 32 for c in pw):
        return False
    classes = [
        any(c.islower() for c in pw),
        any(c.isupper() for c in pw),
        any(c.isdigit() for c in pw),
        bool(re.search(r"[\W_]", pw)),
    ]
    return sum(classes) >= 3


def parse(os_profile: dict[str, Any], os_type: str, vm_name: str) -> OsProfile:
    windows = os_type == "Windows"
    computer = os_profile.get("computerName") or vm_name
    if windows and (len(computer) > 15 or computer.isdigit() or _WIN_NAME_BAD.search(computer)):
        raise InvalidParameter(
            "Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain the "
            "following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?.",
            target="computerName",
        )
    if not windows and (
        len(computer) > 64
        or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", computer)
        or computer.endswith((".", "-"))
    ):
        raise InvalidParameter(
            "Linux host name cannot exceed 64 characters in length or contain the following characters: "
            "` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?.",
            target="computerName",
        )
    user = os_profile.get("adminUsername")
    if not user:
        raise InvalidParameter(
            "Required parameter 'adminUsername' is missing (null).", target="adminUsername"
        )
    if user.lower() in BLOCKED_USERS or user.endswith(".") or len(user) > (20 if windows else 64):
        raise InvalidParameter("The Admin Username specified is not allowed.", target="adminUsername")
    password = os_profile.get("adminPassword")
    linux_cfg = os_profile.get("linuxConfiguration") or {}
    keys = [
        (k.get("path") or f"/home/{user}/.ssh/authorized_keys", k.get("keyData") or "")
        for k in (linux_cfg.get("ssh") or {}).get("publicKeys") or []
    ]
    disable_pw = bool(linux_cfg.get("disablePasswordAuthentication", False))
    if windows and not password:
        raise InvalidParameter(
            "Required parameter 'adminPassword' is missing (null).", target="adminPassword"
        )
    if not windows and disable_pw and not keys:
        raise InvalidParameter(
            "Required parameter 'osProfile.linuxConfiguration.ssh.publicKeys' is missing (null).",
            target="linuxConfiguration.ssh.publicKeys",
        )
    if not windows and not disable_pw and not password:
        raise InvalidParameter(
            "Required parameter 'adminPassword' is missing (null).", target="adminPassword"
        )
    if password is not None:
        lo, hi = (8, 123) if windows else (6, 72)
        if not _password_ok(password, lo, hi):
            raise InvalidParameter(
                f"The supplied password must be between {lo}-{hi} characters long and must satisfy at least 3 of "
                "password complexity requirements from the following: \r\n1) Contains an uppercase character\r\n"
                "2) Contains a lowercase character\r\n3) Contains a numeric digit\r\n4) Contains a special "
                "character\r\n5) Control characters are not allowed",
                target="adminPassword",
            )
    for _, key in keys:
        if not key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
            raise InvalidParameter(
                "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
                target="linuxConfiguration.ssh.publicKeys.keyData",
            )
    custom = os_profile.get("customData")
    return OsProfile(computer, user, password, keys, disable_pw, custom)


def public_view(os_profile: dict[str, Any], os_type: str) -> dict[str, Any]:
    """What GET returns: never the password or custom data."""
    out = {k: v for k, v in os_profile.items() if k not in ("adminPassword", "customData")}
    out.setdefault("secrets", [])
    out.setdefault("allowExtensionOperations", True)
    out.setdefault("requireGuestProvisionSignal", True)
    if os_type == "Windows":
        win = dict(out.get("windowsConfiguration") or {})
        win.setdefault("provisionVMAgent", True)
        win.setdefault("enableAutomaticUpdates", True)
        win.setdefault("patchSettings", {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"})
        out["windowsConfiguration"] = win
    else:
        lin = dict(out.get("linuxConfiguration") or {})
        lin.setdefault("disablePasswordAuthentication", False)
        lin.setdefault("provisionVMAgent", True)
        lin.setdefault("patchSettings", {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"})
        lin.setdefault("enableVMAgentPlatformUpdates", False)
        out["linuxConfiguration"] = lin
    return out
