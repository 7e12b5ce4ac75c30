"""Runs :mod:`shast` trees: lists, ``&&``/``||``, pipelines (each part in a subshell), simple commands
(assignments, redirections, functions, builtins, programs), and the compound commands (``if``, loops,
``case``, subshells, groups, ``(( ))``, ``[[ ]]``, functions), with ``set -e``/``-u``/``-o pipefail``/``-x``.

:data:`INTERPRETER` is the :class:`~azemu.guest.linux.shcore.Runner` every shell is built with.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable

from azemu.guest.fs import FsError
from azemu.guest.linux import sharith, shpattern, shtest
from azemu.guest.linux.shast import (
    AndOr,
    Arith,
    ArithFor,
    Body,
    Case,
    Command,
    Cond,
    CondAndOr,
    CondBinary,
    CondNode,
    CondNot,
    CondUnary,
    CondWord,
    For,
    FuncDef,
    Group,
    If,
    Pipeline,
    Redirect,
    Simple,
    Subshell,
    While,
)
from azemu.guest.linux.shcore import (
    COMMANDS,
    FileSink,
    ForkFailed,
    FunctionReturn,
    InStream,
    Io,
    LoopControl,
    NullSink,
    ReadonlyError,
    Shell,
    ShellAbort,
    ShellExit,
    strerror,
)
from azemu.guest.linux.shexpand import Expander
from azemu.guest.linux.shparse import ParseError, Parser, is_assignment
from azemu.guest.linux.shscan import Scanner

MAX_FUNC_DEPTH = 40  # bash has no default limit; deeper recursion would exhaust the emulator's stack
MAX_DEPTH = 48  # functions, subshells, substitutions, eval and source nested inside each other
MAX_LOOP = 10_000  # a guard against scripts that would spin forever
_SUDO_OPTS_WITH_ARG = {"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U"}
_BIN_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")

Fd = tuple[str, str]  # ("out" | "err" | "null" | "file", path)


class Interpreter:
    # scripts -----------------------------------------------------------------------------------------
    def run_script(self, sh: Shell, src: str, io: Io, *, top: bool = False) -> int:
        """Run ``src`` command by command. ``top``: this is a whole shell process (the script, ``bash -c``,
        a subshell or substitution): an expansion error drops the current command and the run goes on,
        a syntax error ends the process. Otherwise (``eval``, ``source``) errors go up to the caller."""
        if sh.depth > MAX_DEPTH:
            sh.bash_error(io, "nesting too deep for the emulator (functions, subshells, eval, source)")
            if top:
                raise ShellExit(1)
            raise ShellAbort(1)
        parser = Parser(src)
        sh.depth += 1
        try:
            while True:
                try:
                    body = parser.next_command()
                except ParseError as e:
                    self._warnings(sh, parser.sc, io)
                    sh.line = e.line
                    sh.bash_error(io, e.message)
                    if e.echo is not None:
                        sh.bash_error(io, f"`{e.echo}'")
                    status = sh.rc if e.keep_status else 2
                    if top:
                        raise ShellExit(status) from None
                    sh.rc = status
                    return status
                self._warnings(sh, parser.sc, io)
                if body is None:
                    return sh.rc
                if not top:
                    self.run_body(sh, body, io)
                    continue
                try:
                    self.run_body(sh, body, io)
                except ShellAbort as a:
                    if isinstance(a, ForkFailed) and not sh.state.get("fork_reported"):
                        sh.state["fork_reported"] = True
                        sh.bash_error(io, "fork: retry: Resource temporarily unavailable")
                    sh.rc = a.status
                except (FunctionReturn, LoopControl):
                    pass
        except RecursionError:
            sh.bash_error(io, "nesting too deep for the emulator")
            raise ShellExit(2) from None
        finally:
            sh.depth -= 1

    def _warnings(self, sh: Shell, sc: Scanner, io: Io) -> None:
        for line, text in sc.warnings:
            io.error(f"bash: line {line}: {text}")
        sc.warnings.clear()

    def run_body(self, sh: Shell, body: Body, io: Io) -> int:
        for node in body:
            self.run_and_or(sh, node, io)
        return sh.rc

    def run_and_or(self, sh: Shell, node: AndOr, io: Io) -> None:
        if node.background:  # ``cmd &``: long-running commands start and return (loadcmds.py)
            sh.state["background"] = int(sh.state.get("background", 0)) + 1
            try:
                self._run_and_or(sh, node, io)
            finally:
                sh.state["background"] -= 1
            sh.rc = 0
            return
        self._run_and_or(sh, node, io)

    def _run_and_or(self, sh: Shell, node: AndOr, io: Io) -> None:
        items: list[tuple[str, Pipeline]] = [(";", node.first), *node.rest]
        for k, (op, pipeline) in enumerate(items):
            if (op == "&&" and sh.rc != 0) or (op == "||" and sh.rc == 0):
                continue
            last = k == len(items) - 1
            guarded = not last or pipeline.negate
            if guarded:
                sh.cond_depth += 1
            try:
                self.run_pipeline(sh, pipeline, io)
            finally:
                if guarded:
                    sh.cond_depth -= 1
            if last and not pipeline.negate and sh.errexit and sh.cond_depth == 0 and sh.rc != 0:
                raise ShellExit(sh.rc)

    def run_pipeline(self, sh: Shell, p: Pipeline, io: Io) -> None:
        if len(p.commands) == 1:
            self.run_command(sh, p.commands[0], io)
        else:
            statuses: list[int] = []
            data: str | None = None
            for k, cmd in enumerate(p.commands):
                sub = sh.fork()
                sub_io = Io(io.inp if data is None else InStream(data))
                statuses.append(self.run_isolated(sub, functools.partial(self._run_in, cmd), sub_io))
                sh.adopt(sub)
                io.err.extend(sub_io.err)
                if k == len(p.commands) - 1:
                    io.out.extend(sub_io.out)
                else:
                    data = "".join(sub_io.out)
            failed = [s for s in statuses if s != 0]
            sh.rc = failed[-1] if sh.pipefail and failed else statuses[-1]
        if p.negate:
            sh.rc = 0 if sh.rc else 1

    def _run_in(self, cmd: Command, sub: Shell, io: Io) -> None:
        self.run_command(sub, cmd, io)

    def run_isolated(self, sub: Shell, fn: Callable[[Shell, Io], object], io: Io) -> int:
        """Run fn in a subshell process: exit, errors and loop control end there."""
        try:
            fn(sub, io)
            return sub.rc & 0xFF
        except ShellExit as e:
            return e.code & 0xFF
        except ShellAbort as a:
            return a.status
        except FunctionReturn as r:
            return r.code & 0xFF
        except LoopControl:
            return sub.rc & 0xFF

    # commands ----------------------------------------------------------------------------------------
    def run_command(self, sh: Shell, cmd: Command, io: Io) -> None:
        if isinstance(cmd, Simple):
            self.run_simple(sh, cmd, io)
        elif isinstance(cmd, FuncDef):
            sh.functions[cmd.name] = cmd
            sh.rc = 0
        else:
            sh.line = cmd.line
            self.with_redirects(sh, cmd.redirects, io, lambda inner: self.run_compound(sh, cmd, inner))

    def run_simple(self, sh: Shell, cmd: Simple, io: Io) -> None:
        sh.line = cmd.line
        x = Expander(sh)
        try:
            argv = [f for w in cmd.words for f in x.fields(w)]
            if not argv:
                for a in cmd.assigns:
                    self.assign(sh, a, x)
                status = x.subst_status if x.subst_status is not None else 0
                if sh.xtrace and cmd.assigns:
                    io.error(self._trace(sh, cmd.assigns))
                if cmd.redirects and self.open_redirects(sh, cmd.redirects, io, x) is None:
                    status = 1
                sh.rc = status
                return
            opened = self.open_redirects(sh, cmd.redirects, io, x)
            if opened is None:
                sh.rc = 1
                return
            prefix = [(a, x.assignment(a.split("=", 1)[1])) for a in cmd.assigns]
        finally:
            io.err.extend(x.err)
            x.err.clear()
        stdin, fds = opened
        if argv[0] == "exec" and len(argv) == 1:
            self._exec_redirects(sh, io, stdin, fds)
            sh.rc = 0
            return
        if sh.xtrace:
            io.error(self._trace(sh, [f"{a.split('=', 1)[0]}={v}" for a, v in prefix] + argv))
        inner = Io(stdin if stdin is not None else io.inp)
        saved: list[tuple[str, str | None, bool]] = []
        try:
            for a, value in prefix:
                name = a.split("=", 1)[0].rstrip("+")
                saved.append((name, sh.env.get(name), name in sh.exported))
                try:
                    sh.set_var(name, value, export=True)
                except ReadonlyError:
                    sh.bash_error(io, f"{name}: readonly variable")
            if argv[0] == "exec":
                rc = self.dispatch(sh, argv[1:], inner)
                raise ShellExit(rc)
            sh.rc = self.dispatch(sh, argv, inner)
        finally:
            for name, old, was_exported in reversed(saved):
                if old is None:
                    sh.env.pop(name, None)
                else:
                    sh.env[name] = old
                if not was_exported:
                    sh.exported.discard(name)
            self.route(sh, inner.out, fds[1], io)
            self.route(sh, inner.err, fds[2], io)

    def _trace(self, sh: Shell, words: list[str]) -> str:
        def quote(w: str) -> str:
            if w and re.fullmatch(r"[A-Za-z0-9_./=:,+@%^-]+", w):
                return w
            return "'" + w.replace("'", "'\\''") + "'"

        return "+ " + " ".join(quote(w) for w in words) + "\n"

    def _exec_redirects(self, sh: Shell, io: Io, stdin: InStream | None, fds: dict[int, Fd]) -> None:
        """``exec > file 2>&1``: the rest of this shell's output goes there."""
        if stdin is not None:
            io.inp = stdin
        targets: dict[int, list[str]] = {}
        for fd in (1, 2):
            kind, path = fds[fd]
            if kind == "out":
                targets[fd] = io.out
            elif kind == "err":
                targets[fd] = io.err
            elif kind == "null":
                targets[fd] = NullSink()
            else:
                targets[fd] = FileSink(sh, path)
        io.out, io.err = targets[1], targets[2]

    def assign(self, sh: Shell, word: str, x: Expander) -> None:
        name, _, raw = word.partition("=")
        append = name.endswith("+")
        name = name.rstrip("+")
        index: str | None = None
        if name.endswith("]") and "[" in name:
            name, _, index = name[:-1].partition("[")
        try:
            if index is None and raw.startswith("(") and raw.endswith(")"):
                items = [f for w in _array_words(raw[1:-1]) for f in x.fields(w)]
                sh.set_array(name, items, append)
                return
            value = x.assignment(raw)
            if index is not None:
                idx = x.arith(index) if index.strip() else 0
                if not sh.set_element(name, idx, value, append):
                    raise x.fail(f"{name}[{index}]: bad array subscript")
                return
            if append:
                value = (sh.get_var(name) or "") + value
            sh.set_var(name, value)
        except ReadonlyError as e:
            raise x.fail(f"{e.name}: readonly variable") from None

    # redirections ------------------------------------------------------------------------------------
    def open_redirects(
        self, sh: Shell, redirects: list[Redirect], io: Io, x: Expander
    ) -> tuple[InStream | None, dict[int, Fd]] | None:
        """(new stdin or None, fd 1/2 targets); None after printing why a redirection failed."""
        fds: dict[int, Fd] = {1: ("out", ""), 2: ("err", "")}
        stdin: InStream | None = None
        for r in redirects:
            op = r.op
            if op in ("<<", "<<-"):
                stdin = InStream(r.target if r.quoted else x.heredoc(r.target))
                continue
            if op == "<<<":
                stdin = InStream(x.word(r.target) + "\n")
                continue
            fd = r.fd if r.fd is not None else (0 if op.startswith("<") else 1)
            if op in (">&", "<&"):
                target = x.word(r.target)
                if target == "-":
                    if fd == 0:
                        stdin = InStream("")
                    else:
                        fds[fd] = ("null", "")
                    continue
                if target.isascii() and target.isdigit():
                    src = int(target)
                    if fd in (1, 2):
                        fds[fd] = fds.get(src, ("null", "")) if src in (1, 2) else ("null", "")
                    continue
                if op == "<&":
                    sh.bash_error(io, f"{r.target}: ambiguous redirect")
                    return None
                op, fd = "&>", 1
            words = x.fields(r.target)
            if len(words) != 1:
                sh.bash_error(io, f"{r.target}: ambiguous redirect")
                return None
            target = words[0]
            path = sh.path(target)
            if op in ("<", "<>"):
                if fd != 0:
                    continue
                try:
                    stdin = InStream(sh.fs.read_text(path))
                except FsError as e:
                    if op == "<>" and e.errno == "ENOENT" and sh.fs.is_dir(posixpath.dirname(path)):
                        sh.fs.write(path, b"", 0o644, mtime=sh.now)
                        stdin = InStream("")
                        continue
                    sh.bash_error(io, f"{target}: {strerror(e)}")
                    return None
                continue
            spec = self._open_out(sh, target, path, op, io)
            if spec is None:
                return None
            if op.startswith("&>"):
                fds[1] = fds[2] = spec
            elif fd in (1, 2):
                fds[fd] = spec
        return stdin, fds

    def _open_out(self, sh: Shell, target: str, path: str, op: str, io: Io) -> Fd | None:
        if target == "":
            sh.bash_error(io, ": No such file or directory")
            return None
        if path in ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/console"):
            return ("null", "")
        if path in ("/dev/stdout", "/dev/fd/1"):
            return ("out", "")
        if path in ("/dev/stderr", "/dev/fd/2"):
            return ("err", "")
        fs = sh.fs
        if not fs.is_dir(posixpath.dirname(path)):
            sh.bash_error(io, f"{target}: No such file or directory")
            return None
        if fs.is_dir(path):
            sh.bash_error(io, f"{target}: Is a directory")
            return None
        if ">>" not in op or not fs.exists(path):
            fs.write(path, b"", None if fs.is_file(path) else 0o644, mtime=sh.now)
        return ("file", path)

    def route(self, sh: Shell, chunks: list[str], spec: Fd, io: Io) -> None:
        if not chunks:
            return
        kind, where = spec
        if kind == "out":
            io.out.extend(chunks)
        elif kind == "err":
            io.err.extend(chunks)
        elif kind == "file":
            try:
                sh.fs.write(where, "".join(chunks), append=True, mtime=sh.now)
            except FsError:
                pass  # the file's directory vanished while the command ran

    def with_redirects(self, sh: Shell, redirects: list[Redirect], io: Io, fn: Callable[[Io], None]) -> None:
        if not redirects:
            fn(io)
            return
        x = Expander(sh)
        try:
            opened = self.open_redirects(sh, redirects, io, x)
        finally:
            io.err.extend(x.err)
        if opened is None:
            sh.rc = 1
            return
        stdin, fds = opened
        inner = Io(stdin if stdin is not None else io.inp)
        try:
            fn(inner)
        finally:
            self.route(sh, inner.out, fds[1], io)
            self.route(sh, inner.err, fds[2], io)

    # compound commands -------------------------------------------------------------------------------
    def run_compound(self, sh: Shell, node: Command, io: Io) -> None:
        if isinstance(node, If):
            self.run_if(sh, node, io)
        elif isinstance(node, While):
            self.run_while(sh, node, io)
        elif isinstance(node, For):
            self.run_for(sh, node, io)
        elif isinstance(node, ArithFor):
            self.run_arith_for(sh, node, io)
        elif isinstance(node, Case):
            self.run_case(sh, node, io)
        elif isinstance(node, Subshell):
            sub = sh.fork()
            rc = self.run_isolated(sub, lambda s, i: self.run_body(s, node.body, i), io)
            sh.adopt(sub)
            sh.rc = rc
        elif isinstance(node, Group):
            self.run_body(sh, node.body, io)
        elif isinstance(node, Arith):
            sh.rc = 0 if self.arith_command(sh, node.expr, io, "((: ") else 1
        elif isinstance(node, Cond):
            self.run_cond(sh, node, io)

    def condition(self, sh: Shell, body: Body, io: Io) -> bool:
        sh.cond_depth += 1
        try:
            return self.run_body(sh, body, io) == 0
        finally:
            sh.cond_depth -= 1

    def run_if(self, sh: Shell, node: If, io: Io) -> None:
        for cond, body in node.branches:
            if self.condition(sh, cond, io):
                self.run_body(sh, body, io)
                return
        if node.orelse is not None:
            self.run_body(sh, node.orelse, io)
        else:
            sh.rc = 0

    def _loop_body(self, sh: Shell, body: Body, io: Io) -> str | None:
        """Run one iteration; "break"/"continue" when loop control left it."""
        try:
            self.run_body(sh, body, io)
            return None
        except LoopControl as lc:
            if lc.levels > 1:
                lc.levels -= 1
                raise
            return lc.kind

    def run_while(self, sh: Shell, node: While, io: Io) -> None:
        status = 0
        sh.loop_depth += 1
        try:
            for _ in range(MAX_LOOP):
                if self.condition(sh, node.cond, io) == node.until:
                    break
                control = self._loop_body(sh, node.body, io)
                status = sh.rc
                if control == "break":
                    status = 0
                    break
            else:
                sh.bash_error(io, f"loop ran {MAX_LOOP} times; stopped by the emulator")
        finally:
            sh.loop_depth -= 1
        sh.rc = status

    def run_for(self, sh: Shell, node: For, io: Io) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node.var):
            sh.bash_error(io, f"`{node.var}': not a valid identifier")
            sh.rc = 1
            return
        if node.words is None:
            values = list(sh.positional)
        else:
            x = Expander(sh)
            try:
                values = [f for w in node.words for f in x.fields(w)]
            finally:
                io.err.extend(x.err)
        status = 0
        sh.loop_depth += 1
        try:
            for value in values:
                try:
                    sh.set_var(node.var, value)
                except ReadonlyError:
                    sh.bash_error(io, f"{node.var}: readonly variable")
                    status = 1
                    break
                control = self._loop_body(sh, node.body, io)
                status = sh.rc
                if control == "break":
                    break
        finally:
            sh.loop_depth -= 1
        sh.rc = status

    def arith_command(self, sh: Shell, expr: str, io: Io, prefix: str) -> bool:
        """Evaluate for ``(( ))``/``for ((;;))``: an error is reported and counts as false (no abort)."""
        x = Expander(sh)
        try:
            text = "".join(" " if p is None else p[0] for p in x.expand(expr, mode="arith"))
            value = sharith.evaluate(text, _ShellVars(sh, x))
        except sharith.ArithError as e:
            sh.bash_error(io, prefix + e.text)
            return False
        finally:
            io.err.extend(x.err)
        return value != 0

    def run_arith_for(self, sh: Shell, node: ArithFor, io: Io) -> None:
        status = 0
        if node.init.strip():
            self.arith_command(sh, node.init, io, "((: ")
        sh.loop_depth += 1
        try:
            for _ in range(MAX_LOOP):
                if node.cond.strip() and not self.arith_command(sh, node.cond, io, "((: "):
                    break
                control = self._loop_body(sh, node.body, io)
                status = sh.rc
                if control == "break":
                    break
                if node.step.strip():
                    self.arith_command(sh, node.step, io, "((: ")
            else:
                sh.bash_error(io, f"loop ran {MAX_LOOP} times; stopped by the emulator")
        finally:
            sh.loop_depth -= 1
        sh.rc = status

    def run_case(self, sh: Shell, node: Case, io: Io) -> None:
        x = Expander(sh)
        try:
            word = x.word(node.word)
            fall = False
            sh.rc = 0
            for item in node.items:
                if not fall and not any(shpattern.match(x.pattern(p), word) for p in item.patterns):
                    continue
                io.err.extend(x.err)
                x.err.clear()
                self.run_body(sh, item.body, io)
                if item.term == ";;":
                    return
                fall = item.term == ";&"
        finally:
            io.err.extend(x.err)

    # [[ ]] -------------------------------------------------------------------------------------------
    def run_cond(self, sh: Shell, node: Cond, io: Io) -> None:
        x = Expander(sh)
        try:
            sh.rc = 0 if self.cond(sh, node.expr, x) else 1
        except shtest.TestError as e:
            sh.bash_error(io, str(e))
            sh.rc = 2
        except sharith.ArithError as e:
            sh.bash_error(io, e.text)
            sh.rc = 1
        except re.error:
            sh.rc = 2
        finally:
            io.err.extend(x.err)

    def cond(self, sh: Shell, node: CondNode, x: Expander) -> bool:
        if isinstance(node, CondWord):
            return x.word(node.word) != ""
        if isinstance(node, CondNot):
            return not self.cond(sh, node.expr, x)
        if isinstance(node, CondAndOr):
            left = self.cond(sh, node.left, x)
            if node.op == "&&":
                return left and self.cond(sh, node.right, x)
            return left or self.cond(sh, node.right, x)
        if isinstance(node, CondUnary):
            return shtest.unary(sh, node.op, x.word(node.word))
        assert isinstance(node, CondBinary)
        op = node.op
        subject = x.word(node.left)
        if op in ("==", "=", "!="):
            hit = shpattern.match(x.pattern(node.right), subject)
            return hit if op != "!=" else not hit
        if op == "=~":
            m = shpattern.user_regex(_posix_classes(x.regex(node.right))).search(subject)
            if m is None:
                sh.arrays.pop("BASH_REMATCH", None)
                return False
            sh.arrays["BASH_REMATCH"] = dict(enumerate([m.group(0), *(g or "" for g in m.groups())]))
            return True
        right = x.word(node.right)
        if op in shtest.INT_OPS:
            variables = _ShellVars(sh, x)
            a, b = sharith.evaluate(subject, variables), sharith.evaluate(right, variables)
            return bool(shtest.INT_OPS[op](a, b))
        return shtest.binary(sh, subject, op, right)

    # commands ----------------------------------------------------------------------------------------
    def dispatch(self, sh: Shell, argv: list[str], io: Io) -> int:
        fn = sh.functions.get(argv[0])
        if fn is not None:
            return self.call_function(sh, fn, argv, io)
        return self.run_program(sh, argv, io)

    def call_function(self, sh: Shell, fn: FuncDef, argv: list[str], io: Io) -> int:
        if sh.func_depth >= MAX_FUNC_DEPTH:
            sh.bash_error(io, f"{argv[0]}: maximum function nesting level exceeded ({MAX_FUNC_DEPTH})")
            raise ShellAbort(1)
        saved_positional, saved_loops = sh.positional, sh.loop_depth
        sh.positional = argv[1:]
        sh.frames.append({})
        sh.funcnames.append(fn.name)
        sh.func_depth += 1
        sh.depth += 1
        sh.loop_depth = 0
        try:
            self.run_command(sh, fn.body, io)
            rc = sh.rc
        except FunctionReturn as r:
            rc = r.code
        finally:
            frame = sh.frames.pop()
            for name, (old, exported) in frame.items():
                if old is None:
                    sh.env.pop(name, None)
                else:
                    sh.env[name] = old
                if exported:
                    sh.exported.add(name)
                else:
                    sh.exported.discard(name)
            sh.positional, sh.loop_depth = saved_positional, saved_loops
            sh.funcnames.pop()
            sh.func_depth -= 1
            sh.depth -= 1
        sh.rc = rc & 0xFF
        return sh.rc

    def run_program(self, sh: Shell, argv: list[str], io: Io) -> int:
        name = argv[0]
        while (name == "sudo" and sh.user == "root") or (
            name == "command" and len(argv) > 1 and not argv[1].startswith("-")
        ):
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
                path = sh.path(name)
                if sh.fs.is_file(path):
                    return sh.run_file(path, argv[1:], io)
                if sh.fs.is_dir(path):
                    sh.bash_error(io, f"{name}: Is a directory")
                    return 126
                sh.bash_error(io, f"{name}: No such file or directory")
                return 127
            sh.bash_error(io, f"{name}: command not found")
            return 127
        try:
            return fn(sh, argv, io)
        except FsError as e:  # a path vanished under the command (e.g. the script removed its own cwd)
            io.error(f"{base}: {e.path}: {strerror(e)}")
            return 1


class _ShellVars:
    def __init__(self, sh: Shell, x: Expander) -> None:
        self.sh = sh
        self.x = x

    def get(self, name: str) -> str | None:
        value = self.sh.get_var(name)
        if value is None and self.sh.nounset:
            self.x.unbound(name)
        return value

    def set(self, name: str, value: str) -> None:
        self.x.assign(name, value)


def _array_words(text: str) -> list[str]:
    """The words of an array assignment's ``( ... )`` (already checked by the scanner)."""
    sc = Scanner(text)
    words: list[str] = []
    try:
        while True:
            t = sc.token()
            if t.kind == "eof":
                return words
            if t.kind == "word":
                words.append(t.text)
    except ParseError:
        return words


_CLASS = re.compile(r"\[:(alpha|digit|alnum|upper|lower|space|blank|punct|xdigit|word):\]")


def _posix_classes(regex: str) -> str:
    return _CLASS.sub(lambda m: shpattern.to_regex(f"[[:{m.group(1)}:]]")[1:-1], regex)


def _strip_sudo(argv: list[str]) -> list[str]:
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            i += 1
            break
        i += 2 if argv[i] in _SUDO_OPTS_WITH_ARG else 1
    return argv[i:]


def _on_path(name: str) -> bool:
    return posixpath.dirname(posixpath.normpath(name)) in _BIN_DIRS


INTERPRETER = Interpreter()

__all__ = ["INTERPRETER", "Interpreter", "is_assignment"]
