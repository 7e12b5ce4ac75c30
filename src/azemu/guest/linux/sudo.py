"""``sudo`` for a user who is not root (an SSH session's user): the sudoers files decide.

As root, the interpreter drops ``sudo`` and runs the rest itself (Run Command runs as root). For anyone
else this command reads ``/etc/sudoers`` and its ``@includedir``/``#includedir`` directories: a rule for the
user or one of their groups lets the command run as root; ``NOPASSWD:`` lets it run without a password,
otherwise the password comes from standard input with ``-S`` (checked against ``/etc/shadow``) or sudo
fails as it does without a terminal. Environment: reset (``HOME``, ``USER``, ``LOGNAME``, ``secure_path``)
unless ``-E``.

On a terminal (the serial console) sudo asks for the password on it, three tries, and then trusts the user
for 15 minutes (its timestamp file under ``/run/sudo/ts``), as sudo's default ``timestamp_timeout`` does.
"""

from __future__ import annotations

import posixpath
import re

from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts
from azemu.guest.linux.sha512crypt import verify
from azemu.guest.linux.shcore import TTY_WAIT, Io, Shell, command

SUDOERS = "/etc/sudoers"
TS_DIR = "/run/sudo/ts"
TIMESTAMP_TIMEOUT = 15 * 60
_OPTS_WITH_ARG = {"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T"}
_SECURE_PATH = re.compile(r'^Defaults\s+secure_path\s*=\s*"?([^"\n]+)"?', re.M)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _files(fs: GuestFS, path: str = SUDOERS, depth: int = 0) -> list[str]:
    """The sudoers text, ``@includedir`` directories expanded (files with a ``.`` or ending ``~`` skipped)."""
    text = fs.read_text(path, "")
    out = [text]
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("@includedir", "#includedir") and depth < 4:
            if fs.is_dir(parts[1]):
                for name in fs.listdir(parts[1]):
                    if "." not in name and not name.endswith("~"):
                        out += _files(fs, posixpath.join(parts[1], name), depth + 1)
        elif len(parts) == 2 and parts[0] in ("@include", "#include") and depth < 4:
            out += _files(fs, parts[1], depth + 1)
    return out


def rules_for(fs: GuestFS, user: str) -> list[str]:
    """The command specifications of the rules that name ``user`` or one of the user's groups."""
    found = accounts.get_user(fs, user)
    groups = {g for g, gid, members in accounts.groups(fs) if user in members or (found and gid == found.gid)}
    out = []
    for text in _files(fs):
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", "Defaults", "@")):
                continue
            who, _, spec = line.partition(" ") if " " in line else line.partition("\t")
            who = who.strip()
            if who == user or (who.startswith("%") and who[1:] in groups):
                out.append(spec.strip())
    return out


def _secure_path(fs: GuestFS) -> str:
    for text in _files(fs):
        m = _SECURE_PATH.search(text)
        if m:
            return m.group(1).strip()
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _tty_password(sh: Shell, io: Io) -> bool:
    """Ask on the terminal (unless the user's timestamp is fresh): True once a typed password matches."""
    ts = posixpath.join(TS_DIR, sh.user)
    if sh.fs.is_file(ts) and sh.ctx.now - sh.fs.stat(ts).mtime < TIMESTAMP_TIMEOUT:
        return True
    entry = accounts.shadow_entry(sh.fs, sh.user)
    for attempt in range(3):
        io.err.append(f"[sudo] password for {sh.user}: ")
        line = io.inp.read_line()
        if line is None:
            io.err.append(TTY_WAIT)
            return False  # nothing typed yet: the terminal waits for it
        io.err.append("\n")
        if (
            entry is not None
            and len(entry) > 1
            and entry[1][:1] not in ("", "!", "*")
            and verify(line, entry[1])
        ):
            sh.fs.mkdir(TS_DIR, 0o700)
            sh.fs.write(ts, b"", 0o600, uid=0, gid=0, mtime=sh.ctx.now)
            return True
        if attempt < 2:
            io.err.append("Sorry, try again.\n")
    io.err.append("sudo: 3 incorrect password attempts\n")
    return False


@command("sudo")
def _sudo(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    keep_env = read_stdin = non_interactive = False
    target = "root"
    while args and args[0].startswith("-") and args[0] != "-":
        opt = args.pop(0)
        if opt == "--":
            break
        if opt in _OPTS_WITH_ARG:
            value = args.pop(0) if args else ""
            if opt == "-u":
                target = value
            continue
        keep_env = keep_env or "E" in opt or opt == "--preserve-env"
        read_stdin = read_stdin or "S" in opt[1:]
        non_interactive = non_interactive or "n" in opt[1:]
    if sh.user != "root" and accounts.get_user(sh.fs, sh.user) is None:
        # the session's user was deleted under it (waagent -deprovision+user in a build's own script)
        io.error("sudo: you do not exist in the passwd database")
        return 1
    rules = ["ALL=(ALL) NOPASSWD: ALL"] if sh.user == "root" else rules_for(sh.fs, sh.user)
    if not rules:
        io.error(f"{sh.user} is not in the sudoers file.  This incident will be reported.")
        return 1
    if not any("NOPASSWD" in r for r in rules) and sh.user != "root":
        if non_interactive:
            io.error("sudo: a password is required")
            return 1
        if sh.ctx.tty and not read_stdin:
            if not _tty_password(sh, io):
                return 1
        elif not read_stdin:
            io.error(
                "sudo: a terminal is required to read the password; either use the -S option to read from "
                "standard input or configure an askpass helper\nsudo: a password is required"
            )
            return 1
        line = io.inp.read_line() or ""
        entry = accounts.shadow_entry(sh.fs, sh.user)
        if entry is None or len(entry) < 2 or not verify(line, entry[1]):
            io.error(f"[sudo] password for {sh.user}: Sorry, try again.\nsudo: 1 incorrect password attempt")
            return 1
    sub = sh.fork()
    sub.user = target
    user = accounts.get_user(sh.fs, target)
    if not keep_env:
        home = user.home if user else "/root"
        for name, value in (
            ("HOME", home),
            ("USER", target),
            ("LOGNAME", target),
            ("PATH", _secure_path(sh.fs)),
        ):
            sub.set_var(name, value, export=True)
    while args and _ASSIGNMENT.match(args[0]):
        name, _, value = args.pop(0).partition("=")
        sub.set_var(name, value, export=True)
    if not args:
        io.error("usage: sudo -h | -K | -k | -V\nusage: sudo [-AbEHknPS] [-u user] command")
        return 1
    rc = sub.dispatch(args, io)
    sh.adopt(sub)
    return rc
