"""Word expansion, in bash's order: brace expansion, tilde, parameters (``${v:-x}``, ``${#v}``, ``${v%pat}``,
``${v/a/b}``, ``${a[@]}`` ...), command substitution, arithmetic, field splitting on ``IFS``, pathname
expansion, quote removal.

An expanded word is a list of pieces ``(text, quoted, splittable)``; ``None`` separates fields that
``"$@"`` keeps apart. Errors print bash's message and raise ``ShellAbort`` (the rest of the command line
is dropped) or ``ShellExit`` (``set -u``, ``${v:?}``), as bash does in a script.
"""

from __future__ import annotations

import functools
import posixpath
import random
import re
from collections.abc import Callable

from azemu.guest.fs import FsError
from azemu.guest.linux import sharith, shpattern
from azemu.guest.linux.shcore import (
    BASH_VERSION,
    DEFAULT_IFS,
    Io,
    ReadonlyError,
    Shell,
    ShellAbort,
    ShellExit,
)
from azemu.guest.linux.shparse import ParseError, Parser

_ALL_AT = re.compile(r"\$\{?@|\[@\]")

Piece = tuple[str, bool, bool] | None  # (text, quoted, splittable); None: a field break ("$@")
KEEP = ("", True, False)  # an empty quoted string: keeps an empty field alive
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!0-])(\[[^\]]*\])?")
_ANSI = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
}
_ANSI.update({"\\": "\\", "'": "'", '"': '"', "?": "?"})
MAX_BRACE_WORDS = 10_000


def part_end(raw: str, i: int) -> int:
    """Index just after the quoted string or expansion that starts at raw[i] (the lexer's own reading);
    the end of the text when it does not close (the caller then shows or runs what there is)."""
    p = Parser(raw)
    p.sc.i = i
    try:
        p.sc.quoted_part()
    except ParseError:
        return len(raw)
    return max(i + 1, min(p.sc.i, len(raw)))


def arith_end(raw: str, i: int) -> int | None:
    """For ``$((`` at raw[i]: the index after its ``))``, or None when it is ``$( (...) )``."""
    p = Parser(raw)
    try:
        end = p.sc.arith_end(i + 3)
    except ParseError:
        return None
    return None if end is None else min(end, len(raw))


def ansi_c(text: str) -> str:
    """The body of ``$'...'`` with its backslash escapes applied."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _ANSI:
            out.append(_ANSI[nxt])
            i += 2
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", text[i + 1 :])
            assert m is not None
            out.append(chr(int(m.group(0), 8) & 0xFF))
            i += 1 + len(m.group(0))
        elif nxt == "x":
            m = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2 :])
            out.append(chr(int(m.group(0), 16)) if m else "\\x")
            i += 2 + (len(m.group(0)) if m else 0)
        elif nxt in "uU":
            m = re.match(r"[0-9A-Fa-f]{1,4}" if nxt == "u" else r"[0-9A-Fa-f]{1,8}", text[i + 2 :])
            code = int(m.group(0), 16) if m else -1
            out.append(chr(code) if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\\" + nxt)
            i += 2 + (len(m.group(0)) if m else 0)
        elif nxt == "c" and i + 2 < len(text):
            out.append(chr(ord(text[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def split_ifs(text: str, ifs: str, maxsplit: int = -1) -> list[str]:
    """``read``'s splitting: fields on IFS; with maxsplit, the last field keeps the rest of the line."""
    ws = "".join(c for c in ifs if c in " \t\n")
    fields: list[str] = []
    i, n = 0, len(text)
    while i < n and text[i] in ws:
        i += 1
    while i < n:
        if maxsplit >= 0 and len(fields) == maxsplit:
            rest = text[i:].rstrip(ws) if ws else text[i:]
            fields.append(rest)
            return fields
        j = i
        while j < n and text[j] not in ifs:
            j += 1
        fields.append(text[i:j])
        if j < n and text[j] not in ws:
            j += 1
        while j < n and text[j] in ws:
            j += 1
        if j < n and text[j] in ifs and text[j] not in ws and j > i and text[j - 1] in ws:
            j += 1
            while j < n and text[j] in ws:
                j += 1
        i = j
    return fields


class _Vars:
    """Arithmetic's view of the shell's variables."""

    def __init__(self, x: Expander) -> None:
        self.x = x

    def get(self, name: str) -> str | None:
        value = self.x.sh.get_var(name)
        if value is None and self.x.sh.nounset:
            self.x.unbound(name)
        return value

    def set(self, name: str, value: str) -> None:
        self.x.assign(name, value)


class Expander:
    def __init__(self, sh: Shell) -> None:
        self.sh = sh
        self.err: list[str] = []  # what command substitutions wrote to stderr
        self.subst_status: int | None = None  # the last command substitution's exit status

    # errors ------------------------------------------------------------------------------------------
    def fail(self, text: str, status: int = 1) -> ShellAbort:
        self.err.append(f"bash: line {self.sh.line}: {text}\n")
        return ShellAbort(status)

    def fatal(self, text: str) -> ShellExit:
        self.err.append(f"bash: line {self.sh.line}: {text}\n")
        return ShellExit(1)

    def unbound(self, name: str) -> None:
        raise self.fatal(f"{name}: unbound variable")

    def assign(self, name: str, value: str) -> None:
        try:
            self.sh.set_var(name, value)
        except ReadonlyError as e:
            raise self.fail(f"{e.name}: readonly variable") from None

    # public ------------------------------------------------------------------------------------------
    def fields(self, raw: str) -> list[str]:
        """A command word -> its fields (brace expansion, expansions, splitting, globbing)."""
        out: list[str] = []
        for word in brace_expand(raw):
            for field in self.split(self.expand(word)):
                out.extend(self.glob_field(field))
        return out

    def word(self, raw: str) -> str:
        """Expanded without splitting or globbing (assignments, case subjects, [[ ]] operands)."""
        return _join(self.expand(raw, tilde_after_colon=False))

    def assignment(self, raw: str) -> str:
        return _join(self.expand(raw, tilde_after_colon=True))

    def pattern(self, raw: str) -> str:
        """A glob pattern: what was quoted in the script matches literally."""
        out: list[str] = []
        for p in self.expand(raw):
            if p is None:
                out.append(" ")
            else:
                out.append(shpattern.escape(p[0]) if p[1] else p[0])
        return "".join(out)

    def regex(self, raw: str) -> str:
        """The right side of ``=~``: quoted parts match literally."""
        return "".join(("" if p is None else re.escape(p[0]) if p[1] else p[0]) for p in self.expand(raw))

    def heredoc(self, body: str) -> str:
        return _join(self.expand(body, mode="heredoc"))

    def arith(self, raw: str, prefix: str = "") -> int:
        """Evaluate an arithmetic expression (after expanding it); errors abort the command line."""
        text = _join(self.expand(raw, mode="arith"))
        try:
            return sharith.evaluate(text, _Vars(self))
        except sharith.ArithError as e:
            raise self.fail(prefix + e.text) from None

    # the walk ----------------------------------------------------------------------------------------
    def expand(self, raw: str, mode: str = "", tilde_after_colon: bool = False) -> list[Piece]:
        """mode: "" (a word), "dq" (inside double quotes), "heredoc", "arith" (``$(( ))`` text)."""
        out: list[Piece] = []
        dq = mode in ("dq", "heredoc")
        i, n = 0, len(raw)

        def emit(text: str, quoted: bool, split: bool = False) -> None:
            if text:
                out.append((text, quoted, split))

        while i < n:
            c = raw[i]
            if c == "'" and mode == "":
                end = raw.find("'", i + 1)
                end = n if end < 0 else end
                emit(raw[i + 1 : end], True)
                if end == i + 1:
                    out.append(KEEP)
                i = end + 1
            elif c == '"' and mode in ("", "arith"):
                end = part_end(raw, i)
                inner = (
                    raw[i + 1 : end - 1] if raw[end - 1 : end] == '"' and end - 1 > i else raw[i + 1 : end]
                )
                pieces = self.expand(inner, "dq")
                if mode == "arith":
                    out.extend(pieces)
                elif not any(p is not None and p[0] for p in pieces) and not any(p is None for p in pieces):
                    if not _ALL_AT.search(inner):
                        out.append(KEEP)
                else:
                    out.extend(pieces)
                i = end
            elif c == "\\":
                if i + 1 >= n:
                    emit("\\", True)
                    i += 1
                    continue
                nxt = raw[i + 1]
                if mode == "heredoc":
                    emit(nxt if nxt in "$`\\\n" else "\\" + nxt, True)
                    if nxt == "\n":
                        out.pop()
                elif dq:
                    emit(nxt if nxt in '$`"\\\n' else "\\" + nxt, True)
                    if nxt == "\n":
                        out.pop()
                elif mode == "arith":
                    emit(nxt, True)
                else:
                    emit(nxt, True)
                i += 2
            elif c == "$" and i + 1 < n:
                i = self.dollar(raw, i, mode, out)
            elif c == "`":
                end = part_end(raw, i)
                body = raw[i + 1 : end - 1] if raw[end - 1 : end] == "`" and end - 1 > i else raw[i + 1 : end]
                body = re.sub(r"\\([$`\\])", r"\1", body)
                emit(self.substitute(body), dq, not dq)
                i = end
            elif c == "~" and mode == "" and (i == 0 or (tilde_after_colon and raw[i - 1] in ":=")):
                j = i + 1
                while j < n and (raw[j].isalnum() or raw[j] in "_-.+"):
                    j += 1
                if j < n and raw[j] != "/" and not (tilde_after_colon and raw[j] == ":"):
                    emit(raw[i:j], False)
                else:
                    home = self.tilde(raw[i + 1 : j])
                    emit(home if home is not None else raw[i:j], True)
                i = j
            else:
                j = i + 1
                while j < n and raw[j] not in "'\"\\$`~":
                    j += 1
                emit(raw[i:j], dq)
                i = j
        return out

    def tilde(self, user: str) -> str | None:
        if user == "":
            return self.sh.env.get("HOME", "/root")
        if user == "+":
            return self.sh.cwd
        for line in self.sh.fs.read_text("/etc/passwd", "").splitlines():
            parts = line.split(":")
            if len(parts) > 5 and parts[0] == user:
                return parts[5]
        return None

    def dollar(self, raw: str, i: int, mode: str, out: list[Piece]) -> int:
        """Expand the ``$`` construct at raw[i]; returns the index after it."""
        dq = mode in ("dq", "heredoc")
        split = mode == ""
        nxt = raw[i + 1]
        if nxt == "(":
            if raw.startswith("$((", i):
                end = arith_end(raw, i)
                if end is not None:
                    value = self.arith(raw[i + 3 : end - 2])
                    out.append((str(value), dq, split))
                    return end
            end = part_end(raw, i)
            body = raw[i + 2 : end - 1] if raw[end - 1 : end] == ")" else raw[i + 2 : end]
            out.append((self.substitute(body), dq, split))
            return end
        if nxt == "{":
            end = part_end(raw, i)
            if raw[end - 1 : end] != "}":
                raise self.fail(f"{raw[i:end]}: bad substitution")
            out.extend(self.param(raw[i + 2 : end - 1], raw[i:end], mode))
            return end
        if nxt == "'" and mode == "":
            end = part_end(raw, i)
            out.append((ansi_c(raw[i + 2 : end - 1]), True, False))
            if end - i == 3:
                out.append(KEEP)
            return end
        if nxt == '"' and mode == "":
            end = part_end(raw, i + 1)
            out.extend(self.expand(raw[i + 2 : end - 1], "dq") or [KEEP])
            return end
        m = _NAME.match(raw, i + 1)
        if m:
            name = m.group(0)
            found = self.lookup(name)
            if found is None and self.sh.nounset:
                self.unbound(name)
            self.emit_value(found, name, dq, split, out)
            return m.end()
        if "0" <= nxt <= "9" or nxt in "@*#?$!-":
            found = self.lookup(nxt)
            if found is None and self.sh.nounset and nxt not in "@*":
                self.unbound("$" + nxt)
            self.emit_value(found, nxt, dq, split, out)
            return i + 2
        out.append(("$", dq, False))
        return i + 1

    def emit_value(
        self, value: str | list[str] | None, name: str, dq: bool, split: bool, out: list[Piece]
    ) -> None:
        if value is None:
            return
        if isinstance(value, str):
            if value:
                out.append((value, dq, split))
            return
        at = name == "@" or name.endswith("[@]")
        if dq and not at:
            ifs = self.ifs()
            joined = (ifs[:1]).join(value)
            if joined:
                out.append((joined, True, False))
            return
        for k, item in enumerate(value):
            if k:
                out.append(None)
            if item:
                out.append((item, dq, split))
            elif dq:
                out.append(KEEP)

    def ifs(self) -> str:
        v = self.sh.get_var("IFS")
        return DEFAULT_IFS if v is None else v

    # parameters --------------------------------------------------------------------------------------
    def lookup(self, name: str) -> str | list[str] | None:
        """A parameter's value: a string, a list (``@``, ``*``, ``a[@]``), or None when unset."""
        sh = self.sh
        if name.endswith("]") and "[" in name:
            base, _, sub = name[:-1].partition("[")
            if base in ("@", "*"):
                return None
            if sub in ("@", "*"):
                return sh.array_values(base)
            return sh.get_element(base, self.arith(sub) if sub else 0)
        if name == "?":
            return str(sh.rc)
        if name == "$":
            return "4242"
        if name == "#":
            return str(len(sh.positional))
        if name == "0":
            return sh.script_name
        if name.isascii() and name.isdigit():
            idx = int(name) - 1
            return sh.positional[idx] if 0 <= idx < len(sh.positional) else None
        if name in ("@", "*"):
            return list(sh.positional)
        if name == "-":
            return (
                "".join(f for f, on in (("e", sh.errexit), ("u", sh.nounset), ("x", sh.xtrace)) if on) + "hB"
            )
        if name == "!":
            return None
        value = sh.get_var(name)
        if value is not None:
            if name == "PWD":
                return sh.cwd
            return value
        dynamic: Callable[[], str] | None = {
            "RANDOM": lambda: str(random.randrange(32768)),
            "LINENO": lambda: str(sh.line),
            "SECONDS": lambda: "0",
            "UID": lambda: "0",
            "EUID": lambda: "0",
            "PPID": lambda: "4241",
            "BASHPID": lambda: "4242",
            "BASH_VERSION": lambda: BASH_VERSION,
            "HOSTNAME": sh.hostname,
            "PWD": lambda: sh.cwd,
            "FUNCNAME": lambda: sh.funcnames[-1] if sh.funcnames else "",
            "SHELLOPTS": lambda: "braceexpand:hashall:interactive-comments",
        }.get(name)
        if dynamic is None or (name == "FUNCNAME" and not sh.funcnames):
            return None
        return dynamic()

    def param(self, body: str, whole: str, mode: str) -> list[Piece]:
        dq = mode in ("dq", "heredoc")
        split = mode == ""
        sh = self.sh
        out: list[Piece] = []
        if body == "#":
            return [(str(len(sh.positional)), dq, split)]
        if body.startswith("#") and len(body) > 1:
            m = _PARAM.fullmatch(body[1:])
            if m is None:
                raise self.fail(f"{whole}: bad substitution")
            value = self.lookup(body[1:])
            if value is None and sh.nounset and body[1:] not in ("@", "*") and not body.endswith("[@]"):
                self.unbound(body[1:])
            count = len(value) if isinstance(value, list) else len(value or "")
            return [(str(count), dq, split)]
        if body.startswith("!"):
            return self.indirect(body[1:], whole, dq, split)
        m = _PARAM.match(body)
        if m is None:
            raise self.fail(f"{whole}: bad substitution")
        name = m.group(0)
        rest = body[m.end() :]
        if m.group(1).isdigit() and m.group(2):
            raise self.fail(f"{whole}: bad substitution")
        value = self.lookup(name)
        if not rest:
            if value is None and sh.nounset and name not in ("@", "*") and not name.endswith("[@]"):
                self.unbound(name)
            self.emit_value(value, name, dq, split, out)
            return out
        for op in (":-", ":=", ":+", ":?", "-", "=", "+", "?"):
            if rest.startswith(op):
                return self.default_op(name, value, op, rest[len(op) :], mode)
        if value is None and sh.nounset and name not in ("@", "*"):
            self.unbound(name)
        items = value if isinstance(value, list) else None
        text = value if isinstance(value, str) else ""

        def each(fn: Callable[[str], str]) -> None:
            if items is not None:
                self.emit_value([fn(v) for v in items], name, dq, split, out)
            elif value is not None:
                self.emit_value(fn(text), name, dq, split, out)

        for op in ("##", "#", "%%", "%"):
            if rest.startswith(op):
                pat = self.pattern(rest[len(op) :])
                strip = shpattern.strip_prefix if op[0] == "#" else shpattern.strip_suffix
                each(functools.partial(_strip, strip, pat, len(op) == 2))
                return out
        if rest.startswith("/"):
            spec = rest[1:]
            kind = ""
            if spec[:1] in ("/", "#", "%"):
                kind, spec = spec[0], spec[1:]
            pat_raw, repl_raw = _split_slash(spec)
            pat = self.pattern(pat_raw)
            repl = self.word(repl_raw) if repl_raw is not None else ""
            each(lambda v: shpattern.replace(v, pat, repl, kind))
            return out
        if rest.startswith(":"):
            off_raw, _, len_raw = rest[1:].partition(":")
            offset = self.arith(off_raw) if off_raw.strip() else 0
            length = self.arith(len_raw) if ":" in rest[1:] else None
            if items is not None and name in ("@", "*"):
                seq = [sh.script_name, *items]
                sliced = _slice_list(seq, offset, length)
                if sliced is None:
                    raise self.fail(f"{len_raw.strip()}: substring expression < 0")
                self.emit_value(sliced, name, dq, split, out)
                return out
            if items is not None:
                sliced = _slice_list(items, offset, length)
                if sliced is None:
                    raise self.fail(f"{len_raw.strip()}: substring expression < 0")
                self.emit_value(sliced, name, dq, split, out)
                return out
            if value is None:
                return out
            sub = _slice_text(text, offset, length)
            if sub is None:
                raise self.fail(f"{len_raw.strip()}: substring expression < 0")
            self.emit_value(sub, name, dq, split, out)
            return out
        for op, fn in (
            ("^^", str.upper),
            (",,", str.lower),
            ("^", lambda v: v[:1].upper() + v[1:]),
            (",", lambda v: v[:1].lower() + v[1:]),
        ):
            if rest.startswith(op):
                each(fn)
                return out
        if rest.startswith("@") and len(rest) == 2:
            kind = rest[1]
            transforms = {
                "Q": lambda v: "'" + v.replace("'", "'\\''") + "'",
                "U": str.upper,
                "L": str.lower,
                "u": lambda v: v[:1].upper() + v[1:],
                "E": ansi_c,
                "P": lambda v: v,
                "A": lambda v: f"{name}={v!r}",
                "a": lambda v: "",
            }
            if kind in transforms:
                each(transforms[kind])
                return out
        raise self.fail(f"{whole}: bad substitution")

    def default_op(
        self, name: str, value: str | list[str] | None, op: str, word: str, mode: str
    ) -> list[Piece]:
        dq = mode in ("dq", "heredoc")
        split = mode == ""
        if isinstance(value, list):
            unset = len(value) == 0
            empty = unset or (len(value) == 1 and value[0] == "")
        else:
            unset = value is None
            empty = value is None or value == ""
        missing = empty if op.startswith(":") else unset
        out: list[Piece] = []
        kind = op[-1]
        if kind == "-":
            if missing:
                return self.word_pieces(word, dq)
            self.emit_value(value, name, dq, split, out)
            return out
        if kind == "+":
            return [] if missing else self.word_pieces(word, dq)
        if kind == "=":
            if missing:
                if not _NAME.fullmatch(name):
                    raise self.fail(f"${name}: cannot assign in this way")
                new = _join(self.expand(word, "dq" if dq else ""))
                self.assign(name, new)
                return [(new, dq, split)] if new else []
            self.emit_value(value, name, dq, split, out)
            return out
        if missing:
            message = (
                _join(self.expand(word, "dq"))
                if word
                else ("parameter null or not set" if op.startswith(":") else "parameter not set")
            )
            raise self.fatal(f"{name}: {message}")
        self.emit_value(value, name, dq, split, out)
        return out

    def word_pieces(self, word: str, dq: bool) -> list[Piece]:
        """The word of ``${v:-word}``: unquoted, its text is split like any expansion result."""
        if dq:
            return self.expand(word, "dq")
        return [p if p is None or p[1] else (p[0], False, True) for p in self.expand(word)]

    def indirect(self, rest: str, whole: str, dq: bool, split: bool) -> list[Piece]:
        sh = self.sh
        out: list[Piece] = []
        if rest.endswith(("*", "@")) and _NAME.fullmatch(rest[:-1]):
            prefix = rest[:-1]
            names = sorted(n for n in {*sh.env, *sh.arrays} if n.startswith(prefix))
            self.emit_value(names, "@" if rest.endswith("@") else "*", dq, split, out)
            return out
        m = re.fullmatch(r"([A-Za-z_]\w*)\[([@*])\]", rest)
        if m:
            indices = [str(k) for k in sh.array_indices(m.group(1))]
            self.emit_value(indices, "@" if m.group(2) == "@" else "*", dq, split, out)
            return out
        if _PARAM.fullmatch(rest) is None:
            raise self.fail(f"{whole}: bad substitution")
        target = self.lookup(rest)
        if isinstance(target, list):
            target = " ".join(target)
        if not target:
            raise self.fail(f"{rest}: invalid indirect expansion")
        if _PARAM.fullmatch(target) is None:
            raise self.fail(f"{target}: invalid variable name")
        self.emit_value(self.lookup(target), target, dq, split, out)
        return out

    # command substitution ----------------------------------------------------------------------------
    def substitute(self, script: str) -> str:
        sh = self.sh
        sub = sh.fork()
        io = Io()
        try:
            rc = sh.runner.run_script(sub, script, io, top=True)
        except ShellExit as e:
            rc = e.code
        sh.adopt(sub)
        self.subst_status = rc & 0xFF
        sh.rc = self.subst_status
        self.err.extend(io.err)
        return "".join(io.out).replace("\x00", "").rstrip("\n")

    # splitting and globbing --------------------------------------------------------------------------
    def split(self, pieces: list[Piece]) -> list[list[tuple[str, bool]]]:
        """Fields as lists of (text, quoted) chunks."""
        ifs = self.ifs()
        ws = "".join(c for c in ifs if c in " \t\n")
        fields: list[list[tuple[str, bool]]] = []
        cur: list[tuple[str, bool]] = []
        started = False
        after_ws = False
        for p in pieces:
            if p is None:
                if started:
                    fields.append(cur)
                cur, started, after_ws = [], False, False
                continue
            text, quoted, splittable = p
            if not splittable or not ifs:
                cur.append((text, quoted))
                started = True
                after_ws = False
                continue
            buf: list[str] = []
            for ch in text:
                if ch not in ifs:
                    buf.append(ch)
                    after_ws = False
                    continue
                if buf:
                    cur.append(("".join(buf), False))
                    buf = []
                    started = True
                if ch in ws:
                    if started:
                        fields.append(cur)
                        cur, started = [], False
                        after_ws = True
                    continue
                if after_ws and not started:
                    after_ws = False
                    continue
                fields.append(cur)
                cur, started, after_ws = [], False, False
            if buf:
                cur.append(("".join(buf), False))
                started = True
        if started:
            fields.append(cur)
        return fields

    def glob_field(self, field: list[tuple[str, bool]]) -> list[str]:
        text = "".join(t for t, _ in field)
        if self.sh.noglob or not any(not q and any(c in t for c in "*?[") for t, q in field):
            return [text]
        pattern = "".join(shpattern.escape(t) if q else t for t, q in field)
        if not shpattern.has_magic(pattern):
            return [text]
        matches = self.glob(pattern)
        return matches or [text]

    def glob(self, pattern: str) -> list[str]:
        fs = self.sh.fs
        absolute = pattern.startswith("/")
        parts = [p for p in pattern.split("/") if p]
        results = ["/"] if absolute else [""]
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            nxt: list[str] = []
            for base in results:
                where = self.sh.path(base) if base else self.sh.cwd
                if not shpattern.has_magic(part):
                    name = shpattern.unescape(part)
                    cand = posixpath.join(base, name) if base else name
                    full = self.sh.path(cand)
                    if (fs.exists(full) if last else fs.is_dir(full)) or name in (".", ".."):
                        nxt.append(cand)
                    continue
                try:
                    names = fs.listdir(where)
                except FsError:
                    continue
                rx = shpattern.compiled(part, True)
                dot = part.startswith(".") or part.startswith("\\.")
                for name in names:
                    if name.startswith(".") and not dot:
                        continue
                    if rx.fullmatch(name):
                        cand = posixpath.join(base, name) if base else name
                        if last or fs.is_dir(self.sh.path(cand)):
                            nxt.append(cand)
            results = nxt
            if not results:
                return []
        if pattern.endswith("/"):
            results = [r + "/" for r in results]
        return sorted(results)


def _strip(fn: Callable[[str, str, bool], str], pattern: str, longest: bool, text: str) -> str:
    return fn(text, pattern, longest)


def _join(pieces: list[Piece]) -> str:
    return "".join(" " if p is None else p[0] for p in pieces)


def _split_slash(spec: str) -> tuple[str, str | None]:
    """``pat/rep`` at the first ``/`` that is not escaped or quoted."""
    i = 0
    while i < len(spec):
        c = spec[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"" or (c == "$" and spec[i + 1 : i + 2] in ("(", "{")):
            i = part_end(spec, i)
            continue
        if c == "/":
            return spec[:i], spec[i + 1 :]
        i += 1
    return spec, None


def _slice_text(text: str, offset: int, length: int | None) -> str | None:
    if offset < 0:
        offset = max(0, len(text) + offset) if -offset <= len(text) else len(text) + 1
    if offset > len(text):
        return ""
    if length is None:
        return text[offset:]
    if length < 0:
        end = len(text) + length
        if end < offset:
            return None
        return text[offset:end]
    return text[offset : offset + length]


def _slice_list(items: list[str], offset: int, length: int | None) -> list[str] | None:
    if offset < 0:
        offset = len(items) + offset
        if offset < 0:
            return []
    if length is None:
        return items[offset:]
    if length < 0:
        return None
    return items[offset : offset + length]


# brace expansion -------------------------------------------------------------------------------------------
def brace_expand(word: str) -> list[str]:
    out = _brace(word, 0)
    return out if len(out) <= MAX_BRACE_WORDS else [word]


def _brace(word: str, depth: int) -> list[str]:
    if "{" not in word or depth > 20:
        return [word]
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"`" or (c == "$" and i + 1 < n and word[i + 1] in "({'\""):
            i = part_end(word, i)
            continue
        if c == "{":
            close, commas = _brace_close(word, i)
            if close is not None:
                inner = word[i + 1 : close]
                pre, post = word[:i], word[close + 1 :]
                alts = commas or _sequence(inner)
                if alts is not None:
                    results: list[str] = []
                    for alt in alts:
                        for tail in _brace(post, depth + 1):
                            results.extend(_brace(pre + alt + tail, depth + 1))
                            if len(results) > MAX_BRACE_WORDS:
                                return [word]
                    return results
        i += 1
    return [word]


def _brace_close(word: str, start: int) -> tuple[int | None, list[str]]:
    """The matching ``}`` and the top-level comma-separated alternatives (empty list if no comma)."""
    depth = 0
    parts: list[str] = []
    last = start + 1
    i = start + 1
    n = len(word)
    while i < n:
        c = word[i]
        if c == "\\":
            i += 2
            continue
        if c in "'\"`" or (c == "$" and i + 1 < n and word[i + 1] in "({"):
            i = part_end(word, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                if parts:
                    parts.append(word[last:i])
                return i, parts
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(word[last:i])
            last = i + 1
        i += 1
    return None, []


def _sequence(inner: str) -> list[str] | None:
    m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?", inner)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        if abs(b - a) // step > MAX_BRACE_WORDS:
            return None
        width = (
            max(len(m.group(1)), len(m.group(2))) if re.match(r"-?0\d", m.group(1) + " " + m.group(2)) else 0
        )
        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [str(v).zfill(width) if width else str(v) for v in rng]
    m = re.fullmatch(r"([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?", inner)
    if m:
        a2, b2 = ord(m.group(1)), ord(m.group(2))
        step = abs(int(m.group(3) or 1)) or 1
        rng = range(a2, b2 + 1, step) if a2 <= b2 else range(a2, b2 - 1, -step)
        return [chr(v) for v in rng]
    return None
