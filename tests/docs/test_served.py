"""docs/served.md is generated (`azemu docs served`) and must be what the code serves today; every admin
request has an `azemu` command."""

from __future__ import annotations

import difflib
from typing import Any

import typer

from azemu.cli import docs
from azemu.cli.main import app
from azemu.server.admin import ROUTES
from tests.docs.markdown import ROOT

PAGE = ROOT / "docs" / "served.md"


def test_served_page_is_current() -> None:
    fresh = docs.served_markdown(ROOT / "tests" / "cli")
    checked_in = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            checked_in.splitlines(True), fresh.splitlines(True), "docs/served.md", "azemu docs served", n=1
        )
    )
    assert fresh == checked_in, (
        "docs/served.md is stale: regenerate it with scripts/gen-served (azemu docs served > docs/served.md)\n"
        + diff
    )


def test_served_page_lists_every_kind_and_the_az_commands_tests_run() -> None:
    from azemu.clock.clock import Clock
    from azemu.domain.emulator import Emulator
    from azemu.domain.tenancy import Defaults
    from azemu.state.sqlite import SqliteStore

    emu = Emulator(SqliteStore(None), Clock(), Defaults("t", "s", "c", "x"))
    page = PAGE.read_text(encoding="utf-8")
    for kind in emu.kinds:
        assert f"| `{kind.spec.type}` |" in page
    assert "| `az sig image-version` |" in page and "`create`" in page
    assert "az vm run-command invoke" in docs.az_commands(ROOT / "tests" / "cli")


def _command_names(group: Any, prefix: str = "azemu") -> set[str]:
    names: set[str] = set()
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}"
        names.add(full)
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            names |= _command_names(cmd, full)
    return names


def test_every_admin_request_has_an_azemu_command() -> None:
    commands = _command_names(typer.main.get_command(app))
    for route in ROUTES:
        named = docs.ADMIN_COMMANDS.get((route.method, route.path))
        assert named, f"{route.method} /_azemu{route.path} has no azemu command (cli/docs.py ADMIN_COMMANDS)"
        for command in named.split(", "):
            assert command in commands, f"{command} (for {route.method} {route.path}) is not a command"
    assert set(docs.ADMIN_COMMANDS) == {(r.method, r.path) for r in ROUTES}
