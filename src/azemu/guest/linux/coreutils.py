"""File commands with coreutils' exact messages: cat, ls, rm, mkdir, touch, cp, mv, chmod, chown, ln,
truncate, grep, sed, head, tail, wc, tee, sort, basename, dirname, date, uname, stat-like helpers."""

from __future__ import annotations

import posixpath
import re
import time

from azemu.guest.fs import FsError
from azemu.guest.linux import accounts
from azemu.guest.linux.shcore import Io, Shell, command, strerror
from azemu.guest.linux.shpattern import user_regex


def _split_opts(
    args: list[str], with_value: set[str] | None = None
) -> tuple[set[str], dict[str, str], list[str]]:
    """Short flags (combined ok), options with a value, operands (``--`` ends options)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    operands: list[str] = []
    with_value = with_value or set()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands.extend(args[i + 1 :])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a.partition("=")
            if eq:
                values[name] = val
            else:
                flags.add(name)
        elif a.startswith("-") and len(a) > 1 and not re.fullmatch(r"-\d+", a):
            j = 1
            while j < len(a):
                f = "-" + a[j]
                if f in with_value:
                    rest = a[j + 1 :]
                    if rest:
                        values[f] = rest
                    elif i + 1 < len(args):
                        i += 1
                        values[f] = args[i]
                    break
                flags.add(f)
                j += 1
        else:
            operands.append(a)
        i += 1
    return flags, values, operands


def _inputs(sh: Shell, prog: str, files: list[str], io: Io) -> tuple[list[tuple[str, str]], int]:
    """(name, text) for each operand, or stdin; prints ``prog: f: No such file or directory``."""
    if not files:
        return [("-", io.stdin)], 0
    out, rc = [], 0
    for f in files:
        if f == "-":
            out.append(("-", io.stdin))
            continue
        try:
            out.append((f, sh.fs.read_text(sh.path(f))))
        except FsError as e:
            io.error(f"{prog}: {f}: {strerror(e)}")
            rc = 1
    return out, rc


@command("cat")
def _cat(sh: Shell, argv: list[str], io: Io) -> int:
    _, _, files = _split_opts(argv[1:])
    texts, rc = _inputs(sh, "cat", files, io)
    for _, text in texts:
        io.write(text)
    return rc


def _mode_string(kind: str, mode: int) -> str:
    chars = {"d": "d", "l": "l"}.get(kind, "-")
    for shift in (6, 3, 0):
        bits = (mode >> shift) & 7
        chars += ("r" if bits & 4 else "-") + ("w" if bits & 2 else "-") + ("x" if bits & 1 else "-")
    if mode & 0o1000:
        chars = chars[:-1] + ("t" if mode & 1 else "T")
    return chars


def _owner(sh: Shell, uid: int, gid: int) -> tuple[str, str]:
    user = accounts.user_by_uid(sh.fs, uid)
    group = next((g[0] for g in accounts.groups(sh.fs) if g[1] == gid), str(gid))
    return (user.name if user else str(uid)), group


def _long_line(sh: Shell, path: str, name: str) -> str:
    node = sh.fs.stat(path)
    user, group = _owner(sh, node.uid, node.gid)
    size = node.size if node.kind != "d" else 4096
    stamp = time.strftime("%b %e %H:%M", time.gmtime(node.mtime or sh.now))
    suffix = f" -> {node.data.decode()}" if node.kind == "l" else ""
    return f"{_mode_string(node.kind, node.mode)} 1 {user} {group} {size} {stamp} {name}{suffix}\n"


@command("ls")
def _ls(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, targets = _split_opts(argv[1:])
    long_fmt = bool(flags & {"-l", "-n"})
    show_all = "-a" in flags
    almost = "-A" in flags
    rc = 0
    targets = targets or ["."]
    files = [
        t for t in targets if sh.fs.exists(sh.path(t)) and (not sh.fs.is_dir(sh.path(t)) or "-d" in flags)
    ]
    dirs = [t for t in targets if sh.fs.is_dir(sh.path(t)) and "-d" not in flags]
    for t in targets:
        if not sh.fs.exists(sh.path(t)):
            io.error(f"ls: cannot access '{t}': No such file or directory")
            rc = 2
    for t in files:
        io.write(_long_line(sh, sh.path(t), t) if long_fmt else t + "\n")
    for idx, t in enumerate(dirs):
        path = sh.path(t)
        names = sh.fs.listdir(path)
        if not (show_all or almost):
            names = [n for n in names if not n.startswith(".")]
        if show_all:
            names = [".", "..", *names]
        if len(targets) > 1:
            io.write(("\n" if idx or files else "") + f"{t}:\n")
        if long_fmt:
            io.write(f"total {4 * len(names)}\n")
            for n in names:
                io.write(_long_line(sh, posixpath.normpath(posixpath.join(path, n)), n))
        else:
            io.write("".join(n + "\n" for n in names))
    return rc


@command("rm")
def _rm(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, targets = _split_opts(argv[1:])
    force = bool(flags & {"-f", "--force"})
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    if not targets and not force:
        io.error("rm: missing operand\nTry 'rm --help' for more information.")
        return 1
    rc = 0
    for t in targets:
        path = sh.path(t)
        if path == "/":
            io.error(
                "rm: it is dangerous to operate recursively on '/'\n"
                "rm: use --no-preserve-root to override this failsafe"
            )
            rc = 1
            continue
        if not sh.fs.exists(path):
            if not force:
                io.error(f"rm: cannot remove '{t}': No such file or directory")
                rc = 1
            continue
        if sh.fs.is_dir(path):
            if not recursive:
                io.error(f"rm: cannot remove '{t}': Is a directory")
                rc = 1
                continue
            sh.fs.rmtree(path)
        else:
            sh.fs.remove(path)
    return rc


@command("rmdir")
def _rmdir(sh: Shell, argv: list[str], io: Io) -> int:
    rc = 0
    for t in argv[1:]:
        path = sh.path(t)
        if not sh.fs.is_dir(path):
            io.error(
                f"rmdir: failed to remove '{t}': "
                + ("Not a directory" if sh.fs.exists(path) else "No such file or directory")
            )
            rc = 1
        elif sh.fs.listdir(path):
            io.error(f"rmdir: failed to remove '{t}': Directory not empty")
            rc = 1
        else:
            sh.fs.rmtree(path)
    return rc


def _parse_mode(spec: str, current: int, is_dir: bool) -> int | None:
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = current
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([+\-=])([rwxXst]*)", clause)
        if not m:
            return None
        who, op, perms = m.groups()
        who = who or "a"
        bits = 0
        for p in perms:
            for w in ("u", "g", "o") if "a" in who else who:
                shift = {"u": 6, "g": 3, "o": 0}[w]
                if p == "r":
                    bits |= 4 << shift
                elif p == "w":
                    bits |= 2 << shift
                elif p == "x" or (p == "X" and (is_dir or current & 0o111)):
                    bits |= 1 << shift
                elif p == "t":
                    bits |= 0o1000
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for w in ("u", "g", "o") if "a" in who else who:
                mask |= 7 << {"u": 6, "g": 3, "o": 0}[w]
            mode = (mode & ~mask) | bits
    return mode


@command("chmod")
def _chmod(sh: Shell, argv: list[str], io: Io) -> int:
    args = [a for a in argv[1:] if a not in ("-R", "-v", "-f")]
    if len(args) < 2:
        io.error("chmod: missing operand\nTry 'chmod --help' for more information.")
        return 1
    spec, rc = args[0], 0
    for t in args[1:]:
        path = sh.path(t)
        if not sh.fs.exists(path):
            io.error(f"chmod: cannot access '{t}': No such file or directory")
            rc = 1
            continue
        node = sh.fs.stat(path)
        mode = _parse_mode(spec, node.mode, node.kind == "d")
        if mode is None:
            io.error(f"chmod: invalid mode: '{spec}'\nTry 'chmod --help' for more information.")
            return 1
        targets = sh.fs.walk(path) if "-R" in argv else [path]
        for p in targets:
            n = sh.fs.stat(p)
            if n.kind != "l":
                n.mode = _parse_mode(spec, n.mode, n.kind == "d") or 0
    return rc


@command("chown", "chgrp")
def _chown(sh: Shell, argv: list[str], io: Io) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) < 2:
        io.error(f"{argv[0]}: missing operand\nTry '{argv[0]} --help' for more information.")
        return 1
    spec, rc = args[0], 0
    user_part, _, group_part = spec.partition(":" if ":" in spec else ".")
    if argv[0] == "chgrp":
        user_part, group_part = "", spec
    uid = gid = None
    if user_part:
        user = accounts.get_user(sh.fs, user_part)
        if user is None and not re.fullmatch(r"[0-9]{1,9}", user_part):
            io.error(f"chown: invalid user: '{spec}'")
            return 1
        uid = user.uid if user else int(user_part)
        if ":" in spec and not group_part and user:
            gid = user.gid
    if group_part:
        grp = accounts.group_by_name(sh.fs, group_part)
        if grp is None and not re.fullmatch(r"[0-9]{1,9}", group_part):
            io.error(f"{argv[0]}: invalid group: '{spec}'")
            return 1
        gid = grp[1] if grp else int(group_part)
    for t in args[1:]:
        path = sh.path(t)
        if not sh.fs.exists(path):
            io.error(f"{argv[0]}: cannot access '{t}': No such file or directory")
            rc = 1
            continue
        for p in sh.fs.walk(path) if "-R" in argv else [path]:
            n = sh.fs.stat(p)
            sh.fs.chown(p, n.uid if uid is None else uid, n.gid if gid is None else gid)
    return rc


@command("mkdir")
def _mkdir(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, targets = _split_opts(argv[1:], {"-m"})
    parents = bool(flags & {"-p", "--parents"})
    mode = int(values["-m"], 8) if "-m" in values and re.fullmatch(r"[0-7]{1,4}", values["-m"]) else 0o755
    if not targets:
        io.error("mkdir: missing operand\nTry 'mkdir --help' for more information.")
        return 1
    rc = 0
    for t in targets:
        path = sh.path(t)
        if sh.fs.exists(path):
            if not parents or not sh.fs.is_dir(path):
                io.error(f"mkdir: cannot create directory '{t}': File exists")
                rc = 1
            continue
        parent = posixpath.dirname(path)
        if not parents and not sh.fs.is_dir(parent):
            reason = "Not a directory" if sh.fs.exists(parent) else "No such file or directory"
            io.error(f"mkdir: cannot create directory '{t}': {reason}")
            rc = 1
            continue
        try:
            sh.fs.mkdir(path, mode, parents=parents)
        except FsError as e:
            io.error(f"mkdir: cannot create directory '{t}': {strerror(e)}")
            rc = 1
    return rc


@command("touch")
def _touch(sh: Shell, argv: list[str], io: Io) -> int:
    _, _, targets = _split_opts(argv[1:], {"-d", "-t", "-r"})
    if not targets:
        io.error("touch: missing file operand\nTry 'touch --help' for more information.")
        return 1
    rc = 0
    for t in targets:
        path = sh.path(t)
        if sh.fs.exists(path):
            sh.fs.stat(path).mtime = sh.now
        elif not sh.fs.is_dir(posixpath.dirname(path)):
            io.error(f"touch: cannot touch '{t}': No such file or directory")
            rc = 1
        else:
            sh.fs.write(path, b"", 0o644, mtime=sh.now)
    return rc


@command("truncate")
def _truncate(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, targets = _split_opts(argv[1:], {"-s"})
    size = values.get("-s", values.get("--size"))
    if size is None:
        io.error(
            "truncate: you must specify either '--size' or '--reference'\n"
            "Try 'truncate --help' for more information."
        )
        return 1
    if not re.fullmatch(r"[+-]?\d+", size) or int(size.lstrip("+-")) > _MAX_FILE:
        io.error(f"truncate: Invalid number: '{size}'")
        return 1
    rc = 0
    for t in targets:
        path = sh.path(t)
        if not sh.fs.exists(path):
            if "-c" in flags:
                continue
            if not sh.fs.is_dir(posixpath.dirname(path)):
                io.error(f"truncate: cannot open '{t}' for writing: No such file or directory")
                rc = 1
                continue
            sh.fs.write(path, b"", 0o644, mtime=sh.now)
        data = sh.fs.read(path)
        n = int(size.lstrip("+-") or 0)
        new = data[:n] + b"\0" * max(0, n - len(data))
        sh.fs.write(path, new, mtime=sh.now)
    return rc


def _copy_tree(sh: Shell, src: str, dst: str) -> None:
    for p in sh.fs.walk(src):
        node = sh.fs.stat(p)
        target = dst + p[len(src) :]
        if node.kind == "d":
            sh.fs.mkdir(target, node.mode, uid=node.uid, gid=node.gid)
        elif node.kind == "l":
            sh.fs.symlink(node.data.decode(), target)
        else:
            sh.fs.write(target, node.data, node.mode, uid=node.uid, gid=node.gid, mtime=sh.now)


def _copy_or_move(sh: Shell, argv: list[str], io: Io, move: bool) -> int:
    prog = argv[0]
    flags, _, args = _split_opts(argv[1:])
    recursive = move or bool(flags & {"-r", "-R", "-a", "--recursive", "--archive"})
    if len(args) < 2:
        io.error(f"{prog}: missing file operand\nTry '{prog} --help' for more information.")
        return 1
    *sources, dest = args
    dpath = sh.path(dest)
    if len(sources) > 1 and not sh.fs.is_dir(dpath):
        io.error(f"{prog}: target '{dest}': Not a directory")
        return 1
    rc = 0
    for s in sources:
        spath = sh.path(s)
        if not sh.fs.exists(spath):
            io.error(f"{prog}: cannot stat '{s}': No such file or directory")
            rc = 1
            continue
        target = posixpath.join(dpath, posixpath.basename(spath)) if sh.fs.is_dir(dpath) else dpath
        if not sh.fs.is_dir(posixpath.dirname(target)):
            verb = "cannot move" if move else "cannot create regular file"
            io.error(
                f"{prog}: {verb} '{s if move else dest}'"
                + (f" to '{dest}'" if move else "")
                + ": No such file or directory"
            )
            rc = 1
            continue
        if sh.fs.is_dir(spath):
            if not recursive:
                io.error(f"{prog}: -r not specified; omitting directory '{s}'")
                rc = 1
                continue
            _copy_tree(sh, spath, target)
        else:
            node = sh.fs.stat(spath)
            if node.kind == "l" and move:
                sh.fs.symlink(node.data.decode(), target)
            else:
                keep = bool(flags & {"-p", "-a", "--archive"}) or move
                sh.fs.write(
                    target,
                    sh.fs.read(spath),
                    node.mode,
                    uid=node.uid if keep else 0,
                    gid=node.gid if keep else 0,
                    mtime=node.mtime if keep else sh.now,
                )
        if move:
            sh.fs.rmtree(spath)
    return rc


@command("cp")
def _cp(sh: Shell, argv: list[str], io: Io) -> int:
    return _copy_or_move(sh, argv, io, move=False)


@command("mv")
def _mv(sh: Shell, argv: list[str], io: Io) -> int:
    return _copy_or_move(sh, argv, io, move=True)


@command("ln")
def _ln(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    if len(args) != 2:
        io.error("ln: missing file operand\nTry 'ln --help' for more information.")
        return 1
    target, link = args
    lpath = sh.path(link)
    if sh.fs.is_dir(lpath):
        lpath = posixpath.join(lpath, posixpath.basename(target))
    if sh.fs.exists(lpath):
        if not flags & {"-f", "--force"}:
            io.error(
                f"ln: failed to create {'symbolic ' if '-s' in flags else 'hard '}link '{link}': File exists"
            )
            return 1
        sh.fs.rmtree(lpath)
    if "-s" in flags:
        sh.fs.symlink(target, lpath)
    else:
        tpath = sh.path(target)
        if not sh.fs.is_file(tpath):
            io.error(f"ln: failed to access '{target}': No such file or directory")
            return 1
        node = sh.fs.stat(tpath)
        sh.fs.write(lpath, node.data, node.mode, uid=node.uid, gid=node.gid)
    return 0


_MAX_FILE = 2 * 1024**3  # a guard: a guest's files live in memory


# text filters ----------------------------------------------------------------------------------------
def bre_to_python(pattern: str, extended: bool) -> str:
    """POSIX BRE/ERE to a Python regex (enough for grep/sed one-liners)."""
    if extended:
        return pattern
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in "(){}|+?" else "\\" + nxt)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


@command("grep", "egrep", "fgrep")
def _grep(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, args = _split_opts(argv[1:], {"-e", "-m", "-A", "-B", "-C"})
    if "-e" in values:
        pattern = values["-e"]
    elif args:
        pattern, args = args[0], args[1:]
    else:
        io.error("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.")
        return 2
    fixed = "-F" in flags or argv[0] == "fgrep"
    extended = "-E" in flags or argv[0] == "egrep"
    regex_src = re.escape(pattern) if fixed else bre_to_python(pattern, extended)
    if "-w" in flags:
        regex_src = rf"\b(?:{regex_src})\b"
    if "-x" in flags:
        regex_src = rf"^(?:{regex_src})$"
    try:
        regex = user_regex(regex_src, re.I if "-i" in flags else 0)
    except re.error:
        io.error("grep: Unmatched ( or \\(")
        return 2
    invert, count, quiet = "-v" in flags, "-c" in flags, bool(flags & {"-q", "--quiet"})
    max_count = None
    if "-m" in values:
        if not re.fullmatch(r"-?\d+", values["-m"]):
            io.error("grep: invalid max count")
            return 2
        max_count = int(values["-m"])
    files = args
    if "-r" in flags or "-R" in flags:
        files = [p for t in (args or ["."]) for p in sh.fs.walk(sh.path(t)) if sh.fs.is_file(p)]
    texts, rc = _inputs(sh, "grep", files, io)
    if "-s" in flags:
        io.err.clear()
    matched = False
    multi = len(texts) > 1
    for name, text in texts:
        n = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            if bool(regex.search(line)) != invert:
                n += 1
                matched = True
                if quiet:
                    return 0
                if not count and "-l" not in flags:
                    prefix = (f"{name}:" if multi else "") + (f"{lineno}:" if "-n" in flags else "")
                    io.write(f"{prefix}{line}\n")
                if max_count is not None and n >= max_count:
                    break
        if count:
            io.write((f"{name}:" if multi else "") + f"{n}\n")
        if "-l" in flags and n:
            io.write(name + "\n")
    if rc:
        return 2
    return 0 if matched else 1


def _sed_script(expr: str) -> list[tuple[str, str, str, str]] | None:
    """Parse ``s/a/b/flags`` and ``/re/d`` commands separated by ``;``; None when it is not one."""
    try:
        return _sed_commands(expr)
    except ValueError:
        return None


def _sed_commands(expr: str) -> list[tuple[str, str, str, str]] | None:
    cmds: list[tuple[str, str, str, str]] = []
    i = 0
    while i < len(expr):
        while i < len(expr) and expr[i] in " ;\n":
            i += 1
        if i >= len(expr):
            break
        if expr[i] == "s" and i + 1 < len(expr):
            delim = expr[i + 1]
            parts: list[str] = []
            cur: list[str] = []
            j = i + 2
            while j < len(expr) and len(parts) < 2:
                if expr[j] == "\\" and j + 1 < len(expr) and expr[j + 1] == delim:
                    cur.append(delim)
                    j += 2
                    continue
                if expr[j] == delim:
                    parts.append("".join(cur))
                    cur = []
                else:
                    cur.append(expr[j])
                j += 1
            if len(parts) < 2:
                return None
            m = re.match(r"[gIip0-9]*", expr[j:])
            sflags = m.group(0) if m else ""
            cmds.append(("s", parts[0], parts[1], sflags))
            i = j + len(sflags)
        elif expr[i] == "/":
            end = expr.index("/", i + 1)
            rest = expr[end + 1 :].lstrip()
            if not rest or rest[0] != "d":
                return None
            cmds.append(("d", expr[i + 1 : end], "", ""))
            i = expr.index("d", end + 1) + 1
        elif expr[i] == "d":
            cmds.append(("d", "", "", ""))
            i += 1
        else:
            return None
    return cmds


def _sed_apply(cmds: list[tuple[str, str, str, str]], text: str, extended: bool) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body, nl = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        deleted = False
        for kind, pat, repl, sflags in cmds:
            rx = user_regex(bre_to_python(pat, extended), re.I if "I" in sflags or "i" in sflags else 0)
            if kind == "d":
                if not pat or rx.search(body):
                    deleted = True
                    break
                continue
            body = rx.sub(_sed_repl(repl), body, count=0 if "g" in sflags else 1)
        if not deleted:
            out.append(body + nl)
    return "".join(out)


def _sed_regex_error(e: Exception) -> str:
    text = str(e)
    if "group" in text:
        return "invalid reference \\1 on `s' command's RHS"
    if "parenthesis" in text:
        return "Unmatched ( or \\("
    if "bracket" in text or "character set" in text:
        return "unterminated address regex"
    return "Invalid preceding regular expression"


@command("sed")
def _sed(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    in_place, extended, quiet = False, False, False
    exprs: list[str] = []
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-i") or a == "--in-place":
            in_place = True
        elif a in ("-E", "-r"):
            extended = True
        elif a == "-n":
            quiet = True
        elif a == "-e" and i + 1 < len(args):
            exprs.append(args[i + 1])
            i += 1
        elif not exprs and not a.startswith("-"):
            exprs.append(a)
        else:
            files.append(a)
        i += 1
    cmds = _sed_script(";".join(exprs)) if exprs else None
    if cmds is None:
        io.error(
            f"sed: -e expression #1, char {len(exprs[0]) if exprs else 0}: unknown command: `{(exprs or [''])[0][:1]}'"
        )
        return 1
    try:
        for _kind, pat, repl, _flags in cmds:
            user_regex(bre_to_python(pat, extended)).sub(_sed_repl(repl), "")
        return _sed_files(sh, cmds, files, extended, in_place, quiet, io)
    except (re.error, IndexError) as e:
        io.error(f"sed: -e expression #1, char {len(exprs[0])}: {_sed_regex_error(e)}")
        return 1


def _sed_repl(repl: str) -> str:
    py_repl = re.sub(r"\\(\d)", r"\\g<\1>", repl.replace("\\&", "\0")).replace("&", r"\g<0>")
    return py_repl.replace("\0", "&")


def _sed_files(
    sh: Shell,
    cmds: list[tuple[str, str, str, str]],
    files: list[str],
    extended: bool,
    in_place: bool,
    quiet: bool,
    io: Io,
) -> int:
    if in_place:
        if not files:
            io.error("sed: no input files")
            return 1 if quiet else 4
        rc = 0
        for f in files:
            path = sh.path(f)
            try:
                text = sh.fs.read_text(path)
            except FsError as e:
                io.error(f"sed: can't read {f}: {strerror(e)}")
                rc = 2
                continue
            sh.fs.write(path, _sed_apply(cmds, text, extended), mtime=sh.now)
        return rc
    texts, rc = _inputs(sh, "sed", files, io)
    for _, text in texts:
        io.write(_sed_apply(cmds, text, extended))
    return 2 if rc else 0


@command("head", "tail")
def _head_tail(sh: Shell, argv: list[str], io: Io) -> int:
    raw = argv[1:]
    num = next((a for a in raw if re.fullmatch(r"-\d+", a)), None)
    raw = [a for a in raw if a != num]
    _, values, files = _split_opts(raw, {"-n", "-c"})
    count = num[1:] if num else values.get("-n", "10").lstrip("+-")
    if not re.fullmatch(r"[0-9]{1,12}", count):
        io.error(f"{argv[0]}: invalid number of lines: '{values.get('-n', count)}'")
        return 1
    n = int(count)
    texts, rc = _inputs(sh, argv[0], files, io)
    for name, text in texts:
        if len(texts) > 1:
            io.write(f"==> {name} <==\n")
        lines = text.splitlines(keepends=True)
        chosen = lines[:n] if argv[0] == "head" else (lines[-n:] if n else [])
        io.write("".join(chosen))
    return rc


@command("wc")
def _wc(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, files = _split_opts(argv[1:])
    texts, rc = _inputs(sh, "wc", files, io)
    for name, text in texts:
        counts = []
        if "-l" in flags or not flags:
            counts.append(text.count("\n"))
        if "-w" in flags or not flags:
            counts.append(len(text.split()))
        if "-c" in flags or "-m" in flags or not flags:
            counts.append(len(text.encode()))
        width = 1 if len(counts) == 1 and name == "-" else 7 if name == "-" else 1
        cols = " ".join(str(c).rjust(width) for c in counts)
        io.write(cols + ("" if name == "-" else f" {name}") + "\n")
    return rc


@command("tee")
def _tee(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, files = _split_opts(argv[1:])
    data = io.stdin
    rc = 0
    for f in files:
        path = sh.path(f)
        if not sh.fs.is_dir(posixpath.dirname(path)):
            io.error(f"tee: {f}: No such file or directory")
            rc = 1
            continue
        sh.fs.write(path, data, append="-a" in flags, mtime=sh.now)
    io.write(data)
    return rc


@command("sort")
def _sort(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, files = _split_opts(argv[1:])
    texts, rc = _inputs(sh, "sort", files, io)
    lines = [ln for _, t in texts for ln in t.splitlines()]
    lines.sort(reverse="-r" in flags)
    if "-u" in flags:
        lines = list(dict.fromkeys(lines))
    io.write("".join(ln + "\n" for ln in lines))
    return rc


@command("basename")
def _basename(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        io.error("basename: missing operand")
        return 1
    name = posixpath.basename(argv[1].rstrip("/")) or "/"
    if len(argv) > 2 and name.endswith(argv[2]) and name != argv[2]:
        name = name[: -len(argv[2])]
    io.write(name + "\n")
    return 0


@command("dirname")
def _dirname(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        io.error("dirname: missing operand")
        return 1
    io.write((posixpath.dirname(argv[1].rstrip("/")) or ".") + "\n")
    return 0


@command("date")
def _date(sh: Shell, argv: list[str], io: Io) -> int:
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), None)
    t = time.gmtime(sh.now)
    if fmt is None:
        io.write(time.strftime("%a %b %e %H:%M:%S UTC %Y", t) + "\n")
    else:
        io.write(time.strftime(fmt.replace("%s", str(int(sh.now))), t) + "\n")
    return 0


@command("uname")
def _uname(sh: Shell, argv: list[str], io: Io) -> int:
    kernel = {"debian": "6.1.0-40-cloud-amd64", "rhel": "5.14.0-570.12.1.el9_6.x86_64"}[sh.distro.family]
    if sh.distro.is_ubuntu:
        kernel = "6.8.0-1041-azure" if sh.distro.key == "ubuntu-24.04" else "6.5.0-1025-azure"
    parts = {"-s": "Linux", "-n": sh.hostname(), "-r": kernel, "-m": "x86_64", "-o": "GNU/Linux"}
    flags = set(argv[1:]) or {"-s"}
    if "-a" in flags:
        io.write(f"Linux {sh.hostname()} {kernel} #1 SMP x86_64 GNU/Linux\n")
        return 0
    io.write(" ".join(v for k, v in parts.items() if k in flags) + "\n")
    return 0


@command("sync")
def _sync(sh: Shell, argv: list[str], io: Io) -> int:
    return 0


@command("sleep")
def _sleep(sh: Shell, argv: list[str], io: Io) -> int:
    if len(argv) < 2:
        io.error("sleep: missing operand\nTry 'sleep --help' for more information.")
        return 1
    for a in argv[1:]:
        if not re.fullmatch(r"\d+(\.\d+)?[smhd]?|inf(inity)?", a):  # GNU sleep: "infinity" too
            io.error(f"sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.")
            return 1
    return 0


def _seq_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@command("seq")
def _seq(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    sep, equal_width, fmt = "\n", False, None
    while args and args[0].startswith("-") and _seq_number(args[0]) is None:
        opt = args.pop(0)
        if opt in ("-s", "--separator") and args:
            sep = args.pop(0)
        elif opt.startswith("-s") and len(opt) > 2:
            sep = opt[2:]
        elif opt in ("-w", "--equal-width"):
            equal_width = True
        elif opt in ("-f", "--format") and args:
            fmt = args.pop(0)
        elif opt == "--":
            break
        else:
            io.error(
                f"seq: invalid option -- '{opt.lstrip('-')[:1]}'\nTry 'seq --help' for more information."
            )
            return 1
    if not 1 <= len(args) <= 3:
        io.error(
            "seq: missing operand\nTry 'seq --help' for more information."
            if not args
            else f"seq: extra operand '{args[3]}'\nTry 'seq --help' for more information."
        )
        return 1
    nums = [_seq_number(a) for a in args]
    for a, v in zip(args, nums, strict=True):
        if v is None:
            io.error(f"seq: invalid floating point argument: '{a}'\nTry 'seq --help' for more information.")
            return 1
    values = [v for v in nums if v is not None]
    first, step, last = (
        (1.0, 1.0, values[0])
        if len(values) == 1
        else ((values[0], 1.0, values[1]) if len(values) == 2 else (values[0], values[1], values[2]))
    )
    if step == 0:
        io.error(f"seq: invalid Zero increment value: '{args[1]}'\nTry 'seq --help' for more information.")
        return 1
    integral = all(
        float(v).is_integer() and "." not in a and "e" not in a.lower()
        for a, v in zip(args, values, strict=True)
    )
    decimals = max((len(a.split(".", 1)[1]) for a in args if "." in a), default=0)
    out: list[str] = []
    value = first
    while (step > 0 and value <= last + 1e-9) or (step < 0 and value >= last - 1e-9):
        if len(out) > 1_000_000:
            break
        if fmt is not None:
            try:
                out.append(fmt % value)
            except (TypeError, ValueError):
                io.error(f"seq: format '{fmt}' has unknown %{fmt.partition('%')[2][:1]} directive")
                return 1
        elif integral:
            out.append(str(int(value)))
        else:
            out.append(f"{value:.{decimals}f}")
        value = first + step * len(out)
    if equal_width and out:
        width = max(len(x) for x in out)
        out = [x.zfill(width) for x in out]
    if out:
        io.write(sep.join(out) + "\n")
    return 0
