"""Numeric functions: ``add``, ``sub``, ``mul``, ``div``, ``mod``, ``min``, ``max``, ``range``, ``int``, ``float``.

Arithmetic is on 64-bit integers as in C#: ``div`` truncates toward zero, ``mod`` takes the sign of the dividend,
overflow is an error (real text: ``The template language function 'mul' overflowed with the operants
'9223372036854775807' and '9223372036854775807'.``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..dotnet import banker_round
from ..errors import ExpressionError, see
from ..values import is_int, is_number, type_name
from .table import Invocation, bad_arg, fn, want_int

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _checked(name: str, a: int, b: int, result: int) -> int:
    if not INT64_MIN <= result <= INT64_MAX:
        raise ExpressionError(
            f"The template language function '{name}' overflowed with the operants '{a}' and '{b}'. {see()}"
        )
    return result


def _operands(name: str, args: Sequence[Any]) -> tuple[int, int]:
    return want_int(name, args, 0), want_int(name, args, 1)


@fn("add", 2, 2)
def add(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b = _operands("add", args)
    return _checked("add", a, b, a + b)


@fn("sub", 2, 2)
def sub(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b = _operands("sub", args)
    return _checked("sub", a, b, a - b)


@fn("mul", 2, 2)
def mul(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b = _operands("mul", args)
    return _checked("mul", a, b, a * b)


def _divide(name: str, args: Sequence[Any]) -> tuple[int, int, int]:
    a, b = _operands(name, args)
    if b == 0:
        # .NET's DivideByZeroException text inside ARM's usual wrapping (azemu: the exact ARM text was not found)
        raise ExpressionError(
            f"Unable to evaluate template language function '{name}': Attempted to divide by zero. {see()}"
        )
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return a, b, q


@fn("div", 2, 2)
def div(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b, q = _divide("div", args)
    return _checked("div", a, b, q)


@fn("mod", 2, 2)
def mod(inv: Invocation, args: Sequence[Any]) -> Any:
    a, b, q = _divide("mod", args)
    return a - b * q


def _numbers(name: str, args: Sequence[Any]) -> list[int | float]:
    values = list(args[0]) if len(args) == 1 and type(args[0]) is list else list(args)
    if not values:
        # azemu wording
        raise ExpressionError(f"The template language function '{name}' expects at least one value. {see()}")
    for i, v in enumerate(values):
        if not is_number(v):
            raise bad_arg(name, i, "Integer", v)
    return values


@fn("min", 1, None)
def min_(inv: Invocation, args: Sequence[Any]) -> Any:
    return min(_numbers("min", args))


@fn("max", 1, None)
def max_(inv: Invocation, args: Sequence[Any]) -> Any:
    return max(_numbers("max", args))


@fn("range", 2, 2)
def range_(inv: Invocation, args: Sequence[Any]) -> Any:
    start, count = want_int("range", args, 0), want_int("range", args, 1)
    # ARM docs: count must be a non-negative integer up to 10000 and start + count at most 2147483647.
    if count < 0 or count > 10000 or start + count > 2147483647:
        # azemu wording
        raise ExpressionError(
            f"The template language function 'range' has an invalid parameter. The count '{count}' must be between "
            f"0 and 10000 and the sum of the start index '{start}' and the count must not exceed 2147483647. {see()}"
        )
    return list(range(start, start + count))


def _parse_long(text: str) -> int | None:
    # long.Parse with NumberStyles.Integer: surrounding white space and a leading sign are allowed.
    s = text.strip()
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(s)
    return value if INT64_MIN <= value <= INT64_MAX else None


@fn("int", 1, 1)
def int_(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if is_int(v):
        return v
    if type(v) is float:
        return banker_round(v)
    if type(v) is str:
        parsed = _parse_long(v)
        if parsed is None:
            # Real: "The template language function 'int' cannot convert provided value 'asdf' to integer value.
            # Please see https://aka.ms/arm-function-int for usage details."
            raise ExpressionError(
                f"The template language function 'int' cannot convert provided value '{v}' to integer value. "
                f"{see('https://aka.ms/arm-function-int')}"
            )
        return parsed
    # Real (2016): "The template language function 'int' expects its first parameter to be one of the following
    # types 'Integer, String'. The provided value is of type 'Boolean'."
    raise ExpressionError(
        "The template language function 'int' expects its first parameter to be one of the following types "
        f"'Integer, String'. The provided value is of type '{type_name(v)}'. {see()}"
    )


@fn("float", 1, 1)
def float_(inv: Invocation, args: Sequence[Any]) -> Any:
    v = args[0]
    if is_number(v):
        return float(v)
    if type(v) is str:
        try:
            return float(v.strip())
        except ValueError:
            pass
        # azemu wording, after the real 'int' message
        raise ExpressionError(
            f"The template language function 'float' cannot convert provided value '{v}' to float value. {see()}"
        )
    raise ExpressionError(
        "The template language function 'float' expects its first parameter to be one of the following types "
        f"'Integer, Float, String'. The provided value is of type '{type_name(v)}'. {see()}"
    )


SPECS = [add, sub, mul, div, mod, min_, max_, range_, int_, float_]
