"""Text tools scripts pipe through: tr, cut, uniq, mktemp, xargs (coreutils/findutils wording)."""

from __future__ import annotations

import posixpath
import random
import re
import string

from azemu.guest.fs import FsError
from azemu.guest.linux.shcore import Io, Shell, command, strerror

_CLASSES = {
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "digit": string.digits,
    "alpha": string.ascii_letters,
    "alnum": string.ascii_letters + string.digits,
    "space": " \t\n\r\f\v",
    "blank": " \t",
    "punct": string.punctuation,
    "xdigit": string.hexdigits,
    "cntrl": "".join(chr(c) for c in range(32)) + "\x7f",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _expand_set(spec: str) -> str | None:
    """A tr SET (ranges a-z, [:class:], escapes) as the characters it stands for; None if invalid."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        if spec.startswith("[:", i):
            end = spec.find(":]", i + 2)
            name = spec[i + 2 : end] if end > 0 else ""
            if name not in _CLASSES:
                return None
            out.append(_CLASSES[name])
            i = end + 2
            continue
        c = spec[i]
        if c == "\\" and i + 1 < len(spec):
            c = _ESCAPES.get(spec[i + 1], spec[i + 1])
            i += 2
        else:
            i += 1
        if i + 1 < len(spec) and spec[i] == "-":
            hi = spec[i + 1]
            if hi == "\\" and i + 2 < len(spec):
                hi = _ESCAPES.get(spec[i + 2], spec[i + 2])
                i += 1
            if ord(hi) < ord(c):
                return None
            out.append("".join(chr(x) for x in range(ord(c), ord(hi) + 1)))
            i += 2
            continue
        out.append(c)
    return "".join(out)


@command("tr")
def _tr(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    delete = squeeze = complement = False
    while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        opt = args.pop(0)
        delete = delete or "d" in opt
        squeeze = squeeze or "s" in opt
        complement = complement or "c" in opt or "C" in opt
    if args and args[0] == "--":
        args.pop(0)
    if not args:
        io.error("tr: missing operand\nTry 'tr --help' for more information.")
        return 1
    sets = [_expand_set(a) for a in args[:2]]
    if any(s is None for s in sets):
        io.error(f"tr: invalid character class or range in '{args[0]}'")
        return 1
    set1 = sets[0] or ""
    set2 = sets[1] if len(sets) > 1 and sets[1] is not None else ""
    if not delete and not squeeze and len(args) < 2:
        io.error(f"tr: missing operand after '{args[0]}'\nTry 'tr --help' for more information.")
        return 1
    text = io.stdin

    def in_set1(c: str) -> bool:
        return (c not in set1) if complement else (c in set1)

    if delete:
        text = "".join(c for c in text if not in_set1(c))
        squeeze_set = set2
    elif set2:
        table = {c: set2[min(k, len(set2) - 1)] for k, c in enumerate(set1)}
        text = "".join(
            (set2[-1] if complement and c not in set1 else table.get(c, c)) if in_set1(c) else c for c in text
        )
        squeeze_set = set2
    else:
        squeeze_set = set1
    if squeeze:
        out: list[str] = []
        for c in text:
            if out and out[-1] == c and c in squeeze_set:
                continue
            out.append(c)
        text = "".join(out)
    io.write(text)
    return 0


def _ranges(spec: str) -> list[tuple[int, int]] | None:
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", part)
        if not m or not (m.group(1) or m.group(3)):
            return None
        lo = int(m.group(1)) if m.group(1) else 1
        hi = (int(m.group(3)) if m.group(3) else 10**9) if m.group(2) else lo
        if lo < 1 or hi < lo:
            return None
        out.append((lo, hi))
    return out


@command("cut")
def _cut(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    delim, fields, chars, only_delimited = "\t", None, None, False
    files: list[str] = []
    while args:
        a = args.pop(0)
        if a.startswith("-d"):
            delim = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        elif a.startswith("-f"):
            fields = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        elif a.startswith(("-c", "-b")):
            chars = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        elif a == "-s":
            only_delimited = True
        else:
            files.append(a)
    if len(delim) != 1:
        io.error("cut: the delimiter must be a single character\nTry 'cut --help' for more information.")
        return 1
    spec = fields if fields is not None else chars
    if spec is None:
        io.error(
            "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information."
        )
        return 1
    ranges = _ranges(spec)
    if ranges is None:
        io.error(f"cut: invalid field value '{spec}'\nTry 'cut --help' for more information.")
        return 1
    texts, rc = _read(sh, "cut", files, io)
    for text in texts:
        for line in text.splitlines():
            if fields is not None:
                if delim not in line:
                    if not only_delimited:
                        io.write(line + "\n")
                    continue
                parts = line.split(delim)
                picked = [p for k, p in enumerate(parts, 1) if any(lo <= k <= hi for lo, hi in ranges)]
                io.write(delim.join(picked) + "\n")
            else:
                io.write(
                    "".join(c for k, c in enumerate(line, 1) if any(lo <= k <= hi for lo, hi in ranges))
                    + "\n"
                )
    return rc


def _read(sh: Shell, prog: str, files: list[str], io: Io) -> tuple[list[str], int]:
    if not files or files == ["-"]:
        return [io.stdin], 0
    out, rc = [], 0
    for f in files:
        try:
            out.append(sh.fs.read_text(sh.path(f)))
        except FsError as e:
            io.error(f"{prog}: {f}: {strerror(e)}")
            rc = 1
    return out, rc


@command("uniq")
def _uniq(sh: Shell, argv: list[str], io: Io) -> int:
    opts = {a for a in argv[1:] if a.startswith("-") and len(a) > 1}
    flags = "".join(o[1:] for o in opts if not o.startswith("--"))
    files = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    texts, rc = _read(sh, "uniq", files[:1], io)
    lines = "".join(texts).splitlines()
    groups: list[tuple[str, int]] = []
    for line in lines:
        key = line.lower() if "i" in flags else line
        if groups and (groups[-1][0].lower() if "i" in flags else groups[-1][0]) == key:
            groups[-1] = (groups[-1][0], groups[-1][1] + 1)
        else:
            groups.append((line, 1))
    for line, n in groups:
        if ("d" in flags and n < 2) or ("u" in flags and n > 1):
            continue
        io.write((f"{n:>7} " if "c" in flags else "") + line + "\n")
    return rc


@command("mktemp")
def _mktemp(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    directory = False
    base: str | None = None
    template = "tmp.XXXXXXXXXX"
    while args:
        a = args.pop(0)
        if a in ("-d", "--directory"):
            directory = True
        elif a in ("-p", "--tmpdir") and args:
            base = args.pop(0)
        elif a.startswith("--tmpdir="):
            base = a.split("=", 1)[1]
        elif a in ("-t", "-q", "-u"):
            continue
        else:
            template = a
            if base is None and "/" in a:
                base = ""
    if not template.endswith("XXX"):
        io.error(f"mktemp: too few X's in template '{template}'")
        return 1
    stem = template.rstrip("X")
    suffix = "".join(
        random.choice(string.ascii_letters + string.digits) for _ in range(len(template) - len(stem))
    )
    folder = sh.env.get("TMPDIR", "/tmp") if base is None else base
    path = sh.path(posixpath.join(folder, stem + suffix) if folder else stem + suffix)
    if not sh.fs.is_dir(posixpath.dirname(path)):
        io.error(
            f"mktemp: failed to create {'directory' if directory else 'file'} via template '{template}': No such file or directory"
        )
        return 1
    if directory:
        sh.fs.mkdir(path, 0o700)
    else:
        sh.fs.write(path, b"", 0o600, mtime=sh.now)
    io.write(path + "\n")
    return 0


def _xargs_words(text: str) -> list[str]:
    words: list[str] = []
    for m in re.finditer(r"""'([^']*)'|"([^"]*)"|((?:\\.|[^\s'"])+)""", text):
        if m.group(1) is not None:
            words.append(m.group(1))
        elif m.group(2) is not None:
            words.append(m.group(2))
        else:
            words.append(re.sub(r"\\(.)", r"\1", m.group(3)))
    return words


@command("xargs")
def _xargs(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    per: int | None = None
    replace: str | None = None
    while args and args[0].startswith("-") and args[0] != "--":
        opt = args.pop(0)
        if opt == "-n" and args and args[0].isascii() and args[0].isdigit():
            per = max(1, int(args.pop(0)))
        elif opt.startswith("-n") and opt[2:].isascii() and opt[2:].isdigit():
            per = max(1, int(opt[2:]))
        elif opt == "-I" and args:
            replace = args.pop(0)
        elif opt.startswith("-I") and len(opt) > 2:
            replace = opt[2:]
        elif opt in ("-r", "--no-run-if-empty", "-0", "-t"):
            continue
    if args and args[0] == "--":
        args.pop(0)
    cmd = args or ["echo"]
    data = io.stdin
    runs: list[list[str]]
    if replace is not None:
        runs = [[a.replace(replace, line) for a in cmd] for line in data.splitlines() if line.strip()]
    else:
        words = _xargs_words(data)
        if not words and "-r" in argv[1:]:
            return 0
        size = per or max(1, len(words))
        runs = [cmd + words[k : k + size] for k in range(0, max(1, len(words)), size)]
    rc = 0
    for run in runs:
        sub = Io()
        code = sh.dispatch(run, sub)
        io.out.extend(sub.out)
        io.err.extend(sub.err)
        if code == 127:
            return 127
        if code != 0:
            rc = 123
    return rc
