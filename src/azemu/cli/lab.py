"""``azemu lab list|show|start|check|hint|reset``: the graded labs (docs/labs.md) over the admin API."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from azemu.cli.common import Client, DataDirOpt, PortOpt, reported
from azemu.cli.output import Output, OutputOpt, emit, pairs, rows

lab_app = typer.Typer(
    no_args_is_help=True,
    help="Graded labs built from the AZ-104 chapter: start one, do it with az, check it (docs/labs.md).",
)
LabArg = Annotated[str, typer.Argument(help="The lab's id (azemu lab list).", show_default=False)]

#: ``azemu lab check`` exits with this when the lab is not passed yet (1: an Azure error, 2: azemu unreachable)
EXIT_NOT_PASSED = 3


def _list_table(labs: list[dict[str, Any]]) -> RenderableType:
    shown = [{**lab, "kind": f"trap {lab['trap']}" if lab.get("trap") else lab["kind"]} for lab in labs]
    return rows(shown, [("id", "lab"), ("title", "title"), ("kind", "kind"), ("status", "status")])


def _detail(lab: dict[str, Any]) -> RenderableType:
    progress = lab.get("progress") or {}
    last = progress.get("lastCheck") or {}
    return Group(
        Text(lab["title"], style="bold"),
        pairs(
            {
                "lab": lab["id"],
                "kind": f"trap {lab['trap']} of the chapter" if lab.get("trap") else lab["kind"],
                "from the chapter": lab["seed"],
                "resource group": lab["resourceGroup"],
                "status": progress.get("status"),
                "checks": progress.get("checks"),
                "last check": f"{last.get('met')} of {last.get('of')} met" if last else None,
                "hints shown": f"{progress.get('hintsShown', 0)} of {lab['hintCount']}",
            }
        ),
        Text.from_markup(f"[italic]“{escape(lab['quote'])}”[/]"),
        Text(""),
        Text.from_markup(f"[bold]The situation:[/] {escape(lab['story'])}"),
        Text.from_markup(f"[bold]Your task:[/] {escape(lab['task'])}"),
    )


def _findings(result: dict[str, Any], cite_all: bool) -> RenderableType:
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]{escape(result['lab'])}: {escape(result['summary'])}[/]",
            style="green" if result["passed"] else "",
        )
    ]
    for f in result["findings"]:
        mark = "[green]✓[/]" if f["ok"] else ("[yellow]![/]" if f["advisory"] else "[red]✗[/]")
        note = " [dim](advice)[/]" if f["advisory"] else ""
        parts.append(Text.from_markup(f"{mark} {escape(f['requirement'])}{note}"))
        lines = [f"[dim]found:[/] {escape(f['found'])}"]
        if cite_all or not f["ok"]:
            if f.get("seed"):
                lines.append(f"[dim]the chapter:[/] {escape(f['seed'])}")
            if f.get("azure"):
                lines.append(f"[dim]Azure:[/] {escape(f['azure'])}")
        parts.append(Padding(Text.from_markup("\n".join(lines)), (0, 0, 0, 4)))
    return Group(*parts)


@lab_app.command("list")
def lab_list(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List the labs and your progress in each."""
    with reported():
        emit(Client(data_dir, port).admin("GET", "/labs")["value"], output, _list_table)


@lab_app.command("show")
def lab_show(
    lab: LabArg, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """Show a lab: the chapter's words, the situation, your task and your progress."""
    with reported():
        emit(Client(data_dir, port).admin("GET", f"/labs/{lab}"), output, _detail)


@lab_app.command("start")
def lab_start(
    lab: LabArg, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """Prepare a lab in its resource group lab-<id> (again, from scratch, if it was started before)."""
    with reported():
        emit(Client(data_dir, port).admin("POST", f"/labs/{lab}/start"), output, _detail)


@lab_app.command("check")
def lab_check(
    lab: LabArg,
    cite: Annotated[
        bool, typer.Option("--cite", help="Quote the chapter and Azure for met requirements too.")
    ] = False,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Check a lab: each requirement, met or not, what azemu's state shows, and the rule (the chapter's, and
    Azure's where they differ). Exit 0 when the lab is passed, 3 when not yet."""
    with reported():
        result = Client(data_dir, port).admin("POST", f"/labs/{lab}/check")
    emit(result, output, lambda r: _findings(r, cite))
    if not result["passed"]:
        raise typer.Exit(EXIT_NOT_PASSED)


@lab_app.command("hint")
def lab_hint(
    lab: LabArg, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """Show the lab's next hint (each call one more; the last one again once all were shown)."""
    with reported():
        result = Client(data_dir, port).admin("POST", f"/labs/{lab}/hint")
    emit(
        result,
        output,
        lambda r: Text.from_markup(f"[bold]Hint {r['number']} of {r['of']}:[/] {escape(r['hint'])}"),
    )


@lab_app.command("reset")
def lab_reset(
    lab: LabArg, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """Delete the lab's resource group and forget your progress in it."""
    with reported():
        emit(Client(data_dir, port).admin("POST", f"/labs/{lab}/reset"), output)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
