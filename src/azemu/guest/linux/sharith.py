"""Bash arithmetic (``$(( ))``, ``(( ))``, ``let``, ``for ((;;))``): a tokenizer, a Pratt parser and an
evaluator over 64-bit signed integers, with bash's error texts.

The text handed in has already been through parameter expansion and command substitution, as in bash.
Variables are read and written through :class:`Vars`; a variable whose value is not a plain number is
itself evaluated as an expression (``a=b; b=7; echo $((a+1))`` prints 8).

Errors carry bash's wording and its "error token": the rest of the expression from where bash's lexer
stood (``1 / 0 : division by 0 (error token is "0 ")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MASK = (1 << 64) - 1
MAX_DEPTH = 64  # variables whose values are expressions, evaluated inside each other
MAX_NESTING = 200  # parentheses and operators nested inside each other


class Vars(Protocol):
    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...


class ArithError(Exception):
    """``{expr}: {message} (error token is "{token}")`` -- bash's text, without the ``bash: line N:`` prefix."""

    def __init__(self, expr: str, message: str, token: str | None) -> None:
        self.expr = expr
        self.message = message
        self.token = token
        super().__init__(self.text)

    @property
    def text(self) -> str:
        if self.token is None:
            return f"{self.expr}: {self.message}"
        return f'{self.expr}: {self.message} (error token is "{self.token}")'


def wrap(n: int) -> int:
    """Two's complement 64-bit wraparound."""
    n &= MASK
    return n - (1 << 64) if n >> 63 else n


# tokens --------------------------------------------------------------------------------------------------
_OPS = (
    "<<=",
    ">>=",
    "**",
    "++",
    "--",
    "<<",
    ">>",
    "<=",
    ">=",
    "==",
    "!=",
    "&&",
    "||",
    "*=",
    "/=",
    "%=",
    "+=",
    "-=",
    "&=",
    "^=",
    "|=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">",
    "&",
    "^",
    "|",
    "!",
    "~",
    "?",
    ":",
    "=",
    ",",
    "(",
    ")",
)
ASSIGN_OPS = ("=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=", "&=", "^=", "|=")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@_"


@dataclass
class Tok:
    kind: str  # "num" | "id" | "op" | "eof" | "bad"
    text: str
    pos: int  # where the token starts in the expression text


def _lex(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n = 0, len(src)
    while True:
        while i < n and src[i] in " \t\n\r":
            i += 1
        if i >= n:
            toks.append(Tok("eof", "", i))
            return toks
        c = src[i]
        if "0" <= c <= "9":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "#@_"):
                j += 1
            toks.append(Tok("num", src[i:j], i))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(Tok("id", src[i:j], i))
            i = j
        else:
            op = next((o for o in _OPS if src.startswith(o, i)), None)
            if op in ("++", "--") and not _incdec(toks, src, i + 2):
                op = op[0]  # bash: `5 -- 2` is 5 - -2; ++/-- only stick to a variable name
            if op is None:
                toks.append(Tok("bad", c, i))
                i += 1
            else:
                toks.append(Tok("op", op, i))
                i += len(op)


def _incdec(toks: list[Tok], src: str, after: int) -> bool:
    if toks and toks[-1].kind == "id":
        return True
    rest = src[after:].lstrip(" \t")
    return bool(rest) and (rest[0].isalpha() or rest[0] == "_")


# syntax tree ---------------------------------------------------------------------------------------------
@dataclass
class Num:
    value: int


@dataclass
class Var:
    name: str
    pos: int


@dataclass
class Unary:
    op: str
    operand: Node


@dataclass
class Incr:
    name: str
    delta: int
    prefix: bool


@dataclass
class Binary:
    op: str
    left: Node
    right: Node
    err_pos: int  # where bash's lexer stood when it checked the right operand (division by 0, ** < 0)


@dataclass
class Logical:
    op: str  # "&&" | "||"
    left: Node
    right: Node


@dataclass
class Cond:
    test: Node
    then: Node
    orelse: Node


@dataclass
class Assign:
    name: str
    op: str
    value: Node
    err_pos: int


@dataclass
class Comma:
    left: Node
    right: Node


Node = Num | Var | Unary | Incr | Binary | Logical | Cond | Assign | Comma

# binding powers (higher binds tighter)
_BINARY = {
    ",": 1,
    "||": 4,
    "&&": 5,
    "|": 6,
    "^": 7,
    "&": 8,
    "==": 9,
    "!=": 9,
    "<": 10,
    ">": 10,
    "<=": 10,
    ">=": 10,
    "<<": 11,
    ">>": 11,
    "+": 12,
    "-": 12,
    "*": 13,
    "/": 13,
    "%": 13,
    "**": 14,
}
_ASSIGN_BP = 2
_COND_BP = 3
_UNARY_BP = 15


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _lex(src)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def advance(self) -> Tok:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def lasttp(self) -> int:
        """bash's ``lasttp``: the current token's start, or the previous token's at the end of the text."""
        if self.tok.kind == "eof" and self.i > 0:
            return self.toks[self.i - 1].pos
        return self.tok.pos

    def error(self, message: str, pos: int | None = None) -> ArithError:
        at = self.lasttp() if pos is None else pos
        return ArithError(self.src.lstrip(), message, self.src[at:])

    def parse(self) -> Node | None:
        if self.tok.kind == "eof":
            return None
        node = self.expr(0)
        if self.tok.kind != "eof":
            if self.tok.kind == "bad" and self.tok.text == ".":
                raise self.error("syntax error: invalid arithmetic operator")
            raise self.error("syntax error in expression")
        return node

    def expr(self, min_bp: int) -> Node:
        self.depth += 1
        try:
            return self._expr(min_bp)
        finally:
            self.depth -= 1

    def _expr(self, min_bp: int) -> Node:
        if self.depth > MAX_NESTING:
            raise self.error("expression recursion level exceeded")
        left = self.prefix()
        while True:
            t = self.tok
            if t.kind != "op":
                return left
            op = t.text
            if op in ASSIGN_OPS:
                if min_bp > _ASSIGN_BP:
                    return left
                if not isinstance(left, Var):
                    raise self.error("attempted assignment to non-variable")
                self.advance()
                value = self.expr(_ASSIGN_BP)  # right associative
                left = Assign(left.name, op, value, t.pos)
                continue
            if op == "?":
                if min_bp > _COND_BP:
                    return left
                self.advance()
                then = self.expr(1)
                if self.tok.kind != "op" or self.tok.text != ":":
                    raise self.error("`:' expected for conditional expression")
                self.advance()
                orelse = self.expr(_COND_BP)
                left = Cond(left, then, orelse)
                continue
            bp = _BINARY.get(op)
            if bp is None or bp < min_bp:
                return left
            self.advance()
            op_end = t.pos + len(op)
            right = self.expr(bp + (0 if op == "**" else 1))
            if op in ("&&", "||"):
                left = Logical(op, left, right)
            elif op == ",":
                left = Comma(left, right)
            else:
                err_pos = self.lasttp() if op == "**" else _skip_ws(self.src, op_end)
                left = Binary(op, left, right, err_pos)

    def prefix(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Num(self.number(t))
        if t.kind == "id":
            self.advance()
            if self.tok.kind == "op" and self.tok.text in ("++", "--"):
                op = self.advance().text
                return Incr(t.text, 1 if op == "++" else -1, prefix=False)
            if self.tok.kind == "bad" and self.tok.text == "[":
                self.subscript()
            return Var(t.text, t.pos)
        if t.kind == "op":
            if t.text == "(":
                self.advance()
                inner = self.expr(0)
                if self.tok.kind != "op" or self.tok.text != ")":
                    raise self.error("missing `)'")
                self.advance()
                return inner
            if t.text in ("++", "--") and self.toks[self.i + 1].kind == "id":
                self.advance()
                name = self.advance().text
                return Incr(name, 1 if t.text == "++" else -1, prefix=True)
            if t.text in ("-", "+", "!", "~"):
                self.advance()
                return Unary(t.text, self.unary_operand())
        raise self.error("syntax error: operand expected")

    def unary_operand(self) -> Node:
        return self.expr(_UNARY_BP)

    def subscript(self) -> None:
        """``name[expr]``: arrays are not modelled; the subscript is checked and the element is the name."""
        depth = 0
        while self.tok.kind != "eof":
            t = self.advance()
            if t.kind == "bad" and t.text == "[":
                depth += 1
            elif t.kind == "bad" and t.text == "]":
                depth -= 1
                if depth == 0:
                    return
        raise self.error("syntax error: operand expected")

    def number(self, t: Tok) -> int:
        text = t.text
        base = 10
        digits = text
        if "#" in text:
            b, _, digits = text.partition("#")
            if not b.isascii() or not b.isdigit() or not 2 <= int(b) <= 64:
                raise ArithError(text, "invalid arithmetic base", text)
            base = int(b)
        elif text[:2] in ("0x", "0X"):
            base, digits = 16, text[2:]
        elif text.startswith("0") and len(text) > 1:
            base, digits = 8, text[1:]
        value = 0
        for ch in digits:
            d = _DIGITS.find(ch.lower()) if base <= 36 else _DIGITS.find(ch)
            if d < 0 or d >= base:
                raise ArithError(text, "value too great for base", text)
            value = value * base + d
        return wrap(value)


def _skip_ws(src: str, i: int) -> int:
    while i < len(src) and src[i] in " \t\n\r":
        i += 1
    return i


def parse(src: str) -> Node | None:
    """The expression's tree (None for an empty expression, which is 0); raises ArithError."""
    return _Parser(src).parse()


# evaluation ----------------------------------------------------------------------------------------------
class Evaluator:
    def __init__(self, variables: Vars, src: str, depth: int = 0) -> None:
        self.vars = variables
        self.src = src
        self.depth = depth

    def error(self, message: str, pos: int) -> ArithError:
        return ArithError(self.src.lstrip(), message, self.src[pos:])

    def value_of(self, name: str) -> int:
        raw = self.vars.get(name)
        if raw is None:
            return 0
        text = raw.strip()
        if not text:
            return 0
        if (
            text.isascii()
            and text.lstrip("-").isdigit()
            and not (text.lstrip("-").startswith("0") and len(text.lstrip("-")) > 1)
        ):
            return wrap(int(text))
        if self.depth >= MAX_DEPTH:
            raise ArithError(name, "expression recursion level exceeded", name)
        return evaluate(raw, self.vars, self.depth + 1)

    def calc(self, node: Node) -> int:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Var):
            return self.value_of(node.name)
        if isinstance(node, Unary):
            v = self.calc(node.operand)
            if node.op == "-":
                return wrap(-v)
            if node.op == "+":
                return v
            if node.op == "!":
                return int(v == 0)
            return wrap(~v)
        if isinstance(node, Incr):
            old = self.value_of(node.name)
            new = wrap(old + node.delta)
            self.vars.set(node.name, str(new))
            return new if node.prefix else old
        if isinstance(node, Logical):
            left = self.calc(node.left)
            if node.op == "&&":
                return int(left != 0 and self.calc(node.right) != 0)
            return int(left != 0 or self.calc(node.right) != 0)
        if isinstance(node, Cond):
            return self.calc(node.then) if self.calc(node.test) else self.calc(node.orelse)
        if isinstance(node, Comma):
            self.calc(node.left)
            return self.calc(node.right)
        if isinstance(node, Assign):
            value = self.calc(node.value)
            if node.op != "=":
                value = self.binary(node.op[:-1], self.value_of(node.name), value, node.err_pos)
            self.vars.set(node.name, str(value))
            return value
        return self.binary(node.op, self.calc(node.left), self.calc(node.right), node.err_pos)

    def binary(self, op: str, a: int, b: int, err_pos: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise self.error("division by 0", err_pos)
            if a == -(1 << 63) and b == -1:
                return a if op == "/" else 0
            q = abs(a) // abs(b)
            q = q if (a >= 0) == (b >= 0) else -q
            return wrap(q) if op == "/" else wrap(a - q * b)
        if op == "**":
            if b < 0:
                raise self.error("exponent less than 0", err_pos)
            return wrap(pow(a, b, 1 << 64))
        if op == "+":
            return wrap(a + b)
        if op == "-":
            return wrap(a - b)
        if op == "*":
            return wrap(a * b)
        if op == "<<":
            return wrap(a << (b & 63))
        if op == ">>":
            return a >> (b & 63)
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        return int(
            {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b, "!=": a != b}.get(op, False)
        )


def evaluate(src: str, variables: Vars, depth: int = 0) -> int:
    """Evaluate ``src`` (already expanded); raises ArithError with bash's message."""
    node = parse(src)
    if node is None:
        return 0
    return Evaluator(variables, src, depth).calc(node)
