"""``RunShellScript``: the script lines run as root under bash, against the guest's files.

A small but honest shell: lists (``;``, newlines, ``&&``, ``||``), pipes, quotes, ``$VAR``/``${VAR}``/``$?``/
``$(...)`` expansion, globbing, redirections, ``set -e``, and the commands in :mod:`coreutils`,
:mod:`sysadmin`, :mod:`waagent` and :mod:`cloudinit`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azemu.guest.fs import FsError
from azemu.guest.linux import shparse
from azemu.guest.linux.distro import Distro, distro_of
from azemu.guest.machine import ExecContext, ExecResult, Guest

ERRNO_TEXT = {
    "ENOENT": "No such file or directory",
    "EEXIST": "File exists",
    "ENOTDIR": "Not a directory",
    "EISDIR": "Is a directory",
    "EPERM": "Operation not permitted",
    "ENOTEMPTY": "Directory not empty",
    "EACCES": "Permission denied",
}


def strerror(err: FsError) -> str:
    return ERRNO_TEXT.get(err.errno, err.errno)


class ShellExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Io:
    """One command's streams: stdin text in, stdout/stderr chunks out."""

    stdin: str = ""
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.out.append(text)

    def error(self, text: str) -> None:
        self.err.append(text if text.endswith("\n") else text + "\n")


CommandFn = Callable[["Shell", list[str], Io], int]
COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return deco


class Shell:
    def __init__(self, guest: Guest, ctx: ExecContext, env: dict[str, str]) -> None:
        self.guest = guest
        self.fs = guest.fs
        self.ctx = ctx
        self.distro: Distro = distro_of(guest.distro)
        self.env = env
        self.cwd = "/"
        self.rc = 0
        self.power: str | None = None
        self.line = 1
        self.errexit = False
        self.positional: list[str] = []
        self.state: dict[str, Any] = {}  # per-run scratch for commands (e.g. history)

    # paths -------------------------------------------------------------------------------------------
    def path(self, p: str) -> str:
        if p.startswith("~"):
            p = self.env.get("HOME", "/root") + p[1:]
        return posixpath.normpath(posixpath.join(self.cwd, p)) if p else self.cwd

    @property
    def now(self) -> float:
        return self.ctx.now

    def hostname(self) -> str:
        kernel = self.fs.read_text("/proc/sys/kernel/hostname", "").strip()
        return kernel or self.fs.read_text("/etc/hostname", "").strip() or "localhost"

    def bash_error(self, io: Io, text: str) -> None:
        io.error(f"bash: line {self.line}: {text}")

    # expansion ---------------------------------------------------------------------------------------
    def var(self, name: str) -> str:
        if name == "?":
            return str(self.rc)
        if name == "$":
            return "4242"
        if name == "#":
            return str(len(self.positional))
        if name == "0":
            return "bash"
        if name.isdigit():
            idx = int(name) - 1
            return self.positional[idx] if 0 <= idx < len(self.positional) else ""
        if name in ("@", "*"):
            return " ".join(self.positional)
        if name == "HOSTNAME" and "HOSTNAME" not in self.env:
            return self.hostname()
        if name == "PWD":
            return self.cwd
        return self.env.get(name, "")

    def _param(self, body: str) -> str:
        m = re.fullmatch(r"#(\w+)", body)
        if m:
            return str(len(self.var(m.group(1))))
        m = re.fullmatch(r"(\w+|[?#$@*])(:?[-=+?])(.*)", body, re.S)
        if m:
            name, op, word = m.groups()
            value = self.var(name)
            is_set = name in self.env or not name.isidentifier()
            empty = value == "" if op.startswith(":") else not is_set
            word = "".join(ch for ch, _q, _s in self._expand_chars(word, in_dquote=True))
            if op.endswith("-"):
                return word if empty else value
            if op.endswith("="):
                if empty:
                    self.env[name] = word
                    return word
                return value
            if op.endswith("+"):
                return "" if empty else word
            if empty:
                raise ShellExit(1)
            return value
        return self.var(body)

    def substitute(self, script: str) -> str:
        sub = Shell(self.guest, self.ctx, dict(self.env))
        sub.cwd, sub.rc, sub.line = self.cwd, self.rc, self.line
        io = Io()
        try:
            sub.run_script(script, io)
        except ShellExit:
            pass
        self.rc = sub.rc
        self.state["subst_ran"] = True
        self.power = self.power or sub.power
        self.state.setdefault("subst_err", []).extend(io.err)
        return "".join(io.out).rstrip("\n")

    def _expand_chars(self, raw: str, in_dquote: bool = False) -> list[tuple[str, bool, bool]]:
        """Chars of the expanded word as (char, quoted, splittable)."""
        out: list[tuple[str, bool, bool]] = []
        i, n = 0, len(raw)
        dq = in_dquote

        def emit(text: str, quoted: bool, split: bool) -> None:
            out.extend((ch, quoted, split) for ch in text)

        while i < n:
            c = raw[i]
            if c == "'" and not dq:
                end = raw.index("'", i + 1)
                emit(raw[i + 1 : end], True, False)
                if end == i + 1:
                    out.append(("", True, False))
                i = end + 1
            elif c == '"' and not in_dquote:
                dq = not dq
                if not dq and out and raw[i - 1] == '"':
                    out.append(("", True, False))
                i += 1
            elif c == "\\" and i + 1 < n:
                nxt = raw[i + 1]
                if dq and nxt not in '$`"\\\n':
                    emit("\\" + nxt, True, False)
                else:
                    emit(nxt, True, False)
                i += 2
            elif c == "$" and raw.startswith("$(", i) and not raw.startswith("$((", i):
                end = shparse._read_subst(raw, i + 2)
                emit(self.substitute(raw[i + 2 : end - 1]), dq, not dq)
                i = end
            elif c == "$" and raw.startswith("$((", i):
                end = raw.find("))", i)
                expr = re.sub(r"\$?([A-Za-z_]\w*)", lambda m: self.var(m.group(1)) or "0", raw[i + 3 : end])
                value = _arith(expr)
                emit(value, dq, not dq)
                i = end + 2
            elif c == "`":
                end = raw.index("`", i + 1)
                emit(self.substitute(raw[i + 1 : end]), dq, not dq)
                i = end + 1
            elif c == "$" and i + 1 < n and raw[i + 1] == "{":
                end = raw.index("}", i)
                emit(self._param(raw[i + 2 : end]), dq, not dq)
                i = end + 1
            elif c == "$" and i + 1 < n and (raw[i + 1] in "?$#@*" or raw[i + 1].isdigit()):
                emit(self.var(raw[i + 1]), dq, not dq)
                i += 2
            elif c == "$" and i + 1 < n and (raw[i + 1].isalpha() or raw[i + 1] == "_"):
                j = i + 1
                while j < n and (raw[j].isalnum() or raw[j] == "_"):
                    j += 1
                emit(self.var(raw[i + 1 : j]), dq, not dq)
                i = j
            elif c == "~" and i == 0 and not dq and (n == 1 or raw[1] == "/"):
                emit(self.env.get("HOME", "/root"), True, False)
                i += 1
            else:
                out.append((c, dq, False))
                i += 1
        return out

    def expand(self, raw: str) -> list[str]:
        """A raw word -> its fields after expansion, field splitting and globbing."""
        chars = self._expand_chars(raw)
        fields: list[list[tuple[str, bool, bool]]] = [[]]
        for ch, quoted, split in chars:
            if split and ch in " \t\n":
                if fields[-1]:
                    fields.append([])
                continue
            fields[-1].append((ch, quoted, split))
        result: list[str] = []
        for f in fields:
            if not f:
                continue
            text = "".join(ch for ch, _, _ in f)
            if any(not q and ch in "*?[" for ch, q, _ in f):
                pattern = self.path(text)
                matches = [
                    m
                    for m in self.fs.glob(pattern)
                    if not posixpath.basename(m).startswith(".")
                    or posixpath.basename(pattern).startswith(".")
                ]
                if matches:
                    rel = not text.startswith("/")
                    result.extend(posixpath.relpath(m, self.cwd) if rel else m for m in matches)
                    continue
            result.append(text)
        return result

    def expand_one(self, raw: str) -> str:
        return "".join(ch for ch, _, _ in self._expand_chars(raw))

    # execution ---------------------------------------------------------------------------------------
    def run_script(self, src: str, io: Io) -> int:
        try:
            lists = shparse.parse(src)
        except shparse.ParseError as e:
            self.line = e.line or self.line
            self.bash_error(io, str(e))
            self.rc = 2
            return 2
        return self.run_list(lists, io)

    def run_andor(self, andor: shparse.AndOr, io: Io) -> None:
        last_ran = False
        for idx, (conn, pipeline) in enumerate(andor.items):
            if (conn == "&&" and self.rc != 0) or (conn == "||" and self.rc == 0):
                last_ran = False
                continue
            self.run_pipeline(pipeline, io)
            last_ran = idx == len(andor.items) - 1 and not pipeline.negate
        if self.errexit and self.rc != 0 and last_ran:
            raise ShellExit(self.rc)

    def run_pipeline(self, pipeline: shparse.Pipeline, io: Io) -> None:
        data = io.stdin
        for i, cmd in enumerate(pipeline.commands):
            last = i == len(pipeline.commands) - 1
            sub = Io(stdin=data if i > 0 else io.stdin)
            if isinstance(cmd, shparse.Command):
                self.run_command(cmd, sub)
            else:
                self.run_compound(cmd, sub)
            io.err.extend(sub.err)
            if last:
                io.out.extend(sub.out)
            else:
                data = "".join(sub.out)
        if pipeline.negate:
            self.rc = 0 if self.rc else 1

    def run_list(self, lists: list[shparse.AndOr], io: Io) -> int:
        for andor in lists:
            self.run_andor(andor, io)
        return self.rc

    def _condition(self, lists: list[shparse.AndOr], io: Io) -> bool:
        saved, self.errexit = self.errexit, False  # set -e does not apply to conditions
        try:
            return self.run_list(lists, io) == 0
        finally:
            self.errexit = saved

    def run_compound(self, node: shparse.If | shparse.Loop, io: Io) -> None:
        if isinstance(node, shparse.If):
            for cond, body in node.branches:
                if self._condition(cond, io):
                    self.run_list(body, io)
                    return
            self.rc = 0
            if node.orelse:
                self.run_list(node.orelse, io)
            return
        status = 0
        if node.kind == "for":
            values = [v for w in node.words for v in (self.positional if w == '"$@"' else self.expand(w))]
            for value in values:
                self.env[node.var] = value
                status = self.run_list(node.body, io)
            self.rc = status
            return
        for _ in range(10_000):  # a guard against scripts that would spin forever
            ok = self._condition(node.cond, io)
            if ok != (node.kind == "while"):
                break
            status = self.run_list(node.body, io)
        else:
            self.bash_error(io, "loop ran 10000 times; stopped by the emulator")
        self.rc = status

    def _open_redirects(self, cmd: shparse.Command, io: Io) -> dict[int, tuple[str, str]] | None:
        """Resolve redirections into fd targets (``("term", "out"|"err")``, ``("file", path)``, ``("null", "")``)."""
        fds: dict[int, tuple[str, str]] = {1: ("term", "out"), 2: ("term", "err")}
        for op, raw in cmd.redirects:
            if op in ("<<", "<<'"):
                io.stdin = raw if op == "<<'" else "".join(ch for ch, _, _ in self._expand_chars(raw, True))
                continue
            if op == "2>&1":
                fds[2] = fds[1]
                continue
            if op in ("1>&2", ">&2"):
                fds[1] = fds[2]
                continue
            words = self.expand(raw)
            if len(words) != 1:
                self.bash_error(io, f"{raw}: ambiguous redirect")
                return None
            target = words[0]
            path = self.path(target)
            if op == "<":
                try:
                    io.stdin = self.fs.read_text(path)
                except FsError as e:
                    self.bash_error(io, f"{target}: {strerror(e)}")
                    return None
                continue
            if path == "/dev/null":
                spec = ("null", "")
            elif path in ("/dev/stdout", "/dev/stderr"):
                spec = ("term", path[5:].replace("stdout", "out").replace("stderr", "err"))
            else:
                if not self.fs.is_dir(posixpath.dirname(path)):
                    self.bash_error(io, f"{target}: No such file or directory")
                    return None
                if self.fs.is_dir(path):
                    self.bash_error(io, f"{target}: Is a directory")
                    return None
                if ">>" not in op or not self.fs.exists(path):
                    self.fs.write(path, b"", None if self.fs.is_file(path) else 0o644, mtime=self.now)
                spec = ("file", path)
            if op.startswith("&>"):
                fds[1] = fds[2] = spec
            elif op.startswith("2"):
                fds[2] = spec
            else:
                fds[1] = spec
        return fds

    def _route(self, chunks: list[str], spec: tuple[str, str], io: Io) -> None:
        if not chunks:
            return
        kind, where = spec
        if kind == "term":
            (io.out if where == "out" else io.err).extend(chunks)
        elif kind == "file":
            self.fs.write(where, "".join(chunks), append=True, mtime=self.now)

    def run_command(self, cmd: shparse.Command, io: Io) -> None:
        self.line = cmd.line
        self.state["subst_ran"] = False
        self.state["subst_err"] = []
        assigns = {}
        for a in cmd.assigns:
            name, _, value = a.partition("=")
            assigns[name] = self.expand_one(value)
        argv: list[str] = []
        for w in cmd.words:
            argv.extend(self.expand(w))
        io.err.extend(self.state["subst_err"])
        fds = self._open_redirects(cmd, io)
        if fds is None:
            self.rc = 1
            return
        if not argv:
            self.env.update(assigns)
            self.rc = self.rc if self.state["subst_ran"] else 0
            return
        inner = Io(stdin=io.stdin)
        saved = {k: self.env.get(k) for k in assigns}
        self.env.update(assigns)
        try:
            self.rc = self.dispatch(argv, inner)
        finally:
            for k, v in saved.items():
                if v is None:
                    self.env.pop(k, None)
                else:
                    self.env[k] = v
            self._route(inner.out, fds[1], io)
            self._route(inner.err, fds[2], io)

    def dispatch(self, argv: list[str], io: Io) -> int:
        name = argv[0]
        while name == "sudo" or (name == "command" and len(argv) > 1 and argv[1] != "-v"):
            argv = _strip_sudo(argv) if name == "sudo" else argv[1:]
            if not argv:
                return 0
            name = argv[0]
        base = posixpath.basename(name) if "/" in name else name
        fn = COMMANDS.get(base)
        if fn is not None and "/" in name and not _on_path(name):
            fn = None
        if fn is None:
            if "/" in name:
                path = self.path(name)
                if self.fs.is_file(path):
                    return self.run_file(path, argv[1:], io)
                self.bash_error(io, f"{name}: No such file or directory")
                return 127
            self.bash_error(io, f"{name}: command not found")
            return 127
        try:
            return fn(self, argv, io)
        except FsError as e:  # a path vanished under the command (e.g. the script removed its own cwd)
            io.error(f"{base}: {e.path}: {strerror(e)}")
            return 1

    def run_file(self, path: str, args: list[str], io: Io) -> int:
        node = self.fs.stat(path)
        if not node.mode & 0o111:
            self.bash_error(io, f"{path}: Permission denied")
            return 126
        sub = Shell(self.guest, self.ctx, dict(self.env))
        sub.cwd, sub.positional = self.cwd, args
        try:
            rc = sub.run_script(self.fs.read_text(path), io)
        except ShellExit as e:
            rc = e.code
        self.power = self.power or sub.power
        return rc


def _arith(expr: str) -> str:
    """``$(( ))`` on integers: digits, + - * / % and parentheses only."""
    if not re.fullmatch(r"[0-9+\-*/%() ]*", expr) or not expr.strip():
        return "0"
    try:
        return str(int(eval(expr.replace("/", "//"), {"__builtins__": {}}, {})))
    except (SyntaxError, ZeroDivisionError, ValueError):
        return "0"


_SUDO_OPTS_WITH_ARG = {"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U"}


def _strip_sudo(argv: list[str]) -> list[str]:
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            i += 1
            break
        i += 2 if argv[i] in _SUDO_OPTS_WITH_ARG else 1
    return argv[i:]


_BIN_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")


def _on_path(name: str) -> bool:
    return posixpath.dirname(posixpath.normpath(name)) in _BIN_DIRS


def run_shell(
    guest: Guest, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext, record: bool = True
) -> ExecResult:
    """Run ``lines`` as one bash script (as root); ``parameters`` become exported environment variables.

    ``record`` leaves the RunCommandLinux extension's traces in the guest (off for scripts the guest runs
    itself, such as cloud-init user-data).
    """
    from azemu.guest.linux import commands

    env = {
        "HOME": "/root",
        "USER": "root",
        "LOGNAME": "root",
        "SHELL": "/bin/bash",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    }
    for p in parameters or []:
        name = str(p.get("name", ""))
        if name:
            env[name] = str(p.get("value", ""))
    sh = Shell(guest, ctx, env)
    io = Io()
    script = "\n".join(lines)
    seq = commands.record_run_command(sh, script) if record else None
    try:
        rc = sh.run_script(script, io)
    except ShellExit as e:
        rc = e.code
    result = ExecResult(rc & 0xFF, "".join(io.out), "".join(io.err), power=sh.power)
    commands.finish_run_command(sh, seq, result.stdout, result.stderr, result.exit_code)
    return result
