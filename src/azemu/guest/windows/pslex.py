"""PowerShell source -> statements -> tokens (the small subset the emulator runs)."""

from __future__ import annotations

from dataclasses import dataclass, field

_OPEN = {"(": ")", "{": "}"}
_WORD_END = set(" \t\r\n|;,(){}")


@dataclass
class Stmt:
    text: str
    line: int  # 1-based line of the first character
    col: int  # 1-based column of the first character
    line_text: str  # the whole source line the statement starts on


@dataclass
class Tok:
    kind: str  # word sq dq paren subexpr array block hash pipe comma redir amp
    text: str
    col: int  # 0-based offset inside the statement
    members: list[str] = field(default_factory=list)  # (...).A.B
    length: int = 0


class ParseError(Exception):
    def __init__(self, message: str, col: int, length: int, fqid: str) -> None:
        super().__init__(message)
        self.col = col
        self.length = length
        self.fqid = fqid


def split_statements(script: str) -> list[Stmt]:
    """Split on newlines and ``;`` outside quotes/brackets; drop comments; join continuations."""
    lines = script.split("\n")
    out: list[Stmt] = []
    buf: list[str] = []
    start: tuple[int, int] | None = None
    depth = 0
    quote = ""
    block_comment = False
    line_no, col = 1, 0
    i = 0

    def flush() -> None:
        nonlocal start
        text = "".join(buf).strip()
        if text and start is not None:
            out.append(Stmt(text, start[0], start[1], lines[start[0] - 1].rstrip("\r")))
        buf.clear()
        start = None

    while i < len(script):
        ch = script[i]
        nxt = script[i + 1] if i + 1 < len(script) else ""
        if block_comment:
            if ch == "#" and nxt == ">":
                block_comment = False
                i += 2
                col += 2
                continue
        elif quote:
            buf.append(ch)
            if ch == "`" and quote == '"' and nxt:
                buf.append(nxt)
                i += 1
            elif ch == quote:
                if nxt == quote:
                    buf.append(nxt)
                    i += 1
                else:
                    quote = ""
        elif ch == "<" and nxt == "#":
            block_comment = True
            i += 2
            col += 2
            continue
        elif ch == "#" and (not buf or buf[-1] in " \t;"):
            while i < len(script) and script[i] != "\n":
                i += 1
            continue
        elif ch == "`" and nxt in ("\n", "\r"):
            buf.append(" ")
            i += 1
            if script[i] == "\r" and i + 1 < len(script) and script[i + 1] == "\n":
                i += 1
            line_no += 1
            col = 0
            i += 1
            continue
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch in "({":
            depth += 1
            buf.append(ch)
        elif ch in ")}":
            depth = max(0, depth - 1)
            buf.append(ch)
        elif ch == "\n" or (ch == ";" and depth == 0):
            if ch == "\n" and (depth > 0 or "".join(buf).rstrip().endswith("|")):
                buf.append(" " if depth == 0 else "\n")
            else:
                flush()
        elif ch != "\r":
            buf.append(ch)
        if start is None and buf and not "".join(buf).isspace():
            start = (line_no, col + 1)
        if ch == "\n":
            line_no += 1
            col = 0
        else:
            col += 1
        i += 1
    flush()
    return out


def _match(text: str, i: int) -> int:
    """Index just past the bracket that closes the one at ``text[i]``."""
    close = _OPEN[text[i]]
    depth, quote = 0, ""
    j = i
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "`" and quote == '"':
                j += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == text[i]:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ParseError(
        f"Missing closing '{close}' in subexpression.",
        i,
        1,
        "MissingEndParenthesisInExpression" if close == ")" else "MissingEndCurlyBrace",
    )


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch == "|":
            toks.append(Tok("pipe", "|", i))
            i += 1
        elif ch == ",":
            toks.append(Tok("comma", ",", i))
            i += 1
        elif ch == "&" and (i + 1 >= n or text[i + 1] in " \t'\"$("):
            toks.append(Tok("amp", "&", i))
            i += 1
        elif ch in "'\"":
            j = i + 1
            parts: list[str] = []
            while True:
                if j >= n:
                    raise ParseError(
                        "The string is missing the terminator: " + ch + ".",
                        i,
                        n - i,
                        "TerminatorExpectedAtEndOfString",
                    )
                c = text[j]
                if ch == '"' and c == "`" and j + 1 < n:
                    parts.append(text[j : j + 2])
                    j += 2
                    continue
                if c == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        parts.append(c if ch == "'" else '`"')
                        j += 2
                        continue
                    break
                parts.append(c)
                j += 1
            toks.append(Tok("sq" if ch == "'" else "dq", "".join(parts), i))
            i = j + 1
        elif ch in "({" or (ch in "$@" and i + 1 < n and text[i + 1] in "({"):
            kind = {"(": "paren", "{": "block", "$(": "subexpr", "@(": "array", "@{": "hash"}[
                ch if ch in "({" else text[i : i + 2]
            ]
            b = i if ch in "({" else i + 1
            j = _match(text, b)
            toks.append(Tok(kind, text[b + 1 : j - 1], i))
            i = j
        elif ch in "2*>" and _redir(text, i):
            r = _redir(text, i)
            toks.append(Tok("redir", r, i))
            i += len(r)
        else:
            j = i
            while j < n and text[j] not in _WORD_END:
                if text[j] in "'\"" and j > i:
                    q = text.index(text[j], j + 1) if text[j] in text[j + 1 :] else n - 1
                    j = q + 1
                    continue
                j += 1
            toks.append(Tok("word", text[i:j], i))
            i = j
        tok = toks[-1]
        # member access right after a closing bracket: (Get-X).Prop.Sub
        while (
            tok.kind in ("paren", "subexpr")
            and i < n
            and text[i] == "."
            and i + 1 < n
            and (text[i + 1].isalpha() or text[i + 1] == "_")
        ):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tok.members.append(text[i + 1 : j])
            i = j
        tok.length = i - start
    return toks


def _redir(text: str, i: int) -> str:
    for r in ("2>&1", "*>&1", "2>>", "*>>", "2>", "*>", ">>", ">"):
        if text.startswith(r, i):
            return r
    return ""
