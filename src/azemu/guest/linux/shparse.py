"""Tokenizer and parser for the subset of bash that Run Command scripts use.

Words keep their raw text (quotes included); expansion happens when the command runs, so ``$?`` and
exported variables see the state of the moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REDIRECT_OPS = ("2>&1", "1>&2", ">&2", "&>>", "&>", "2>>", "2>", "1>>", "1>", ">>", ">", "<")


class ParseError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Token:
    kind: str  # "word" | "op"
    text: str
    line: int


@dataclass
class Command:
    words: list[str] = field(default_factory=list)
    assigns: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (op, raw target word; "" for 2>&1)
    line: int = 1


@dataclass
class If:
    branches: list[tuple[list[AndOr], list[AndOr]]]  # (condition, body) for if and each elif
    orelse: list[AndOr]
    line: int = 1


@dataclass
class Loop:
    kind: str  # "for" | "while" | "until"
    var: str  # for: the loop variable
    words: list[str]  # for: the raw words to iterate over
    cond: list[AndOr]  # while/until
    body: list[AndOr]
    line: int = 1


@dataclass
class Pipeline:
    commands: list[Command | If | Loop]
    negate: bool = False


@dataclass
class AndOr:
    items: list[tuple[str, Pipeline]]  # (";" for the first | "&&" | "||", pipeline)


RESERVED_END = {"then", "elif", "else", "fi", "do", "done"}


def _read_subst(src: str, i: int) -> int:
    """Index just past the ``)`` closing a ``$(`` that opens at ``src[i-2:i]``."""
    depth, quote = 1, ""
    while i < len(src):
        c = src[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ParseError("unexpected EOF while looking for matching `)'", 0)


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    pending: list[tuple[Token, str, bool]] = []  # here-documents whose bodies start at the next newline
    i, line, n = 0, 1, len(src)
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] == "\n":
            i, line = i + 2, line + 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "\n":
            tokens.append(Token("op", "\n", line))
            i, line = i + 1, line + 1
            for tok, delim, strip_tabs in pending:
                body: list[str] = []
                while i < n:
                    end = src.find("\n", i)
                    end = n if end < 0 else end
                    text = src[i:end]
                    i, line = end + 1, line + 1
                    if (text.lstrip("\t") if strip_tabs else text) == delim:
                        break
                    body.append((text.lstrip("\t") if strip_tabs else text) + "\n")
                # bash only warns when the delimiter never comes; the body runs to the end of the script
                tok.text = "".join(body)
            pending.clear()
            continue
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        if src.startswith("<<", i) and not src.startswith("<<<", i):
            strip_tabs = src.startswith("<<-", i)
            i += 3 if strip_tabs else 2
            while i < n and src[i] in " \t":
                i += 1
            m = re.match(r"""'([^']*)'|"([^"]*)"|\\?([^\s;&|<>]+)""", src[i:])
            if not m:
                raise ParseError("syntax error near unexpected token `newline'", line)
            delim = next(g for g in m.groups() if g is not None)
            quoted = m.group(3) is None or src[i] == "\\"
            i += len(m.group(0))
            tokens.append(Token("op", "<<'" if quoted else "<<", line))
            body_tok = Token("word", "", line)
            tokens.append(body_tok)
            pending.append((body_tok, delim, strip_tabs))
            continue
        op = next((o for o in ("&&", "||", ";;", ";", "|", "&") if src.startswith(o, i)), None)
        if op is not None and not src.startswith("&>", i):
            tokens.append(Token("op", op, line))
            i += len(op)
            continue
        red = next((r for r in REDIRECT_OPS if src.startswith(r, i)), None)
        if red is not None:
            tokens.append(Token("op", red, line))
            i += len(red)
            continue
        start, start_line, quote = i, line, ""
        while i < n:
            c = src[i]
            if quote:
                if c == quote:
                    quote = ""
                elif c == "\\" and quote == '"' and i + 1 < n:
                    i += 1
                elif c == "\n":
                    line += 1
                i += 1
                continue
            if c in "'\"":
                quote = c
                i += 1
            elif c == "\\" and i + 1 < n:
                i += 2
            elif c == "$" and src.startswith("$(", i):
                i = _read_subst(src, i + 2)
            elif c == "`":
                end = src.find("`", i + 1)
                if end < 0:
                    raise ParseError("unexpected EOF while looking for matching ``'", start_line)
                i = end + 1
            elif c in " \t\r\n;&|<>":
                break
            else:
                i += 1
        if quote:
            raise ParseError(f"unexpected EOF while looking for matching `{quote}'", start_line)
        word = src[start:i]
        if word.isdigit() and i < n and src[i] in "<>":
            red = next((r for r in REDIRECT_OPS if src.startswith(word + r, start)), None)
            if red is not None:
                tokens.append(Token("op", red, start_line))
                i = start + len(red)
                continue
        tokens.append(Token("word", word, start_line))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def line(self) -> int:
        t = self.peek()
        return t.line if t else (self.toks[-1].line if self.toks else 1)

    def error(self, text: str | None = None) -> ParseError:
        t = self.peek()
        if text is None:
            bad = "newline" if t is None or t.text == "\n" else t.text
            text = (
                f"syntax error near unexpected token `{bad}'" if t else "syntax error: unexpected end of file"
            )
        return ParseError(text, self.line())

    def skip_newlines(self) -> None:
        while (t := self.peek()) is not None and t.kind == "op" and t.text == "\n":
            self.i += 1

    def expect_word(self, word: str) -> None:
        t = self.peek()
        if t is None or t.kind != "word" or t.text != word:
            raise self.error()
        self.i += 1

    def parse_list(self, stops: set[str]) -> list[AndOr]:
        lists: list[AndOr] = []
        while True:
            while (t := self.peek()) is not None and t.kind == "op" and t.text in ("\n", ";", "&"):
                if t.text != "\n" and not lists:
                    raise self.error()
                self.i += 1
            t = self.peek()
            if t is None:
                if stops:
                    raise self.error("syntax error: unexpected end of file")
                return lists
            if t.kind == "word" and t.text in stops:
                return lists
            if t.kind == "word" and t.text in RESERVED_END:
                raise self.error()
            lists.append(self.parse_andor())
            t = self.peek()
            if t is not None and not (t.kind == "op" and t.text in ("\n", ";", "&")):
                raise self.error()

    def parse_andor(self) -> AndOr:
        items = [(";", self.parse_pipeline())]
        while (t := self.peek()) is not None and t.kind == "op" and t.text in ("&&", "||"):
            self.i += 1
            self.skip_newlines()
            items.append((t.text, self.parse_pipeline()))
        return AndOr(items)

    def parse_pipeline(self) -> Pipeline:
        negate = False
        t = self.peek()
        if t is not None and t.kind == "word" and t.text == "!":
            negate = True
            self.i += 1
        cmds = [self.parse_command()]
        while (t := self.peek()) is not None and t.kind == "op" and t.text == "|":
            self.i += 1
            self.skip_newlines()
            cmds.append(self.parse_command())
        return Pipeline(cmds, negate)

    def parse_command(self) -> Command | If | Loop:
        t = self.peek()
        if t is None:
            raise self.error()
        if t.kind == "word" and t.text == "if":
            return self.parse_if()
        if t.kind == "word" and t.text in ("for", "while", "until"):
            return self.parse_loop()
        cmd = Command(line=t.line)
        while (t := self.peek()) is not None:
            if t.kind == "word":
                if not cmd.words and _is_assign(t.text):
                    cmd.assigns.append(t.text)
                else:
                    cmd.words.append(t.text)
                self.i += 1
            elif t.text in ("<<", "<<'"):
                heredoc = self.toks[self.i + 1]
                cmd.redirects.append((t.text, heredoc.text))
                self.i += 2
            elif t.text in REDIRECT_OPS:
                if t.text in ("2>&1", "1>&2", ">&2"):
                    cmd.redirects.append((t.text, ""))
                    self.i += 1
                    continue
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind != "word":
                    raise self.error()
                cmd.redirects.append((t.text, nxt.text))
                self.i += 1
            else:
                break
        if not cmd.words and not cmd.assigns and not cmd.redirects:
            raise self.error()
        return cmd

    def parse_if(self) -> If:
        line = self.line()
        self.expect_word("if")
        branches = []
        cond = self.parse_list({"then"})
        self.expect_word("then")
        body = self.parse_list({"elif", "else", "fi"})
        branches.append((cond, body))
        orelse: list[AndOr] = []
        while True:
            t = self.peek()
            assert t is not None
            self.i += 1
            if t.text == "elif":
                cond = self.parse_list({"then"})
                self.expect_word("then")
                branches.append((cond, self.parse_list({"elif", "else", "fi"})))
            elif t.text == "else":
                orelse = self.parse_list({"fi"})
                self.expect_word("fi")
                break
            else:
                break
        return If(branches, orelse, line)

    def parse_loop(self) -> Loop:
        line = self.line()
        t = self.peek()
        assert t is not None
        kind = t.text
        self.i += 1
        if kind == "for":
            name = self.peek()
            if name is None or name.kind != "word":
                raise self.error()
            self.i += 1
            words: list[str] = []
            self.skip_newlines()
            if (t := self.peek()) is not None and t.kind == "word" and t.text == "in":
                self.i += 1
                while (t := self.peek()) is not None and t.kind == "word":
                    words.append(t.text)
                    self.i += 1
            else:
                words = ['"$@"']
            while (t := self.peek()) is not None and t.kind == "op" and t.text in ("\n", ";"):
                self.i += 1
            self.expect_word("do")
            body = self.parse_list({"done"})
            self.expect_word("done")
            return Loop("for", name.text, words, [], body, line)
        cond = self.parse_list({"do"})
        self.expect_word("do")
        body = self.parse_list({"done"})
        self.expect_word("done")
        return Loop(kind, "", [], cond, body, line)


def parse(src: str) -> list[AndOr]:
    return _Parser(tokenize(src)).parse_list(set())


def _is_assign(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return (
        bool(eq)
        and bool(name)
        and (name[0].isalpha() or name[0] == "_")
        and all(ch.isalnum() or ch == "_" for ch in name)
    )
