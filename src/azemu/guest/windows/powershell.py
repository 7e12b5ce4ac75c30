"""Azure Run Command ``RunPowerShellScript``: a script run as SYSTEM by Windows PowerShell 5.1.

An honest subset: statements split on newlines and ``;``; ``#`` and ``<# #>`` comments; backtick and pipe
line continuation; ``$var = ...``, ``$env:NAME``; single/double quotes (double expands ``$x``, ``$env:X``,
``${x}``, ``$(...)``); ``(...)`` with ``.Member``; comma arrays; ``-eq -ne -like -match -gt -lt`` and ``+``;
pipelines; ``> file`` / ``2>&1`` / ``> $null``; ``&`` and ``.\\x.exe`` native calls; ``exit N``; ``throw``.
Control flow (``if``, ``foreach``, functions, ``try``) is not supported and says so.

Run Command passes ``parameters`` as script parameters; here they are also plain variables (real
PowerShell binds them only through a ``param()`` block, which is honoured for defaults).

Exit code: ``exit N`` wins; otherwise 1 when the last statement failed (an error record, or a native
program's non-zero exit), else 0. A terminating error (``-ErrorAction Stop``, ``$ErrorActionPreference =
'Stop'``, ``throw``) ends the script with 1.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from azemu.guest.machine import ExecContext, ExecResult, Guest
from azemu.guest.windows import layout as L
from azemu.guest.windows import ps_accounts, ps_core, ps_items, ps_system  # noqa: F401  (register cmdlets)
from azemu.guest.windows.psformat import PSObj, ScriptBlock, render
from azemu.guest.windows.pslex import ParseError, Stmt, Tok, split_statements, tokenize
from azemu.guest.windows.psruntime import (
    ALIASES,
    CMDLETS,
    COMMON_SWITCHES,
    COMMON_VALUED,
    Args,
    CmdSpec,
    PSErr,
    Session,
    cmdlet,
    find_program,
    run_native,
)

RUNCMD_DIR = r"C:\Packages\Plugins\Microsoft.CPlat.Core.RunCommandWindows\1.1.18\Downloads"
_NOT_RECOGNIZED = (
    "The term '{0}' is not recognized as the name of a cmdlet, function, script file, or operable "
    "program. Check the spelling of the name, or if a path was included, verify that the path is "
    "correct and try again."
)
_KEYWORDS = (
    "if",
    "elseif",
    "else",
    "foreach",
    "for",
    "while",
    "do",
    "switch",
    "function",
    "filter",
    "try",
    "catch",
    "finally",
    "trap",
    "return",
    "break",
    "continue",
    "workflow",
    "class",
    "enum",
)
_OPS = (
    "-eq",
    "-ne",
    "-gt",
    "-lt",
    "-ge",
    "-le",
    "-like",
    "-notlike",
    "-match",
    "-notmatch",
    "-and",
    "-or",
    "-ieq",
    "-ine",
    "-ilike",
    "-imatch",
    "+",
    "-",
    "*",
    "/",
)
_REMAINING = {"Write-Output": "InputObject", "Write-Host": "Object"}
_VAR = re.compile(r"^\$(\{[^}]+\}|(?:env|global|script|local):[\w().]+|[\w?]+)((?:\.\w+)*)$", re.I)
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Stop(Exception):
    pass


def run_powershell(
    guest: Guest, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext
) -> ExecResult:
    s = Session(guest, ctx)
    _init(s)
    script = "\n".join(lines)
    guest.fs.mkdir(RUNCMD_DIR)
    guest.fs.write(RUNCMD_DIR + r"\script0.ps1", script.replace("\n", "\r\n"), mtime=ctx.now)
    s.cwd = RUNCMD_DIR
    for p in parameters:
        s.vars[str(p.get("name", "")).lower()] = str(p.get("value", ""))
    try:
        stmts = [(st, tokenize(st.text)) for st in split_statements(script)]
        for st, toks in stmts:
            _check(st, toks)
    except _Parse as exc:
        return ExecResult(1, stderr=exc.text)
    code: int | None = None
    failed = False
    for st, toks in stmts:
        s.vars["?"] = True
        try:
            _statement(s, st, toks)
        except _Exit as e:
            code = e.code
            break
        except _Stop:
            failed = True
            break
        failed = s.vars.get("?") is False
        if s.halted:
            break
    if code is None:
        code = 1 if failed else 0
    return ExecResult(code, "".join(s.out), "".join(s.err), s.power, s.hang)


def _init(s: Session) -> None:
    name = L.active_name(s.guest)
    dom = L.domain(s.guest)
    s.env.update(
        {
            "COMPUTERNAME": name,
            "USERNAME": name + "$",
            "USERDOMAIN": (dom.split(".")[0].upper() if dom else L.workgroup(s.guest)),
            "SYSTEMROOT": r"C:\Windows",
            "WINDIR": r"C:\Windows",
            "SYSTEMDRIVE": "C:",
            "PROGRAMFILES": r"C:\Program Files",
            "PROGRAMDATA": r"C:\ProgramData",
            "TEMP": r"C:\Windows\TEMP",
            "TMP": r"C:\Windows\TEMP",
            "USERPROFILE": r"C:\Windows\system32\config\systemprofile",
            "PUBLIC": r"C:\Users\Public",
            "OS": "Windows_NT",
            "PROCESSOR_ARCHITECTURE": "AMD64",
            "PATH": r"C:\Windows\system32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0\\",
            "COMSPEC": r"C:\Windows\system32\cmd.exe",
        }
    )
    build = L.reg(s.guest).get(L.K_NT_CV, "CurrentBuild", "20348")
    ubr = L.reg(s.guest).get(L.K_NT_CV, "UBR", 0)
    s.vars["psversiontable"] = PSObj(
        "PSVersionTable",
        {
            "PSVersion": f"5.1.{build}.{ubr}",
            "PSEdition": "Desktop",
            "BuildVersion": f"10.0.{build}.{ubr}",
            "CLRVersion": "4.0.30319.42000",
            "WSManStackVersion": "3.0",
            "PSRemotingProtocolVersion": "2.3",
            "SerializationVersion": "1.1.0.1",
        },
        "list",
    )
    s.vars.update(
        {
            "erroractionpreference": "Continue",
            "lastexitcode": 0,
            "home": r"C:\Windows\system32\config\systemprofile",
            "pshome": r"C:\Windows\System32\WindowsPowerShell\v1.0",
        }
    )


# parse check (a parse error stops the whole script before it runs) ----------------------------------------
class _Parse(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


def _parse_error(st: Stmt, tok_col: int, length: int, message: str, fqid: str) -> _Parse:
    col = st.col + tok_col
    squig = " " * (col - 1) + "~" * max(1, min(length, len(st.line_text) - col + 1))
    return _Parse(
        f"At line:{st.line} char:{col}\n+ {st.line_text}\n+ {squig}\n{message}\n"
        f"    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n"
        f"    + FullyQualifiedErrorId : {fqid}\n\n"
    )


def _is_value_tok(t: Tok) -> bool:
    return t.kind in ("sq", "dq", "paren", "subexpr", "array", "hash") or (
        t.kind == "word" and (t.text.startswith("$") or bool(_NUM.match(t.text)))
    )


def _expr_len(toks: list[Tok]) -> int:
    i = 0
    if toks and toks[0].kind == "word" and toks[0].text.lower() in ("-not", "!"):
        i = 1
    if i >= len(toks) or not _is_value_tok(toks[i]):
        return i
    i += 1
    while i + 1 < len(toks) and (
        toks[i].kind == "comma" or (toks[i].kind == "word" and toks[i].text.lower() in _OPS)
    ):
        if not _is_value_tok(toks[i + 1]):
            break
        i += 2
    return i


def _check(st: Stmt, toks: list[Tok]) -> None:
    try:
        elements = _split_pipe(toks)
    except ParseError as exc:
        raise _parse_error(st, exc.col, exc.length, str(exc), exc.fqid) from exc
    for n, el in enumerate(elements):
        el = [t for t in el if t.kind != "redir"]
        if not el:
            raise _parse_error(st, 0, 1, "An empty pipe element is not allowed.", "EmptyPipeElement")
        if _is_value_tok(el[0]) or (el[0].kind == "word" and el[0].text.lower() == "-not"):
            if n > 0:
                raise _parse_error(
                    st,
                    el[0].col,
                    el[0].length,
                    "Expressions are only allowed as the first element of a pipeline.",
                    "ExpressionsMustBeFirstInPipeline",
                )
            if n == 0 and _assignment(st.text) is None:
                used = _expr_len(el)
                if used < len(el):
                    t = el[used]
                    raise _parse_error(
                        st,
                        t.col,
                        t.length,
                        f"Unexpected token '{t.text}' in expression or statement.",
                        "UnexpectedToken",
                    )


def _split_pipe(toks: list[Tok]) -> list[list[Tok]]:
    out: list[list[Tok]] = [[]]
    for t in toks:
        if t.kind == "pipe":
            out.append([])
        else:
            out[-1].append(t)
    return out


def _assignment(text: str) -> tuple[str, str, str] | None:
    m = re.match(r"^\$(\{[^}]+\}|[\w:]+)\s*(\+=|=)(?!=)\s*(.*)$", text, re.S)
    if not m:
        return None
    return m.group(1).strip("{}"), m.group(2), m.group(3)


# statements ------------------------------------------------------------------------------------------------
def _statement(s: Session, st: Stmt, toks: list[Tok]) -> None:
    first = toks[0].text.lower() if toks and toks[0].kind == "word" else ""
    if first == "exit":
        code = _eval_expr(s, st, toks[1:]) if len(toks) > 1 else 0
        raise _Exit(_int(code))
    if first == "param" and len(toks) > 1 and toks[1].kind == "paren":
        for part in toks[1].text.split(","):
            m = re.search(r"\$(\w+)\s*(?:=\s*(.+))?$", part.strip(), re.S)
            if m and m.group(1).lower() not in s.vars:
                s.vars[m.group(1).lower()] = _eval_expr(s, st, tokenize(m.group(2))) if m.group(2) else None
        return
    if first == "throw":
        msg = _text(_eval_expr(s, st, toks[1:])) if len(toks) > 1 else "ScriptHalted"
        _report(
            s,
            st,
            "",
            PSErr(msg, category="OperationStopped", target=msg, exception="RuntimeException", fqid=msg),
            0,
            len(st.text),
            bare=True,
        )
        raise _Stop()
    if first in _KEYWORDS:
        s.err.append(
            f"azemu: the PowerShell '{first}' statement is not supported by this emulator's "
            f"RunPowerShellScript subset\n"
        )
        s.vars["?"] = False
        return
    assign = _assignment(st.text)
    if assign is not None:
        name, op, rhs = assign
        value = _collapse(_pipeline(s, st, tokenize(rhs), st.text.index(rhs) if rhs else 0)) if rhs else None
        if op == "+=":
            value = _binop("+", _var(s, name), value)
        _set_var(s, name, value)
        return
    out = _pipeline(s, st, toks, 0)
    if out:
        s.out.append(render(out))


def _set_var(s: Session, name: str, value: Any) -> None:
    low = name.lower()
    if low.startswith("env:"):
        s.env[low[4:].upper()] = _text(value)
    elif low not in ("null", "global:null"):
        s.vars[low.split(":", 1)[-1] if low.startswith(("global:", "script:", "local:")) else low] = value


def _collapse(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _pipeline(s: Session, st: Stmt, toks: list[Tok], offset: int) -> list[Any]:
    values: list[Any] = []
    for n, el in enumerate(_split_pipe(toks)):
        redirs: list[tuple[str, Tok | None]] = []
        body: list[Tok] = []
        i = 0
        while i < len(el):
            t = el[i]
            if t.kind == "redir":
                target = None if t.text.endswith("&1") else (el[i + 1] if i + 1 < len(el) else None)
                redirs.append((t.text, target))
                i += 2 if target is not None else 1
                continue
            body.append(t)
            i += 1
        err_mark = len(s.err)
        if n == 0 and (_is_value_tok(body[0]) or body[0].text.lower() == "-not"):
            values = _as_list(_eval_expr(s, st, body))
        else:
            values = _invoke(s, st, body, values, offset)
        values = _redirect(s, st, redirs, values, err_mark)
    return values


def _redirect(
    s: Session, st: Stmt, redirs: list[tuple[str, Tok | None]], values: list[Any], mark: int
) -> list[Any]:
    for op, target in redirs:
        dest = None if target is None else _eval_arg(s, st, target)
        if op in ("2>&1", "*>&1"):
            values = values + [x.rstrip("\n") for x in s.err[mark:]]
            del s.err[mark:]
            continue
        if op.startswith(("2", "*")):
            moved = "".join(s.err[mark:])
            del s.err[mark:]
            if dest is not None:
                s.guest.fs.write(s.full(_text(dest)), moved.encode("utf-16-le"), append=op.endswith(">>"))
            if op.startswith("2"):
                continue
        if dest is None:
            values = []
            continue
        path = s.full(_text(dest))
        data = render(values).replace("\n", "\r\n")
        if op.endswith(">>") and s.guest.fs.is_file(path):
            s.guest.fs.write(path, data.encode("utf-16-le"), append=True, mtime=s.ctx.now)
        else:
            s.guest.fs.write(
                path, b"\xff\xfe" + data.encode("utf-16-le"), mtime=s.ctx.now
            )  # Out-File: UTF-16LE
        values = []
    return values


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


# commands --------------------------------------------------------------------------------------------------
def _invoke(s: Session, st: Stmt, toks: list[Tok], input_: list[Any], offset: int) -> list[Any]:
    start = offset + toks[0].col
    length = toks[-1].col + toks[-1].length - toks[0].col
    if toks[0].kind == "amp":
        name = _text(_eval_arg(s, st, toks[1])) if len(toks) > 1 else ""
        typed, rest = name, toks[2:]
    else:
        typed = toks[0].text.replace("`", "")
        name, rest = typed, toks[1:]
    low = name.lower()
    extra: dict[str, Any] = {}
    if low in ("mkdir", "md"):
        low, extra = "new-item", {"ItemType": "Directory"}
    spec = CMDLETS.get(ALIASES.get(low, name).lower()) or CMDLETS.get(low)
    if spec is not None:
        try:
            args = _bind(s, st, spec, rest)
        except PSErr as exc:
            return _fail(s, st, typed, exc, start, length, spec, Args())
        for k, v in extra.items():
            args.named.setdefault(k, v)
        args.input = input_
        try:
            return spec.fn(s, args)
        except PSErr as exc:
            return _fail(s, st, typed, exc, start, length, spec, args)
    program = find_program(s, name)
    if program is None:
        missing = PSErr(
            _NOT_RECOGNIZED.format(name),
            category="ObjectNotFound",
            target=name,
            exception="CommandNotFoundException",
            fqid="CommandNotFoundException",
        )
        _report(
            s, st, name, missing, start, len(toks[0].text) if toks[0].kind != "amp" else length, bare=False
        )
        s.vars["?"] = False
        if s.vars.get("erroractionpreference", "").lower() == "stop":
            raise _Stop()
        here = s.full(name)
        if "\\" not in name and (s.guest.fs.is_file(here) or s.guest.fs.is_file(here + ".exe")):
            shown = name if s.guest.fs.is_file(here) else name + ".exe"
            s.out.append(
                f"Suggestion [3,General]: The command {name} was not found, but does exist in the current "
                f"location. Windows PowerShell does not load commands from the current location by "
                f'default. If you trust this command, instead type: ".\\{shown}". See "get-help '
                f'about_Command_Precedence" for more details.\n'
            )
        return []
    argv: list[str] = []
    for t in rest:
        if t.kind == "comma":
            continue
        argv.extend(_text(x) for x in _as_list(_eval_arg(s, st, t)))
    code = run_native(s, program, argv)
    if code != 0:
        s.vars["?"] = False
    return []


def _fail(
    s: Session, st: Stmt, typed: str, exc: PSErr, start: int, length: int, spec: CmdSpec, args: Args
) -> list[Any]:
    s.vars["?"] = False
    action = str(args.get("ErrorAction") or s.vars.get("erroractionpreference") or "Continue").lower()
    if action not in ("silentlycontinue", "ignore"):
        _report(s, st, typed, exc, start, length, bare=False, spec=spec)
    if action == "stop" or exc.terminating:
        raise _Stop()
    return []


def _report(
    s: Session,
    st: Stmt,
    typed: str,
    exc: PSErr,
    start: int,
    length: int,
    *,
    bare: bool,
    spec: CmdSpec | None = None,
) -> None:
    col = st.col + start
    line = st.line_text
    squig = " " * (col - 1) + "~" * max(1, min(length, len(line) - col + 1))
    fqid = exc.fqid + ("," + spec.cls if spec is not None else "")
    bracket = f"[{spec.name}]" if spec is not None else "[]"
    head = exc.message if bare else f"{typed} : {exc.message}"
    s.err.append(
        f"{head}\nAt line:{st.line} char:{col}\n+ {line}\n+ {squig}\n"
        f"    + CategoryInfo          : {exc.category}: ({exc.target}:String) {bracket}, {exc.exception}\n"
        f"    + FullyQualifiedErrorId : {fqid}\n\n"
    )


def _param_name(spec: CmdSpec, given: str) -> str:
    names = [*spec.params, *spec.switches, *COMMON_VALUED, *COMMON_SWITCHES]
    alias = {"ea": "ErrorAction", "wa": "WarningAction", "cf": "Confirm", "wi": "WhatIf", "vb": "Verbose"}
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


def _bind(s: Session, st: Stmt, spec: CmdSpec, toks: list[Tok]) -> Args:
    args = Args()
    positional: list[Any] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        m = re.match(r"^-([A-Za-z_][\w-]*)(:)?(.*)$", t.text) if t.kind == "word" else None
        if m and not _NUM.match(t.text):
            name = _param_name(spec, m.group(1))
            inline = m.group(3)
            if name in spec.switches or name in COMMON_SWITCHES:
                args.named[name] = bool(_eval_word(s, st, inline)) if m.group(2) and inline else True
                if m.group(2) and not inline and i + 1 < len(toks):
                    i += 1
                    args.named[name] = bool(_eval_arg(s, st, toks[i]))
                i += 1
                continue
            if m.group(2) and inline:
                args.named[name] = _eval_word(s, st, inline)
                i += 1
                continue
            if i + 1 >= len(toks):
                raise PSErr(
                    f"Missing an argument for parameter '{name}'. Specify a parameter of type "
                    "'System.String' and try again.",
                    category="InvalidArgument",
                    target="",
                    exception="ParameterBindingException",
                    fqid="MissingArgument",
                )
            args.named[name], i = _read_value(s, st, toks, i + 1)
            continue
        value, i = _read_value(s, st, toks, i)
        positional.append(value)
    free = [p for p in spec.positional if p not in args.named]
    rest = _REMAINING.get(spec.name)
    if rest in free and len(positional) > 1:  # ValueFromRemainingArguments: Write-Output a b
        args.named[rest] = positional
        return args
    for value in positional:
        if not free:
            raise PSErr(
                f"A positional parameter cannot be found that accepts argument '{_text(value)}'.",
                category="InvalidArgument",
                target="",
                exception="ParameterBindingException",
                fqid="PositionalParameterNotFound",
            )
        args.named[free.pop(0)] = value
    return args


def _read_value(s: Session, st: Stmt, toks: list[Tok], i: int) -> tuple[Any, int]:
    value = _eval_arg(s, st, toks[i])
    i += 1
    if i < len(toks) and toks[i].kind == "comma":
        items = [value]
        while i + 1 < len(toks) and toks[i].kind == "comma":
            items.append(_eval_arg(s, st, toks[i + 1]))
            i += 2
        return items, i
    return value, i


# values ----------------------------------------------------------------------------------------------------
def _eval_arg(s: Session, st: Stmt, t: Tok) -> Any:
    if t.kind == "word":
        return _eval_word(s, st, t.text)
    return _eval_tok(s, st, t)


def _eval_word(s: Session, st: Stmt, word: str) -> Any:
    """A bareword in argument mode: variable, number, or an expandable string."""
    m = _VAR.match(word)
    if m:
        value = _var(s, m.group(1).strip("{}"))
        for member in filter(None, m.group(2).split(".")):
            value = _member(value, member)
        return value
    if _NUM.match(word):
        return float(word) if "." in word else int(word)
    if "$" in word:
        return _expand(s, st, word)
    return re.sub(r"`(.)", r"\1", word)


def _eval_tok(s: Session, st: Stmt, t: Tok) -> Any:
    if t.kind == "sq":
        value: Any = t.text
    elif t.kind == "dq":
        value = _expand(s, st, t.text)
    elif t.kind in ("paren", "subexpr", "array"):
        values: list[Any] = []
        for inner in split_statements(t.text):
            toks = tokenize(inner.text)
            if not toks:
                continue
            assign = _assignment(inner.text)
            if assign is not None:
                _statement(s, st, toks)
                continue
            values.extend(_pipeline(s, st, toks, 0))
        value = values if t.kind == "array" else _collapse(values)
    elif t.kind == "word" and (t.text.startswith("$") or _NUM.match(t.text)):
        value = _eval_word(s, st, t.text)
    elif t.kind == "block":
        value = ScriptBlock(t.text)
    else:
        value = t.text
    for member in t.members:
        value = _member(value, member)
    return value


def _eval_expr(s: Session, st: Stmt, toks: list[Tok]) -> Any:
    if not toks:
        return None
    negate = toks[0].kind == "word" and toks[0].text.lower() in ("-not", "!")
    if negate:
        toks = toks[1:]
    items: list[Any] = []
    value = _eval_tok(s, st, toks[0])
    i = 1
    while i + 1 < len(toks):
        op = toks[i]
        rhs = _eval_tok(s, st, toks[i + 1])
        if op.kind == "comma":
            items.append(value)
            value = rhs
        else:
            value = _binop(op.text.lower(), value, rhs)
        i += 2
    if items:
        value = [*items, value]
    return (not _truthy(value)) if negate else value


def _truthy(v: Any) -> bool:
    if isinstance(v, list):
        return len(v) > 0
    return bool(v)


def _binop(op: str, a: Any, b: Any) -> Any:
    op = op.replace("-i", "-") if op.startswith("-i") and op != "-in" else op
    if op == "+":
        if isinstance(a, list):
            return a + _as_list(b)
        if isinstance(a, int | float) and not isinstance(a, bool):
            return a + _num(b)
        return _text(a) + _text(b)
    if op in ("-", "*", "/"):
        x, y = _num(a), _num(b)
        return x - y if op == "-" else x * y if op == "*" else (x / y if y else 0)
    if isinstance(a, list) and op in ("-eq", "-ne", "-like", "-notlike", "-match", "-notmatch"):
        return [x for x in a if _binop(op, x, b)]
    if op == "-and":
        return _truthy(a) and _truthy(b)
    if op == "-or":
        return _truthy(a) or _truthy(b)
    if op in ("-eq", "-ne"):
        if isinstance(a, bool) or isinstance(b, bool):
            same = _truthy(a) == _truthy(b) if isinstance(a, bool) else _text(a).lower() == _text(b).lower()
        elif isinstance(a, int | float):
            same = a == _num(b)
        else:
            same = _text(a).lower() == _text(b).lower()
        return same if op == "-eq" else not same
    if op in ("-like", "-notlike"):
        hit = fnmatch.fnmatchcase(_text(a).lower(), _text(b).lower())
        return hit if op == "-like" else not hit
    if op in ("-match", "-notmatch"):
        hit = re.search(_text(b), _text(a), re.I) is not None
        return hit if op == "-match" else not hit
    x, y = _num(a), _num(b)
    return {"-gt": x > y, "-lt": x < y, "-ge": x >= y, "-le": x <= y}.get(op, False)


def _num(v: Any) -> float | int:
    if isinstance(v, int | float):
        return v
    try:
        return float(_text(v)) if "." in _text(v) else int(_text(v))
    except ValueError:
        return 0


def _int(v: Any) -> int:
    return int(_num(v))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, list):
        return " ".join(_text(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _var(s: Session, name: str) -> Any:
    low = name.lower()
    if low.startswith("env:"):
        return s.env.get(low[4:].upper())
    low = low.split(":", 1)[-1] if low.startswith(("global:", "script:", "local:")) else low
    fixed = {"true": True, "false": False, "null": None, "pwd": s.cwd}
    if low in fixed:
        return fixed[low]
    return s.vars.get(low)


def _member(value: Any, name: str) -> Any:
    low = name.lower()
    if isinstance(value, list):
        if low in ("count", "length"):
            return len(value)
        return _collapse([m for m in (_member(x, name) for x in value) if m is not None])
    if isinstance(value, PSObj):
        return value.get(name)
    if isinstance(value, str) and low == "length":
        return len(value)
    if isinstance(value, dict):
        return next((v for k, v in value.items() if str(k).lower() == low), None)
    if low == "count":
        return 0 if value is None else 1
    return None


def _expand(s: Session, st: Stmt, text: str) -> str:
    out: list[str] = []
    i = 0
    esc = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "a": "\a", "e": "\x1b"}
    while i < len(text):
        ch = text[i]
        if ch == "`" and i + 1 < len(text):
            out.append(esc.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if ch == "$" and i + 1 < len(text):
            if text[i + 1] == "(":
                depth, j = 0, i + 1
                while j < len(text):
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    if depth == 0:
                        break
                    j += 1
                out.append(_text(_eval_tok(s, st, Tok("subexpr", text[i + 2 : j], 0))))
                i = j + 1
                continue
            m = re.match(r"\$(\{[^}]+\}|(?:env|global|script|local):\w+|[\w?]+)", text[i:], re.I)
            if m:
                out.append(_text(_var(s, m.group(1).strip("{}"))))
                i += m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


# script-block cmdlets (they evaluate PowerShell, so they live with the evaluator) ---------------------------
_WHERE_OPS = ("EQ", "NE", "GT", "LT", "GE", "LE", "Like", "NotLike", "Match", "NotMatch")


def _block(s: Session, text: str, item: Any) -> list[Any]:
    saved = s.vars.get("_")
    s.vars["_"] = item
    s.vars["psitem"] = item
    try:
        st = Stmt(text.strip(), 1, 1, text.strip())
        out: list[Any] = []
        for inner in split_statements(text):
            toks = tokenize(inner.text)
            if toks:
                out.extend(_pipeline(s, st, toks, 0))
        return out
    finally:
        s.vars["_"] = saved


@cmdlet(
    "Where-Object",
    ("FilterScript", "Property", "Value", "InputObject"),
    _WHERE_OPS,
    ("FilterScript", "Value"),
)
def where_object(s: Session, a: Args) -> list[Any]:
    flt = a.get("FilterScript")
    op = next((o for o in _WHERE_OPS if a.has(o)), None)
    out = []
    for item in a.input:
        if not isinstance(flt, ScriptBlock):
            prop = a.str("Property") or _text(flt)
            value = _member(item, prop)
            keep = _truthy(_binop("-" + op.lower(), value, a.get("Value"))) if op else _truthy(value)
        else:
            keep = _truthy(_collapse(_block(s, _text(flt), item)))
        if keep:
            out.append(item)
    return out


@cmdlet("ForEach-Object", ("Process", "MemberName", "InputObject"), (), ("Process",))
def foreach_object(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    for item in a.input:
        process = a.get("Process")
        if not isinstance(process, ScriptBlock):
            out.append(_member(item, a.str("MemberName") or _text(process)))
        else:
            out.extend(_block(s, _text(a.get("Process")), item))
    return out
