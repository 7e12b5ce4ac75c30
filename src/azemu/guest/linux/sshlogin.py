"""What the guest's OpenSSH server decides, read from the guest's own files: who may log in and how
(``sshd_config`` with its ``Include``\\ s, ``AuthorizedKeysFile``, ``/etc/shadow``), which host keys it
presents (``/etc/ssh/ssh_host_*_key``), and a login session's command, run as that user by bash.

Pure functions over a :class:`~azemu.guest.machine.Guest`; the SSH protocol itself is not here.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from azemu.guest.fs import FsError, GuestFS
from azemu.guest.linux import accounts, commands
from azemu.guest.linux.sha512crypt import verify
from azemu.guest.linux.shcore import COMMANDS, TTY_WAIT, Io, Shell, TtyInput
from azemu.guest.linux.shinterp import INTERPRETER
from azemu.guest.machine import ExecContext, ExecResult, Guest

assert commands.MODULES and COMMANDS  # the commands are registered

SSHD_CONFIG = "/etc/ssh/sshd_config"
USER_PATH = (
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin"
)
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")


@dataclass(frozen=True)
class LoginUser:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


# sshd_config --------------------------------------------------------------------------------------------
def _config_lines(fs: GuestFS, path: str, depth: int = 0) -> list[tuple[str, str]]:
    """(keyword lower-cased, value) in the order sshd reads them, ``Include`` expanded in place."""
    out: list[tuple[str, str]] = []
    for raw in fs.read_text(path, "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ") if " " in line else line.partition("\t")
        key, value = key.strip().lower(), value.strip()
        if key == "match":
            break  # conditional blocks: azemu's guests have none that apply to a login
        if key == "include" and depth < 8:
            for pattern in value.split():
                full = pattern if pattern.startswith("/") else posixpath.join("/etc/ssh", pattern)
                for included in fs.glob(full):
                    out += _config_lines(fs, included, depth + 1)
            continue
        out.append((key, value))
    return out


def sshd_option(fs: GuestFS, name: str, default: str) -> str:
    """An ``sshd_config`` option's value: for most keywords the first one obtained wins (as in sshd)."""
    wanted = name.lower()
    for key, value in _config_lines(fs, SSHD_CONFIG):
        if key == wanted:
            return value
    return default


# who may log in ------------------------------------------------------------------------------------------
def login_user(guest: Guest, name: str) -> LoginUser | None:
    """The account ``name`` if it exists and has a login shell (root only where PermitRootLogin allows)."""
    user = accounts.get_user(guest.fs, name)
    if user is None or user.shell in _NOLOGIN:
        return None
    if user.uid == 0 and sshd_option(guest.fs, "PermitRootLogin", "prohibit-password") == "no":
        return None
    return LoginUser(user.name, user.uid, user.gid, user.home, user.shell or "/bin/sh")


def _key_id(line: str) -> tuple[str, str] | None:
    """(type, base64 blob) of an ``authorized_keys`` line or a public key line; options are skipped."""
    parts = line.split()
    for i, part in enumerate(parts):
        if part.startswith(("ssh-", "ecdsa-sha2-", "sk-")) and i + 1 < len(parts):
            return part, parts[i + 1]
    return None


def authorized_keys_files(guest: Guest, user: LoginUser) -> list[str]:
    spec = sshd_option(guest.fs, "AuthorizedKeysFile", ".ssh/authorized_keys .ssh/authorized_keys2")
    out = []
    for item in spec.split():
        path = item.replace("%h", user.home).replace("%u", user.name).replace("%%", "%")
        out.append(path if path.startswith("/") else posixpath.join(user.home, path))
    return out


def key_allowed(guest: Guest, name: str, public_key: str) -> bool:
    """Whether ``public_key`` (``<type> <base64> [comment]``) is among the user's authorized keys."""
    user = login_user(guest, name)
    wanted = _key_id(public_key)
    if user is None or wanted is None:
        return False
    if sshd_option(guest.fs, "PubkeyAuthentication", "yes").lower() == "no":
        return False
    for path in authorized_keys_files(guest, user):
        for line in guest.fs.read_text(path, "").splitlines():
            if line.strip() and not line.lstrip().startswith("#") and _key_id(line) == wanted:
                return True
    return False


def password_allowed(guest: Guest) -> bool:
    return sshd_option(guest.fs, "PasswordAuthentication", "yes").lower() == "yes"


def password_ok(guest: Guest, name: str, password: str) -> bool:
    """``PasswordAuthentication yes`` and the password matches the user's (unlocked) shadow hash."""
    user = login_user(guest, name)
    if user is None or not password_allowed(guest):
        return False
    entry = accounts.shadow_entry(guest.fs, name)
    if entry is None or len(entry) < 2:
        return False
    hashed = entry[1]
    if not hashed or hashed.startswith(("!", "*")):
        return False
    try:
        return verify(password, hashed)
    except ValueError:
        return False


def host_keys(guest: Guest) -> list[bytes]:
    """The private host keys sshd would load (OpenSSH format), in ``HostKey`` order or the default order."""
    configured = [v for k, v in _config_lines(guest.fs, SSHD_CONFIG) if k == "hostkey"]
    paths = configured or [f"/etc/ssh/ssh_host_{t}_key" for t in ("rsa", "ecdsa", "ed25519")]
    out = []
    for path in paths:
        try:
            out.append(guest.fs.read(path))
        except FsError:
            continue
    return out


# a session -----------------------------------------------------------------------------------------------
def session_env(user: LoginUser, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "HOME": user.home,
        "USER": user.name,
        "LOGNAME": user.name,
        "SHELL": user.shell,
        "PATH": ROOT_PATH if user.uid == 0 else USER_PATH,
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def run_command(
    guest: Guest, user: LoginUser, command: str, stdin: str, ctx: ExecContext, extra_env: dict[str, str]
) -> ExecResult:
    """``$SHELL -c command`` as ``user``, in their home directory (``/`` when it is gone), as sshd runs an
    exec request; ``sudo`` inside is checked against the sudoers files."""
    env = session_env(user, extra_env)
    sh = Shell(guest, ctx, env, INTERPRETER)
    sh.user = user.name
    sh.cwd = user.home if guest.fs.is_dir(user.home) else "/"
    sh.env["PWD"] = sh.cwd
    sh.script_name = posixpath.basename(user.shell) or "bash"
    io = Io(stdin)
    out, err = io.out, io.err
    rc = sh.run_top(command, io)
    return ExecResult(rc, "".join(out), "".join(err), power=sh.power)


def run_terminal(
    guest: Guest,
    user: LoginUser,
    command: str,
    typed: str,
    closed: bool,
    ctx: ExecContext,
    extra_env: dict[str, str],
) -> ExecResult:
    """``command`` typed at a login shell on a terminal (the serial console): ``typed`` is what the user
    entered since, one line each; output and errors are one stream, as on a screen. A command that reads past
    ``typed`` (a prompt: ``sudo``'s password, ``waagent``'s y/n) answers ``wants_input``."""
    env = session_env(user, {"TERM": "vt220", **extra_env})
    sh = Shell(guest, ctx, env, INTERPRETER)
    sh.user = user.name
    sh.cwd = user.home if guest.fs.is_dir(user.home) else "/"
    sh.env["PWD"] = sh.cwd
    sh.script_name = posixpath.basename(user.shell) or "bash"
    io = Io()
    io.err = io.out  # one screen
    out = io.out
    inp = io.inp = TtyInput(typed, closed=closed, screen=out)
    rc = sh.run_top(command, io)
    text = "".join(out)
    if inp.wanted:  # what it would do after that read is not shown: it runs again with the answer
        end = text.find(TTY_WAIT)
        return ExecResult(rc, text[: end if end >= 0 else inp.cut], "", wants_input=True)
    return ExecResult(rc, text.replace(TTY_WAIT, ""), "", power=sh.power)


def login_password_ok(guest: Guest, name: str, password: str) -> bool:
    """``login`` on a console: the password matches the user's unlocked shadow hash (sshd's settings play no
    part)."""
    if login_user(guest, name) is None:
        return False
    entry = accounts.shadow_entry(guest.fs, name)
    if entry is None or len(entry) < 2 or not entry[1] or entry[1].startswith(("!", "*")):
        return False
    try:
        return verify(password, entry[1])
    except ValueError:
        return False


def session_user(guest: Guest, name: str, uid: int, gid: int, home: str, shell: str) -> LoginUser:
    """The identity a session keeps after its account is gone (``waagent -deprovision+user`` mid-session:
    the processes keep running as that uid, as they do on a real VM)."""
    found = login_user(guest, name)
    return found or LoginUser(name, uid, gid, home, shell)


# files, as the session's user sees them (SFTP and scp) -----------------------------------------------------
def _groups_of(fs: GuestFS, user: LoginUser) -> set[int]:
    return {user.gid} | {gid for name, gid, members in accounts.groups(fs) if user.name in members}


def _allowed(fs: GuestFS, user: LoginUser, path: str, bit: int) -> bool:
    """POSIX permission check: ``bit`` is 4 (read), 2 (write) or 1 (execute/search)."""
    if user.uid == 0:
        return True
    node = fs.stat(path)
    if node.uid == user.uid:
        return bool(node.mode & (bit << 6))
    if node.gid in _groups_of(fs, user):
        return bool(node.mode & (bit << 3))
    return bool(node.mode & bit)


def _check_parent(fs: GuestFS, user: LoginUser, path: str) -> str:
    p = fs.norm(path)
    parent = posixpath.dirname(p)
    if not fs.exists(parent):
        raise FsError("ENOENT", parent)
    if not fs.is_dir(parent):
        raise FsError("ENOTDIR", parent)
    if not _allowed(fs, user, parent, 2) or not _allowed(fs, user, parent, 1):
        raise FsError("EACCES", path)
    return p


def read_file(guest: Guest, user: LoginUser, path: str) -> bytes:
    fs = guest.fs
    if fs.is_dir(path):
        raise FsError("EISDIR", path)
    if not fs.exists(path):
        raise FsError("ENOENT", path)
    if not _allowed(fs, user, path, 4):
        raise FsError("EACCES", path)
    return fs.read(path)


def write_file(guest: Guest, user: LoginUser, path: str, data: bytes, mode: int | None, now: float) -> None:
    """Create or replace a file as ``user`` (owned by them when new; mode as given, less umask 022)."""
    fs = guest.fs
    if fs.is_file(path):
        if not _allowed(fs, user, path, 2):
            raise FsError("EACCES", path)
        fs.write(path, data, mode & 0o7777 if mode is not None else None, mtime=now)
        return
    p = _check_parent(fs, user, path)
    fs.write(p, data, (mode if mode is not None else 0o666) & 0o7755, uid=user.uid, gid=user.gid, mtime=now)


def make_dir(guest: Guest, user: LoginUser, path: str, mode: int | None) -> None:
    fs = guest.fs
    if fs.exists(path):
        raise FsError("EEXIST", path)
    p = _check_parent(fs, user, path)
    fs.mkdir(p, (mode if mode is not None else 0o777) & 0o7755, parents=False, uid=user.uid, gid=user.gid)


def remove(guest: Guest, user: LoginUser, path: str, *, directory: bool) -> None:
    fs = guest.fs
    if not fs.exists(path) and not fs.is_symlink(path):
        raise FsError("ENOENT", path)
    _check_parent(fs, user, path)
    if directory:
        if not fs.is_dir(path):
            raise FsError("ENOTDIR", path)
        if fs.listdir(path):
            raise FsError("ENOTEMPTY", path)
        fs.rmtree(path)
    else:
        fs.remove(path)


def rename(guest: Guest, user: LoginUser, old: str, new: str, now: float) -> None:
    fs = guest.fs
    if not fs.exists(old):
        raise FsError("ENOENT", old)
    _check_parent(fs, user, old)
    target = _check_parent(fs, user, new)
    if fs.is_dir(old):
        for sub in fs.walk(old):
            rel = posixpath.relpath(sub, fs.norm(old))
            dest = target if rel == "." else posixpath.join(target, rel)
            node = fs.stat(sub)
            if node.kind == "d":
                fs.mkdir(dest, node.mode, uid=node.uid, gid=node.gid)
            else:
                fs.write(dest, node.data, node.mode, uid=node.uid, gid=node.gid, mtime=node.mtime or now)
        fs.rmtree(old)
        return
    node = fs.stat(old)
    fs.write(target, node.data, node.mode, uid=node.uid, gid=node.gid, mtime=node.mtime or now)
    fs.remove(old)


def set_attrs(guest: Guest, user: LoginUser, path: str, mode: int | None, mtime: float | None) -> None:
    fs = guest.fs
    node = fs.stat(path)
    if user.uid not in (0, node.uid):
        raise FsError("EPERM", path)
    if mode is not None:
        node.mode = mode & 0o7777
    if mtime is not None:
        node.mtime = mtime
