"""``--output table|json|none``: rich tables (the default) for people, JSON for scripts, or nothing."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text


class Output(enum.StrEnum):
    table = "table"
    json = "json"
    none = "none"


OutputOpt = Annotated[
    Output,
    typer.Option("--output", "-o", case_sensitive=False, help="table (rich tables), json, or none."),
]


def console() -> Console:
    """Stdout, looked up at call time (so test runners that swap ``sys.stdout`` see the output). Piped
    output is not wrapped at the terminal's width: resource ids stay whole for grep."""
    piped = not sys.stdout.isatty()
    return Console(file=sys.stdout, width=1000 if piped else None, soft_wrap=False, highlight=False)


def emit(data: Any, output: Output, table: Callable[[Any], RenderableType | None] | None = None) -> None:
    """Print ``data`` as JSON, or as the table ``table(data)`` builds (a key/value or row table if none)."""
    if output is Output.none:
        return
    if output is Output.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        sys.stdout.flush()
        return
    rendered = table(data) if table is not None else auto_table(data)
    if rendered is not None:
        console().print(rendered)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def rows(
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]] | None = None,
    title: str | None = None,
    empty: str = "(none)",
) -> RenderableType:
    """A table with a row per item; ``columns`` are (key, heading), every key of the first item if None."""
    cols = list(columns) if columns is not None else [(k, k) for k in (items[0] if items else {})]
    if not cols:
        return Text(empty if title is None else f"{title}: {empty}")
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False)
    for _, heading in cols:
        t.add_column(heading, overflow="fold")
    if not items:
        t.add_row(empty, *[""] * (len(cols) - 1))
    for item in items:
        t.add_row(*(cell(item.get(key)) for key, _ in cols))
    return t


def pairs(data: Mapping[str, Any], title: str | None = None) -> Table:
    """A two-column key/value table."""
    t = Table(title=title, box=box.SIMPLE_HEAD, show_header=False, title_justify="left", show_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for key, value in data.items():
        t.add_row(key, cell(value))
    return t


def auto_table(data: Any) -> RenderableType:
    if isinstance(data, Mapping) and isinstance(data.get("value"), list):
        data = data["value"]
    if isinstance(data, list):
        return rows([d if isinstance(d, Mapping) else {"value": d} for d in data])
    if isinstance(data, Mapping):
        return pairs(data)
    return cell(data)
