"""Azure regions: real names and display names, and the mapping between them ("East US 2" <-> eastus2)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from azemu.domain.errors import InvalidParameter


@cache
def all_regions() -> tuple[dict[str, Any], ...]:
    text = resources.files("azemu.data").joinpath("regions.json").read_text(encoding="utf-8")
    return tuple(json.loads(text))


@cache
def _index() -> dict[str, dict[str, Any]]:
    idx: dict[str, dict[str, Any]] = {}
    for region in all_regions():
        idx[_squash(region["name"])] = region
        idx[_squash(region["displayName"])] = region
    return idx


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def find(name: str) -> dict[str, Any] | None:
    """The region for a name in any of Azure's spellings (``eastus2``, ``East US 2``, ``EASTUS2``)."""
    return _index().get(_squash(name))


def canonical(name: str) -> str | None:
    region = find(name)
    return None if region is None else str(region["name"])


def display_name(name: str) -> str:
    region = find(name)
    return name if region is None else str(region["displayName"])


def require(name: str, target: str = "location") -> str:
    """Canonical name, or Azure's error for an unknown location."""
    found = canonical(name)
    if found is None:
        raise InvalidParameter(
            f"The provided location '{name}' is not available for resource type. List of available regions "
            f"is '{','.join(r['name'] for r in all_regions())}'.",
            target=target,
            code="LocationNotAvailableForResourceType",
        )
    return found
