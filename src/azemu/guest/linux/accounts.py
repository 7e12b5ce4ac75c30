"""Local accounts the way shadow-utils keeps them: passwd, shadow, group, gshadow, subuid, subgid.

Every change first copies the old file to its ``-`` backup (``/etc/passwd-``), as ``useradd``/``userdel`` do.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from azemu.guest.fs import GuestFS
from azemu.guest.linux.distro import Distro

PASSWD, SHADOW, GROUP, GSHADOW = "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"
SUBUID, SUBGID = "/etc/subuid", "/etc/subgid"
_MODES = {PASSWD: 0o644, SHADOW: 0o640, GROUP: 0o644, GSHADOW: 0o640, SUBUID: 0o644, SUBGID: 0o644}


class AccountError(Exception):
    """A shadow-utils failure: ``message`` is what the tool prints, ``code`` its exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class User:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


def _rows(fs: GuestFS, path: str) -> list[list[str]]:
    return [line.split(":") for line in fs.read_text(path, "").splitlines() if line.strip()]


def _save(fs: GuestFS, path: str, rows: list[list[str]], now: float) -> None:
    if fs.is_file(path):
        old = fs.stat(path)
        fs.write(
            path + "-",
            fs.read(path),
            old.mode if path in (PASSWD, GROUP, SUBUID, SUBGID) else 0o600,
            uid=old.uid,
            gid=old.gid,
            mtime=now,
        )
    gid = shadow_gid(fs) if path in (SHADOW, GSHADOW) else 0
    fs.write(path, "".join(":".join(r) + "\n" for r in rows), _MODES[path], gid=gid, mtime=now)


def shadow_gid(fs: GuestFS) -> int:
    g = group_by_name(fs, "shadow")
    return g[1] if g else 0


def users(fs: GuestFS) -> list[User]:
    out = []
    for r in _rows(fs, PASSWD):
        if len(r) >= 7 and r[2].isdigit() and r[3].isdigit():
            out.append(User(r[0], int(r[2]), int(r[3]), r[4], r[5], r[6]))
    return out


def get_user(fs: GuestFS, name: str) -> User | None:
    return next((u for u in users(fs) if u.name == name), None)


def user_by_uid(fs: GuestFS, uid: int) -> User | None:
    return next((u for u in users(fs) if u.uid == uid), None)


def groups(fs: GuestFS) -> list[tuple[str, int, list[str]]]:
    return [
        (r[0], int(r[2]), [m for m in r[3].split(",") if m])
        for r in _rows(fs, GROUP)
        if len(r) >= 4 and r[2].isdigit()
    ]


def group_by_name(fs: GuestFS, name: str) -> tuple[str, int, list[str]] | None:
    return next((g for g in groups(fs) if g[0] == name), None)


def login_defs(fs: GuestFS) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in fs.read_text("/etc/login.defs", "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            out[parts[0]] = parts[1]
    return out


def _num(defs: dict[str, str], key: str, default: int) -> int:
    try:
        return int(defs.get(key, ""), 0)
    except ValueError:
        return default


def uid_min(fs: GuestFS) -> int:
    return _num(login_defs(fs), "UID_MIN", 1000)


def shadow_entry(fs: GuestFS, name: str) -> list[str] | None:
    return next((r for r in _rows(fs, SHADOW) if r[0] == name), None)


def useradd(
    fs: GuestFS,
    distro: Distro,
    name: str,
    *,
    now: float,
    create_home: bool = False,
    shell: str | None = None,
    extra_groups: list[str] | None = None,
    comment: str = "",
    home: str | None = None,
    password_hash: str | None = None,
    system: bool = False,
) -> User:
    if get_user(fs, name) is not None:
        raise AccountError(f"useradd: user '{name}' already exists", 9)
    if not name or name.startswith("-") or ":" in name or len(name) > 32:
        raise AccountError(f"useradd: invalid user name '{name}'", 3)
    known = {g[0]: g for g in groups(fs)}
    for g in extra_groups or []:
        if g not in known:
            raise AccountError(f"useradd: group '{g}' does not exist", 6)
    defs = login_defs(fs)
    lo, hi = (
        (_num(defs, "SYS_UID_MIN", 100), _num(defs, "SYS_UID_MAX", 999))
        if system
        else (_num(defs, "UID_MIN", 1000), _num(defs, "UID_MAX", 60000))
    )
    used_uids = {u.uid for u in users(fs)}
    used_gids = {g[1] for g in groups(fs)}
    candidates = range(hi, lo - 1, -1) if system else range(lo, hi + 1)
    uid = next(i for i in candidates if i not in used_uids and (i not in used_gids or name in known))
    gid = uid
    home = home or f"/home/{name}"
    shell = shell or ("/bin/sh" if distro.is_debian else "/bin/bash")
    day = str(int(now // 86400))

    passwd = _rows(fs, PASSWD)
    passwd.append([name, "x", str(uid), str(gid), comment, home, shell])
    _save(fs, PASSWD, passwd, now)
    shadow = _rows(fs, SHADOW)
    locked = "!" if distro.is_debian else "!!"
    shadow.append([name, password_hash or locked, day, "0", "99999", "7", "", "", ""])
    _save(fs, SHADOW, shadow, now)
    grp = _rows(fs, GROUP)
    gsh = _rows(fs, GSHADOW)
    for r in grp:
        if r[0] in (extra_groups or []):
            r[3] = ",".join([m for m in r[3].split(",") if m] + [name])
    for r in gsh:
        if r[0] in (extra_groups or []):
            r[3] = ",".join([m for m in r[3].split(",") if m] + [name])
    grp.append([name, "x", str(gid), ""])
    gsh.append([name, "!", "", ""])
    _save(fs, GROUP, grp, now)
    _save(fs, GSHADOW, gsh, now)
    if not system:
        for path in (SUBUID, SUBGID):
            rows = _rows(fs, path)
            start = max([int(r[1]) + int(r[2]) for r in rows if len(r) == 3] + [100000])
            rows.append([name, str(start), "65536"])
            _save(fs, path, rows, now)
    if create_home:
        _make_home(fs, distro, home, uid, gid, defs, now)
        if distro.family == "rhel":
            mail = _num(defs, "MAIL_GID", 12)
            fs.write(posixpath.join(distro.mail_dir, name), b"", 0o660, uid=uid, gid=mail, mtime=now)
    return User(name, uid, gid, comment, home, shell)


def _make_home(
    fs: GuestFS, distro: Distro, home: str, uid: int, gid: int, defs: dict[str, str], now: float
) -> None:
    fs.mkdir(home, _num(defs, "HOME_MODE", 0o755), uid=uid, gid=gid)
    skel = "/etc/skel"
    if not fs.is_dir(skel):
        return
    for path in fs.walk(skel):
        if path == skel:
            continue
        dest = home + path[len(skel) :]
        node = fs.stat(path)
        if node.kind == "d":
            fs.mkdir(dest, node.mode, uid=uid, gid=gid)
        elif node.kind == "f":
            fs.write(dest, node.data, node.mode, uid=uid, gid=gid, mtime=now)


def userdel(fs: GuestFS, distro: Distro, name: str, *, now: float, remove_home: bool = False) -> list[str]:
    """Delete the account; returns the warnings userdel prints. Raises AccountError when absent."""
    user = get_user(fs, name)
    if user is None:
        raise AccountError(f"userdel: user '{name}' does not exist", 6)
    warnings: list[str] = []
    _save(fs, PASSWD, [r for r in _rows(fs, PASSWD) if r[0] != name], now)
    _save(fs, SHADOW, [r for r in _rows(fs, SHADOW) if r[0] != name], now)
    for path in (GROUP, GSHADOW):
        rows = []
        for r in _rows(fs, path):
            if r[0] == name:
                continue
            if len(r) >= 4:
                r[3] = ",".join(m for m in r[3].split(",") if m and m != name)
            rows.append(r)
        _save(fs, path, rows, now)
    for path in (SUBUID, SUBGID):
        rows = _rows(fs, path)
        if any(r[0] == name for r in rows):
            _save(fs, path, [r for r in rows if r[0] != name], now)
    if remove_home:
        mail = posixpath.join(distro.mail_dir, name)
        if fs.exists(mail):
            fs.remove(mail)
        elif distro.is_debian:
            warnings.append(f"userdel: {name} mail spool ({mail}) not found")
        if fs.exists(user.home):
            fs.rmtree(user.home)
        else:
            warnings.append(f"userdel: {name} home directory ({user.home}) not found")
    return warnings


def set_password_hash(fs: GuestFS, name: str, password_hash: str, now: float) -> None:
    rows = _rows(fs, SHADOW)
    for r in rows:
        if r[0] == name:
            r[1] = password_hash
            r[2] = str(int(now // 86400))
    _save(fs, SHADOW, rows, now)


def lock_password(fs: GuestFS, name: str, now: float) -> bool:
    """``passwd -l``: prefix the hash with ``!``; False when the user has no shadow entry."""
    rows = _rows(fs, SHADOW)
    found = False
    for r in rows:
        if r[0] == name:
            found = True
            if not r[1].startswith("!"):
                r[1] = "!" + r[1]
    if found:
        _save(fs, SHADOW, rows, now)
    return found


def usermod(
    fs: GuestFS,
    name: str,
    *,
    now: float,
    shell: str | None = None,
    add_groups: list[str] | None = None,
    set_groups: list[str] | None = None,
    comment: str | None = None,
    password_hash: str | None = None,
    lock: bool = False,
    unlock: bool = False,
) -> None:
    if get_user(fs, name) is None:
        raise AccountError(f"usermod: user '{name}' does not exist", 6)
    wanted = add_groups or set_groups or []
    known = {g[0] for g in groups(fs)}
    for g in wanted:
        if g not in known:
            raise AccountError(f"usermod: group '{g}' does not exist", 6)
    if shell is not None or comment is not None:
        rows = _rows(fs, PASSWD)
        for r in rows:
            if r[0] == name:
                r[6] = shell if shell is not None else r[6]
                r[4] = comment if comment is not None else r[4]
        _save(fs, PASSWD, rows, now)
    if add_groups or set_groups is not None:
        for path in (GROUP, GSHADOW):
            rows = _rows(fs, path)
            for r in rows:
                members = [m for m in r[3].split(",") if m]
                if set_groups is not None and r[0] not in set_groups and name in members:
                    members.remove(name)
                if r[0] in wanted and name not in members:
                    members.append(name)
                r[3] = ",".join(members)
            _save(fs, path, rows, now)
    if password_hash is not None:
        set_password_hash(fs, name, password_hash, now)
    if lock:
        lock_password(fs, name, now)
    if unlock:
        rows = _rows(fs, SHADOW)
        for r in rows:
            if r[0] == name and r[1].startswith("!") and len(r[1]) > 1:
                r[1] = r[1][1:]
        _save(fs, SHADOW, rows, now)


def waagent_lock_root(fs: GuestFS, path: str = SHADOW) -> None:
    """waagent's ``del_root_password``: drop ``root:`` and insert ``root:*LOCK*:14600::::::`` first."""
    lines = [ln for ln in fs.read_text(path, "").splitlines() if not ln.startswith("root:")]
    old = fs.stat(path) if fs.exists(path) else None
    fs.write(
        path,
        "\n".join(["root:*LOCK*:14600::::::", *lines]) + "\n",
        old.mode if old else 0o640,
        uid=old.uid if old else 0,
        gid=old.gid if old else 0,
    )
