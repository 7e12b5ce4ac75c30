"""Microsoft's built-in policy definitions that azemu serves (``data/policy_builtins.json``, built by
``scripts/build_policy_data.py`` from github.com/Azure/azure-policy; the source commit is recorded there), and
Microsoft's approved-image policy samples (not built-ins in Azure: created as custom definitions)."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("azemu.data").joinpath("policy_builtins.json").read_text(encoding="utf-8")
    )
    return data


@cache
def _by_name() -> dict[str, dict[str, Any]]:
    return {d["name"].lower(): d for d in _data()["definitions"]}


def definitions() -> list[dict[str, Any]]:
    """Every built-in definition, as Azure publishes it (``{"properties", "id", "name"}``)."""
    return [copy.deepcopy(d) for d in _data()["definitions"]]


def definition(name: str) -> dict[str, Any] | None:
    found = _by_name().get(name.lower())
    return copy.deepcopy(found) if found is not None else None


def samples() -> dict[str, dict[str, Any]]:
    """Microsoft's policy samples for approved images, by sample name (``allowed-custom-images`` ...)."""
    return copy.deepcopy(_data()["samples"])


def source() -> dict[str, Any]:
    src: dict[str, Any] = _data()["source"]
    return src
