"""The admin API as commands: the clock, faults, operations (and waiting for them), content and GC, identity
conflicts, metrics and reset. Each authenticates by itself (the data directory's default principal)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from azemu.cli.common import AzureCallError, Client, DataDirOpt, PortOpt, err_console, reported
from azemu.cli.output import Output, OutputOpt, emit, pairs, rows

clock_app = typer.Typer(no_args_is_help=True, help="Read or move azemu's clock; switch the latency profile.")
fault_app = typer.Typer(no_args_is_help=True, help="Fault injection: make matching operations fail or slow.")

OP_COLUMNS = [
    ("name", "operation"),
    ("kind", "kind"),
    ("status", "status"),
    ("startTime", "started"),
    ("dueTime", "due"),
    ("endTime", "ended"),
    ("resourceId", "resource"),
]
FAULT_COLUMNS = [
    ("id", "id"),
    ("kind", "kind"),
    ("action", "action"),
    ("resource_contains", "resource contains"),
    ("region", "region"),
    ("error_code", "error code"),
    ("error_message", "message"),
    ("delay_seconds", "delay s"),
    ("remaining", "remaining"),
]


def _ts(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def _finished(op: dict[str, Any]) -> bool:
    # (a deployment's status says Running until it ends; endTime is what marks the end for every kind)
    return op.get("endTime") is not None


def _operations(client: Client) -> list[dict[str, Any]]:
    return list(client.admin("GET", "/operations")["value"])


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def wait_due(client: Client, now: str, timeout: float) -> None:
    """After the clock moved: wait (with a progress bar) until every operation due by ``now`` has ended."""
    due_by = _ts(now)
    pending = {o["name"] for o in _operations(client) if not _finished(o) and _ts(o.get("dueTime")) <= due_by}
    if not pending:
        return
    deadline = time.monotonic() + timeout
    with _progress() as progress:
        task = progress.add_task("operations finishing", total=len(pending))
        while True:
            left = {o["name"] for o in _operations(client) if o["name"] in pending and not _finished(o)}
            progress.update(task, completed=len(pending) - len(left))
            if not left:
                return
            if time.monotonic() > deadline:
                raise AzureCallError(
                    0,
                    "Timeout",
                    f"{len(left)} operation(s) due on azemu's clock still running after {timeout:g} s",
                )
            time.sleep(0.1)


# the clock -----------------------------------------------------------------------------------------------
def _clock_table(view: dict[str, Any]) -> RenderableType:
    return pairs({"now": view["now"], "offset (s)": view["offsetSeconds"], "latency": view["latency"]})


@clock_app.command("show")
def clock_show(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show azemu's clock: now, the offset tests added, the latency profile."""
    with reported():
        emit(Client(data_dir, port).admin("GET", "/clock"), output, _clock_table)


@clock_app.command("advance")
def clock_advance(
    seconds: Annotated[float, typer.Argument(min=0, help="How far to move the clock, in seconds.")],
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the operations now due have ended.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many (real) seconds.")] = 120,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Move azemu's clock forward: operations that fall due end now (a progress bar shows them finishing)."""
    with reported():
        client = Client(data_dir, port)
        view = client.admin("POST", "/clock", {"advance": seconds})
        if wait:
            wait_due(client, view["now"], timeout)
        emit(view, output, _clock_table)


@clock_app.command("set-latency")
def clock_set_latency(
    profile: Annotated[str, typer.Argument(help="instant | realistic | scaled:<factor>")],
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Switch the latency profile of operations started from now on."""
    with reported():
        emit(Client(data_dir, port).admin("POST", "/clock", {"latency": profile}), output, _clock_table)


# faults --------------------------------------------------------------------------------------------------
def _faults_table(data: Any) -> RenderableType:
    return rows(data if isinstance(data, list) else [data], FAULT_COLUMNS, empty="(no fault rules)")


@fault_app.command("add")
def fault_add(
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="Operation kind, e.g. virtualMachines.start (see azemu operations), or *."
        ),
    ] = "*",
    resource_contains: Annotated[
        str | None, typer.Option("--resource-contains", help="Only resources whose id contains this.")
    ] = None,
    action: Annotated[str, typer.Option("--action", help="fail | delay")] = "fail",
    error_code: Annotated[
        str | None, typer.Option("--error-code", help="The error code it fails with.")
    ] = None,
    message: Annotated[str | None, typer.Option("--message", help="The error message it fails with.")] = None,
    delay_seconds: Annotated[
        float | None, typer.Option("--delay-seconds", help="With --action delay: seconds added.")
    ] = None,
    remaining: Annotated[
        int | None, typer.Option("--remaining", help="Apply to this many operations.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only this region of a replication.")] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Add a fault rule: matching operations end Failed with the error (as Azure surfaces an asynchronous
    failure) or take longer."""
    body: dict[str, Any] = {"kind": kind, "action": action}
    for key, value in (
        ("resource_contains", resource_contains),
        ("error_code", error_code),
        ("error_message", message),
        ("delay_seconds", delay_seconds),
        ("remaining", remaining),
        ("region", region),
    ):
        if value is not None:
            body[key] = value
    with reported():
        emit(Client(data_dir, port).admin("POST", "/faults", body), output, _faults_table)


@fault_app.command("list")
def fault_list(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List the fault rules."""
    with reported():
        emit(Client(data_dir, port).admin("GET", "/faults")["value"], output, _faults_table)


@fault_app.command("remove")
def fault_remove(
    fault_id: Annotated[str, typer.Argument(help="The rule's id (azemu fault list).")],
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Remove one fault rule."""
    with reported():
        emit(Client(data_dir, port).admin("DELETE", f"/faults/{fault_id}"), output)


@fault_app.command("clear")
def fault_clear(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Remove every fault rule."""
    with reported():
        emit(Client(data_dir, port).admin("DELETE", "/faults")["value"], output, _faults_table)


# operations ----------------------------------------------------------------------------------------------
def _short_time(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%m-%d %H:%M:%S") if value else ""


def _short_resource(rid: str | None) -> str:
    """``RG/type/NAME`` of a resource id (the full id is in ``-o json``)."""
    if not rid:
        return ""
    parts = rid.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    rg = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""
    tail = parts[lowered.index("providers") + 2 :] if "providers" in lowered else parts[-1:]
    return "/".join([rg, *tail]) if rg else "/".join(tail)


def _ops_table(ops: list[dict[str, Any]]) -> RenderableType:
    shown = [
        {
            **o,
            "startTime": _short_time(o.get("startTime")),
            "dueTime": _short_time(o.get("dueTime")),
            "endTime": _short_time(o.get("endTime")),
            "resourceId": _short_resource(o.get("resourceId")),
        }
        for o in ops
    ]
    return rows(shown, OP_COLUMNS, empty="(no operations)")


def operations(
    unfinished: Annotated[bool, typer.Option("--unfinished", help="Only operations still running.")] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind, e.g. virtualMachines.start.")
    ] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """List long-running operations: kind, status, start, due and end time on azemu's clock, resource."""
    with reported():
        ops = _operations(Client(data_dir, port))
    if unfinished:
        ops = [o for o in ops if not _finished(o)]
    if kind:
        ops = [o for o in ops if str(o.get("kind", "")).lower() == kind.lower()]
    emit(ops, output, _ops_table)


def wait(
    operation: Annotated[
        list[str] | None,
        typer.Option("--operation", help="An operation id (repeatable); all unfinished operations if none."),
    ] = None,
    advance: Annotated[
        bool,
        typer.Option("--advance", help="Move azemu's clock to their due time instead of waiting for it."),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many (real) seconds.")] = 600,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Wait until operations end, with a progress bar per operation (by azemu's clock); exit 1 if one failed."""
    with reported():
        client = Client(data_dir, port)
        ops = _operations(client)
        if operation:
            wanted = {o.lower() for o in operation}
            ops = [o for o in ops if o["name"].lower() in wanted]
            missing = wanted - {o["name"].lower() for o in ops}
            if missing:
                raise AzureCallError(404, "OperationNotFound", f"No operation '{sorted(missing)[0]}'.")
        else:
            ops = [o for o in ops if not _finished(o)]
        final = _follow(client, [o["name"] for o in ops], timeout, advance)
    emit(final, output, _ops_table)
    failed = [o for o in final if o.get("status") in ("Failed", "Canceled")]
    for o in failed:
        err = o.get("error") or {}
        err_console.print(
            f"[red]azemu: {o['name']} {o['status']}:[/] {err.get('code', '')}: {err.get('message', '')}"
        )
    if failed:
        raise typer.Exit(1)


def _follow(client: Client, names: list[str], timeout: float, advance: bool) -> list[dict[str, Any]]:
    """Poll until the operations end; with ``advance``, move the clock to the latest due time whenever an
    operation is due later (again if one is rescheduled, as a hung script or a replication wave is)."""
    deadline = time.monotonic() + timeout
    with _progress() as progress:
        tasks: dict[str, Any] = {}
        while True:
            by_name = {o["name"]: o for o in _operations(client) if o["name"] in names}
            now = _ts(client.admin("GET", "/clock")["now"])
            due_later = [_ts(o.get("dueTime")) for o in by_name.values() if not _finished(o)]
            if advance and due_later and max(due_later) > now:
                now = _ts(client.admin("POST", "/clock", {"advance": max(due_later) - now})["now"])
            for name in names:
                op = by_name[name]
                start, due = _ts(op.get("startTime")), _ts(op.get("dueTime"))
                if name not in tasks:
                    tasks[name] = progress.add_task(
                        f"{op.get('kind')} {name[:8]}", total=max(due - start, 0.001)
                    )
                done = _finished(op)
                progress.update(
                    tasks[name], completed=(due - start) if done else min(max(now - start, 0), due - start)
                )
            if all(_finished(by_name[n]) for n in names):
                return [by_name[n] for n in names]
            if time.monotonic() > deadline:
                left = sum(not _finished(by_name[n]) for n in names)
                raise AzureCallError(0, "Timeout", f"{left} operation(s) still running after {timeout:g} s")
            time.sleep(0.2)


# content, GC, conflicts, metrics, reset ------------------------------------------------------------------
def _content_table(data: dict[str, Any]) -> RenderableType:
    stats = {k: v for k, v in data.items() if k != "audit"}
    parts: list[RenderableType] = [pairs(stats, title="content store")]
    if data.get("audit"):
        parts.append(pairs(data["audit"], title="start-up audit"))
    return Group(*parts)


def content(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show the content store (blobs, bytes, references, missing) and the start-up audit's report."""
    with reported():
        emit(Client(data_dir, port).admin("GET", "/content"), output, _content_table)


def gc(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Remove the content blobs nothing references, now (the collector also runs every few seconds)."""
    with reported():
        emit(Client(data_dir, port).admin("POST", "/gc"), output, lambda d: pairs(d, title="content store"))


def conflicts(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List VMs that share a SID, machine-id, SSH host key or computer name."""
    with reported():
        found = Client(data_dir, port).admin("GET", "/identity-conflicts")["value"]
    emit(found, output, lambda groups: rows(groups, empty="(no identity conflicts)"))


def metrics(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show the server's CPU time and the seconds spent inside guest code per entry point."""
    with reported():
        data = Client(data_dir, port).admin("GET", "/metrics")
    emit(
        data,
        output,
        lambda d: Group(
            pairs({"process CPU seconds": d["processCpuSeconds"]}),
            pairs(d["guestSeconds"], title="seconds in guest code"),
        ),
    )


def reset(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Forget every resource, operation, extra tenant and fault (the default tenant and subscription remain)."""
    with reported():
        emit(Client(data_dir, port).admin("POST", "/reset"), output)


def register(app: typer.Typer) -> None:
    app.add_typer(clock_app, name="clock")
    app.add_typer(fault_app, name="fault")
    for command in (operations, wait, content, gc, conflicts, metrics, reset):
        app.command()(command)
