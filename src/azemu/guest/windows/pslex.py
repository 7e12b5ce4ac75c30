"""PowerShell's tokenizer, in its two modes: expression mode (operators, numbers, member names) and
argument mode (barewords such as ``C:\\x.exe`` or ``/generalize``, ``-Parameter`` tokens).

The parser asks for a token in the mode it needs; a token is plain data (kind, raw text, extent), and
strings keep their raw body so that ``"$(...)"`` parts are parsed by the parser itself, with extents that
point into the script. Errors carry PowerShell's message and FullyQualifiedErrorId.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WS = " \t\r\f\v\u00a0\ufeff"
DASHES = "-\u2013\u2014\u2015"
# what ends a bareword in argument mode
ARG_END = frozenset(" \t\r\n\f\v;|&(){},>\u00a0")
KEYWORDS = frozenset(
    [
        "begin",
        "break",
        "catch",
        "class",
        "continue",
        "data",
        "define",
        "do",
        "dynamicparam",
        "else",
        "elseif",
        "end",
        "exit",
        "filter",
        "finally",
        "for",
        "foreach",
        "from",
        "function",
        "if",
        "in",
        "param",
        "process",
        "return",
        "switch",
        "throw",
        "trap",
        "try",
        "until",
        "using",
        "var",
        "while",
        "workflow",
    ]
)
_DASH_OPS = frozenset(
    [
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "like",
        "notlike",
        "match",
        "notmatch",
        "contains",
        "notcontains",
        "in",
        "notin",
        "replace",
        "split",
        "join",
        "is",
        "isnot",
        "as",
        "and",
        "or",
        "xor",
        "not",
        "band",
        "bor",
        "bxor",
        "bnot",
        "shl",
        "shr",
        "f",
    ]
)
_CASED = frozenset(
    [
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "like",
        "notlike",
        "match",
        "notmatch",
        "contains",
        "notcontains",
        "in",
        "notin",
        "replace",
        "split",
    ]
)
DASH_OPS = _DASH_OPS | {p + op for op in _CASED for p in ("i", "c")}
_MULT = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4, "pb": 1024**5}


class ParseError(Exception):
    def __init__(self, message: str, start: int, end: int, fqid: str) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.fqid = fqid


@dataclass
class Tok:
    kind: str
    text: str  # the raw source text of the token
    start: int
    end: int
    value: Any = None  # numbers: the value; "str": the decoded text; "dqstr": the raw body; param: the name
    colon: bool = False  # a parameter written -Name:


class Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.n = len(src)
        self.i = 0

    # helpers -----------------------------------------------------------------------------------------
    def ch(self, k: int = 0) -> str:
        j = self.i + k
        return self.src[j] if 0 <= j < self.n else ""

    def error(self, message: str, start: int, end: int, fqid: str) -> ParseError:
        return ParseError(message, start, end, fqid)

    def skip(self, newlines: bool = False) -> None:
        """Blanks, comments and backtick line continuations (and newlines when asked)."""
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c in WS:
                self.i += 1
            elif c == "`" and self.i + 1 < self.n and src[self.i + 1] in "\r\n":
                self.i += 2 if src[self.i + 1] == "\n" or src[self.i + 2 : self.i + 3] != "\n" else 3
            elif c == "#":
                while self.i < self.n and src[self.i] != "\n":
                    self.i += 1
            elif c == "<" and src.startswith("<#", self.i):
                end = src.find("#>", self.i + 2)
                self.i = self.n if end < 0 else end + 2
            elif newlines and c == "\n":
                self.i += 1
            else:
                return

    def at_blank(self) -> bool:
        """Whether whitespace (or the end) follows immediately: member access needs no blank before it."""
        return self.i >= self.n or self.src[self.i] in WS or self.src[self.i] == "\n"

    def tok(self, kind: str, start: int, value: Any = None) -> Tok:
        return Tok(kind, self.src[start : self.i], start, self.i, value)

    # tokens ------------------------------------------------------------------------------------------
    def token(self, mode: str) -> Tok:
        self.skip()
        start = self.i
        if self.i >= self.n:
            return Tok("eof", "", self.n, self.n)
        src = self.src
        c = src[self.i]
        two = src[self.i : self.i + 2]
        if c == "\n":
            self.i += 1
            return self.tok("newline", start)
        if c == ";":
            self.i += 1
            return self.tok("semi", start)
        if c == "|":
            if two == "||":
                raise self.error(
                    "The token '||' is not a valid statement separator in this version.",
                    start,
                    start + 2,
                    "InvalidEndOfLine",
                )
            self.i += 1
            return self.tok("pipe", start)
        if c == "&":
            if two == "&&":
                raise self.error(
                    "The token '&&' is not a valid statement separator in this version.",
                    start,
                    start + 2,
                    "InvalidEndOfLine",
                )
            self.i += 1
            return self.tok("amp", start)
        simple = {"(": "lparen", ")": "rparen", "{": "lcurly", "}": "rcurly", ",": "comma"}
        if c in simple:
            self.i += 1
            return self.tok(simple[c], start)
        if two in ("$(", "@(", "@{"):
            self.i += 2
            return self.tok({"$(": "dollarparen", "@(": "atparen", "@{": "athash"}[two], start)
        if two in ('@"', "@'"):
            return self.here_string(start)
        if c == "@" and (self.ch(1).isalnum() or self.ch(1) == "_"):
            self.i += 1
            while self.i < self.n and (src[self.i].isalnum() or src[self.i] == "_"):
                self.i += 1
            return self.tok("splat", start, src[start + 1 : self.i])
        if c == "$":
            return self.variable(start)
        if c == "'" or c in "\u2018\u2019\u201a\u201b":
            return self.single_quoted(start)
        if c == '"' or c in "\u201c\u201d\u201e":
            return self.double_quoted(start)
        redir = self.redirection()
        if redir is not None:
            return redir
        if mode == "arg":
            return self.arg_token(start)
        return self.expr_token(start)

    def redirection(self) -> Tok | None:
        src, start = self.src, self.i
        for op in ("2>&1", "1>&2", "*>&1", "3>&1", "4>&1", "5>&1", "6>&1"):
            if src.startswith(op, start):
                self.i += len(op)
                return self.tok("redir", start, op)
        for op in (
            "*>>",
            "*>",
            "1>>",
            "2>>",
            "3>>",
            "4>>",
            "5>>",
            "6>>",
            "1>",
            "2>",
            "3>",
            "4>",
            "5>",
            "6>",
            ">>",
            ">",
        ):
            if src.startswith(op, start):
                self.i += len(op)
                return self.tok("redir", start, op)
        if src.startswith("<", start) and not src.startswith("<#", start):
            raise self.error(
                "The '<' operator is reserved for future use.", start, start + 1, "RedirectionNotSupported"
            )
        return None

    def expr_token(self, start: int) -> Tok:
        src = self.src
        c = src[self.i]
        two = src[self.i : self.i + 2]
        if c == "[" or c == "]":
            self.i += 1
            return self.tok("lbracket" if c == "[" else "rbracket", start)
        if c.isdigit() or (c == "." and self.ch(1).isdigit()):
            num = self.number()
            if num is not None:
                return num
        if two == "..":
            self.i += 2
            return self.tok("op", start, "..")
        if two == "::":
            self.i += 2
            return self.tok("dcolon", start)
        if c == ".":
            self.i += 1
            return self.tok("dot", start)
        if c in DASHES:
            nxt = self.ch(1)
            if nxt.isalpha():
                j = self.i + 1
                while j < self.n and (src[j].isalnum() or src[j] in "_-?"):
                    j += 1
                word = src[self.i + 1 : j].lower()
                self.i = j
                if word in DASH_OPS:
                    return self.tok("op", start, "-" + word)
                return self.tok("generic", start, src[start:j])
            if nxt == "-":
                self.i += 2
                return self.tok("incdec", start, "--")
            if nxt == "=":
                self.i += 2
                return self.tok("assign", start, "-=")
            self.i += 1
            return self.tok("op", start, "-")
        if c == "+":
            if two == "++":
                self.i += 2
                return self.tok("incdec", start, "++")
            if two == "+=":
                self.i += 2
                return self.tok("assign", start, "+=")
            self.i += 1
            return self.tok("op", start, "+")
        if c in "*/%":
            if self.ch(1) == "=":
                self.i += 2
                return self.tok("assign", start, c + "=")
            if c == "/" and (self.ch(1).isalpha() or self.ch(1) in "/?"):
                return self.generic(start)
            self.i += 1
            return self.tok("op", start, c)
        if c == "=":
            self.i += 1
            return self.tok("assign", start, "=")
        if c == "!":
            self.i += 1
            return self.tok("op", start, "!")
        if c.isalpha() or c == "_":
            j = self.i
            while j < self.n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            self.i = j
            return self.tok("ident", start, src[start:j])
        return self.generic(start)

    def number(self) -> Tok | None:
        """A number literal ending at a delimiter, else None (then it is part of a bareword)."""
        src, start = self.src, self.i
        j = start
        value: int | float
        if src.startswith(("0x", "0X"), j):
            k = j + 2
            while k < self.n and src[k] in "0123456789abcdefABCDEF":
                k += 1
            if k == j + 2:
                return None
            value = int(src[j + 2 : k], 16)
            j = k
        else:
            k = j
            while k < self.n and "0" <= src[k] <= "9":
                k += 1
            is_float = False
            if k + 1 < self.n and src[k] == "." and "0" <= src[k + 1] <= "9":
                k += 1
                while k < self.n and "0" <= src[k] <= "9":
                    k += 1
                is_float = True
            if k < self.n and src[k] in "eE":
                m = k + 1
                if m < self.n and src[m] in "+-":
                    m += 1
                if m < self.n and "0" <= src[m] <= "9":
                    while m < self.n and "0" <= src[m] <= "9":
                        m += 1
                    k = m
                    is_float = True
            text = src[j:k]
            if not text or text == ".":
                return None
            value = float(text) if is_float else int(text)
            j = k
        if (
            j < self.n
            and src[j] in "lLdD"
            and not (j + 1 < self.n and (src[j + 1].isalnum() or src[j + 1] == "_"))
        ):
            j += 1
        suffix = src[j : j + 2].lower()
        if suffix in _MULT and not (j + 2 < self.n and (src[j + 2].isalnum() or src[j + 2] == "_")):
            value = value * _MULT[suffix]
            j += 2
        if j < self.n and (src[j].isalnum() or src[j] == "_"):
            return None
        if (
            isinstance(value, float)
            and value.is_integer()
            and abs(value) < 2**63
            and "." not in src[start:j]
            and ("e" not in src[start:j].lower())
        ):
            value = int(value)
        self.i = j
        return self.tok("num", start, value)

    def arg_token(self, start: int) -> Tok:
        src = self.src
        c = src[self.i]
        if c in DASHES and (self.ch(1).isalpha() or self.ch(1) in "_?"):
            j = self.i + 1
            while j < self.n and src[j] not in ARG_END and src[j] not in ":\"'" and src[j] != "$":
                j += 1
            name = src[self.i + 1 : j]
            colon = j < self.n and src[j] == ":"
            self.i = j + (1 if colon else 0)
            t = self.tok("param", start, name)
            t.colon = colon
            return t
        if c.isdigit() or (
            c in DASHES + "." and (self.ch(1).isdigit() or (self.ch(1) == "." and self.ch(2).isdigit()))
        ):
            neg = c in DASHES
            if neg:
                self.i += 1
            num = self.number()
            if num is not None and (self.i >= self.n or src[self.i] in ARG_END):
                if neg:
                    num.value = -num.value
                    num.start = start
                    num.text = src[start : self.i]
                return num
            self.i = start
        return self.generic(start)

    def generic(self, start: int) -> Tok:
        """A bareword: up to a blank or a delimiter; quotes and ``$(...)`` inside it are part of it."""
        src = self.src
        j = self.i
        while j < self.n:
            c = src[j]
            if c in ARG_END:
                break
            if c == "`" and j + 1 < self.n:
                j += 2
                continue
            if c in "'\"":
                j = self.skip_string(j)
                continue
            if c == "$" and j + 1 < self.n and src[j + 1] == "(":
                j = self.skip_parens(j + 1)
                continue
            if c == "$" and j + 1 < self.n and src[j + 1] == "{":
                end = src.find("}", j)
                j = self.n if end < 0 else end + 1
                continue
            j += 1
        self.i = max(j, start + 1)
        return self.tok("generic", start, src[start : self.i])

    # variables and strings ---------------------------------------------------------------------------
    def variable(self, start: int) -> Tok:
        src = self.src
        j = self.i + 1
        if j < self.n and src[j] == "{":
            k = j + 1
            name: list[str] = []
            while k < self.n and src[k] != "}":
                if src[k] == "`" and k + 1 < self.n:
                    name.append(src[k + 1])
                    k += 2
                    continue
                name.append(src[k])
                k += 1
            if k >= self.n:
                raise self.error(
                    "Missing '}' in a variable reference. Specify a variable name.",
                    start,
                    self.n,
                    "IncompleteDollarVariableReference",
                )
            self.i = k + 1
            return self.tok("var", start, "".join(name))
        if j < self.n and src[j] in "$?^":
            self.i = j + 1
            return self.tok("var", start, src[j])
        k = j
        while k < self.n and (src[k].isalnum() or src[k] == "_"):
            k += 1
        if k == j:
            self.i = j
            return self.tok("generic", start, "$")
        if k < self.n and src[k] == ":" and k + 1 < self.n and (src[k + 1].isalnum() or src[k + 1] == "_"):
            m = k + 1
            while m < self.n and (src[m].isalnum() or src[m] == "_"):
                m += 1
            k = m
        self.i = k
        return self.tok("var", start, src[j:k])

    def single_quoted(self, start: int) -> Tok:
        src = self.src
        j = self.i + 1
        out: list[str] = []
        while j < self.n:
            c = src[j]
            if c == "'" or c in "\u2018\u2019\u201a\u201b":
                if j + 1 < self.n and (src[j + 1] == "'" or src[j + 1] in "\u2018\u2019\u201a\u201b"):
                    out.append("'")
                    j += 2
                    continue
                self.i = j + 1
                return self.tok("str", start, "".join(out))
            out.append(c)
            j += 1
        raise self.error(
            "The string is missing the terminator: '.", start, self.n, "TerminatorExpectedAtEndOfString"
        )

    def double_quoted(self, start: int) -> Tok:
        end = self.skip_string(start)
        if end > self.n:
            raise self.error(
                'The string is missing the terminator: ".', start, self.n, "TerminatorExpectedAtEndOfString"
            )
        self.i = end
        return self.tok("dqstr", start, (start + 1, end - 1))

    def skip_string(self, j: int) -> int:
        """Index after the string starting at j; n+1 when it never ends."""
        src = self.src
        quote = src[j]
        single = quote == "'" or quote in "\u2018\u2019\u201a\u201b"
        closers = "'\u2018\u2019\u201a\u201b" if single else '"\u201c\u201d\u201e'
        k = j + 1
        while k < self.n:
            c = src[k]
            if c in closers:
                if k + 1 < self.n and src[k + 1] in closers:
                    k += 2
                    continue
                return k + 1
            if not single:
                if c == "`":
                    k += 2
                    continue
                if c == "$" and k + 1 < self.n and src[k + 1] == "(":
                    k = self.skip_parens(k + 1)
                    continue
            k += 1
        return self.n + 1

    def skip_parens(self, j: int) -> int:
        """Index after the ``)`` matching the ``(`` at j (strings and comments inside respected)."""
        src = self.src
        depth = 0
        k = j
        while k < self.n:
            c = src[k]
            if c in "'\"":
                k = self.skip_string(k)
                continue
            if c == "`":
                k += 2
                continue
            if c == "#" and (k == 0 or src[k - 1] in WS + "\n;("):
                while k < self.n and src[k] != "\n":
                    k += 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return k + 1
            k += 1
        return self.n

    def here_string(self, start: int) -> Tok:
        src = self.src
        quote = src[self.i + 1]
        j = self.i + 2
        while j < self.n and src[j] in " \t\r":
            j += 1
        if j >= self.n or src[j] != "\n":
            raise self.error(
                "No characters are allowed after a here-string header but before the end of the line.",
                start,
                j,
                "UnexpectedCharactersAfterHereStringHeader",
            )
        body_start = j + 1
        k = body_start
        while True:
            if src.startswith(quote + "@", k):
                break
            nl = src.find("\n", k)
            if nl < 0:
                raise self.error(
                    f"The string is missing the terminator: {quote}@.",
                    start,
                    self.n,
                    "TerminatorExpectedAtEndOfString",
                )
            k = nl + 1
        body_end = max(body_start, k - 1)
        if body_end > body_start and src[body_end - 1] == "\r":
            body_end -= 1
        self.i = k + 2
        if quote == "'":
            return self.tok("str", start, src[body_start:body_end])
        return self.tok("dqstr", start, (body_start, body_end))
