"""Reading Microsoft's REST API spec examples and recorded traffic (../shared/azure-specs, MIT data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "azure-specs"
RP = ROOT / "specification" / "compute" / "resource-manager" / "Microsoft.Compute"

needs_specs = pytest.mark.skipif(not ROOT.is_dir(), reason="../shared/azure-specs is not beside the checkout")


def example(rel: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RP / rel).read_text())
    return data


def recorded(name: str) -> list[dict[str, Any]]:
    data = json.loads((ROOT / "recorded-extracts" / name).read_text())
    return list(data["exchanges"])


def shape(value: Any, prefix: str = "") -> dict[str, str]:
    """Every key path of a JSON document with its JSON type (list items merged under ``[]``)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{prefix}.{k}" if prefix else k
            out[p] = type(v).__name__ if not isinstance(v, bool) else "bool"
            out.update(shape(v, p))
    elif isinstance(value, list):
        for item in value:
            out.update(shape(item, prefix + "[]"))
    return out


def compare(ours: Any, theirs: Any, unsupported: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Paths Azure's example has that azemu's answer lacks (minus documented gaps), and type mismatches."""
    a, b = shape(ours), shape(theirs)
    problems = [
        f"missing {p}"
        for p in sorted(b)
        if p not in a
        and not any(p == u or p.startswith(u + ".") or p.startswith(u + "[]") for u in unsupported)
    ]
    numeric = {"int", "float"}
    problems += [
        f"type of {p}: azemu {a[p]}, Azure {b[p]}"
        for p in sorted(set(a) & set(b))
        if a[p] != b[p] and not ({a[p], b[p]} <= numeric)
    ]
    return problems


def assert_conforms(ours: Any, theirs: Any, unsupported: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    problems = compare(ours, theirs, unsupported)
    if problems:
        pytest.fail("azemu's answer differs from Azure's example:\n  " + "\n  ".join(problems), pytrace=False)
