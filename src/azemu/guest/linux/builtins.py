"""Shell builtins: echo, printf, cd, export, set, exit, test/[, history, source, bash -c ..."""

from __future__ import annotations

import re

from azemu.guest.fs import FsError
from azemu.guest.linux.shell import Io, Shell, ShellExit, command, strerror


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


@command("printf")
def _printf(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        io.error("printf: usage: printf [-v var] format [arguments]")
        return 2
    fmt, args = argv[1], argv[2:]
    rc = 0
    while True:
        out, used, i = [], 0, 0
        while i < len(fmt):
            c = fmt[i]
            if c == "%" and i + 1 < len(fmt):
                m = re.match(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdibxXoc%])", fmt[i:])
                if m:
                    flags, width, prec, conv = m.groups()
                    i += len(m.group(0))
                    if conv == "%":
                        out.append("%")
                        continue
                    arg = args[used] if used < len(args) else ""
                    used += 1
                    if conv in "dixXo":
                        try:
                            num = int(arg or "0", 0)
                        except ValueError:
                            io.error(f"bash: line {sh.line}: printf: {arg}: invalid number")
                            num, rc = 0, 1
                        spec = "d" if conv == "i" else conv
                        out.append(("%" + flags + width + ("." + prec if prec else "") + spec) % num)
                    elif conv == "b":
                        out.append(_unescape(arg)[0])
                    elif conv == "c":
                        out.append(arg[:1])
                    else:
                        s = arg[: int(prec)] if prec else arg
                        out.append(("%" + flags + width + "s") % s)
                    continue
            if c == "\\":
                text, _ = _unescape(fmt[i : i + 2])
                out.append(text)
                i += 2
                continue
            out.append(c)
            i += 1
        io.write("".join(out))
        args = args[used:]
        if not args or used == 0:
            break
    return rc


@command("cd")
def _cd(sh: Shell, argv: list[str], io: Io) -> int:
    target = argv[1] if len(argv) > 1 else sh.env.get("HOME", "/root")
    path = sh.path(target)
    if not sh.fs.exists(path):
        sh.bash_error(io, f"cd: {target}: No such file or directory")
        return 1
    if not sh.fs.is_dir(path):
        sh.bash_error(io, f"cd: {target}: Not a directory")
        return 1
    sh.cwd = path
    return 0


@command("pwd")
def _pwd(sh: Shell, argv: list[str], io: Io) -> int:
    io.write(sh.cwd + "\n")
    return 0


@command("export", "declare", "typeset", "local", "readonly")
def _export(sh: Shell, argv: list[str], io: Io) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if not args and argv[0] == "export":
        for k in sorted(sh.env):
            io.write(f'declare -x {k}="{sh.env[k]}"\n')
    for a in args:
        name, eq, value = a.partition("=")
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            sh.bash_error(io, f"{argv[0]}: `{a}': not a valid identifier")
            return 1
        if eq:
            sh.env[name] = value
        else:
            sh.env.setdefault(name, "")
    return 0


@command("unset")
def _unset(sh: Shell, argv: list[str], io: Io) -> int:
    for a in argv[1:]:
        if not a.startswith("-"):
            sh.env.pop(a, None)
    return 0


@command("set")
def _set(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    while args and args[0][:1] in "-+" and args[0] not in ("-", "--"):
        opt = args.pop(0)
        on = opt[0] == "-"
        if opt[1:] == "o" and args:
            name = args.pop(0)
            if name == "errexit":
                sh.errexit = on
            continue
        if "e" in opt[1:]:
            sh.errexit = on
    if args and args[0] in ("-", "--"):
        args = args[1:]
    if args:
        sh.positional = args
    return 0


@command("shift")
def _shift(sh: Shell, argv: list[str], io: Io) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.positional):
        return 1
    sh.positional = sh.positional[n:]
    return 0


@command("exit", "return")
def _exit(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) > 1:
        try:
            code = int(argv[1]) & 0xFF
        except ValueError:
            sh.bash_error(io, f"exit: {argv[1]}: numeric argument required")
            code = 2
    else:
        code = sh.rc
    raise ShellExit(code)


@command("history")
def _history(sh: Shell, argv: list[str], io: Io) -> int:
    if "-c" in argv:
        sh.state["history_cleared"] = True
    return 0


@command("source", ".")
def _source(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        sh.bash_error(io, f"{argv[0]}: filename argument required")
        return 2
    try:
        text = sh.fs.read_text(sh.path(argv[1]))
    except FsError as e:
        sh.bash_error(io, f"{argv[1]}: {strerror(e)}")
        return 1
    saved = sh.positional
    if len(argv) > 2:
        sh.positional = argv[2:]
    try:
        return sh.run_script(text, io)
    finally:
        sh.positional = saved


@command("bash", "sh", "dash")
def _bash(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    errexit = False
    while args and args[0].startswith("-") and args[0] != "-c":
        errexit = errexit or "e" in args[0]
        args = args[1:]
    sub = Shell(sh.guest, sh.ctx, dict(sh.env))
    sub.cwd, sub.errexit = sh.cwd, errexit
    if args and args[0] == "-c":
        if len(args) < 2:
            io.error(f"{argv[0]}: -c: option requires an argument")
            return 2
        script, sub.positional = args[1], args[3:]
    elif args:
        try:
            script = sh.fs.read_text(sh.path(args[0]))
        except FsError:
            io.error(f"{argv[0]}: {args[0]}: No such file or directory")
            return 127
        sub.positional = args[1:]
    else:
        script = io.stdin
    try:
        rc = sub.run_script(script, io)
    except ShellExit as e:
        rc = e.code
    sh.power = sh.power or sub.power
    return rc


@command("env", "printenv")
def _env(sh: Shell, argv: list[str], io: Io) -> int:
    if argv[0] == "printenv" and len(argv) > 1:
        if argv[1] in sh.env:
            io.write(sh.env[argv[1]] + "\n")
            return 0
        return 1
    args = argv[1:]
    extra = {}
    while args and "=" in args[0]:
        k, _, v = args.pop(0).partition("=")
        extra[k] = v
    if args:
        saved = dict(sh.env)
        sh.env.update(extra)
        try:
            return sh.dispatch(args, io)
        finally:
            sh.env = saved
    for k, v in sorted({**sh.env, **extra}.items()):
        io.write(f"{k}={v}\n")
    return 0


@command("type", "which")
def _which(sh: Shell, argv: list[str], io: Io) -> int:
    from azemu.guest.linux.shell import COMMANDS

    rc = 0
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        if name in COMMANDS:
            path = f"/usr/bin/{name}" if name not in _SBIN else f"/usr/sbin/{name}"
            io.write(f"{name} is {path}\n" if argv[0] == "type" else f"{path}\n")
        else:
            if argv[0] == "type":
                sh.bash_error(io, f"type: {name}: not found")
            rc = 1
    return rc


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
}


# test / [ --------------------------------------------------------------------------------------------
class _TestError(Exception):
    pass


def _test_unary(sh: Shell, op: str, arg: str) -> bool:
    path = sh.path(arg) if arg else ""
    fs = sh.fs
    if op == "-z":
        return arg == ""
    if op == "-n":
        return arg != ""
    if not arg:
        return False
    if op == "-e" or op == "-a":
        return fs.exists(path)
    if op == "-f":
        try:
            fs.read(path)
            return True
        except FsError:
            return False
    if op == "-d":
        return fs.is_dir(path)
    if op in ("-L", "-h"):
        return fs.is_symlink(path)
    if op == "-s":
        try:
            return len(fs.read(path)) > 0
        except FsError:
            return fs.is_dir(path)
    if op in ("-r", "-w"):
        return fs.exists(path)
    if op == "-x":
        return fs.exists(path) and bool(fs.stat(path).mode & 0o111)
    raise _TestError(f"{op}: unary operator expected")


_INT_OPS = {
    "-eq": int.__eq__,
    "-ne": int.__ne__,
    "-lt": int.__lt__,
    "-le": int.__le__,
    "-gt": int.__gt__,
    "-ge": int.__ge__,
}
_UNARY = {"-z", "-n", "-e", "-a", "-f", "-d", "-L", "-h", "-s", "-r", "-w", "-x"}


def _test_eval(sh: Shell, args: list[str]) -> bool:
    if "-o" in args[1:-1]:
        i = args.index("-o", 1)
        return _test_eval(sh, args[:i]) or _test_eval(sh, args[i + 1 :])
    if "-a" in args[1:-1] and len(args) > 3:
        i = args.index("-a", 1)
        return _test_eval(sh, args[:i]) and _test_eval(sh, args[i + 1 :])
    if not args:
        return False
    if args[0] == "!" and len(args) > 1:
        return not _test_eval(sh, args[1:])
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        if args[0] in _UNARY:
            return _test_unary(sh, args[0], args[1])
        raise _TestError(f"{args[0]}: unary operator expected")
    if len(args) == 3:
        a, op, b = args
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        if op in _INT_OPS:
            for v in (a, b):
                if not re.fullmatch(r"\s*-?\d+\s*", v):
                    raise _TestError(f"{v}: integer expression expected")
            return bool(_INT_OPS[op](int(a), int(b)))
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        raise _TestError(f"{op}: binary operator expected")
    raise _TestError("too many arguments")


@command("test", "[", "[[")
def _test(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    name = argv[0]
    if name in ("[", "[["):
        close = "]" if name == "[" else "]]"
        if not args or args[-1] != close:
            sh.bash_error(io, f"{name}: missing `{close}'")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_eval(sh, args) else 1
    except _TestError as e:
        sh.bash_error(io, f"{name}: {e}")
        return 2
