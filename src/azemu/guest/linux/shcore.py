"""The shell's state and the contracts between the interpreter and the commands.

Layering (no import cycles): command modules (builtins, coreutils, sysadmin, waagent, cloudinit, blockio)
import this module only; the interpreter (:mod:`shinterp`) imports this module and the parser; the entry
point (:mod:`shell`) imports both and registers the commands. A command that needs to run shell code
(``eval``, ``source``, ``bash -c``) asks the shell, which hands it to the interpreter it was built with
(:class:`Runner`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, Protocol

from azemu.guest.fs import FsError
from azemu.guest.linux.distro import Distro, distro_of
from azemu.guest.linux.shast import FuncDef
from azemu.guest.machine import ExecContext, Guest

ERRNO_TEXT = {
    "ENOENT": "No such file or directory",
    "EEXIST": "File exists",
    "ENOTDIR": "Not a directory",
    "EISDIR": "Is a directory",
    "EPERM": "Operation not permitted",
    "ENOTEMPTY": "Directory not empty",
    "EACCES": "Permission denied",
}
DEFAULT_IFS = " \t\n"
BASH_VERSION = "5.2.15(1)-release"


def strerror(err: FsError) -> str:
    return ERRNO_TEXT.get(err.errno, err.errno)


# control flow ----------------------------------------------------------------------------------------------
class ShellExit(Exception):
    """``exit N`` (or a fatal error such as ``set -u``): the shell process ends."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ShellAbort(Exception):
    """An expansion error (bad substitution, arithmetic error): bash abandons the current top-level command
    and goes on with the next one."""

    def __init__(self, status: int = 1) -> None:
        super().__init__(status)
        self.status = status


class ForkFailed(ShellAbort):
    """The run started more processes (subshells, pipeline stages, substitutions, children) than
    ``MAX_PROCESSES``: as bash when ``fork`` fails at the user's process limit, the command fails."""


MAX_PROCESSES = 4096  # per Run Command or SSH command: a fork bomb ends here instead of hanging azemu


class FunctionReturn(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class LoopControl(Exception):
    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind = kind  # "break" | "continue"
        self.levels = levels


# streams ---------------------------------------------------------------------------------------------------
class InStream:
    """A command's standard input: text read once, line by line (``read``) or all at once (``cat``)."""

    def __init__(self, data: str = "") -> None:
        self.data = data
        self.pos = 0

    def read_all(self) -> str:
        text = self.data[self.pos :]
        self.pos = len(self.data)
        return text

    def read_line(self, delim: str = "\n") -> str | None:
        """The next line without its delimiter; None at end of input (a last unterminated line is returned
        with ``partial`` semantics: see :meth:`read_record`)."""
        record = self.read_record(delim)
        return None if record is None else record[0]

    def read_record(self, delim: str = "\n") -> tuple[str, bool] | None:
        """(text, terminated) for the next record, None when nothing is left."""
        if self.pos >= len(self.data):
            return None
        end = self.data.find(delim, self.pos) if delim else -1
        if end < 0:
            text = self.data[self.pos :]
            self.pos = len(self.data)
            return text, False
        text = self.data[self.pos : end]
        self.pos = end + len(delim)
        return text, True


TTY_WAIT = "\x1f"  # written by a command right where it waits for its terminal (nothing after it is shown)


class TtyInput(InStream):
    """Standard input from a terminal: the lines typed so far. A read that finds nothing typed, while the
    terminal is not closed (Ctrl-D), marks the command as waiting for input (``wanted``) instead of an end of
    file, and remembers how much of the screen was written by then (``cut``: what came after is not shown)."""

    def __init__(self, data: str = "", *, closed: bool = False, screen: list[str] | None = None) -> None:
        super().__init__(data)
        self.closed = closed
        self.wanted = False
        self.cut = -1
        self.screen = screen if screen is not None else []

    def _wait(self) -> None:
        if self.pos >= len(self.data) and not self.closed and not self.wanted:
            self.wanted = True
            self.cut = sum(len(chunk) for chunk in self.screen)

    def read_all(self) -> str:
        self._wait()
        return super().read_all()

    def read_record(self, delim: str = "\n") -> tuple[str, bool] | None:
        self._wait()
        return super().read_record(delim)


class FileSink(list[str]):
    """An output stream that ``exec > file`` pointed at a file: every chunk is appended to it."""

    def __init__(self, sh: Shell, path: str) -> None:
        super().__init__()
        self.sh = sh
        self.path = path

    def append(self, text: str) -> None:
        self.sh.fs.write(self.path, text, append=True, mtime=self.sh.now)

    def extend(self, chunks: Any) -> None:
        for text in chunks:
            self.append(text)


class NullSink(list[str]):
    def append(self, text: str) -> None:
        pass

    def extend(self, chunks: Any) -> None:
        pass


class Io:
    """One command's streams: stdin in, stdout/stderr chunks out."""

    def __init__(self, stdin: str | InStream = "") -> None:
        self.inp = stdin if isinstance(stdin, InStream) else InStream(stdin)
        self.out: list[str] = []
        self.err: list[str] = []

    @property
    def stdin(self) -> str:
        """The rest of standard input (reading consumes it, as reading a pipe does)."""
        return self.inp.read_all()

    def write(self, text: str) -> None:
        self.out.append(text)

    def error(self, text: str) -> None:
        self.err.append(text if text.endswith("\n") else text + "\n")


# commands --------------------------------------------------------------------------------------------------
CommandFn = Callable[["Shell", list[str], Io], int]
COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return deco


class Runner(Protocol):
    """What the interpreter offers the commands (the shell forwards to it)."""

    def run_script(self, sh: Shell, src: str, io: Io, *, top: bool = False) -> int: ...

    def dispatch(self, sh: Shell, argv: list[str], io: Io) -> int: ...


# the shell -------------------------------------------------------------------------------------------------
class Shell:
    def __init__(
        self,
        guest: Guest,
        ctx: ExecContext,
        env: dict[str, str],
        runner: Runner,
        exported: set[str] | None = None,
    ) -> None:
        self.guest = guest
        self.fs = guest.fs
        self.ctx = ctx
        self.distro: Distro = distro_of(guest.distro)
        self.runner = runner
        self.env = env  # every shell variable (scalars)
        self.exported: set[str] = set(env) if exported is None else exported
        self.arrays: dict[str, dict[int, str]] = {}  # indexed arrays (sparse, as in bash)
        self.readonly: set[str] = set()
        self.functions: dict[str, FuncDef] = {}
        self.cwd = "/"
        self.rc = 0
        self.line = 1
        self.positional: list[str] = []
        self.script_name = "bash"
        # options
        self.errexit = False
        self.nounset = False
        self.pipefail = False
        self.xtrace = False
        self.noglob = False
        # where we are
        self.cond_depth = 0  # inside an if/while condition, or a && || list: set -e does not apply
        self.loop_depth = 0
        self.func_depth = 0
        self.source_depth = 0
        self.depth = 0  # nested functions, subshells, substitutions, eval, source (a recursion guard)
        self.funcnames: list[str] = []
        self.frames: list[dict[str, tuple[str | None, bool]]] = []  # `local`: name -> (old value, exported)
        self.traps: dict[str, str] = {}  # "EXIT" -> the command trap set
        self.power: str | None = None
        self.state: dict[str, Any] = {}  # per-run scratch shared by subshells (e.g. stopped services)
        self.user = "root"  # who runs it: an SSH session's user until ``sudo`` (see :mod:`sudo`)

    # processes ---------------------------------------------------------------------------------------
    def fork(self) -> Shell:
        """A subshell: a copy of everything; changes stay inside it (files are shared, being the disk)."""
        self._count_process()
        sub = Shell(self.guest, self.ctx, dict(self.env), self.runner, set(self.exported))
        sub.arrays = {k: dict(v) for k, v in self.arrays.items()}
        sub.readonly = set(self.readonly)
        sub.functions = dict(self.functions)
        sub.cwd, sub.rc, sub.line = self.cwd, self.rc, self.line
        sub.positional = list(self.positional)
        sub.script_name = self.script_name
        sub.errexit, sub.nounset, sub.pipefail = self.errexit, self.nounset, self.pipefail
        sub.xtrace, sub.noglob = self.xtrace, self.noglob
        sub.cond_depth, sub.loop_depth, sub.func_depth = self.cond_depth, 0, self.func_depth
        sub.source_depth, sub.depth = self.source_depth, self.depth + 1
        sub.funcnames = list(self.funcnames)
        sub.state = self.state
        sub.user = self.user
        return sub

    def child(self) -> Shell:
        """A new bash process: exported variables only, no functions, default options."""
        self._count_process()
        env = {k: v for k, v in self.env.items() if k in self.exported}
        sub = Shell(self.guest, self.ctx, env, self.runner)
        sub.cwd, sub.depth, sub.state = self.cwd, self.depth + 1, self.state
        sub.user = self.user
        return sub

    def _count_process(self) -> None:
        started = int(self.state.get("processes", 0)) + 1
        self.state["processes"] = started
        if started > MAX_PROCESSES:
            raise ForkFailed(254)

    def adopt(self, sub: Shell) -> None:
        """Effects of a finished subshell or child that outlive it."""
        self.power = self.power or sub.power

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

    # variables ---------------------------------------------------------------------------------------
    def get_var(self, name: str) -> str | None:
        """A variable's value, None when unset (special parameters included)."""
        if name in self.env:
            return self.env[name]
        if name in self.arrays:
            return self.arrays[name].get(0)
        return None

    def set_var(self, name: str, value: str, export: bool = False) -> None:
        if name in self.readonly:
            raise ReadonlyError(name)
        if name in self.arrays:
            self.arrays[name][0] = value
            return
        self.env[name] = value
        if export:
            self.exported.add(name)

    def unset_var(self, name: str) -> None:
        if name in self.readonly:
            raise ReadonlyError(name)
        self.env.pop(name, None)
        self.arrays.pop(name, None)
        self.exported.discard(name)

    # arrays ------------------------------------------------------------------------------------------
    def array_values(self, name: str) -> list[str]:
        arr = self.arrays.get(name)
        if arr is None:
            value = self.env.get(name)
            return [] if value is None else [value]
        return [arr[k] for k in sorted(arr)]

    def array_indices(self, name: str) -> list[int]:
        arr = self.arrays.get(name)
        if arr is None:
            return [0] if name in self.env else []
        return sorted(arr)

    def _array(self, name: str) -> dict[int, str]:
        if name in self.readonly:
            raise ReadonlyError(name)
        arr = self.arrays.get(name)
        if arr is None:
            arr = self.arrays[name] = {0: self.env.pop(name)} if name in self.env else {}
        return arr

    def set_array(self, name: str, values: list[str], append: bool = False) -> None:
        arr = self._array(name)
        if not append:
            arr.clear()
        start = max(arr) + 1 if arr else 0
        for k, v in enumerate(values):
            arr[start + k] = v

    def element_index(self, name: str, idx: int) -> int | None:
        """A negative subscript counts back from the end; None when it points before the start."""
        if idx >= 0:
            return idx
        arr = self.arrays.get(name)
        top = (max(arr) + 1 if arr else 0) if arr is not None else (1 if name in self.env else 0)
        return idx + top if idx + top >= 0 else None

    def get_element(self, name: str, idx: int) -> str | None:
        i = self.element_index(name, idx)
        if i is None:
            return None
        arr = self.arrays.get(name)
        if arr is None:
            return self.env.get(name) if i == 0 else None
        return arr.get(i)

    def set_element(self, name: str, idx: int, value: str, append: bool = False) -> bool:
        i = self.element_index(name, idx)
        if i is None:
            return False
        arr = self._array(name)
        arr[i] = (arr.get(i, "") + value) if append else value
        return True

    def unset_element(self, name: str, idx: int) -> None:
        i = self.element_index(name, idx)
        if i is not None and name in self.arrays:
            self.arrays[name].pop(i, None)

    def declare_local(self, name: str) -> None:
        """Remember the variable's outer value so the function's return restores it."""
        frame = self.frames[-1]
        if name not in frame:
            frame[name] = (self.env.get(name), name in self.exported)

    # running code ------------------------------------------------------------------------------------
    def run_script(self, src: str, io: Io) -> int:
        """Run ``src`` in this shell (``eval``, ``source``)."""
        return self.runner.run_script(self, src, io)

    def dispatch(self, argv: list[str], io: Io) -> int:
        return self.runner.dispatch(self, argv, io)

    def run_child(self, src: str, args: list[str], io: Io, name: str = "bash", errexit: bool = False) -> int:
        """A new bash process running ``src`` with positional parameters ``args``."""
        sub = self.child()
        sub.positional, sub.script_name, sub.errexit = list(args), name, errexit
        rc = sub.run_top(src, io)
        self.adopt(sub)
        return rc

    def run_top(self, src: str, io: Io) -> int:
        """Run a whole script in this shell as its process, then its EXIT trap; returns the exit status."""
        try:
            rc = self.runner.run_script(self, src, io, top=True)
        except ShellExit as e:
            rc = e.code
        trap = self.traps.pop("EXIT", None)
        if trap is not None:
            self.rc = rc & 0xFF
            try:
                self.runner.run_script(self, trap, io, top=True)
            except ShellExit as e:
                rc = e.code
        return rc & 0xFF

    def run_file(self, path: str, args: list[str], io: Io) -> int:
        """Execute a script file (``./setup.sh``): it must be executable."""
        node = self.fs.stat(path)
        if not node.mode & 0o111:
            self.bash_error(io, f"{path}: Permission denied")
            return 126
        src = self.fs.read_text(path)
        # the kernel hands the interpreter the shebang's option (``#!/bin/sh -e``, ``#!/bin/bash -ex``)
        first = src.split("\n", 1)[0]
        opts = first[2:].split()[1:] if first.startswith("#!") else []
        flags = "".join(o[1:] for o in opts if o.startswith("-") and not o.startswith("--"))
        sub = self.child()
        sub.positional, sub.script_name, sub.errexit = list(args), path, "e" in flags
        sub.xtrace = "x" in flags
        rc = sub.run_top(src, io)
        self.adopt(sub)
        return rc


class ReadonlyError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name
