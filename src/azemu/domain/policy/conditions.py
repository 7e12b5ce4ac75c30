"""The condition operators of the policy rule language, as Azure Policy compares values.

Strings compare case-insensitively (``match`` is the exception); scalars compare through their string form so
that ``"equals": "true"`` matches a boolean ``true``, as Microsoft's built-ins rely on; a missing field equals
the empty string. ``less``/``greater`` compare numbers, dates (ISO 8601) or strings. Each operator takes the
field's value (or :data:`~azemu.domain.policy.paths.MISSING`) and the condition's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from azemu.domain.policy.paths import MISSING

Operator = Callable[[Any, Any], bool]


def norm(v: Any) -> Any:
    """The comparable form of a value: lower-cased strings, ``true``/``false``, canonical numbers."""
    if v is MISSING or v is None:
        return ""
    t = type(v)
    if t is str:
        return v.lower()
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return str(int(v)) if v.is_integer() else repr(v)
    if t is list:
        return tuple(norm(x) for x in v)
    if t is dict:
        return json.dumps({k.lower(): norm(x) for k, x in v.items()}, sort_keys=True, default=str)
    return str(v).lower()


def equals(a: Any, b: Any) -> bool:
    return bool(norm(a) == norm(b))


@lru_cache(maxsize=4096)
def _like(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$", re.IGNORECASE | re.DOTALL
    )


def like(a: Any, b: Any) -> bool:
    if a is MISSING or type(a) in (list, dict):
        return False
    return _like(str(b)).match(a if type(a) is str else str(norm(a))) is not None


@lru_cache(maxsize=4096)
def _match(pattern: str, insensitive: bool) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "#":
            out.append("[0-9]")
        elif ch == "?":
            out.append("[A-Za-z]")
        elif ch == ".":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", (re.IGNORECASE if insensitive else 0) | re.DOTALL)


def match(a: Any, b: Any, insensitive: bool = False) -> bool:
    if type(a) is not str:
        return False
    return _match(str(b), insensitive).match(a) is not None


def contains(a: Any, b: Any) -> bool:
    if type(a) is str:
        return str(norm(b)) in a.lower() if type(b) is not list else False
    if type(a) is list:
        nb = norm(b)
        return any(norm(x) == nb for x in a)
    if type(a) is dict:
        return contains_key(a, b)
    return False


def contains_key(a: Any, b: Any) -> bool:
    if type(a) is not dict:
        return False
    key = str(b).lower()
    return any(k.lower() == key for k in a)


def in_(a: Any, b: Any) -> bool:
    if a is MISSING or type(b) is not list:
        return False
    na = norm(a)
    return any(norm(x) == na for x in b)


def _date(v: str) -> datetime | None:
    if len(v) < 10 or not v[:4].isdigit() or v[4] != "-":
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1, or None when the two cannot be ordered (the condition is then false)."""
    if a is MISSING or a is None or b is None:
        return None
    num = (int, float)
    if isinstance(a, num) and not isinstance(a, bool) and isinstance(b, num) and not isinstance(b, bool):
        return (a > b) - (a < b)
    if type(a) is str and type(b) is str:
        da, db = _date(a), _date(b)
        if da is not None and db is not None:
            try:
                return (da > db) - (da < db)
            except TypeError:  # naive against aware: compare as text
                pass
        la, lb = a.lower(), b.lower()
        return (la > lb) - (la < lb)
    if type(a) is str and isinstance(b, num) and not isinstance(b, bool):
        try:
            fa = float(a)
        except ValueError:
            return None
        return (fa > b) - (fa < b)
    return None


def _cmp(test: Callable[[int], bool]) -> Operator:
    def op(a: Any, b: Any) -> bool:
        c = compare(a, b)
        return c is not None and test(c)

    return op


def exists(a: Any, b: Any) -> bool:
    want = b if type(b) is bool else str(b).lower() == "true"
    return (a is not MISSING) == want


# operator name (lower-case) -> (Azure's name in evaluation details, implementation)
OPERATORS: dict[str, tuple[str, Operator]] = {
    "equals": ("Equals", equals),
    "notequals": ("NotEquals", lambda a, b: not equals(a, b)),
    "like": ("Like", like),
    "notlike": ("NotLike", lambda a, b: not like(a, b)),
    "match": ("Match", match),
    "matchinsensitively": ("MatchInsensitively", lambda a, b: match(a, b, True)),
    "notmatch": ("NotMatch", lambda a, b: not match(a, b)),
    "notmatchinsensitively": ("NotMatchInsensitively", lambda a, b: not match(a, b, True)),
    "contains": ("Contains", contains),
    "notcontains": ("NotContains", lambda a, b: not contains(a, b)),
    "in": ("In", in_),
    "notin": ("NotIn", lambda a, b: not in_(a, b)),
    "containskey": ("ContainsKey", contains_key),
    "notcontainskey": ("NotContainsKey", lambda a, b: not contains_key(a, b)),
    "less": ("Less", _cmp(lambda c: c < 0)),
    "lessorequals": ("LessOrEquals", _cmp(lambda c: c <= 0)),
    "greater": ("Greater", _cmp(lambda c: c > 0)),
    "greaterorequals": ("GreaterOrEquals", _cmp(lambda c: c >= 0)),
    "exists": ("Exists", exists),
}
