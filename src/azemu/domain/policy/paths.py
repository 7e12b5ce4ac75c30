"""Fields of a resource as Azure Policy reads them: ``type``, ``name``, ``location``, ``tags['x']`` and aliases
(default paths such as ``properties.storageProfile.imageReference.id`` or ``properties.dataDisks[*].lun``).

A path is parsed once into :class:`Path` tokens. Reading a path without ``[*]`` gives one value (or
:data:`MISSING`); with ``[*]`` it gives the list of values, one per array member (``[*]`` over a missing array
gives no members). Property names match case-insensitively, as ARM's do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

# the fields every resource has, whatever its type (Azure's names, lower-cased -> document key)
TOP_LEVEL = {
    "type": "type",
    "name": "name",
    "fullname": "fullName",
    "kind": "kind",
    "location": "location",
    "id": "id",
    "tags": "tags",
    "identity.type": "identity.type",
    "identity.userassignedidentities": "identity.userAssignedIdentities",
}
_TAG = re.compile(r"^tags(?:\[\s*'?(?P<a>.*?)'?\s*\]|\.(?P<b>.+))$", re.IGNORECASE)


@dataclass(frozen=True)
class Path:
    """A parsed path: (key, is_array) steps; ``text`` is what evaluation details show as ``path``."""

    steps: tuple[tuple[str, bool], ...]
    text: str
    is_array: bool = False  # computed: does any step go through an array ([*])

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_array", any(star for _, star in self.steps))


@lru_cache(maxsize=8192)
def parse(text: str) -> Path:
    steps: list[tuple[str, bool]] = []
    for part in _split(text):
        star = part.endswith("[*]")
        steps.append((part[:-3] if star else part, star))
    return Path(tuple(steps), text)


def _split(text: str) -> list[str]:
    """Dots separate steps, except inside brackets (``tags['a.b']``)."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p for p in out if p]


def tag_name(field: str) -> str | None:
    """``x`` for ``tags['x']``, ``tags[x]`` or ``tags.x``; None for any other field."""
    m = _TAG.match(field)
    if m is None:
        return None
    return m.group("a") if m.group("a") is not None else m.group("b")


def child(obj: Any, key: str) -> Any:
    if type(obj) is not dict:
        return MISSING
    if key in obj:
        return obj[key]
    low = key.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return v
    return MISSING


def read(doc: Any, path: Path) -> Any:
    """The value at ``path`` (a list of member values when the path has ``[*]``)."""
    if not path.is_array:
        value = doc
        for key, _ in path.steps:
            value = child(value, key)
            if value is MISSING:
                return MISSING
        return None_to_missing(value)
    values = [doc]
    for key, star in path.steps:
        nxt: list[Any] = []
        for v in values:
            c = child(v, key) if key else v
            if star:
                if type(c) is list:
                    nxt.extend(c)
            else:
                nxt.append(c)
        values = nxt
    return [None_to_missing(v) for v in values]


def None_to_missing(value: Any) -> Any:
    return MISSING if value is None else value


def member_path(array_path: Path, path: Path) -> Path | None:
    """``path`` relative to a member of ``array_path`` (``a[*].b`` within ``a[*]`` is ``b``); None when
    ``path`` does not go through that array."""
    n = len(array_path.steps)
    if len(path.steps) < n:
        return None
    for (k1, s1), (k2, s2) in zip(array_path.steps, path.steps[:n], strict=False):
        if k1.lower() != k2.lower() or s1 != s2:
            return None
    rest = path.steps[n:]
    return Path(tuple(rest), path.text)


def field_path(field: str, aliases: Mapping[str, str]) -> Path | None:
    """The document path a field names: a top-level field, a tag, or one of the type's aliases (matched
    case-insensitively); None for an alias the type does not have (its value is then missing)."""
    low = field.lower()
    top = TOP_LEVEL.get(low)
    if top is not None:
        return parse(top)
    tag = tag_name(field)
    if tag is not None:
        return Path((("tags", False), (tag, False)), field)
    path = aliases.get(low)
    if path is None:
        return None
    return parse(path)


class Resolver:
    """A type's field paths, resolved once per field name (the hot path of every condition)."""

    __slots__ = ("_cache", "aliases")

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self.aliases = aliases  # lower-case alias -> default path
        self._cache: dict[str, Path | None] = {}

    def path(self, field: str) -> Path | None:
        try:
            return self._cache[field]
        except KeyError:
            found = self._cache[field] = field_path(field, self.aliases)
            return found
