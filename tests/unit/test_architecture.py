"""The house rules of docs/architecture.md, checked on the source: no import cycles (function-local imports
count), and what may import what. A new module that breaks a rule fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "src" / "azemu"


def _modules() -> dict[str, Path]:
    mods = {}
    for f in ROOT.rglob("*.py"):
        parts = list(f.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Every azemu module ``path`` imports, wherever the import statement is (inside a function, under
    ``TYPE_CHECKING``) and however it is written (absolute, or relative: ``from .state import …``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = node.module or ""
            if node.level:
                here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join(here + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        out.update(n for n in names if n in MODULES)
    return out


GRAPH = {m: {t for t in _imports(m, f) if t != m and not m.startswith(t + ".")} for m, f in MODULES.items()}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for m in sorted(GRAPH):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycles():
    assert _cycles() == []


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# layer -> the layers (besides itself) it may import; "*" = anything
ALLOWED: dict[str, set[str]] = {
    "guest": set(),
    "storage": set(),
    "templates": set(),
    "state": set(),
    "clock": set(),
    "domain": {"state", "clock", "guest", "storage", "templates", "data"},
    "arm": {"domain", "state", "clock"},
    "providers": {"arm", "domain", "settings", "state.records"},
    "sshd": {"domain", "guest", "state.records"},
    "labs": {"domain", "state", "clock", "guest"},
    "portal": {"arm", "domain"},
    "server": {"*"},
    "cli": {"*"},
    "testing": {"*"},
}


def _allowed(src: str, target: str) -> bool:
    rules = ALLOWED.get(_layer(src))
    if rules is None or "*" in rules:
        return True
    layer = _layer(target)
    sub = ".".join(target.split(".")[1:3])
    return layer == _layer(src) or target == "azemu" or layer in rules or sub in rules


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_what_the_house_allows(layer):
    bad = sorted(
        f"{src} -> {t}"
        for src, targets in GRAPH.items()
        if _layer(src) == layer
        for t in targets
        if not _allowed(src, t)
    )
    assert bad == []


def test_every_delete_a_provider_serves_goes_through_the_registry():
    """One delete path: a provider's DELETE calls ``kinds.begin_delete`` (Azure Policy's denyAction first, then
    the kind's own delete), never a service's ``begin_delete`` directly (a resource group's own delete asks the
    registry inside the domain)."""
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith("azemu.providers."):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if (
                "begin_delete(" in line
                and "kinds.begin_delete(" not in line
                and "def begin_delete" not in line
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
