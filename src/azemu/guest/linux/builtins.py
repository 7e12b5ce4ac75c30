"""Shell builtins: echo, printf, cd, variables (export, declare, local, readonly, unset), set, shift, exit,
return, break, continue, read, let, eval, source, bash -c, env, type/which/command, test/[, trap ..."""

from __future__ import annotations

import re

from azemu.guest.fs import FsError
from azemu.guest.linux import sharith, shtest
from azemu.guest.linux.shcore import (
    COMMANDS,
    DEFAULT_IFS,
    FunctionReturn,
    Io,
    LoopControl,
    ReadonlyError,
    Shell,
    ShellAbort,
    ShellExit,
    command,
    strerror,
)
from azemu.guest.linux.shexpand import split_ifs

BUILTINS = frozenset(
    [
        ":",
        ".",
        "[",
        "alias",
        "bg",
        "bind",
        "break",
        "builtin",
        "caller",
        "cd",
        "command",
        "compgen",
        "complete",
        "continue",
        "declare",
        "dirs",
        "disown",
        "echo",
        "enable",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "fc",
        "fg",
        "getopts",
        "hash",
        "help",
        "history",
        "jobs",
        "kill",
        "let",
        "local",
        "logout",
        "mapfile",
        "popd",
        "printf",
        "pushd",
        "pwd",
        "read",
        "readarray",
        "readonly",
        "return",
        "set",
        "shift",
        "shopt",
        "source",
        "suspend",
        "test",
        "times",
        "trap",
        "true",
        "type",
        "typeset",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "wait",
    ]
)
KEYWORDS = frozenset(
    [
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "{",
        "}",
        "!",
        "[[",
        "]]",
    ]
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPE = re.compile(r"\\(0[0-7]{0,3}|x[0-9A-Fa-f]{1,2}|.)", re.S)
_SBIN = {
    "useradd",
    "userdel",
    "usermod",
    "waagent",
    "shutdown",
    "reboot",
    "poweroff",
    "halt",
    "systemd-machine-id-setup",
    "chpasswd",
    "groupadd",
    "adduser",
    "deluser",
    "init",
}


@command("true", ":")
def _true(sh: Shell, argv: list[str], io: Io) -> int:
    return 0


@command("false")
def _false(sh: Shell, argv: list[str], io: Io) -> int:
    return 1


def _unescape(text: str) -> tuple[str, bool]:
    """echo -e / printf %b escapes; the flag is False after ``\\c`` (stop output)."""
    out: list[str] = []
    i = 0
    table = {
        "n": "\n",
        "t": "\t",
        "\\": "\\",
        "a": "\a",
        "b": "\b",
        "r": "\r",
        "v": "\v",
        "f": "\f",
        "e": "\x1b",
    }
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), False
            if nxt in table:
                out.append(table[nxt])
                i += 2
                continue
            if nxt == "0":
                m = re.match(r"0([0-7]{0,3})", text[i + 1 :])
                digits = m.group(1) if m else ""
                out.append(chr(int(digits or "0", 8)))
                i += 2 + len(digits)
                continue
            if nxt == "x":
                m = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2 :])
                if m:
                    out.append(chr(int(m.group(0), 16)))
                    i += 2 + len(m.group(0))
                    continue
        out.append(c)
        i += 1
    return "".join(out), True


@command("echo")
def _echo(sh: Shell, argv: list[str], io: Io) -> int:
    args, newline, escapes = argv[1:], True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, cont = _unescape(text)
        newline = newline and cont
    io.write(text + ("\n" if newline else ""))
    return 0


def _printf_number(sh: Shell, arg: str, io: Io) -> tuple[int, bool]:
    if not arg:
        return 0, True
    if arg[0] in "'\"" and len(arg) > 1:
        return ord(arg[1]), True
    try:
        return int(arg, 0) if not re.fullmatch(r"[-+]?0\d+", arg) else int(arg, 8), True
    except ValueError:
        sh.bash_error(io, f"printf: {arg}: invalid number")
        return 0, False


def format_printf(sh: Shell, fmt: str, args: list[str], io: Io) -> tuple[str, int]:
    rc = 0
    chunks: list[str] = []
    while True:
        out: list[str] = []
        used, i = 0, 0
        stop = False
        while i < len(fmt) and not stop:
            c = fmt[i]
            if c == "%" and i + 1 < len(fmt):
                m = re.match(r"%([-+ 0#]*)(\d*|\*)(?:\.(\d*|\*))?([sdibxXoc%qfeEgGuaA])", fmt[i:])
                if m:
                    flags, width, prec, conv = m.groups()
                    i += len(m.group(0))
                    if conv == "%":
                        out.append("%")
                        continue
                    if width == "*":
                        width = args[used] if used < len(args) else "0"
                        used += 1
                    if prec == "*":
                        prec = args[used] if used < len(args) else "0"
                        used += 1
                    arg = args[used] if used < len(args) else ""
                    used += 1
                    width = width if re.fullmatch(r"-?[0-9]{1,4}", width) else ""
                    prec = (
                        prec
                        if prec is not None and re.fullmatch(r"[0-9]+", prec)
                        else (None if prec is None else "0")
                    )
                    prec = prec if prec is None or len(prec) < 5 else "9999"
                    if conv in "dixXouc" and conv != "c":
                        num, ok = _printf_number(sh, arg, io)
                        rc = rc if ok else 1
                        spec = {"i": "d", "u": "d"}.get(conv, conv)
                        out.append(("%" + flags + width + ("." + prec if prec else "") + spec) % num)
                    elif conv in "feEgGaA":
                        try:
                            value = float(arg or "0")
                        except ValueError:
                            sh.bash_error(io, f"printf: {arg}: invalid number")
                            value, rc = 0.0, 1
                        spec = conv if conv not in "aA" else "e"
                        out.append(
                            ("%" + flags + width + ("." + prec if prec is not None else "") + spec) % value
                        )
                    elif conv == "b":
                        text, cont = _unescape(arg)
                        out.append(text)
                        stop = not cont
                    elif conv == "c":
                        out.append(("%" + flags + width + "s") % arg[:1])
                    elif conv == "q":
                        out.append(
                            arg
                            if re.fullmatch(r"[A-Za-z0-9_./=:,+@%^-]+", arg)
                            else "'" + arg.replace("'", "'\\''") + "'"
                        )
                    else:
                        s = arg[: int(prec)] if prec is not None else arg
                        out.append(("%" + flags.replace("0", "") + width + "s") % s)
                    continue
            if c == "\\":
                esc = _ESCAPE.match(fmt, i)
                piece = esc.group(0) if esc else c
                text, cont = _unescape(piece)
                if not cont:
                    stop = True
                    break
                out.append(text)
                i += len(piece)
                continue
            out.append(c)
            i += 1
        chunks.append("".join(out))
        args = args[used:]
        if stop or not args or used == 0:
            break
    return "".join(chunks), rc


@command("printf")
def _printf(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    var = None
    if len(args) >= 2 and args[0] == "-v":
        var, args = args[1], args[2:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sh.bash_error(io, "printf: usage: printf [-v var] format [arguments]")
        return 2
    text, rc = format_printf(sh, args[0], args[1:], io)
    if var is not None:
        try:
            sh.set_var(var, text)
        except ReadonlyError:
            sh.bash_error(io, f"{var}: readonly variable")
            return 1
    else:
        io.write(text)
    return rc


@command("cd")
def _cd(sh: Shell, argv: list[str], io: Io) -> int:
    args = [a for a in argv[1:] if a not in ("-L", "-P", "--")]
    if len(args) > 1:
        sh.bash_error(io, "cd: too many arguments")
        return 1
    target = args[0] if args else sh.env.get("HOME", "/root")
    if target == "-":
        target = sh.env.get("OLDPWD", sh.cwd)
        io.write(target + "\n")
    path = sh.path(target)
    if not sh.fs.exists(path):
        sh.bash_error(io, f"cd: {target}: No such file or directory")
        return 1
    if not sh.fs.is_dir(path):
        sh.bash_error(io, f"cd: {target}: Not a directory")
        return 1
    sh.env["OLDPWD"] = sh.cwd
    sh.cwd = path
    sh.env["PWD"] = path
    return 0


@command("pwd")
def _pwd(sh: Shell, argv: list[str], io: Io) -> int:
    io.write(sh.cwd + "\n")
    return 0


def _quote_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`") + '"'


def _declare_line(sh: Shell, name: str) -> str:
    attrs = ""
    if name in sh.arrays:
        attrs += "a"
    if name in sh.readonly:
        attrs += "r"
    if name in sh.exported:
        attrs += "x"
    flag = "-" + attrs if attrs else "--"
    if name in sh.arrays:
        items = " ".join(f"[{k}]={_quote_value(v)}" for k, v in sorted(sh.arrays[name].items()))
        return f"declare {flag} {name}=({items})\n"
    if name in sh.env:
        return f"declare {flag} {name}={_quote_value(sh.env[name])}\n"
    return f"declare {flag} {name}\n"


@command("export", "declare", "typeset", "local", "readonly")
def _declare(sh: Shell, argv: list[str], io: Io) -> int:
    kind = argv[0]
    opts: set[str] = set()
    off: set[str] = set()
    args: list[str] = []
    for a in argv[1:]:
        if (not args and len(a) > 1 and a[0] in "-+" and a != "--" and _NAME.fullmatch(a[1:]) is None) or (
            not args and a in ("-a", "-x", "-r", "-i", "-g", "-p", "-f", "-F", "-n", "-A", "-l", "-u")
        ):
            (opts if a[0] == "-" else off).update(a[1:])
        elif a == "--" and not args:
            continue
        else:
            args.append(a)
    if kind == "local" and sh.func_depth == 0:
        sh.bash_error(io, "local: can only be used in a function")
        return 1
    export = kind == "export" or "x" in opts
    readonly = kind == "readonly" or "r" in opts
    local = kind == "local" or (kind in ("declare", "typeset") and sh.func_depth > 0 and "g" not in opts)
    if "f" in opts or "F" in opts:
        names = args or sorted(sh.functions)
        rc = 0
        for n in names:
            if n in sh.functions:
                io.write(f"declare -f {n}\n" if "F" in opts else f"{n} () \n{{ ...; }}\n")
            else:
                rc = 1
        return rc
    if not args:
        if kind == "export" or "p" in opts or kind == "readonly":
            if kind == "export" or "x" in opts:
                names = sorted(n for n in sh.exported if n in sh.env)
            elif kind == "readonly" or "r" in opts:
                names = sorted(sh.readonly)
            else:
                names = sorted({*sh.env, *sh.arrays})
            for n in names:
                io.write(_declare_line(sh, n))
            return 0
        for n in sorted({*sh.env, *sh.arrays}):
            io.write(_declare_line(sh, n))
        return 0
    rc = 0
    for a in args:
        name, eq, value = a.partition("=")
        append = name.endswith("+")
        name = name.rstrip("+")
        if not _NAME.fullmatch(name):
            sh.bash_error(io, f"{kind}: `{a}': not a valid identifier")
            rc = 1
            continue
        if "p" in opts:
            if name in sh.env or name in sh.arrays:
                io.write(_declare_line(sh, name))
            else:
                sh.bash_error(io, f"declare: {name}: not found")
                rc = 1
            continue
        if local and sh.frames:
            sh.declare_local(name)
            if not eq and name not in sh.env:
                sh.env[name] = ""
        try:
            if eq:
                if "a" in opts or (value.startswith("(") and value.endswith(")")):
                    items = re.findall(
                        r"""'[^']*'|"[^"]*"|\S+""", value[1:-1] if value.startswith("(") else value
                    )
                    items = [
                        i[1:-1] if i[:1] in "'\"" and i[-1:] == i[:1] and len(i) > 1 else i for i in items
                    ]
                    sh.set_array(name, items, append)
                else:
                    sh.set_var(name, ((sh.get_var(name) or "") + value) if append else value)
            elif "a" in opts and name not in sh.arrays:
                sh.set_array(name, [], append=True)
        except ReadonlyError:
            sh.bash_error(io, f"{name}: readonly variable")
            rc = 1
            continue
        if export:
            sh.exported.add(name)
            if name not in sh.env and name not in sh.arrays and not eq:
                pass
        if "x" in off:
            sh.exported.discard(name)
        if readonly:
            sh.readonly.add(name)
    return rc


@command("unset")
def _unset(sh: Shell, argv: list[str], io: Io) -> int:
    functions = False
    rc = 0
    for a in argv[1:]:
        if a in ("-f", "-v", "-n"):
            functions = a == "-f"
            continue
        if functions:
            sh.functions.pop(a, None)
            continue
        m = re.fullmatch(r"([A-Za-z_]\w*)\[(.*)\]", a)
        if m and m.group(1) in sh.arrays:
            if re.fullmatch(r"-?[0-9]+", m.group(2)):
                sh.unset_element(m.group(1), int(m.group(2)))
            continue
        if not _NAME.fullmatch(a):
            sh.bash_error(io, f"unset: `{a}': not a valid identifier")
            rc = 1
            continue
        try:
            sh.unset_var(a)
        except ReadonlyError:
            sh.bash_error(io, f"unset: {a}: cannot unset: readonly variable")
            rc = 1
        if a not in sh.env and a in sh.functions and a not in sh.arrays:
            pass
    return rc


_LONG_OPTIONS = {
    "errexit": "e",
    "nounset": "u",
    "xtrace": "x",
    "noglob": "f",
    "pipefail": "pipefail",
    "allexport": "a",
    "verbose": "v",
    "noclobber": "C",
    "hashall": "h",
    "braceexpand": "B",
    "posix": "posix",
    "monitor": "m",
    "noexec": "n",
    "notify": "b",
    "onecmd": "t",
    "physical": "P",
    "privileged": "p",
    "ignoreeof": "ignoreeof",
    "interactive-comments": "ic",
    "errtrace": "E",
    "functrace": "T",
    "history": "H",
    "vi": "vi",
    "emacs": "emacs",
    "keyword": "k",
    "histexpand": "H",
}


def _option(sh: Shell, letter: str, on: bool) -> None:
    if letter == "e":
        sh.errexit = on
    elif letter == "u":
        sh.nounset = on
    elif letter == "x":
        sh.xtrace = on
    elif letter == "f":
        sh.noglob = on
    elif letter == "pipefail":
        sh.pipefail = on


@command("set")
def _set(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    if not args:
        for n in sorted({*sh.env, *sh.arrays}):
            line = _declare_line(sh, n)
            io.write(line.split(" ", 2)[2])
        return 0
    while args and args[0][:1] in ("-", "+") and args[0] not in ("-", "--"):
        opt = args.pop(0)
        on = opt[0] == "-"
        for letter in opt[1:]:
            if letter == "o":
                if not args:
                    for name in sorted(_LONG_OPTIONS):
                        value = {"errexit": sh.errexit, "nounset": sh.nounset, "xtrace": sh.xtrace}.get(
                            name, False
                        )
                        value = (
                            sh.pipefail if name == "pipefail" else sh.noglob if name == "noglob" else value
                        )
                        io.write(f"{name:<15}\t{'on' if value else 'off'}\n")
                    continue
                name = args.pop(0)
                if name not in _LONG_OPTIONS:
                    sh.bash_error(io, f"set: {name}: invalid option name")
                    return 1
                _option(sh, _LONG_OPTIONS[name], on)
            elif letter in "euxfvCBHPTEabhkmnpt":
                _option(sh, letter, on)
            else:
                sh.bash_error(io, f"set: {opt[0]}{letter}: invalid option")
                io.error("set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]")
                return 2
    if args and args[0] in ("-", "--"):
        dash = args.pop(0)
        if dash == "-":
            sh.xtrace = False
        sh.positional = args
        return 0
    if args:
        sh.positional = args
    return 0


@command("shopt")
def _shopt(sh: Shell, argv: list[str], io: Io) -> int:
    return 0


@command("shift")
def _shift(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) > 1 and not re.fullmatch(r"\d+", argv[1]):
        sh.bash_error(io, f"shift: {argv[1]}: numeric argument required")
        return 1
    n = int(argv[1]) if len(argv) > 1 else 1
    if n > len(sh.positional):
        return 1
    sh.positional = sh.positional[n:]
    return 0


def _status_arg(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        return sh.rc
    try:
        return int(argv[1]) & 0xFF
    except ValueError:
        sh.bash_error(io, f"{argv[0]}: {argv[1]}: numeric argument required")
        return 2


@command("exit", "logout")
def _exit(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) > 2:
        sh.bash_error(io, f"{argv[0]}: too many arguments")
        return 1
    raise ShellExit(_status_arg(sh, argv, io))


@command("return")
def _return(sh: Shell, argv: list[str], io: Io) -> int:
    if sh.func_depth == 0 and sh.source_depth == 0:
        sh.bash_error(io, "return: can only `return' from a function or sourced script")
        return 2
    raise FunctionReturn(_status_arg(sh, argv, io))


@command("break", "continue")
def _break(sh: Shell, argv: list[str], io: Io) -> int:
    levels = 1
    if len(argv) > 1:
        if not re.fullmatch(r"\d+", argv[1]) or int(argv[1]) < 1:
            sh.bash_error(io, f"{argv[0]}: {argv[1]}: loop count out of range")
            return 1
        levels = int(argv[1])
    if sh.loop_depth == 0:
        sh.bash_error(io, f"{argv[0]}: only meaningful in a `for', `while', or `until' loop")
        return 0
    raise LoopControl(argv[0], min(levels, sh.loop_depth))


@command("history")
def _history(sh: Shell, argv: list[str], io: Io) -> int:
    if "-c" in argv:
        sh.state["history_cleared"] = True
    return 0


@command("source", ".")
def _source(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        sh.bash_error(io, f"{argv[0]}: filename argument required")
        io.error(f"{argv[0]}: usage: {argv[0]} filename [arguments]")
        return 2
    try:
        text = sh.fs.read_text(sh.path(argv[1]))
    except FsError as e:
        sh.bash_error(io, f"{argv[1]}: {strerror(e)}")
        return 1
    saved = sh.positional
    if len(argv) > 2:
        sh.positional = argv[2:]
    sh.source_depth += 1
    try:
        return sh.run_script(text, io)
    except FunctionReturn as r:
        return r.code
    finally:
        sh.source_depth -= 1
        if len(argv) > 2:
            sh.positional = saved


@command("eval")
def _eval(sh: Shell, argv: list[str], io: Io) -> int:
    src = " ".join(argv[1:])
    if not src.strip():
        return 0
    return sh.run_script(src, io)


@command("bash", "sh", "dash")
def _bash(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    errexit = False
    script: str | None = None
    while args and args[0].startswith(("-", "+")) and args[0] not in ("-", "--"):
        opt = args.pop(0)
        if opt in ("--login", "--noprofile", "--norc", "--posix"):
            continue
        if "c" in opt[1:] and opt[0] == "-":
            errexit = errexit or "e" in opt
            if not args:
                io.error(f"{argv[0]}: {opt}: option requires an argument")
                return 2
            script = args.pop(0)
            break
        errexit = errexit or ("e" in opt and opt[0] == "-")
        if "o" in opt[1:] and args:
            args.pop(0)
    if args and args[0] in ("-", "--"):
        args.pop(0)
    if script is not None:
        name = args[0] if args else argv[0]
        return sh.run_child(script, args[1:], io, name=name, errexit=errexit)
    if args:
        try:
            text = sh.fs.read_text(sh.path(args[0]))
        except FsError:
            io.error(f"{argv[0]}: {args[0]}: No such file or directory")
            return 127
        return sh.run_child(text, args[1:], io, name=args[0], errexit=errexit)
    return sh.run_child(io.stdin, [], io, name=argv[0], errexit=errexit)


@command("env", "printenv")
def _env(sh: Shell, argv: list[str], io: Io) -> int:
    exported = {k: v for k, v in sh.env.items() if k in sh.exported}
    if argv[0] == "printenv":
        if len(argv) > 1:
            rc = 0
            for name in argv[1:]:
                if name in exported:
                    io.write(exported[name] + "\n")
                else:
                    rc = 1
            return rc
        for k, v in sorted(exported.items()):
            io.write(f"{k}={v}\n")
        return 0
    args = argv[1:]
    clear = False
    unset: list[str] = []
    while args and args[0].startswith("-") and args[0] != "-":
        opt = args.pop(0)
        if opt in ("-i", "--ignore-environment"):
            clear = True
        elif opt in ("-u", "--unset") and args:
            unset.append(args.pop(0))
        elif opt == "--":
            break
    extra: dict[str, str] = {}
    while args and "=" in args[0] and _NAME.fullmatch(args[0].split("=", 1)[0]):
        k, _, v = args.pop(0).partition("=")
        extra[k] = v
    env = {} if clear else dict(exported)
    for name in unset:
        env.pop(name, None)
    env.update(extra)
    if not args:
        for k, v in sorted(env.items()):
            io.write(f"{k}={v}\n")
        return 0
    saved_env, saved_exported = sh.env, sh.exported
    sh.env = {**{k: v for k, v in sh.env.items() if k not in sh.exported}, **env}
    sh.exported = set(env)
    try:
        return sh.dispatch(args, io) if args[0] not in sh.functions else _run_program(sh, args, io)
    finally:
        sh.env, sh.exported = saved_env, saved_exported


def _run_program(sh: Shell, argv: list[str], io: Io) -> int:
    """A program, never a shell function of the same name (``env f``, ``command f``, ``builtin f``)."""
    saved = sh.functions
    sh.functions = {}
    try:
        return sh.dispatch(argv, io)
    finally:
        sh.functions = saved


def _path_of(name: str) -> str:
    return f"/usr/sbin/{name}" if name in _SBIN else f"/usr/bin/{name}"


@command("type", "which", "command", "builtin", "hash")
def _which(sh: Shell, argv: list[str], io: Io) -> int:
    kind = argv[0]
    opts = {a for a in argv[1:] if a.startswith("-") and len(a) > 1}
    names = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    if kind == "hash":
        return 0
    if kind == "builtin":
        if not names:
            return 0
        if names[0] not in BUILTINS:
            sh.bash_error(io, f"builtin: {names[0]}: not a shell builtin")
            return 1
        return _run_program(sh, argv[1:], io)
    if kind == "command" and not ({"-v", "-V"} & opts):
        return _run_program(sh, names, io) if names else 0
    rc = 0
    for name in names:
        if kind != "which" and name in KEYWORDS:
            what = ("keyword", f"{name} is a shell keyword", name)
        elif kind != "which" and name in sh.functions:
            what = ("function", f"{name} is a function", name)
        elif kind != "which" and name in BUILTINS and name in COMMANDS:
            what = ("builtin", f"{name} is a shell builtin", name)
        elif (name in COMMANDS and name not in BUILTINS) or (kind == "which" and name in COMMANDS):
            what = ("file", f"{name} is {_path_of(name)}", _path_of(name))
        elif "/" in name and sh.fs.is_file(sh.path(name)):
            what = ("file", f"{name} is {name}", name)
        else:
            rc = 1
            if kind == "type" or "-V" in opts:
                sh.bash_error(io, f"{kind}: {name}: not found")
            continue
        if kind == "type":
            io.write(
                (what[0] if "-t" in opts else what[2] if "-p" in opts or "-P" in opts else what[1]) + "\n"
            )
        elif kind == "which":
            io.write(what[2] + "\n")
        else:
            io.write((what[1] if "-V" in opts else what[2]) + "\n")
    return rc


@command("test", "[")
def _test(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    name = argv[0]
    if name == "[":
        if not args or args[-1] != "]":
            sh.bash_error(io, "[: missing `]'")
            return 2
        args = args[:-1]
    try:
        return 0 if shtest.test(sh, args) else 1
    except shtest.TestError as e:
        sh.bash_error(io, f"{name}: {e}")
        return 2


@command("read")
def _read(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    raw = False
    array: str | None = None
    delim = "\n"
    nchars: int | None = None
    while args and args[0].startswith("-") and len(args[0]) > 1:
        opt = args.pop(0)
        if opt == "--":
            break
        j = 1
        while j < len(opt):
            letter = opt[j]
            if letter in "rs":
                raw = raw or letter == "r"
                j += 1
                continue
            if letter in "padntu":
                value = opt[j + 1 :] or (args.pop(0) if args else "")
                if letter == "a":
                    array = value
                elif letter == "d":
                    delim = value[:1] if value else "\x00"
                elif letter == "n":
                    nchars = int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None
                break
            sh.bash_error(io, f"read: -{letter}: invalid option")
            return 2
    names = args or ([] if array else ["REPLY"])
    for n in names:
        if not _NAME.fullmatch(n):
            sh.bash_error(io, f"read: `{n}': not a valid identifier")
            return 1
    if nchars is not None:
        data = io.inp.data[io.inp.pos : io.inp.pos + nchars]
        io.inp.pos += len(data)
        record: tuple[str, bool] | None = (data, True) if data else None
    else:
        record = io.inp.read_record(delim)
        while record is not None and not raw and record[1] and record[0].endswith("\\"):
            more = io.inp.read_record(delim)
            record = (record[0][:-1] + (more[0] if more else ""), more[1] if more else False)
    if record is None:
        for n in names:
            _assign(sh, n, "", io)
        if array:
            sh.set_array(array, [])
        return 1
    text, terminated = record
    if not raw:
        text = re.sub(r"\\(.)", r"\1", text)
    ifs = sh.get_var("IFS")
    ifs = DEFAULT_IFS if ifs is None else ifs
    if array:
        sh.set_array(array, split_ifs(text, ifs))
        return 0 if terminated else 1
    if names == ["REPLY"] and not args:
        _assign(sh, "REPLY", text, io)
        return 0 if terminated else 1
    fields = split_ifs(text, ifs, len(names) - 1)
    for k, n in enumerate(names):
        _assign(sh, n, fields[k] if k < len(fields) else "", io)
    return 0 if terminated else 1


def _assign(sh: Shell, name: str, value: str, io: Io) -> None:
    try:
        sh.set_var(name, value)
    except ReadonlyError:
        sh.bash_error(io, f"{name}: readonly variable")


class _Vars:
    def __init__(self, sh: Shell) -> None:
        self.sh = sh

    def get(self, name: str) -> str | None:
        return self.sh.get_var(name)

    def set(self, name: str, value: str) -> None:
        self.sh.set_var(name, value)


@command("let")
def _let(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        sh.bash_error(io, "let: expression expected")
        return 1
    value = 0
    for expr in argv[1:]:
        try:
            value = sharith.evaluate(expr, _Vars(sh))
        except sharith.ArithError as e:
            sh.bash_error(io, f"let: {e.text}")
            return 1
        except ReadonlyError as e:
            sh.bash_error(io, f"{e.name}: readonly variable")
            raise ShellAbort(1) from None
    return 0 if value != 0 else 1


@command("trap")
def _trap(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    if args and args[0] in ("-p", "-l"):
        return 0
    if len(args) >= 2:
        action = args[0]
        for sig in args[1:]:
            name = sig.upper().removeprefix("SIG")
            if name in ("EXIT", "0"):
                if action in ("-", ""):
                    sh.traps.pop("EXIT", None)
                else:
                    sh.traps["EXIT"] = action
    return 0


@command("wait", "umask", "ulimit", "alias", "unalias", "enable", "disown", "times", "bind")
def _noop(sh: Shell, argv: list[str], io: Io) -> int:
    if argv[0] == "umask" and len(argv) == 1:
        io.write("0022\n")
    return 0


@command("getopts")
def _getopts(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 3:
        sh.bash_error(io, "getopts: usage: getopts optstring name [arg ...]")
        return 2
    spec, var = argv[1], argv[2]
    args = argv[3:] if len(argv) > 3 else sh.positional
    optind = sh.env.get("OPTIND", "1")
    index = int(optind) if re.fullmatch(r"[0-9]{1,9}", optind) else 1
    pos = int(sh.state.get("getopts_pos", 1))
    if index - 1 >= len(args) or not args[index - 1].startswith("-") or args[index - 1] in ("-", "--"):
        if index - 1 < len(args) and args[index - 1] == "--":
            sh.env["OPTIND"] = str(index + 1)
        sh.set_var(var, "?")
        sh.state["getopts_pos"] = 1
        return 1
    word = args[index - 1]
    letter = word[pos] if pos < len(word) else "?"
    pos += 1
    if pos >= len(word):
        index, pos = index + 1, 1
    silent = spec.startswith(":")
    at = spec.find(letter) if letter != ":" else -1
    if at < 0:
        if not silent:
            io.error(f"bash: illegal option -- {letter}")
        sh.set_var(var, "?")
        if silent:
            sh.set_var("OPTARG", letter)
    elif at + 1 < len(spec) and spec[at + 1] == ":":
        if pos > 1:
            sh.set_var("OPTARG", word[pos:])
            index, pos = index + 1, 1
        elif index - 1 < len(args):
            sh.set_var("OPTARG", args[index - 1])
            index += 1
        else:
            if not silent:
                io.error(f"bash: option requires an argument -- {letter}")
            sh.set_var(var, ":" if silent else "?")
            sh.env["OPTIND"] = str(index)
            return 0
        sh.set_var(var, letter)
    else:
        sh.set_var(var, letter)
    sh.env["OPTIND"] = str(index)
    sh.state["getopts_pos"] = pos
    return 0
