"""The ``$filter`` DevTest Labs lists accept, in the subset clients send: clauses joined by ``and``, each
``<path> eq '<text>'``, ``<path> eq true|false|<number>``, ``<path> ne ...`` or a bare boolean ``<path>``;
a path is ``name`` or ``properties/<name>[/<name>...]`` (any case), read from the wire document.
``az lab vm list`` sends ``Properties/ownerObjectId eq '<id>'`` or ``properties/allowClaim``; az's name
look-ups send ``name eq '<name>'``."""

from __future__ import annotations

import re
from typing import Any

from azemu.domain.errors import AzureError

_CLAUSE = re.compile(
    r"^\s*(?P<path>[A-Za-z_][\w/]*)\s*(?:(?P<op>eq|ne)\s+(?P<value>'(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?))?\s*$",
    re.IGNORECASE,
)


class InvalidFilter(AzureError):
    code, status = "InvalidFilter", 400


Clause = tuple[list[str], str, Any]


def parse(text: str | None) -> list[Clause]:
    if not text or not text.strip():
        return []
    out: list[Clause] = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.match(part.strip("() "))
        if m is None:
            raise InvalidFilter(f"The $filter '{text}' is not valid.")
        raw = m.group("value")
        value: Any = True
        if raw is not None:
            low = raw.lower()
            if raw.startswith("'"):
                value = raw[1:-1].replace("''", "'")
            elif low in ("true", "false"):
                value = low == "true"
            elif low == "null":
                value = None
            else:
                value = float(raw)
        out.append((m.group("path").split("/"), (m.group("op") or "eq").lower(), value))
    return out


def _read(doc: dict[str, Any], path: list[str]) -> Any:
    cur: Any = doc
    for part in path:
        if not isinstance(cur, dict):
            return None
        cur = next((v for k, v in cur.items() if k.lower() == part.lower()), None)
    return cur


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        return isinstance(actual, str) and actual.lower() == wanted.lower()
    if isinstance(wanted, bool):
        return bool(actual) is wanted
    if isinstance(wanted, float):
        return isinstance(actual, int | float) and float(actual) == wanted
    return actual is None


def matches(doc: dict[str, Any], clauses: list[Clause]) -> bool:
    for path, op, wanted in clauses:
        same = _same(_read(doc, path), wanted)
        if same != (op == "eq"):
            return False
    return True


def apply(docs: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    clauses = parse(text)
    return [d for d in docs if matches(d, clauses)]
