"""Azure Policy aliases as Microsoft publishes them (``Get-AzPolicyAlias``, the providers API's
``resourceTypes/aliases``): alias name -> the default path in the resource document.

The data file ``data/policy_aliases.json.gz`` is built by ``scripts/build_policy_data.py`` from a published copy
of the alias list (its source commit is recorded inside). The kind registry gives every kind these aliases when
its :class:`~azemu.domain.kinds.KindSpec` declares none, so a kind added later (scale sets) has its aliases as
soon as it registers. A leaf module: it imports nothing of azemu.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _data() -> dict[str, Any]:
    raw = resources.files("azemu.data").joinpath("policy_aliases.json.gz").read_bytes()
    data: dict[str, Any] = json.loads(gzip.decompress(raw))
    return data


@cache
def _by_type() -> dict[str, dict[str, str]]:
    return {t.lower(): table for t, table in _data()["types"].items()}


def published(full_type: str) -> dict[str, str]:
    """The aliases of ``Namespace/type`` (alias -> default path); empty for a type with none published."""
    return dict(_by_type().get(full_type.lower(), {}))


def source() -> dict[str, str]:
    src: dict[str, str] = _data()["source"]
    return src
