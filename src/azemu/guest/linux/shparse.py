"""Bash's grammar over :mod:`shscan` tokens, building :mod:`shast` trees.

``Parser(src).next_command()`` returns one complete top-level command at a time (a line, or several lines
for a compound command), so the interpreter can run each before the next one is read -- bash's order.
Syntax errors raise :class:`~azemu.guest.linux.shscan.ParseError` with bash's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from azemu.guest.linux.shast import (
    AndOr,
    Arith,
    ArithFor,
    Body,
    Case,
    CaseItem,
    Command,
    Compound,
    Cond,
    CondAndOr,
    CondBinary,
    CondNode,
    CondNot,
    CondUnary,
    CondWord,
    For,
    FuncDef,
    Group,
    If,
    Pipeline,
    Redirect,
    Simple,
    Subshell,
    While,
)
from azemu.guest.linux.shscan import REDIRECT_OPS, ParseError, Scanner, Tok, unquote_delimiter

__all__ = ["ParseError", "Parser", "is_assignment", "parse"]

TERMINATORS = frozenset(("then", "elif", "else", "fi", "do", "done", "esac", "}"))
COND_UNARY = frozenset(
    [
        "-a",
        "-b",
        "-c",
        "-d",
        "-e",
        "-f",
        "-g",
        "-h",
        "-k",
        "-p",
        "-r",
        "-s",
        "-t",
        "-u",
        "-w",
        "-x",
        "-O",
        "-G",
        "-L",
        "-S",
        "-N",
        "-z",
        "-n",
        "-o",
        "-v",
        "-R",
    ]
)
COND_BINARY = frozenset(
    ["==", "=", "!=", "=~", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-ef", "-nt", "-ot"]
)
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
MAX_NESTING = 100
C = TypeVar("C", bound=Compound)


def is_assignment(word: str) -> bool:
    return _ASSIGN.match(word) is not None


class Parser:
    def __init__(self, src: str) -> None:
        self.sc = Scanner(src, comsub=self._comsub)
        self.la: Tok | None = None
        self.cond_la: Tok | None = None
        self.depth = 0

    # tokens ------------------------------------------------------------------------------------------
    def peek(self) -> Tok:
        if self.la is None:
            self.la = self.sc.token()
        return self.la

    def take(self) -> Tok:
        t = self.peek()
        self.la = None
        return t

    def unexpected(self, t: Tok) -> ParseError:
        if t.kind == "eof":
            return ParseError("syntax error: unexpected end of file", t.line)
        text = "newline" if t.kind == "newline" else ("((" if t.kind == "dparen" else t.text)
        return ParseError(f"syntax error near unexpected token `{text}'", t.line, self.sc.line_text(t.line))

    def is_word(self, t: Tok, *words: str) -> bool:
        return t.kind == "word" and t.text in words

    def is_op(self, t: Tok, *ops: str) -> bool:
        return t.kind == "op" and t.text in ops

    def expect_word(self, word: str) -> Tok:
        t = self.peek()
        if not self.is_word(t, word):
            raise self.unexpected(t)
        return self.take()

    def expect_op(self, op: str) -> Tok:
        t = self.peek()
        if not self.is_op(t, op):
            raise self.unexpected(t)
        return self.take()

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.take()

    # lists -------------------------------------------------------------------------------------------
    def next_command(self) -> Body | None:
        """The next complete command of the script, or None at its end."""
        self.skip_newlines()
        if self.peek().kind == "eof":
            return None
        body: Body = []
        while True:
            body.append(self.and_or())
            t = self.peek()
            if self.is_op(t, ";", "&"):
                body[-1].background = self.take().text == "&"
                t = self.peek()
                if t.kind in ("newline", "eof"):
                    break
                continue
            break
        t = self.peek()
        if t.kind == "newline":
            self.take()
        elif t.kind != "eof":
            raise self.unexpected(t)
        return body

    def compound_list(
        self, stop_words: tuple[str, ...] = (), stop_ops: tuple[str, ...] = (), allow_empty: bool = False
    ) -> Body:
        body: Body = []
        self.skip_newlines()
        while True:
            t = self.peek()
            if t.kind == "eof":
                raise self.unexpected(t)
            if self.is_word(t, *stop_words) or self.is_op(t, *stop_ops):
                if not body and not allow_empty:
                    raise self.unexpected(t)
                return body
            body.append(self.and_or())
            t = self.peek()
            if self.is_op(t, ";", "&"):
                body[-1].background = self.take().text == "&"
                self.skip_newlines()
            elif t.kind == "newline":
                self.skip_newlines()
            elif not (self.is_word(t, *stop_words) or self.is_op(t, *stop_ops)):
                raise self.unexpected(t)

    def and_or(self) -> AndOr:
        node = AndOr(self.pipeline())
        while self.is_op(self.peek(), "&&", "||"):
            op = self.take().text
            self.skip_newlines()
            node.rest.append((op, self.pipeline()))
        return node

    def pipeline(self) -> Pipeline:
        t = self.peek()
        line = t.line
        negate = False
        while self.is_word(t, "!", "time"):
            if t.text == "!":
                negate = not negate
            self.take()
            t = self.peek()
        commands = [self.command()]
        while self.is_op(self.peek(), "|", "|&"):
            self.take()
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(commands, negate, line)

    # commands ----------------------------------------------------------------------------------------
    def command(self) -> Command:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise ParseError("syntax error: nesting too deep for this emulator", self.peek().line)
            return self._command()
        finally:
            self.depth -= 1

    def _command(self) -> Command:
        t = self.peek()
        if t.kind == "dparen":
            self.take()
            return self.redirects(Arith(t.text, line=t.line))
        if self.is_op(t, "("):
            self.take()
            body = self.compound_list(stop_ops=(")",))
            self.expect_op(")")
            return self.redirects(Subshell(body, line=t.line))
        if t.kind == "word":
            table: dict[str, Callable[[], Compound]] = {
                "{": self.group,
                "if": self.if_,
                "for": self.for_,
                "while": self.while_,
                "until": self.while_,
                "case": self.case,
                "[[": self.cond,
            }
            keyword = table.get(t.text)
            if keyword is not None:
                return self.redirects(keyword())
            if t.text == "function":
                return self.function()
            if t.text in TERMINATORS:
                raise self.unexpected(t)
        if t.kind == "word" or (t.kind == "op" and t.text in REDIRECT_OPS):
            return self.simple()
        raise self.unexpected(t)

    def simple(self) -> Command:
        cmd = Simple(line=self.peek().line)
        while True:
            t = self.peek()
            if t.kind == "word":
                self.take()
                if not cmd.words and is_assignment(t.text):
                    cmd.assigns.append(t.text)
                    continue
                cmd.words.append(t.text)
                if (
                    len(cmd.words) == 1
                    and not cmd.assigns
                    and not cmd.redirects
                    and self.is_op(self.peek(), "(")
                ):
                    return self.function_body(t.text, t.line)
            elif t.kind == "op" and t.text in REDIRECT_OPS:
                cmd.redirects.append(self.redirect())
            else:
                break
        if not (cmd.words or cmd.assigns or cmd.redirects):
            raise self.unexpected(self.peek())
        return cmd

    def redirect(self) -> Redirect:
        op = self.take()
        target = self.peek()
        if target.kind != "word":
            raise self.unexpected(target)
        self.take()
        if op.text in ("<<", "<<-"):
            delim, quoted = unquote_delimiter(target.text)
            r = Redirect(op.text, op.fd, "", quoted)
            self.sc.heredocs.append((r, delim, op.text == "<<-", op.line))
            return r
        return Redirect(op.text, op.fd, target.text)

    def redirects(self, node: C) -> C:
        while (t := self.peek()).kind == "op" and t.text in REDIRECT_OPS:
            node.redirects.append(self.redirect())
        return node

    def group(self) -> Group:
        line = self.take().line
        body = self.compound_list(stop_words=("}",))
        self.expect_word("}")
        return Group(body, line=line)

    def if_(self) -> If:
        line = self.take().line
        branches: list[tuple[Body, Body]] = []
        cond = self.compound_list(stop_words=("then",))
        self.expect_word("then")
        branches.append((cond, self.compound_list(stop_words=("elif", "else", "fi"))))
        orelse: Body | None = None
        while True:
            t = self.take()
            if t.text == "elif":
                cond = self.compound_list(stop_words=("then",))
                self.expect_word("then")
                branches.append((cond, self.compound_list(stop_words=("elif", "else", "fi"))))
            elif t.text == "else":
                orelse = self.compound_list(stop_words=("fi",))
                self.expect_word("fi")
                break
            else:
                break
        return If(branches, orelse, line=line)

    def loop_body(self) -> Body:
        t = self.peek()
        if self.is_word(t, "{"):
            self.take()
            body = self.compound_list(stop_words=("}",))
            self.expect_word("}")
            return body
        self.expect_word("do")
        body = self.compound_list(stop_words=("done",))
        self.expect_word("done")
        return body

    def for_(self) -> For | ArithFor:
        line = self.take().line
        t = self.peek()
        if t.kind == "dparen":
            self.take()
            parts = _split_arith_for(t.text)
            if parts is None:
                raise ParseError("syntax error: arithmetic expression required", t.line)
            if self.is_op(self.peek(), ";"):
                self.take()
            self.skip_newlines()
            return ArithFor(parts[0], parts[1], parts[2], self.loop_body(), line=line)
        if t.kind != "word":
            raise self.unexpected(t)
        var = self.take().text
        words: list[str] | None = None
        self.skip_newlines()
        t = self.peek()
        if self.is_word(t, "in"):
            self.take()
            words = []
            while (t := self.peek()).kind == "word":
                words.append(self.take().text)
            if not (self.is_op(t, ";") or t.kind == "newline"):
                raise self.unexpected(t)
            self.take()
        elif self.is_op(t, ";"):
            self.take()
        self.skip_newlines()
        return For(var, words, self.loop_body(), line=line)

    def while_(self) -> While:
        t = self.take()
        cond = self.compound_list(stop_words=("do",))
        self.expect_word("do")
        body = self.compound_list(stop_words=("done",))
        self.expect_word("done")
        return While(t.text == "until", cond, body, line=t.line)

    def case(self) -> Case:
        line = self.take().line
        t = self.peek()
        if t.kind != "word":
            raise self.unexpected(t)
        word = self.take().text
        self.skip_newlines()
        self.expect_word("in")
        self.skip_newlines()
        items: list[CaseItem] = []
        while True:
            t = self.peek()
            if self.is_word(t, "esac"):
                self.take()
                break
            if self.is_op(t, "("):
                self.take()
                t = self.peek()
            if t.kind != "word":
                raise self.unexpected(t)
            patterns = [self.take().text]
            while self.is_op(self.peek(), "|"):
                self.take()
                t = self.peek()
                if t.kind != "word":
                    raise self.unexpected(t)
                patterns.append(self.take().text)
            self.expect_op(")")
            body = self.compound_list(stop_words=("esac",), stop_ops=(";;", ";&", ";;&"), allow_empty=True)
            t = self.peek()
            term = ";;"
            if self.is_op(t, ";;", ";&", ";;&"):
                term = self.take().text
                self.skip_newlines()
            items.append(CaseItem(patterns, body, term))
        return Case(word, items, line=line)

    def function(self) -> Command:
        self.take()
        t = self.peek()
        if t.kind != "word":
            raise self.unexpected(t)
        name = self.take().text
        return self.function_body(name, t.line, optional_parens=True)

    def function_body(self, name: str, line: int, optional_parens: bool = False) -> FuncDef:
        if self.is_op(self.peek(), "("):
            self.take()
            self.expect_op(")")
        elif not optional_parens:
            raise self.unexpected(self.peek())
        self.skip_newlines()
        t = self.peek()
        if not (
            t.kind == "dparen"
            or self.is_op(t, "(")
            or self.is_word(t, "{", "if", "for", "while", "until", "case", "[[")
        ):
            raise self.unexpected(t)
        body = self.command()
        assert not isinstance(body, Simple | FuncDef)
        return FuncDef(name, body, line)

    # [[ ... ]] -----------------------------------------------------------------------------------------
    def cond(self) -> Cond:
        line = self.take().line
        self.cond_la = None
        expr = self.cond_or()
        t = self.cond_peek()
        if not self.is_word(t, "]]"):
            raise self.cond_error(t)
        self.cond_take()
        return Cond(expr, line=line)

    def cond_peek(self) -> Tok:
        if self.cond_la is None:
            self.cond_la = self.sc.cond_token()
        return self.cond_la

    def cond_take(self) -> Tok:
        t = self.cond_peek()
        self.cond_la = None
        return t

    def cond_error(self, t: Tok, message: str = "syntax error in conditional expression") -> ParseError:
        if t.kind == "eof":
            return ParseError("unexpected EOF while looking for `]]'", t.line)
        return ParseError(message, t.line, keep_status=True)

    def cond_skip_newlines(self) -> None:
        while self.cond_peek().kind == "newline":
            self.cond_take()

    def cond_or(self) -> CondNode:
        left = self.cond_and()
        while self.is_op(self.cond_peek(), "||"):
            self.cond_take()
            self.cond_skip_newlines()
            left = CondAndOr("||", left, self.cond_and())
        return left

    def cond_and(self) -> CondNode:
        left = self.cond_term()
        while self.is_op(self.cond_peek(), "&&"):
            self.cond_take()
            self.cond_skip_newlines()
            left = CondAndOr("&&", left, self.cond_term())
        return left

    def cond_term(self) -> CondNode:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.cond_error(self.cond_peek())
            return self._cond_term()
        finally:
            self.depth -= 1

    def _cond_term(self) -> CondNode:
        t = self.cond_take()
        if t.kind in ("eof", "newline") or self.is_word(t, "]]") or (t.kind == "op" and t.text != "("):
            raise self.cond_error(t)
        if self.is_word(t, "!"):
            return CondNot(self.cond_term())
        if self.is_op(t, "("):
            self.cond_skip_newlines()
            inner = self.cond_or()
            close = self.cond_take()
            if not self.is_op(close, ")"):
                if close.kind == "eof":
                    raise self.cond_error(close)
                raise ParseError(
                    f"unexpected token `{close.text}', expected `)'", close.line, keep_status=True
                )
            return inner
        nxt = self.cond_peek()
        if t.text in COND_UNARY and nxt.kind == "word" and nxt.text != "]]":
            self.cond_take()
            return CondUnary(t.text, nxt.text)
        if nxt.kind == "word" and nxt.text != "]]":
            op = self.cond_take()
            if op.text not in COND_BINARY:
                raise ParseError("conditional binary operator expected", op.line, keep_status=True)
            right = self.sc.cond_regex() if op.text == "=~" else self.cond_take()
            if right.kind != "word" or right.text == "]]":
                raise self.cond_error(right)
            return CondBinary(op.text, t.text, right.text)
        return CondWord(t.text)

    # $( ... ) ----------------------------------------------------------------------------------------
    def _comsub(self, sc: Scanner) -> None:
        """Parse a command substitution's body in place (bash does), leaving the scanner after ``)``."""
        start_line = sc.line
        sub = Parser.__new__(Parser)
        sub.sc, sub.la, sub.cond_la, sub.depth = sc, None, None, self.depth + 1
        if sub.depth > MAX_NESTING:
            raise ParseError("syntax error: nesting too deep for this emulator", start_line)
        try:
            sub.skip_newlines()
            if not sub.is_op(sub.peek(), ")"):
                sub.compound_list(stop_ops=(")",))
            sub.expect_op(")")
        except ParseError as e:
            if e.message == "syntax error: unexpected end of file":
                raise sc.eof_error(")", e.line) from None
            raise
        assert sub.la is None


def _split_arith_for(text: str) -> tuple[str, str, str] | None:
    parts = text.split(";")
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def parse(src: str) -> list[Body]:
    """The whole script's commands (for tests and tools; the interpreter reads them one at a time)."""
    p = Parser(src)
    out: list[Body] = []
    while (cmd := p.next_command()) is not None:
        out.append(cmd)
    return out
