"""The values templates compute with, and ARM's rules for them.

Template values are JSON: ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict`` (plus lambdas,
which exist only while an expression runs). ARM holds them as Newtonsoft ``JToken``s, which fixes several
rules kept here: the type names its messages use (``String``, ``Integer``, ``Boolean``, ``Array``, ``Object``,
``Null``, ``Float``), property access that ignores case, deep equality that compares strings exactly, how a value
prints inside a string (``True``/``False`` for booleans, compact JSON for objects) and culture-aware string
ordering for ``less``/``greater`` (ARM's docs show ``greater('A', 'a')`` is ``true``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def is_int(v: Any) -> bool:
    return type(v) is int


def is_number(v: Any) -> bool:
    return type(v) is int or type(v) is float


def type_name(v: Any) -> str:
    """ARM's name for a value's type, as its error messages print it."""
    t = type(v)
    if t is str:
        return "String"
    if t is bool:
        return "Boolean"
    if t is int:
        return "Integer"
    if t is float:
        return "Float"
    if t is list:
        return "Array"
    if t is dict:
        return "Object"
    if v is None:
        return "Null"
    if isinstance(v, Mapping):
        return "Object"
    if isinstance(v, list | tuple):
        return "Array"
    return "Lambda" if callable(getattr(v, "invoke", None)) else t.__name__


def arm_equals(a: Any, b: Any) -> bool:
    """``equals()``: deep equality; strings exact (case-sensitive), objects regardless of key order, numbers by
    value (``1`` equals ``1.0``) but never booleans against numbers."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        return bool(a == b)
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(arm_equals(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        if len(a) != len(b):
            return False
        return all(k in b and arm_equals(v, b[k]) for k, v in a.items())
    return bool(a == b)


def find_key(obj: Mapping[str, Any], name: str) -> str | None:
    """The key of ``obj`` that ``name`` designates: exact first, then ignoring case (ARM property access)."""
    if name in obj:
        return name
    low = name.lower()
    for k in obj:
        if k.lower() == low:
            return k
    return None


def to_json(v: Any) -> str:
    """Compact JSON as ``string()`` renders objects and arrays: ``{"a":1,"b":[true]}``."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=_not_json)


def _not_json(v: Any) -> Any:
    raise TypeError(f"not a JSON value: {type(v).__name__}")


def format_float(f: float) -> str:
    """.NET's shortest round-trip text of a double: ``1.5``, ``3``, ``1E+20``, ``1E-07``."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    r = repr(f)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        return f"{mant.removesuffix('.0')}E{sign}{digits.zfill(2)}"
    return r


def to_display(v: Any) -> str:
    """How a value prints when a string is built from it (``concat``, ``format``, ``join``, ``string``)."""
    t = type(v)
    if t is str:
        return str(v)
    if t is bool:
        return "True" if v else "False"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if v is None:
        return ""
    return to_json(v)


def copy_value(v: Any) -> Any:
    """A deep copy of a JSON value (results must never alias the template or a stored resource)."""
    t = type(v)
    if t is dict:
        return {k: copy_value(x) for k, x in v.items()}
    if t is list:
        return [copy_value(x) for x in v]
    return v


# --- culture-aware ordering ---------------------------------------------------------------------------------
# ARM compares strings with the invariant culture: letters sort alphabetically ignoring case, a lower-case
# letter before its upper-case twin ('a' < 'A' < 'b'), and digits before letters. This approximates the .NET
# (ICU) collation for the characters templates use; ordinal order is the final tie-break.


def _char_weight(c: str) -> tuple[int, str, int]:
    if c.isalpha():
        return (2, c.casefold(), 0 if c.islower() else 1)
    if c.isdigit():
        return (1, c, 0)
    return (0, c, 0)


def culture_key(s: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...], str]:
    weights = [_char_weight(c) for c in s]
    primary = tuple((w[0], w[1]) for w in weights)
    tertiary = tuple(w[2] for w in weights)
    return (primary, tertiary, s)


def culture_compare(a: str, b: str) -> int:
    ka, kb = culture_key(a), culture_key(b)
    return -1 if ka < kb else (1 if ka > kb else 0)
