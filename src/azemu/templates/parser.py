"""Template strings and expressions: which strings are expressions, and their syntax tree.

ARM rule (docs, "Template syntax - Escape characters"): a JSON string that starts with ``[`` and ends with ``]``
is an expression, evaluated; one that starts with ``[[`` is the literal text with the first bracket removed
(``"[[test value]"`` is ``[test value]``); any other string, including ``"[test] value"``, is literal text.

Grammar of an expression (the text inside the brackets)::

    root     := call accessor* EndOfData          (the top level must be a function call)
    call     := Identifier ['.' Identifier] '(' [arg (',' arg)*] ')'
    arg      := (String | Integer | Float) | call accessor*
    accessor := '.' Identifier | '[' arg ']'

``true()``, ``false()`` and ``null()`` are functions, not keywords. A parse error reads like ARM's:
``Unable to parse language expression '<text>': expected token 'Identifier' and actual 'EndOfData'.``
Parsed trees are cached: templates repeat the same expression in every copy-loop instance.
"""

from __future__ import annotations

from functools import lru_cache

from . import lexer
from .errors import ExpressionError
from .lexer import Token
from .nodes import Call, Index, Literal, Member, Node


def is_expression(s: str) -> bool:
    """Whether a template string is an expression (``[...]`` but not the ``[[...]`` escape)."""
    return len(s) >= 2 and s[0] == "[" and s[-1] == "]" and s[1] != "["


def unescape_literal(s: str) -> str:
    """The text of a literal template string: ``[[x]`` is ``[x]``; anything else is itself."""
    if len(s) >= 2 and s[0] == "[" and s[1] == "[" and s[-1] == "]":
        return s[1:]
    return s


def escape_literal(text: str) -> str:
    """The template string that denotes ``text`` literally (inverse of :func:`unescape_literal`)."""
    if text.startswith("[") and text.endswith("]"):
        return "[" + text
    return text


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = lexer.tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self, kind: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.unexpected(kind, tok)
        self.i += 1
        return tok

    def unexpected(self, expected: str, tok: Token) -> ExpressionError:
        # Real: "Unable to parse language expression '': expected token 'Identifier' and actual 'EndOfData'."
        return ExpressionError(
            f"Unable to parse language expression '{self.text}': expected token '{expected}' and actual '{tok.kind}'."
        )

    def root(self) -> Node:
        node = self.accessors(self.call())
        self.take(lexer.EOD)
        return node

    def call(self) -> Call:
        ident = self.take(lexer.IDENTIFIER)
        namespace: str | None = None
        name = str(ident.value)
        if (
            self.peek().kind == lexer.DOT
            and self.peek(1).kind == lexer.IDENTIFIER
            and self.peek(2).kind == lexer.LPAREN
        ):
            self.i += 1
            namespace, name = name, str(self.take(lexer.IDENTIFIER).value)
        self.take(lexer.LPAREN)
        args: list[Node] = []
        if self.peek().kind != lexer.RPAREN:
            while True:
                args.append(self.arg())
                if self.peek().kind == lexer.COMMA:
                    self.i += 1
                    continue
                break
        self.take(lexer.RPAREN)
        return Call(name, tuple(args), ident.pos, namespace)

    def arg(self) -> Node:
        tok = self.peek()
        if tok.kind in (lexer.STRING, lexer.INTEGER, lexer.FLOAT):
            self.i += 1
            return Literal(tok.value, tok.pos)
        if tok.kind == lexer.IDENTIFIER:
            return self.accessors(self.call())
        raise self.unexpected(lexer.IDENTIFIER, tok)

    def accessors(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind == lexer.DOT:
                self.i += 1
                name = self.take(lexer.IDENTIFIER)
                node = Member(node, str(name.value), name.pos)
            elif tok.kind == lexer.LBRACKET:
                self.i += 1
                index = self.arg()
                self.take(lexer.RBRACKET)
                node = Index(node, index, tok.pos)
            else:
                return node


@lru_cache(maxsize=8192)
def parse_expression(text: str) -> Node:
    """Parse the inside of an expression string (without the brackets)."""
    return _Parser(text).root()


def parse_template_string(s: str) -> Node | str:
    """A template string as either its expression tree or its literal text."""
    if is_expression(s):
        return parse_expression(s[1:-1])
    return unescape_literal(s)
