"""docs/served.md - what azemu serves, the page its "not served" errors point to - is generated from the
resource-kind registry and the spec shapes; this test keeps it current (`python -m tests.unit.test_served_doc`
rewrites it)."""

from __future__ import annotations

from pathlib import Path

from azemu.clock.clock import Clock
from azemu.domain import shapes
from azemu.domain.emulator import Emulator
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DOC = Path(__file__).resolve().parents[2] / "docs" / "served.md"
HEADER = """# What azemu serves

Generated from the resource-kind registry (`python -m tests.unit.test_served_doc`); a request for anything
else is answered as ARM answers a type or namespace it does not know (see docs/azure-differences.md, "Wire
shapes and what is not served").

| resource type | what it is | api-versions accepted | request shape from the spec of |
|---|---|---|---|
"""


def served() -> str:
    emu = Emulator(SqliteStore(None), Clock(), Defaults("t", "s", "c", "x"))
    rows = []
    for kind in sorted(emu.kinds, key=lambda k: k.spec.type.lower()):
        spec = kind.spec
        versions = spec.api_versions
        accepted = f"{versions[-1]} … {versions[0]}" if versions else "any"
        shape = spec.shape
        source = (
            f"{shape.model} @ {shape.spec_version}" if isinstance(shape, shapes.SpecShape) else "(any JSON)"
        )
        rows.append(f"| `{spec.type}` | {spec.description} | {accepted} | {source} |")
    return HEADER + "\n".join(rows) + "\n"


def test_served_page_is_current():
    assert DOC.exists() and DOC.read_text() == served(), (
        "docs/served.md is out of date: run `python -m tests.unit.test_served_doc`"
    )


if __name__ == "__main__":
    DOC.write_text(served())
    print(f"wrote {DOC}")
