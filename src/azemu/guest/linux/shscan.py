"""Bash's lexer: operators, words (with their quotes, ``$(...)``, ``${...}``, backquotes kept raw),
``((...))``, here-document bodies, and the special token rules inside ``[[ ... ]]``.

Tokens are read on demand, so a script runs command by command and a syntax error on line 5 is only
reported after lines 1-4 ran, as bash does. Errors use bash's wording (:class:`ParseError`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from azemu.guest.linux.shast import Redirect

META = frozenset(" \t\n;&|<>()")
OPERATORS = (
    ";;&",
    "&>>",
    "<<<",
    "<<-",
    "&&",
    "||",
    ";;",
    ";&",
    "|&",
    "&>",
    "<<",
    "<>",
    "<&",
    ">>",
    ">&",
    ">|",
    ";",
    "&",
    "|",
    "(",
    ")",
    "<",
    ">",
)
REDIRECT_OPS = frozenset(("&>>", "<<<", "<<-", "&>", "<<", "<>", "<&", ">>", ">&", ">|", "<", ">"))


class ParseError(Exception):
    """A syntax error: ``bash: line N: <message>`` (and for a bad token, the line's text below it).

    ``keep_status``: bash leaves ``$?`` alone when a ``[[ ]]`` expression is malformed; the script still ends.
    """

    def __init__(self, message: str, line: int, echo: str | None = None, keep_status: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.echo = echo
        self.keep_status = keep_status


@dataclass
class Tok:
    kind: str  # word | op | newline | eof | dparen
    text: str
    line: int
    fd: int | None = None  # for redirection operators written as 2> 1>> ...


class Scanner:
    def __init__(self, src: str, comsub: Callable[[Scanner], None] | None = None) -> None:
        # bash reads a script file to its end: the last line counts as terminated
        self.src = src if src.endswith("\n") else src + "\n"
        self.n = len(self.src)
        self.i = 0
        self.line = 1
        self.heredocs: list[tuple[Redirect, str, bool, int]] = []  # (redirect, delimiter, <<-, line)
        self.warnings: list[tuple[int, str]] = []
        self.comsub = comsub  # parses a $( ... ) body with the parser, leaving self.i after the ")"
        self._lines: list[str] | None = None

    # helpers -----------------------------------------------------------------------------------------
    def line_text(self, line: int) -> str:
        if self._lines is None:
            self._lines = self.src.split("\n")
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def eof_error(self, what: str, line: int) -> ParseError:
        return ParseError(f"unexpected EOF while looking for matching `{what}'", line)

    def at(self, text: str) -> bool:
        return self.src.startswith(text, self.i)

    def skip_blanks(self, comments: bool = True) -> None:
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and self.i + 1 < self.n and src[self.i + 1] == "\n":
                self.i += 2
                self.line += 1
            elif c == "#" and comments:
                end = src.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    # tokens ------------------------------------------------------------------------------------------
    def token(self) -> Tok:
        self.skip_blanks()
        if self.i >= self.n:
            return Tok("eof", "", self.line)
        src, i = self.src, self.i
        c = src[i]
        if c == "\n":
            tok = Tok("newline", "\n", self.line)
            self.i += 1
            self.line += 1
            self.read_heredocs()
            return tok
        if src.startswith("((", i):
            body = self.arith_command()
            if body is not None:
                return body
        if "0" <= c <= "9":
            j = i
            while j < self.n and "0" <= src[j] <= "9":
                j += 1
            if j < self.n and src[j] in "<>":
                op = next(o for o in OPERATORS if src.startswith(o, j))
                self.i = j + len(op)
                return Tok("op", op, self.line, fd=int(src[i:j][-9:]))
        found = next((o for o in OPERATORS if src.startswith(o, i)), None)
        if found is not None:
            self.i += len(found)
            return Tok("op", found, self.line)
        line = self.line
        return Tok("word", self.read_word(), line)

    def arith_command(self) -> Tok | None:
        """``(( expr ))`` at a token start; None when the parentheses do not close as ``))`` (subshells)."""
        start, line = self.i, self.line
        j = self.i + 2
        depth = 0
        src = self.src
        while j < self.n:
            c = src[j]
            if c in "'\"":
                end = src.find(c, j + 1)
                if end < 0:
                    break
                j = end + 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if j + 1 < self.n and src[j + 1] == ")":
                        self.line += src.count("\n", start, j)
                        self.i = j + 2
                        return Tok("dparen", src[start + 2 : j], line)
                    return None
                depth -= 1
            j += 1
        raise ParseError("syntax error: unexpected end of file", self.line + src.count("\n", start))

    def read_heredocs(self) -> None:
        pending, self.heredocs = self.heredocs, []
        for redirect, delim, strip_tabs, started in pending:
            body: list[str] = []
            found = False
            while self.i < self.n:
                end = self.src.find("\n", self.i)
                end = self.n if end < 0 else end
                text = self.src[self.i : end]
                self.i = min(end + 1, self.n)
                self.line += 1
                if strip_tabs:
                    text = text.lstrip("\t")
                if text == delim:
                    found = True
                    break
                body.append(text + "\n")
            if not found:
                self.warnings.append(
                    (
                        self.line - 1 if body else self.line,
                        f"warning: here-document at line {started} delimited by end-of-file (wanted `{delim}')",
                    )
                )
            redirect.target = "".join(body)

    # words -------------------------------------------------------------------------------------------
    def read_word(self) -> str:
        """One word's raw text; quotes and expansions are kept, line continuations are dropped."""
        out: list[str] = []
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c in META:
                if c == "(" and _assign_prefix("".join(out)):
                    out.append(self._array_body())
                    continue
                break
            if c == "\\":
                if self.i + 1 < self.n and src[self.i + 1] == "\n":
                    self.i += 2
                    self.line += 1
                    continue
                out.append(src[self.i : self.i + 2])
                self.i += 2
                continue
            out.append(self.quoted_part())
        return "".join(out)

    def quoted_part(self) -> str:
        """One character, or one whole quoted string / expansion starting at self.i."""
        src, i = self.src, self.i
        c = src[i]
        if c == "'":
            return self._single_quoted()
        if c == '"':
            return self._double_quoted()
        if c == "`":
            return self._backquoted()
        if c == "$" and i + 1 < self.n:
            nxt = src[i + 1]
            if nxt == "(":
                return self._dollar_paren()
            if nxt == "{":
                return self._dollar_brace()
            if nxt == "'":
                start, line = i, self.line
                j = i + 2
                while j < self.n and src[j] != "'":
                    j += 2 if src[j] == "\\" else 1
                if j >= self.n:
                    raise self.eof_error("'", line)
                self.line += src.count("\n", start, j)
                self.i = j + 1
                return src[start : j + 1]
            if nxt == '"':
                self.i += 1
                return "$" + self._double_quoted()
        if c == "\n":
            self.line += 1
        self.i += 1
        return c

    def _single_quoted(self) -> str:
        start, line = self.i, self.line
        end = self.src.find("'", start + 1)
        if end < 0:
            raise self.eof_error("'", line)
        self.line += self.src.count("\n", start, end)
        self.i = end + 1
        return self.src[start : end + 1]

    def _double_quoted(self) -> str:
        start, line = self.i, self.line
        self.i += 1
        out = ['"']
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c == '"':
                self.i += 1
                out.append('"')
                return "".join(out)
            if c == "\\" and self.i + 1 < self.n:
                if src[self.i + 1] == "\n":
                    self.line += 1
                    self.i += 2
                    continue
                out.append(src[self.i : self.i + 2])
                self.i += 2
                continue
            if c == "`" or (c == "$" and self.i + 1 < self.n and src[self.i + 1] in "({"):
                out.append(self.quoted_part())
                continue
            if c == "\n":
                self.line += 1
            out.append(c)
            self.i += 1
        self.i = start
        raise self.eof_error('"', line)

    def _backquoted(self) -> str:
        start, line = self.i, self.line
        j = start + 1
        src = self.src
        while j < self.n and src[j] != "`":
            j += 2 if src[j] == "\\" else 1
        if j >= self.n:
            raise self.eof_error("`", line)
        self.line += src.count("\n", start, j)
        self.i = j + 1
        return src[start : j + 1]

    def _dollar_brace(self) -> str:
        start, line = self.i, self.line
        self.i += 2
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c == "}":
                self.i += 1
                return src[start : self.i]
            if c == "\\":
                if self.i + 1 < self.n and src[self.i + 1] == "\n":
                    self.line += 1
                self.i += 2
                continue
            if c in "'\"`" or (c == "$" and self.i + 1 < self.n and src[self.i + 1] in "({"):
                self.quoted_part()
                continue
            if c == "\n":
                self.line += 1
            self.i += 1
        raise self.eof_error("}", line)

    def _dollar_paren(self) -> str:
        start, line = self.i, self.line
        if self.src.startswith("$((", start):
            end = self.arith_end(start + 3)
            if end is not None:
                self.line += self.src.count("\n", start, end)
                self.i = end
                return self.src[start:end]
        self.i = start + 2
        if self.comsub is not None:
            self.comsub(self)
        else:
            self.i = self._balanced_end(start + 1)
            self.line += self.src.count("\n", start, self.i)
        if self.i > self.n:
            raise self.eof_error(")", line)
        return self.src[start : self.i]

    def arith_end(self, j: int) -> int | None:
        """Index after the ``))`` closing ``$((`` whose body starts at j; None if it is ``$( (...) )``."""
        depth = 0
        src = self.src
        start_line = self.line
        while j < self.n:
            c = src[j]
            if c in "'\"`":
                end = src.find(c, j + 1)
                if end < 0:
                    raise self.eof_error(c, start_line)
                j = end + 1
                continue
            if c == "\\":
                j += 2
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return j + 2 if j + 1 < self.n and src[j + 1] == ")" else None
                depth -= 1
            j += 1
        raise self.eof_error(")", start_line)

    def _balanced_end(self, open_at: int) -> int:
        """Index after the ``)`` matching the ``(`` at open_at (quotes respected)."""
        depth = 0
        j = open_at
        src = self.src
        while j < self.n:
            c = src[j]
            if c in "'\"`":
                end = src.find(c, j + 1)
                if end < 0:
                    raise self.eof_error(c, self.line)
                j = end + 1
                continue
            if c == "\\":
                j += 2
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise self.eof_error(")", self.line)

    def _array_body(self) -> str:
        """``name=( word ... )``: the words are read (and checked) like any others."""
        start, line = self.i, self.line
        self.i += 1
        while True:
            self.skip_blanks()
            if self.i >= self.n:
                raise self.eof_error(")", line)
            c = self.src[self.i]
            if c == "\n":
                self.i += 1
                self.line += 1
                continue
            if c == ")":
                self.i += 1
                return self.src[start : self.i]
            if c in META:
                bad = next((o for o in OPERATORS if self.src.startswith(o, self.i)), c)
                raise ParseError(
                    f"syntax error near unexpected token `{bad}'", self.line, self.line_text(self.line)
                )
            self.read_word()

    # [[ ... ]] -----------------------------------------------------------------------------------------
    def cond_token(self) -> Tok:
        """A token inside ``[[ ]]``, where newlines are blanks and < > are operators, not redirections."""
        while True:
            self.skip_blanks()
            if self.i < self.n and self.src[self.i] == "\n":
                self.i += 1
                self.line += 1
                continue
            break
        if self.i >= self.n:
            return Tok("eof", "", self.line)
        src, i = self.src, self.i
        c = src[i]
        for op in ("&&", "||", "(", ")"):
            if src.startswith(op, i):
                self.i += len(op)
                return Tok("op", op, self.line)
        if c in "<>":
            self.i += 1
            return Tok("word", c, self.line)
        if c in ";&|":
            self.i += 1
            return Tok("op", c, self.line)
        line = self.line
        return Tok("word", self.read_word(), line)

    def cond_regex(self) -> Tok:
        """The right side of ``=~``: parentheses and | belong to the regular expression."""
        self.skip_blanks(comments=False)
        line = self.line
        out: list[str] = []
        depth = 0
        src = self.src
        while self.i < self.n:
            c = src[self.i]
            if c in " \t\n" and depth == 0:
                break
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            if c == "\\":
                out.append(src[self.i : self.i + 2])
                self.i += 2
                continue
            out.append(self.quoted_part())
        if not out:
            return self.cond_token()
        return Tok("word", "".join(out), line)


def _assign_prefix(text: str) -> bool:
    """``name=`` or ``name+=`` (an array assignment follows)."""
    name = text[:-2] if text.endswith("+=") else text[:-1] if text.endswith("=") else ""
    return (
        bool(name) and (name[0].isalpha() or name[0] == "_") and all(ch.isalnum() or ch == "_" for ch in name)
    )


def unquote_delimiter(word: str) -> tuple[str, bool]:
    """A here-document delimiter without its quotes, and whether any quoting was present."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(word):
        c = word[i]
        if c == "\\" and i + 1 < len(word):
            out.append(word[i + 1])
            quoted = True
            i += 2
        elif c in "'\"":
            end = word.find(c, i + 1)
            end = len(word) if end < 0 else end
            out.append(word[i + 1 : end])
            quoted = True
            i = end + 1
        elif c == "$" and i + 1 < len(word) and word[i + 1] in "'\"":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), quoted
