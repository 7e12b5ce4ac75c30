"""Tokens of a template expression (the text between ``[`` and ``]``).

The language is small: identifiers (function and property names), string literals in single quotes with ``''``
standing for one quote, integer literals (an optional ``-`` then digits; ``1.5`` is read as a float, which ARM
itself only produces through ``json('1.5')``), and the punctuation ``( ) [ ] , .``. Whitespace between tokens
is ignored. Token kinds carry ARM's names because its parse errors print them
(``expected token 'EndOfData' and actual 'RightParenthesis'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .errors import ExpressionError

IDENTIFIER: Final = "Identifier"
STRING: Final = "String"
INTEGER: Final = "Integer"
FLOAT: Final = "Float"
LPAREN: Final = "LeftParenthesis"
RPAREN: Final = "RightParenthesis"
LBRACKET: Final = "LeftSquareBracket"
RBRACKET: Final = "RightSquareBracket"
COMMA: Final = "Comma"
DOT: Final = "Dot"
EOD: Final = "EndOfData"

_PUNCT = {"(": LPAREN, ")": RPAREN, "[": LBRACKET, "]": RBRACKET, ",": COMMA, ".": DOT}
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str | int | float | None
    pos: int


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _ident_start(c: str) -> bool:
    return c.isalpha() or c == "_" or c == "$"


def _ident_part(c: str) -> bool:
    return c.isalnum() or c == "_" or c == "$"


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, ending with ``EndOfData``; raises :class:`ExpressionError`."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in _PUNCT:
            out.append(Token(_PUNCT[c], c, i))
            i += 1
            continue
        if c == "'":
            start = i
            i += 1
            parts: list[str] = []
            while True:
                j = text.find("'", i)
                if j < 0:
                    # azemu wording; ARM's own text for this case was not found in public sources.
                    raise ExpressionError(
                        f"The language expression '{text}' is not valid: the string character ''' at position "
                        f"'{start}' is not terminated."
                    )
                parts.append(text[i:j])
                if j + 1 < n and text[j + 1] == "'":
                    parts.append("'")
                    i = j + 2
                    continue
                i = j + 1
                break
            out.append(Token(STRING, "".join(parts), start))
            continue
        if _digit(c) or (c == "-" and i + 1 < n and _digit(text[i + 1])):
            start = i
            i += 1
            while i < n and _digit(text[i]):
                i += 1
            is_float = False
            if i + 1 < n and text[i] == "." and _digit(text[i + 1]):
                is_float = True
                i += 1
                while i < n and _digit(text[i]):
                    i += 1
            raw = text[start:i]
            if is_float:
                out.append(Token(FLOAT, float(raw), start))
                continue
            number = int(raw)
            if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
                # Real (2020): "The language expression 'dataUri(2147483648)' is not valid: the value
                # '2147483648' at position '8' cannot be converted to number." (ARM has since widened to int64.)
                raise ExpressionError(
                    f"The language expression '{text}' is not valid: the value '{raw}' at position '{start}' "
                    f"cannot be converted to number."
                )
            out.append(Token(INTEGER, number, start))
            continue
        if _ident_start(c):
            start = i
            i += 1
            while i < n and _ident_part(text[i]):
                i += 1
            out.append(Token(IDENTIFIER, text[start:i], start))
            continue
        # azemu wording (shaped like the number error above).
        raise ExpressionError(
            f"The language expression '{text}' is not valid: the character '{c}' at position '{i}' is not expected."
        )
    out.append(Token(EOD, None, n))
    return out
