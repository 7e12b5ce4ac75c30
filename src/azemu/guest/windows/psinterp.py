"""Runs a parsed PowerShell script (:mod:`psast`) against a :class:`~azemu.guest.windows.psruntime.Session`.

Statements, pipelines and expressions; scopes (a function or ``& {}`` gets its own, ``$script:``/``$global:``
reach the script's); functions with ``param()`` binding (named, positional, switches, defaults, mandatory,
``$args``, pipeline input with ``begin``/``process``/``end``); error records: non-terminating cmdlet errors
(``$?``, ``-ErrorAction``, ``$ErrorActionPreference``), statement-terminating runtime errors and
script-terminating ``throw``/``Stop``, all catchable by ``try``/``catch``/``finally``.

Output goes to Out-Default after each top-level statement, and before anything a cmdlet prints directly.
"""

from __future__ import annotations

from typing import Any

from azemu.guest import cpuload
from azemu.guest.fs import FsError
from azemu.guest.windows import psmembers, psops
from azemu.guest.windows.psast import (
    ArrayLiteral,
    Assign,
    Binary,
    Cast,
    Command,
    Const,
    DoLoop,
    Exit,
    Expandable,
    Expr,
    ExprElement,
    For,
    ForEach,
    FunctionDef,
    HashLiteral,
    If,
    IncDec,
    Index,
    Invoke,
    LoopJump,
    Member,
    Node,
    ParamArg,
    ParamDef,
    Paren,
    Pipeline,
    Redirection,
    Return,
    ScriptBlockAst,
    ScriptBlockExpr,
    Splat,
    Stmt,
    SubExpr,
    Switch,
    Throw,
    Try,
    TypeLit,
    Unary,
    Var,
    While,
)
from azemu.guest.windows.psformat import Hashtable, PSObj, ScriptBlock, render
from azemu.guest.windows.psops import PSRuntimeError, as_list, to_bool, to_str
from azemu.guest.windows.psparse import ParseError, parse_script
from azemu.guest.windows.psruntime import (
    ALIASES,
    CMDLETS,
    COMMON_SWITCHES,
    COMMON_VALUED,
    Args,
    CmdSpec,
    OutStream,
    PSErr,
    Session,
    find_program,
    run_native,
)

MAX_CALL_DEPTH = 40
MAX_LOOP = 10_000  # a guard against scripts that would spin forever (as on Linux)
BUSY_LIMIT = 5400.0  # seconds: the longest busy wait on the clock (Run Command's limit for a script)
NOT_RECOGNIZED = (
    "The term '{0}' is not recognized as the name of a cmdlet, function, script file, or operable "
    "program. Check the spelling of the name, or if a path was included, verify that the path is "
    "correct and try again."
)
_REMAINING = {"Write-Output": "InputObject", "Write-Host": "Object"}
_READONLY = frozenset(("true", "false", "null", "?", "$", "^", "args", "input"))


# control flow ----------------------------------------------------------------------------------------------
class Flow(Exception):
    pass


class BreakLoop(Flow):
    pass


class ContinueLoop(Flow):
    pass


class ReturnFlow(Flow):
    def __init__(self, values: list[Any]) -> None:
        super().__init__()
        self.values = values


class ExitScript(Flow):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def fs_error(e: FsError) -> PSErr:
    """A file system failure as the .NET exception PowerShell reports."""
    path = e.path.replace("/", "\\").lstrip("\\") if e.path.startswith("/") and e.path[2:3] == ":" else e.path
    if e.errno in ("EISDIR", "EACCES", "EPERM"):
        return PSErr(
            f"Access to the path '{path}' is denied.",
            category="PermissionDenied",
            target=path,
            exception="UnauthorizedAccessException",
            fqid="UnauthorizedAccess",
        )
    if e.errno in ("ENOENT", "ENOTDIR"):
        return PSErr(
            f"Could not find a part of the path '{path}'.",
            category="ObjectNotFound",
            target=path,
            exception="DirectoryNotFoundException",
            fqid="DirectoryNotFound",
        )
    return PSErr(
        f"The file '{path}' already exists." if e.errno == "EEXIST" else "The directory is not empty.",
        category="WriteError",
        target=path,
        exception="IOException",
        fqid="IOException",
    )


def format_parse_error(src: str, e: ParseError) -> str:
    line, col, text, squig = _position(src, e.start, e.end)
    return (
        f"At line:{line} char:{col}\n+ {text}\n+ {squig}\n{e.message}\n"
        f"    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n"
        f"    + FullyQualifiedErrorId : {e.fqid}\n\n"
    )


def _position(src: str, start: int, end: int) -> tuple[int, int, str, str]:
    start = max(0, min(start, len(src)))
    line_start = src.rfind("\n", 0, start) + 1
    line_end = src.find("\n", start)
    line_end = len(src) if line_end < 0 else line_end
    text = src[line_start:line_end].rstrip("\r")
    line = src.count("\n", 0, start) + 1
    col = start - line_start + 1
    length = max(1, min(end, line_end) - start)
    squig = " " * (col - 1) + "~" * max(1, min(length, len(text) - col + 1))
    return line, col, text, squig


class Interpreter:
    def __init__(self, s: Session, src: str) -> None:
        self.s = s
        self.src = src
        self.scopes: list[dict[str, Any]] = [s.vars]
        self.functions: dict[str, FunctionDef] = {}
        self.try_depth = 0
        self.call_depth = 0
        self.pending: list[Any] = []
        self.current: list[Any] = [None]  # $_ stack
        self.last_status = True  # $?: how the last pipeline went
        s.engine = self
        out = OutStream(s.out)
        out.before_write = self.flush
        s.out = out
        s.vars.setdefault("error", [])

    # output ------------------------------------------------------------------------------------------
    def flush(self) -> None:
        if self.pending:
            text = render(self.pending)
            self.pending.clear()  # in place: a running function may be writing into this very list
            list.append(self.s.out, text)

    # running a script --------------------------------------------------------------------------------
    def run(self, ast: ScriptBlockAst, parameters: dict[str, Any]) -> int:
        """Run the script; the exit code (``exit N``, else 1 if the last statement failed)."""
        code: int | None = None
        failed = False
        try:
            self.bind_script_params(ast, parameters)
            for st in ast.body:
                self.s.vars["?"] = True
                try:
                    self.run_statement_top(st)
                finally:
                    self.flush()
                failed = self.s.vars.get("?") is False
                if self.s.halted:
                    break
        except ExitScript as e:
            code = e.code
        except ReturnFlow as r:
            self.pending.extend(r.values)
        except (BreakLoop, ContinueLoop):
            pass
        except PSRuntimeError as e:
            self.report(e)
            failed = True
        except RecursionError:
            self.report(
                PSRuntimeError(
                    "The script failed due to call depth overflow.",
                    category="InvalidOperation",
                    exception="ScriptCallDepthException",
                    fqid="CallDepthOverflow",
                )
            )
            failed = True
        self.flush()
        if code is None:
            code = 1 if failed else 0
        return code

    def run_statement_top(self, st: Stmt) -> None:
        try:
            self.run_statement(st, self.pending)
        except PSRuntimeError as e:
            self.s.vars["?"] = self.last_status = False
            if e.script or self.stop_preference():
                raise
            self.report(e)

    def bind_script_params(self, ast: ScriptBlockAst, parameters: dict[str, Any]) -> None:
        for p in ast.params:
            low = p.name.lower()
            if low in self.s.vars and self.s.vars[low] is not None:
                if p.type_name:
                    self.s.vars[low] = self.convert_param(p, self.s.vars[low])
                continue
            if p.default is not None:
                self.s.vars[low] = self.convert_param(p, self.evaluate(p.default))
            elif p.type_name.lower() in ("switch", "switchparameter"):
                self.s.vars[low] = False
            else:
                self.s.vars.setdefault(low, None)

    # errors ------------------------------------------------------------------------------------------
    def stop_preference(self) -> bool:
        return to_str(self.get_var("ErrorActionPreference")).lower() == "stop"

    def error_text(self, e: PSRuntimeError, prefix: str = "") -> str:
        start, end = e.extent or (0, 0)
        line, col, text, squig = _position(self.src, start, end)
        target = f"({e.target}:{e.target_type})" if e.target else "(:)"
        activity = e.activity
        head = f"{prefix}{e.message}"
        return (
            f"{head}\nAt line:{line} char:{col}\n+ {text}\n+ {squig}\n"
            f"    + CategoryInfo          : {e.category}: {target} [{activity}], {e.exception}\n"
            f"    + FullyQualifiedErrorId : {e.fqid}\n\n"
        )

    def report(self, e: PSRuntimeError) -> None:
        text = e.formatted or self.error_text(e)
        self.s.err.append(text)
        self.record_error(e)

    def record_error(self, e: PSRuntimeError) -> None:
        errors = self.s.vars.get("error")
        if isinstance(errors, list):
            errors.insert(0, self.error_record(e))
            del errors[256:]

    def error_record(self, e: PSRuntimeError) -> PSObj:
        start, end = e.extent or (0, 0)
        line, col, text, _ = _position(self.src, start, end)
        exc = PSObj(
            "System.Management.Automation." + e.exception if "." not in e.exception else e.exception,
            {"Message": e.message, "InnerException": None, "ErrorRecord": None},
            "list",
            ["Message"],
            string=e.message,
        )
        info = PSObj(
            "System.Management.Automation.InvocationInfo",
            {
                "Line": text,
                "ScriptLineNumber": line,
                "OffsetInLine": col,
                "PositionMessage": f"At line:{line} char:{col}",
            },
            "list",
        )
        formatted = e.formatted or self.error_text(e)
        record = PSObj(
            "System.Management.Automation.ErrorRecord",
            {
                "Exception": exc,
                "TargetObject": e.target or None,
                "CategoryInfo": f"{e.category}: ({e.target}:String) [{e.activity}], {e.exception}",
                "FullyQualifiedErrorId": e.fqid,
                "InvocationInfo": info,
                "ScriptStackTrace": f"at <ScriptBlock>, <No file>: line {line}",
            },
            "list",
            custom=lambda objs: "".join(str(o.get("_formatted") or o) + "\n" for o in objs),
            string=e.message if e.thrown is None or not isinstance(e.thrown, str) else e.thrown,
        )
        record.props["_formatted"] = formatted.rstrip("\n")
        record.props["_error"] = e
        return record

    def cmdlet_error(self, exc: PSErr, cmd: Command, typed: str, spec: CmdSpec | None) -> PSRuntimeError:
        e = PSRuntimeError(
            exc.message,
            category=exc.category,
            exception=exc.exception,
            fqid=exc.fqid + ("," + spec.cls if spec is not None else ""),
            target=exc.target,
        )
        e.extent = (cmd.start, cmd.end)
        e.activity = spec.name if spec is not None else ""
        e.formatted = self.error_text(e, f"{typed} : ")
        return e

    def nonterminating(self, e: PSRuntimeError, action: str) -> None:
        """A cmdlet's error record: shown or not per the preference; Stop makes it terminating."""
        self.s.vars["?"] = False
        if action == "stop":
            e.script = True
            raise e
        if action in ("silentlycontinue", "ignore"):
            if action == "silentlycontinue":
                self.record_error(e)
            return
        self.report(e)

    def action_for(self, args: Args | None) -> str:
        explicit = args.get("ErrorAction") if args is not None else None
        return to_str(
            explicit if explicit is not None else self.get_var("ErrorActionPreference") or "Continue"
        ).lower()

    # variables ---------------------------------------------------------------------------------------
    def _scope_for(self, low: str) -> tuple[dict[str, Any], str]:
        for prefix in ("global:", "script:"):
            if low.startswith(prefix):
                return self.scopes[0], low[len(prefix) :]
        for prefix in ("local:", "private:", "variable:"):
            if low.startswith(prefix):
                return self.scopes[-1], low[len(prefix) :]
        return self.scopes[-1], low

    def get_var(self, name: str) -> Any:
        low = name.lower()
        if low.startswith("env:"):
            return self.s.env.get(low[4:].upper())
        if low in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[low]
        if low in ("_", "psitem"):
            return self.current[-1]
        if low == "pwd":
            return self.s.cwd
        if low == "pid":
            return 4242
        if low == "?":
            return self.last_status
        scope, low = self._scope_for(low) if ":" in low else (self.scopes[-1], low)
        if ":" in name and scope is self.scopes[0]:
            return scope.get(low)
        for sc in reversed(self.scopes):
            if low in sc:
                return sc[low]
        return None

    def set_var(self, name: str, value: Any) -> None:
        low = name.lower()
        if low.startswith("env:"):
            key = low[4:].upper()
            if value is None or value == "":
                self.s.env.pop(key, None)
            else:
                self.s.env[key] = to_str(value)
            return
        scope, low = self._scope_for(low)
        if low == "null":
            return
        if low in _READONLY or low in ("_", "psitem"):
            if low in ("_", "psitem"):
                self.current[-1] = value
                return
            raise PSRuntimeError(
                f"Cannot overwrite variable {low} because it is read-only or constant.",
                category="WriteError",
                exception="SessionStateUnauthorizedAccessException",
                target=low,
                fqid="VariableNotWritable",
            )
        scope[low] = value

    # statements --------------------------------------------------------------------------------------
    def run_block(self, stmts: list[Stmt], out: list[Any]) -> None:
        for st in stmts:
            try:
                self.run_statement(st, out)
            except PSRuntimeError as e:
                self.s.vars["?"] = self.last_status = False
                if e.script or self.try_depth > 0 or self.stop_preference():
                    raise
                self.report(e)
            if self.s.halted:
                raise ExitScript(0)

    def run_statement(self, st: Stmt, out: list[Any]) -> None:
        if isinstance(st, Pipeline):
            self.run_pipeline(st, out)
        elif isinstance(st, Assign):
            self.run_assign(st)
        elif isinstance(st, If):
            for cond, body in st.clauses:
                if to_bool(self.collapse(self.values(cond))):
                    self.run_block(body, out)
                    return
            if st.orelse is not None:
                self.run_block(st.orelse, out)
        elif isinstance(st, ForEach):
            self.run_foreach(st, out)
        elif isinstance(st, For):
            self.run_for(st, out)
        elif isinstance(st, While):
            self.run_loop(st.body, st.cond, out, test_first=True, until=False)
        elif isinstance(st, DoLoop):
            self.run_loop(st.body, st.cond, out, test_first=False, until=st.until)
        elif isinstance(st, Switch):
            self.run_switch(st, out)
        elif isinstance(st, FunctionDef):
            self.functions[st.name.lower()] = st
        elif isinstance(st, Try):
            self.run_try(st, out)
        elif isinstance(st, Throw):
            self.run_throw(st)
        elif isinstance(st, Return):
            values = self.values(st.value) if st.value is not None else []
            raise ReturnFlow(values)
        elif isinstance(st, Exit):
            value = self.collapse(self.values(st.value)) if st.value is not None else 0
            try:
                code = psops.to_int(value)
            except PSRuntimeError:
                code = 0
            raise ExitScript(code & 0xFFFFFFFF if code >= 0 else code)
        elif isinstance(st, LoopJump):
            raise BreakLoop() if st.kind == "break" else ContinueLoop()

    def values(self, st: Stmt | None) -> list[Any]:
        """A statement's output (the right side of an assignment, a condition ...)."""
        if st is None:
            return []
        out: list[Any] = []
        if isinstance(st, Assign):
            self.run_assign(st)
            return out
        self.run_statement(st, out)
        return out

    def value_of(self, st: Stmt) -> Any:
        """What ``$x = <st>`` assigns: an expression's own value (``@()`` stays an empty array), a pipeline's
        output collapsed (nothing -> $null, one object -> it, more -> an array)."""
        if isinstance(st, Pipeline) and len(st.elements) == 1:
            el = st.elements[0]
            if isinstance(el, ExprElement) and not el.redirects:
                return self.evaluate(el.expr)
        return self.collapse(self.values(st))

    @staticmethod
    def collapse(values: list[Any]) -> Any:
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def run_assign(self, st: Assign) -> None:
        value = self.value_of(st.value)
        if st.op != "=":
            current = self.evaluate(st.target)
            try:
                value = psops.arith(st.op[0], current, value)
            except PSRuntimeError as e:
                e.extent = e.extent or (st.start, st.end)
                raise
        self.assign(st.target, value, st)

    def assign(self, target: Expr, value: Any, where: Node) -> None:
        try:
            if isinstance(target, Var):
                self.set_var(target.name, value)
            elif isinstance(target, Cast):
                self.assign(target.operand, psops.cast(target.type_name, value), where)
            elif isinstance(target, Member):
                obj = self.evaluate(target.target)
                psmembers.set_member(obj, to_str(self.evaluate(target.name)), value)
            elif isinstance(target, Index):
                obj = self.evaluate(target.target)
                psmembers.set_index(obj, self.evaluate(target.index), value)
            elif isinstance(target, ArrayLiteral):
                items = as_list(value)
                for k, t in enumerate(target.items):
                    last = k == len(target.items) - 1
                    part = (
                        (items[k:] if len(items[k:]) != 1 else items[k])
                        if last
                        else (items[k] if k < len(items) else None)
                    )
                    self.assign(t, part if not (last and part == []) else None, where)
        except PSRuntimeError as e:
            e.extent = e.extent or (where.start, where.end)
            raise

    def loop_body(self, body: list[Stmt], out: list[Any]) -> str:
        try:
            self.run_block(body, out)
        except BreakLoop:
            return "break"
        except ContinueLoop:
            return "continue"
        return ""

    def run_foreach(self, st: ForEach, out: list[Any]) -> None:
        items = self.enumerate(self.collapse(self.values(st.iterable)))
        for item in items:
            self.set_var(st.var, item)
            if self.loop_body(st.body, out) == "break":
                break

    def run_for(self, st: For, out: list[Any]) -> None:
        if st.init is not None:
            self.values(st.init)
        for _ in range(MAX_LOOP):
            if st.cond is not None and not to_bool(self.collapse(self.values(st.cond))):
                return
            if self.loop_body(st.body, out) == "break":
                return
            if st.step is not None:
                self.values(st.step)
        self.loop_limit(st)

    def run_loop(self, body: list[Stmt], cond: Stmt, out: list[Any], test_first: bool, until: bool) -> None:
        first = True
        for _ in range(MAX_LOOP):
            if test_first or not first:
                ok = to_bool(self.collapse(self.values(cond)))
                if ok == until:
                    return
            first = False
            if self.loop_body(body, out) == "break":
                return
        if self.busy_wait(cond, until):
            return
        self.loop_limit(cond)

    def busy_wait(self, cond: Stmt, until: bool) -> bool:
        """A loop still going after MAX_LOOP rounds whose condition turns with the clock
        (``while ((Get-Date) -lt $end) {}``) is a busy wait: it keeps one core busy until the condition turns
        (found by probing the clock, to the second) - a busy process in the guest (guest/cpuload.py)."""
        s = self.s
        start = s.hang

        def turned(at: float) -> bool:
            s.hang = at
            try:
                return to_bool(self.collapse(self.values(cond))) == until
            except Exception:
                return False

        step = 1.0
        while step <= BUSY_LIMIT and not turned(start + step):
            step *= 2
        if step > BUSY_LIMIT:
            s.hang = start
            return False
        lo, hi = start + step / 2 if step > 1 else start, start + step
        while hi - lo > 1.0:
            mid = (lo + hi) / 2
            if turned(mid):
                hi = mid
            else:
                lo = mid
        s.hang = hi
        cpuload.start(s.guest, "powershell", 1.0, s.ctx.now + start, hi - start)
        return True

    def loop_limit(self, where: Node) -> None:
        e = PSRuntimeError(
            f"azemu: the loop ran {MAX_LOOP} times; the emulator stopped it.",
            category="OperationStopped",
            fqid="LoopLimit",
        )
        e.extent = (where.start, where.end)
        e.script = True
        raise e

    def run_switch(self, st: Switch, out: list[Any]) -> None:
        items = self.enumerate(self.collapse(self.values(st.value)))
        default = next((c for c in st.cases if c.pattern is None), None)
        for item in items:
            matched = False
            control = ""
            self.current.append(item)
            try:
                for case in st.cases:
                    if case.pattern is None or not self.switch_match(st, case.pattern, item):
                        continue
                    matched = True
                    control = self.loop_body(case.body, out)
                    if control:
                        break
                if not matched and default is not None:
                    control = self.loop_body(default.body, out)
            finally:
                self.current.pop()
            if control == "break":
                return

    def switch_match(self, st: Switch, pattern: Expr, item: Any) -> bool:
        if isinstance(pattern, ScriptBlockExpr):
            return to_bool(
                self.collapse(self.invoke_block(ScriptBlock(pattern.block.text, pattern.block), [], item))
            )
        value = self.evaluate(pattern)
        if st.mode == "wildcard":
            return psops.like(item, value, st.case_sensitive)
        if st.mode == "regex":
            groups = psops.match(item, value, st.case_sensitive)
            if groups is not None:
                self.set_var("Matches", groups)
            return groups is not None
        return (
            psops.equals(item, value, st.case_sensitive)
            if not isinstance(item, str)
            else psops.equals(item, to_str(value), st.case_sensitive)
        )

    def run_try(self, st: Try, out: list[Any]) -> None:
        try:
            self.try_depth += 1
            try:
                self.run_block(st.body, out)
            finally:
                self.try_depth -= 1
        except PSRuntimeError as e:
            handler = next((c for c in st.catches if self.catches(c.types, e)), None)
            if handler is None:
                raise
            self.record_error(e)
            self.current.append(self.error_record(e))
            try:
                self.run_block(handler.body, out)
            finally:
                self.current.pop()
        finally:
            if st.final is not None:
                self.run_block(st.final, out)

    def catches(self, types: list[str], e: PSRuntimeError) -> bool:
        if not types:
            return True
        names = {
            e.exception.lower(),
            e.fqid.split(",")[0].lower(),
            "exception",
            "runtimeexception",
            "systemexception",
        }
        if e.message == "Attempted to divide by zero.":
            names.add("dividebyzeroexception")
        if e.exception == "ItemNotFoundException":
            names.add("management.automation.itemnotfoundexception")
        for t in types:
            short = t.lower().removeprefix("system.").removeprefix("management.automation.")
            if short in names or short.rsplit(".", 1)[-1] in names:
                return True
        return False

    def run_throw(self, st: Throw) -> None:
        value = self.collapse(self.values(st.value)) if st.value is not None else None
        if isinstance(value, PSObj) and isinstance(value.get("_error"), PSRuntimeError):
            original: PSRuntimeError = value.get("_error")
            original.script = True
            raise original
        message = to_str(value) if value is not None else "ScriptHalted"
        e = PSRuntimeError(
            message,
            category="OperationStopped",
            exception="RuntimeException",
            fqid=message,
            target=message,
            thrown=value,
            script=True,
        )
        e.extent = (st.start, st.end)
        raise e

    # pipelines ---------------------------------------------------------------------------------------
    def enumerate(self, value: Any) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return list(value)
        return [value]

    def run_pipeline(self, p: Pipeline, out: list[Any]) -> None:
        self.s.vars["?"] = True
        try:
            self._run_pipeline(p, out)
        finally:
            self.last_status = self.s.vars["?"] is not False

    def _run_pipeline(self, p: Pipeline, out: list[Any]) -> None:
        values: list[Any] = []
        last = len(p.elements) - 1
        for k, el in enumerate(p.elements):
            mark = len(self.s.err)
            if isinstance(el, ExprElement):
                if isinstance(el.expr, IncDec) and last == 0 and not el.redirects:
                    self.evaluate(el.expr)  # `$i++` as a statement writes nothing
                    return
                result = self.enumerate(self.evaluate(el.expr))
            else:
                # the last command writes straight into the destination, so a function's output and what
                # it prints with Write-Host come out in the order they happened
                sink = out if k == last and not el.redirects else None
                result = self.run_command(el, values, sink)
            values = self.redirect(el.redirects, result, mark) if el.redirects else result
        out.extend(values)

    def redirect(self, redirects: list[Redirection], values: list[Any], mark: int) -> list[Any]:
        try:
            return self._redirect(redirects, values, mark)
        except FsError as fe:
            err = fs_error(fe)
            raise PSRuntimeError(
                err.message, category=err.category, exception=err.exception, fqid=err.fqid, target=err.target
            ) from None

    def _redirect(self, redirects: list[Redirection], values: list[Any], mark: int) -> list[Any]:
        fs = self.s.guest.fs
        for r in redirects:
            dest = None if r.target is None else self.evaluate(r.target)
            op = r.op
            if op in ("2>&1", "*>&1", "3>&1", "4>&1", "5>&1", "6>&1"):
                values = values + [x.rstrip("\n") for x in self.s.err[mark:]]
                del self.s.err[mark:]
                continue
            if op == "1>&2":
                self.s.err.extend(render(values).splitlines(keepends=True))
                values = []
                continue
            if op.startswith(("2", "*", "3", "4", "5", "6")):
                moved = "".join(self.s.err[mark:]) if op[0] in "2*" else ""
                if op[0] in "2*":
                    del self.s.err[mark:]
                if dest is not None:
                    fs.write(
                        self.s.full(to_str(dest)),
                        moved.encode("utf-16-le", "surrogatepass"),
                        append=op.endswith(">>"),
                    )
                if not op.startswith("*"):
                    continue
            if dest is None:
                values = []
                continue
            path = self.s.full(to_str(dest))
            if fs.is_dir(path):
                raise PSRuntimeError(
                    f"Access to the path '{path}' is denied.",
                    category="OpenError",
                    exception="UnauthorizedAccessException",
                    fqid="FileOpenFailure,Microsoft.PowerShell.Commands.OutFileCommand",
                    script=False,
                )
            data = render(values).replace("\n", "\r\n")
            if op.endswith(">>") and fs.is_file(path):
                fs.write(path, data.encode("utf-16-le", "surrogatepass"), append=True, mtime=self.s.ctx.now)
            else:
                fs.write(path, b"\xff\xfe" + data.encode("utf-16-le", "surrogatepass"), mtime=self.s.ctx.now)
            values = []
        return values

    # commands ----------------------------------------------------------------------------------------
    def resolve_command(self, name: str) -> tuple[str, str] | None:
        """("function"|"cmdlet"|"alias"|"application", resolved name) for Get-Command and friends."""
        low = name.lower()
        if low in self.functions:
            return "function", self.functions[low].name
        if low in ALIASES:
            return "alias", ALIASES[low]
        spec = CMDLETS.get(low)
        if spec is not None:
            return "cmdlet", spec.name
        program = find_program(self.s, name)
        if program is not None:
            return "application", program
        return None

    def command_name(self, cmd: Command) -> tuple[str, Any]:
        value = self.evaluate(cmd.name)
        if isinstance(value, ScriptBlock | PSObj):
            return "", value
        return to_str(value), None

    def run_command(self, cmd: Command, input_: list[Any], sink: list[Any] | None = None) -> list[Any]:
        name, target = self.command_name(cmd)
        if isinstance(target, ScriptBlock):
            args, _ = self.plain_args(cmd)
            return self.invoke_block(target, args, None, new_scope=cmd.invocation != ".", input_=input_)
        typed = name.replace("`", "")
        low = typed.lower()
        fn = self.functions.get(low)
        if fn is None and low in ALIASES:
            fn = self.functions.get(ALIASES[low].lower())
        if fn is not None:
            return self.call_function(fn, cmd, input_, sink)
        extra: dict[str, Any] = {}
        if low in ("mkdir", "md"):
            low, extra = "new-item", {"ItemType": "Directory"}
        spec = CMDLETS.get(ALIASES.get(low, low).lower()) or CMDLETS.get(low)
        if spec is not None:
            return self.run_cmdlet(spec, cmd, typed, input_, extra)
        program = find_program(self.s, typed) if typed else None
        if program is None:
            return self.not_recognized(cmd, typed)
        return self.run_program(cmd, program)

    def not_recognized(self, cmd: Command, name: str) -> list[Any]:
        e = PSRuntimeError(
            NOT_RECOGNIZED.format(name),
            category="ObjectNotFound",
            target=name,
            exception="CommandNotFoundException",
            fqid="CommandNotFoundException",
        )
        e.extent = (cmd.start, cmd.name_end if not cmd.invocation else cmd.end)
        e.formatted = self.error_text(e, f"{name} : ")
        self.s.vars["?"] = False
        if self.try_depth > 0 or self.stop_preference():
            e.script = True
            raise e
        self.report(e)
        here = self.s.full(name) if name else ""
        fs = self.s.guest.fs
        if name and "\\" not in name and (fs.is_file(here) or fs.is_file(here + ".exe")):
            shown = name if fs.is_file(here) else name + ".exe"
            self.s.out.append(
                f"Suggestion [3,General]: The command {name} was not found, but does exist in the current "
                f"location. Windows PowerShell does not load commands from the current location by "
                f'default. If you trust this command, instead type: ".\\{shown}". See "get-help '
                f'about_Command_Precedence" for more details.\n'
            )
        return []

    def plain_args(self, cmd: Command) -> tuple[list[Any], dict[str, Any]]:
        """Arguments for a script block or a native program: values in order; -Name tokens as text."""
        out: list[Any] = []
        for a in cmd.args:
            if isinstance(a, ParamArg):
                out.append(f"-{a.name}:" if a.colon else f"-{a.name}")
                if a.value is not None:
                    out.append(self.evaluate(a.value))
            elif isinstance(a, Splat):
                v = self.get_var(a.name)
                out.extend(
                    as_list(v)
                    if not isinstance(v, Hashtable)
                    else [x for k, val in v.items() for x in (f"-{k}", val)]
                )
            else:
                out.append(self.evaluate(a))
        return out, {}

    def run_program(self, cmd: Command, program: str) -> list[Any]:
        argv: list[str] = []
        for a in cmd.args:
            if isinstance(a, ParamArg):
                if a.value is not None:
                    argv.append(f"-{a.name}:{to_str(self.evaluate(a.value))}")
                else:
                    argv.append(f"-{a.name}")
            else:
                value = self.get_var(a.name) if isinstance(a, Splat) else self.evaluate(a)
                argv.extend(to_str(x) for x in as_list(value))
        self.flush()
        captured = OutStream()
        real = self.s.out
        self.s.out = captured
        try:
            code = run_native(self.s, program, argv)
        finally:
            self.s.out = real
        if code != 0:
            self.s.vars["?"] = False
        text = "".join(captured)
        if not text:
            return []
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [line.rstrip("\r") for line in lines]

    def run_cmdlet(
        self, spec: CmdSpec, cmd: Command, typed: str, input_: list[Any], extra: dict[str, Any]
    ) -> list[Any]:
        try:
            args = self.bind_cmdlet(spec, cmd)
        except PSErr as exc:
            self.nonterminating(self.cmdlet_error(exc, cmd, typed, spec), self.action_for(None))
            return []
        for k, v in extra.items():
            args.named.setdefault(k, v)
        args.input = input_
        try:
            try:
                result = spec.fn(self.s, args)
            except FsError as fe:
                raise fs_error(fe) from None
            except ValueError as ve:  # a parameter value the cmdlet could not convert
                raise PSErr(
                    f"Cannot process argument transformation: {ve}",
                    category="InvalidArgument",
                    exception="ParameterBindingArgumentTransformationException",
                    fqid="ParameterArgumentTransformationError",
                ) from None
        except PSErr as exc:
            e = self.cmdlet_error(exc, cmd, typed, spec)
            if exc.terminating:
                e.script = True
                self.s.vars["?"] = False
                raise e from None
            self.nonterminating(e, self.action_for(args))
            return []
        except PSRuntimeError as e:
            e.extent = e.extent or (cmd.start, cmd.end)
            raise
        return result

    def param_name(self, spec: CmdSpec, given: str) -> str:
        names = [*spec.params, *spec.switches, *COMMON_VALUED, *COMMON_SWITCHES]
        alias = {
            "ea": "ErrorAction",
            "wa": "WarningAction",
            "cf": "Confirm",
            "wi": "WhatIf",
            "vb": "Verbose",
            "ev": "ErrorVariable",
            "ov": "OutVariable",
        }
        if given.lower() in alias:
            return alias[given.lower()]
        for n in names:
            if n.lower() == given.lower():
                return n
        hits = [n for n in names if n.lower().startswith(given.lower())]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise PSErr(
                f"Parameter cannot be processed because the parameter name '{given}' is ambiguous. Possible "
                f"matches include: {' '.join('-' + h for h in hits)}.",
                category="InvalidArgument",
                target=given,
                exception="ParameterBindingException",
                fqid="AmbiguousParameter",
            )
        raise PSErr(
            f"A parameter cannot be found that matches parameter name '{given}'.",
            category="InvalidArgument",
            target=given,
            exception="ParameterBindingException",
            fqid="NamedParameterNotFound",
        )

    def bind_cmdlet(self, spec: CmdSpec, cmd: Command) -> Args:
        args = Args()
        positional: list[Any] = []
        items = list(cmd.args)
        i = 0
        while i < len(items):
            a = items[i]
            if isinstance(a, Splat):
                v = self.get_var(a.name)
                if isinstance(v, Hashtable):
                    for k, val in v.items():
                        args.named[self.param_name(spec, to_str(k))] = val
                else:
                    positional.extend(as_list(v))
                i += 1
                continue
            if isinstance(a, ParamArg):
                name = self.param_name(spec, a.name)
                if name in spec.switches or name in COMMON_SWITCHES:
                    args.named[name] = to_bool(self.evaluate(a.value)) if a.value is not None else True
                    i += 1
                    continue
                if a.value is not None:
                    args.named[name] = self.evaluate(a.value)
                    i += 1
                    continue
                if i + 1 >= len(items) or isinstance(items[i + 1], ParamArg):
                    raise PSErr(
                        f"Missing an argument for parameter '{name}'. Specify a parameter of type "
                        "'System.String' and try again.",
                        category="InvalidArgument",
                        target="",
                        exception="ParameterBindingException",
                        fqid="MissingArgument",
                    )
                nxt = items[i + 1]
                assert not isinstance(nxt, ParamArg)
                args.named[name] = self.get_var(nxt.name) if isinstance(nxt, Splat) else self.evaluate(nxt)
                i += 2
                continue
            positional.append(self.evaluate(a))
            i += 1
        free = [p for p in spec.positional if p not in args.named]
        rest = _REMAINING.get(spec.name)
        if rest in free and len(positional) > 1:  # ValueFromRemainingArguments: Write-Output a b
            args.named[rest] = positional
            return args
        for value in positional:
            if not free:
                raise PSErr(
                    f"A positional parameter cannot be found that accepts argument '{to_str(value)}'.",
                    category="InvalidArgument",
                    target="",
                    exception="ParameterBindingException",
                    fqid="PositionalParameterNotFound",
                )
            args.named[free.pop(0)] = value
        return args

    # functions and script blocks ---------------------------------------------------------------------
    def call_function(
        self, fn: FunctionDef, cmd: Command, input_: list[Any], sink: list[Any] | None = None
    ) -> list[Any]:
        named: list[tuple[ParamArg, Any]] = []
        positional: list[Any] = []
        items = list(cmd.args)
        switches = {
            p.name.lower() for p in fn.body.params if p.type_name.lower() in ("switch", "switchparameter")
        }
        i = 0
        while i < len(items):
            a = items[i]
            if isinstance(a, ParamArg):
                p = self.find_param(fn.body.params, a.name)
                if p is None:
                    if fn.body.params:
                        e = PSRuntimeError(
                            f"A parameter cannot be found that matches parameter name '{a.name}'.",
                            category="InvalidArgument",
                            exception="ParameterBindingException",
                            target=a.name,
                            fqid=f"NamedParameterNotFound,{fn.name}",
                        )
                        e.extent = (a.start, a.end)
                        e.formatted = self.error_text(e, f"{fn.name} : ")
                        raise e
                    positional.append(f"-{a.name}")
                    if a.value is not None:
                        positional.append(self.evaluate(a.value))
                    i += 1
                    continue
                if p.name.lower() in switches:
                    named.append((a, to_bool(self.evaluate(a.value)) if a.value is not None else True))
                    i += 1
                    continue
                if a.value is not None:
                    named.append((a, self.evaluate(a.value)))
                    i += 1
                    continue
                if i + 1 >= len(items) or isinstance(items[i + 1], ParamArg):
                    e = PSRuntimeError(
                        f"Missing an argument for parameter '{p.name}'. Specify a parameter of type "
                        f"'{_param_type(p)}' and try again.",
                        category="InvalidArgument",
                        exception="ParameterBindingException",
                        fqid=f"MissingArgument,{fn.name}",
                    )
                    e.extent = (a.start, a.end)
                    e.formatted = self.error_text(e, f"{fn.name} : ")
                    raise e
                nxt = items[i + 1]
                assert not isinstance(nxt, ParamArg)
                named.append((a, self.evaluate(nxt)))
                i += 2
                continue
            if isinstance(a, Splat):
                v = self.get_var(a.name)
                if isinstance(v, Hashtable):
                    for k, val in v.items():
                        named.append((ParamArg(a.start, a.end, to_str(k)), val))
                else:
                    positional.extend(as_list(v))
                i += 1
                continue
            positional.append(self.evaluate(a))
            i += 1
        bound: dict[str, Any] = {}
        for a, v in named:
            p = self.find_param(fn.body.params, a.name)
            bound[(p.name if p is not None else a.name).lower()] = v
        return self.invoke_ast(
            fn.body, positional, bound, input_, fn.name, cmd, new_scope=True, filter_=fn.filter, sink=sink
        )

    @staticmethod
    def find_param(params: list[ParamDef], given: str) -> ParamDef | None:
        low = given.lower()
        exact = next((p for p in params if p.name.lower() == low), None)
        if exact is not None:
            return exact
        hits = [p for p in params if p.name.lower().startswith(low)]
        return hits[0] if len(hits) == 1 else None

    def convert_param(self, p: ParamDef, value: Any) -> Any:
        if not p.type_name or value is None:
            return value
        try:
            return psops.cast(p.type_name, value)
        except PSRuntimeError as e:
            e.message = f"Cannot process argument transformation on parameter '{p.name}'. {e.message}"
            e.fqid = "ParameterArgumentTransformationError"
            e.exception = "ParameterBindingArgumentTransformationException"
            raise

    def invoke_ast(
        self,
        body: ScriptBlockAst,
        positional: list[Any],
        bound: dict[str, Any],
        input_: list[Any],
        name: str,
        where: Node | None,
        new_scope: bool,
        filter_: bool = False,
        dollar_under: Any = None,
        sink: list[Any] | None = None,
    ) -> list[Any]:
        if self.call_depth >= MAX_CALL_DEPTH:
            e = PSRuntimeError(
                "The script failed due to call depth overflow.",
                category="InvalidOperation",
                exception="ScriptCallDepthException",
                fqid="CallDepthOverflow",
                script=True,
            )
            e.extent = (where.start, where.end) if where is not None else (body.start, body.end)
            raise e
        scope: dict[str, Any] = {}
        rest = list(positional)
        out: list[Any] = [] if sink is None else sink
        if new_scope:
            self.scopes.append(scope)
        self.call_depth += 1
        self.current.append(dollar_under if dollar_under is not None else self.current[-1])
        try:
            for p in body.params:
                low = p.name.lower()
                if low in bound:
                    self.set_var(low, self.convert_param(p, bound[low]))
                elif rest and p.type_name.lower() not in ("switch", "switchparameter"):
                    self.set_var(low, self.convert_param(p, rest.pop(0)))
                elif p.mandatory:
                    e = PSRuntimeError(
                        f"Cannot process command because of one or more missing mandatory parameters: {p.name}.",
                        category="InvalidArgument",
                        exception="ParameterBindingException",
                        fqid=f"MissingMandatoryParameter,{name}",
                    )
                    if where is not None:
                        e.extent = (where.start, where.end)
                    raise e
                elif p.default is not None:
                    self.set_var(low, self.convert_param(p, self.evaluate(p.default)))
                else:
                    self.set_var(low, False if p.type_name.lower() in ("switch", "switchparameter") else None)
            if new_scope:
                scope["args"] = rest
                scope["input"] = list(input_)
            try:
                if body.begin is not None:
                    self.run_block(body.begin, out)
                process = body.process if body.process is not None else (body.body if filter_ else None)
                if process is not None:
                    for item in input_ or ([] if input_ == [] and body.process is not None else [None]):
                        self.current.append(item)
                        try:
                            self.run_block(process, out)
                        finally:
                            self.current.pop()
                if process is not body.body:
                    self.run_block(body.body, out)
            except ReturnFlow as r:
                out.extend(r.values)
        finally:
            self.current.pop()
            self.call_depth -= 1
            if new_scope:
                self.scopes.pop()
        return out if sink is None else []

    def block_ast(self, block: ScriptBlock) -> ScriptBlockAst:
        if isinstance(block.ast, ScriptBlockAst):
            return block.ast
        ast = self.parse_text(block.text)
        block.ast, block.source = ast, block.text
        return ast

    def parse_text(self, text: str) -> ScriptBlockAst:
        try:
            return parse_script(text)
        except ParseError as pe:
            e = PSRuntimeError(pe.message, category="ParserError", exception="ParseException", fqid=pe.fqid)
            e.formatted = format_parse_error(text, pe)
            raise e from None

    def invoke_block(
        self,
        block: Any,
        args: list[Any],
        dollar_under: Any = None,
        new_scope: bool = False,
        input_: list[Any] | None = None,
    ) -> list[Any]:
        if not isinstance(block, ScriptBlock):
            block = ScriptBlock(to_str(block))
        ast = self.block_ast(block)
        saved_src = self.src
        if block.source:
            self.src = block.source
        try:
            return self.invoke_ast(
                ast, args, {}, input_ or [], "", None, new_scope, dollar_under=dollar_under
            )
        finally:
            self.src = saved_src

    def run_text(self, text: str) -> list[Any]:
        """Invoke-Expression: parse and run in the current scope."""
        ast = self.parse_text(text)
        saved = self.src
        self.src = text
        out: list[Any] = []
        try:
            self.run_block(ast.body, out)
        finally:
            self.src = saved
        return out

    # expressions -------------------------------------------------------------------------------------
    def evaluate(self, node: Expr) -> Any:
        try:
            return self._evaluate(node)
        except PSRuntimeError as e:
            if e.extent is None:
                e.extent = (node.start, node.end)
            raise
        except RecursionError:
            err = PSRuntimeError(
                "The script failed due to call depth overflow.",
                category="InvalidOperation",
                exception="ScriptCallDepthException",
                fqid="CallDepthOverflow",
                script=True,
            )
            err.extent = (node.start, node.end)
            raise err from None

    def _evaluate(self, node: Expr) -> Any:
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Var):
            return self.get_var(node.name)
        if isinstance(node, Expandable):
            return "".join(
                p if isinstance(p, str) else to_str(self.evaluate(p), self.ofs()) for p in node.parts
            )
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, ArrayLiteral):
            return [self.evaluate(x) for x in node.items]
        if isinstance(node, Paren):
            if isinstance(node.pipeline, Assign):
                self.run_assign(node.pipeline)
                return self.evaluate(node.pipeline.target)
            return self.value_of(node.pipeline)
        if isinstance(node, SubExpr):
            out: list[Any] = []
            self.run_block(node.body, out)
            if node.array:
                return list(out)
            return self.collapse(out)
        if isinstance(node, HashLiteral):
            table = Hashtable()
            for key, value in node.pairs:
                table[self.evaluate(key)] = self.collapse(self.values(value))
            return table
        if isinstance(node, ScriptBlockExpr):
            return ScriptBlock(node.block.text, node.block, self.src)
        if isinstance(node, Member):
            target = self.evaluate(node.target)
            name = to_str(self.evaluate(node.name))
            if node.static and isinstance(node.target, TypeLit):
                return self.static_member(node.target.name, name)
            return psmembers.get_member(target, name)
        if isinstance(node, Invoke):
            args = [self.evaluate(a) for a in node.args]
            name = to_str(self.evaluate(node.name))
            if node.static and isinstance(node.target, TypeLit):
                self.known_type(node.target.name)
                return psmembers.call_static(self, node.target.name, name, args)
            target = self.evaluate(node.target)
            return psmembers.call_method(self, target, name, args)
        if isinstance(node, Index):
            return psmembers.get_index(self.evaluate(node.target), self.evaluate(node.index))
        if isinstance(node, Cast):
            if node.type_name.lower() in ("pscustomobject", "ordered") and isinstance(
                node.operand, HashLiteral
            ):
                return psops.cast(node.type_name, self.evaluate(node.operand))
            return psops.cast(node.type_name, self.evaluate(node.operand))
        if isinstance(node, TypeLit):
            if psops.canonical_type(node.name) is None:
                raise psops.type_not_found(node.name)
            return f"System.{node.name}" if "." not in node.name else node.name
        if isinstance(node, IncDec):
            old = self.evaluate(node.target)
            new = psops.arith("+" if node.op == "++" else "-", old if old is not None else 0, 1)
            self.assign(node.target, new, node)
            return new if node.prefix else old
        if isinstance(node, Splat):
            return self.get_var(node.name)
        raise PSRuntimeError(f"azemu: cannot evaluate {type(node).__name__}", fqid="AzemuUnsupported")

    def ofs(self) -> str:
        v = self.get_var("OFS")
        return " " if v is None else to_str(v)

    def known_type(self, type_name: str) -> None:
        if psops.canonical_type(type_name) is None:
            raise psops.type_not_found(type_name)

    def static_member(self, type_name: str, name: str) -> Any:
        self.known_type(type_name)
        return psmembers.static_member(self, type_name, name)

    def binary(self, node: Binary) -> Any:
        op = node.op
        if op == "-and":
            return to_bool(self.evaluate(node.left)) and to_bool(self.evaluate(node.right))
        if op == "-or":
            return to_bool(self.evaluate(node.left)) or to_bool(self.evaluate(node.right))
        left = self.evaluate(node.left)
        if op in ("-is", "-isnot", "-as"):
            type_name = (
                node.right.name if isinstance(node.right, TypeLit) else to_str(self.evaluate(node.right))
            )
            if op == "-as":
                try:
                    return psops.cast(type_name, left)
                except PSRuntimeError as e:
                    if e.fqid == "TypeNotFound":
                        raise
                    return None
            hit = psops.is_type(left, type_name.removeprefix("System."))
            return hit if op == "-is" else not hit
        right = self.evaluate(node.right)
        if op == "-xor":
            return to_bool(left) != to_bool(right)
        if op in ("+", "-", "*", "/", "%"):
            return psops.arith(op, left, right)
        if op in ("-band", "-bor", "-bxor", "-shl", "-shr"):
            return psops.bitwise(op, left, right)
        if op == "..":
            return psops.range_op(left, right)
        if op == "-f":
            return psops.ps_format(to_str(left), as_list(right))
        return psops.compare(op, left, right, lambda m: self.set_var("Matches", m))

    def unary(self, node: Unary) -> Any:
        value = self.evaluate(node.operand)
        op = node.op
        if op in ("-not", "!"):
            return not to_bool(value)
        if op == "-bnot":
            return ~psops.to_int(value)
        if op == "-":
            return (
                psops.arith("*", psops.to_number(value), -1) if not isinstance(value, int | float) else -value
            )
        if op == "+":
            return psops.to_number(value)
        if op in ("-split", "-isplit", "-csplit"):
            return [p for x in as_list(value) for p in psops.split(x)]
        if op == "-join":
            return psops.join(value)
        raise PSRuntimeError(f"azemu: unknown operator {op}", fqid="AzemuUnsupported")

    # Host protocol for psmembers ---------------------------------------------------------------------
    def read_file(self, path: str) -> str:
        full = self.s.full(path)
        fs = self.s.guest.fs
        if not fs.is_file(full):
            raise psmembers.invocation_error("ReadAllText", [path], f"Could not find file '{full}'.")
        data = fs.read(full)
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le", "replace")
        return data.decode("utf-8-sig", "replace")

    def write_file(self, path: str, text: str, append: bool) -> None:
        full = self.s.full(path)
        fs = self.s.guest.fs
        parent = full.rsplit("\\", 1)[0]
        if not fs.is_dir(parent):
            raise psmembers.invocation_error(
                "WriteAllText", [path, text], f"Could not find a part of the path '{full}'."
            )
        if fs.is_dir(full):
            raise psmembers.invocation_error(
                "WriteAllText", [path, text], f"Access to the path '{full}' is denied."
            )
        fs.write(full, text.encode("utf-8", "surrogatepass"), append=append, mtime=self.s.ctx.now)

    def file_exists(self, path: str, directory: bool) -> bool:
        full = self.s.full(path)
        return self.s.guest.fs.is_dir(full) if directory else self.s.guest.fs.is_file(full)

    def make_directory(self, path: str) -> None:
        full = self.s.full(path)
        try:
            self.s.guest.fs.mkdir(full)
        except FsError:
            raise psmembers.invocation_error(
                "CreateDirectory",
                [path],
                f"Cannot create '{full}' because a file with the same name already exists.",
            ) from None

    def env(self, name: str) -> str | None:
        return self.s.env.get(name.upper())

    def set_env(self, name: str, value: str | None) -> None:
        if value is None or value == "":
            self.s.env.pop(name.upper(), None)
        else:
            self.s.env[name.upper()] = value

    def computer_name(self) -> str:
        return self.s.computer()

    def now(self) -> float:
        return self.s.ctx.now + self.s.hang

    def cwd(self) -> str:
        return self.s.cwd


def _param_type(p: ParamDef) -> str:
    return "System." + (p.type_name[:1].upper() + p.type_name[1:] if p.type_name else "Object")


def run_script_text(s: Session, src: str, parameters: dict[str, Any]) -> tuple[int, str | None]:
    """Parse and run ``src``; (exit code, the parse error text or None)."""
    try:
        ast = parse_script(src)
    except ParseError as e:
        return 1, format_parse_error(src, e)
    except RecursionError:
        return 1, format_parse_error(
            src,
            ParseError(
                "The script is nested too deeply for the emulator to parse.", 0, 1, "ScriptTooDeeplyNested"
            ),
        )
    interp = Interpreter(s, src)
    return interp.run(ast, parameters), None
