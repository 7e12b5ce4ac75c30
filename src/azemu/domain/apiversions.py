"""The api-version check, per resource type, against Azure's published versions (data/api_versions.json).

* missing -> ``MissingApiVersionParameter``; malformed -> ``InvalidApiVersionParameter``;
* a known version is served as is;
* a well-formed version *newer* than every known one is served as the newest known, with a warning
  header, so a new SDK release never breaks users;
* any other unknown version -> ``InvalidApiVersionParameter`` (Microsoft.Resources) or
  ``NoRegisteredProviderFound`` (resource providers), worded as Azure words them;
* ``--loose`` accepts anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from azemu.domain import regions
from azemu.domain.errors import (
    InvalidApiVersionParameter,
    MissingApiVersionParameter,
    NoRegisteredProviderFound,
)

_WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-z]+(\.\d+)?)?$", re.IGNORECASE)


def _merged(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose repeated keys (a namespace listed twice, by two features) merge their types."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


@cache
def _raw() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = json.loads(
        resources.files("azemu.data").joinpath("api_versions.json").read_text(encoding="utf-8"),
        object_pairs_hook=_merged,
    )
    return data


@cache
def table() -> dict[tuple[str, str], tuple[str, ...]]:
    """(namespace, type), both lower-case -> versions, newest first."""
    return {(ns.lower(), t.lower()): tuple(v) for ns, types in _raw().items() for t, v in types.items()}


@cache
def spellings() -> dict[tuple[str, str], tuple[str, str]]:
    """(namespace, type) lower-case -> Azure's spelling of both."""
    return {(ns.lower(), t.lower()): (ns, t) for ns, types in _raw().items() for t in types}


@dataclass(frozen=True)
class Resolved:
    version: str
    warning: str | None = None


@cache
def supported(namespace: str, rtype: str) -> tuple[str, ...]:
    return table().get((namespace.lower(), rtype.lower()), ())


@cache
def _known(namespace: str, rtype: str) -> frozenset[str]:
    return frozenset(supported(namespace, rtype))


def check(
    namespace: str, rtype: str, given: str | None, *, loose: bool, location: str = "eastus"
) -> Resolved:
    if given is None or given == "":
        raise MissingApiVersionParameter(
            "The api-version query parameter (?api-version=) is required for all requests."
        )
    if loose or given in _known(namespace, rtype):
        return Resolved(given)
    versions = supported(namespace, rtype)
    if not versions:
        return Resolved(given)
    well_formed = bool(_WELL_FORMED.match(given))
    newest = versions[0]
    if well_formed and given[:10] > newest[:10]:
        return Resolved(
            newest,
            f"299 - \"azemu: api-version '{given}' is newer than the versions azemu knows for "
            f"'{namespace}/{rtype}'; served as '{newest}'.\"",
        )
    if namespace.lower() == "microsoft.resources" or not well_formed:
        raise InvalidApiVersionParameter(
            f"The api-version '{given}' is invalid. The supported versions are '{','.join(versions)}'."
        )
    locations = ", ".join(r["displayName"].replace(" ", "").lower() for r in regions.all_regions())
    raise NoRegisteredProviderFound(
        f"No registered resource provider found for location '{location}' and API version '{given}' for type "
        f"'{rtype}'. The supported api-versions are '{', '.join(versions)}'. The supported locations are "
        f"'{locations}'."
    )
