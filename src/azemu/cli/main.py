"""``azemu``: serve, env, az, status; the admin commands (cli/admin.py, cli/tenancy.py), guest inspection and
capture (cli/guest.py), disk download (cli/disk.py) and the generated docs (cli/docs.py)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from typing import Annotated, Any

import typer
from rich.console import Group

from azemu.cli import admin, clientenv, disk, docs, guest, tenancy
from azemu.cli.common import Client, DataDirOpt, PortOpt, data_dir_of, err_console, reported
from azemu.cli.output import Output, OutputOpt, emit, pairs, rows
from azemu.clock.profiles import parse_profile
from azemu.server.datadir import open_data_dir
from azemu.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="azemu: a local emulator of Azure's VM image lifecycle. Client commands talk to the azemu on "
    "--port (or $AZEMU_PORT) with the data directory --data-dir (or $AZEMU_DATA_DIR).",
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: PortOpt = 8443,
    data_dir: DataDirOpt = None,
    in_memory: Annotated[bool, typer.Option("--in-memory", help="Keep state in memory only.")] = False,
    latency: Annotated[str, typer.Option(help="instant | realistic | scaled:<factor>")] = "instant",
    loose: Annotated[bool, typer.Option("--loose", help="Accept any api-version.")] = False,
    rules: Annotated[
        str, typer.Option(help="azure (default) | textbook (the AZ-104 chapter's stricter rules)")
    ] = "azure",
    log_level: Annotated[str, typer.Option(help="debug | info | warning | error")] = "info",
    no_access_log: Annotated[bool, typer.Option("--no-access-log", help="Do not log each request.")] = False,
) -> None:
    """Run azemu (HTTPS; a local CA and certificate are created in the data directory on first start)."""
    from azemu.server.runner import serve as run

    try:
        profile = parse_profile(latency)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--latency") from None
    if rules not in ("azure", "textbook"):
        raise typer.BadParameter("use 'azure' or 'textbook'", param_hint="--rules")
    run(
        Settings(
            data_dir=data_dir_of(data_dir),
            host=host,
            port=port,
            in_memory=in_memory,
            latency=profile,
            loose=loose,
            rules=rules,
            log_level=log_level,
            access_log=not no_access_log,
        )
    )


@app.command()
def env(data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Print the shell ``export`` lines that point az, the Azure SDK and later azemu commands at azemu."""
    data = open_data_dir(data_dir_of(data_dir))
    for key, value in clientenv.env_vars(data, port).items():
        print(f"export {key}={shlex.quote(value)}")


@app.command(
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
    }
)
def az(
    ctx: typer.Context,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            envvar="AZEMU_VERBOSE",
            help="Say which az CLI runs and with which profile (before the az arguments; after them, "
            "--verbose is az's own).",
        ),
    ] = False,
) -> None:
    """Run the real az CLI against azemu (isolated profile, logged in as the default service principal).

    The az used: the checkout's pinned one (.venv-az), else $AZEMU_AZ_CLI, else az on PATH, else one
    installed once into ~/.azemu-az."""
    data = open_data_dir(data_dir_of(data_dir))
    found = clientenv.find_az() or clientenv.install_az()
    env_ = clientenv.az_env(data, port)
    if verbose:
        err_console.print(
            f"azemu: using {found.path} ({found.source}); profile {env_['AZURE_CONFIG_DIR']}; "
            f"endpoint {clientenv.endpoint_for(port)}"
        )
    try:
        env_ = clientenv.ensure_az_login(found.path, data, port)
    except RuntimeError as exc:
        err_console.print(
            f"[red]azemu:[/] {exc}\nIs azemu running on port {port}? Start it with: azemu serve"
        )
        raise typer.Exit(2) from None
    done = subprocess.run([found.path, *ctx.args], env=env_)
    raise typer.Exit(done.returncode)


def _status_table(result: dict[str, Any]) -> Group:
    health = result["health"]
    clock = result["clock"]
    return Group(
        pairs(
            {
                "endpoint": result["endpoint"],
                "version": health.get("version"),
                "status": health.get("status"),
                "latency": health.get("latency"),
                "rules": health.get("rules"),
                "in memory": health.get("inMemory"),
                "uptime (s)": health.get("uptimeSeconds"),
                "clock": clock.get("now"),
                "clock offset (s)": clock.get("offsetSeconds"),
            },
            title="azemu",
        ),
        rows(
            result["tenants"],
            [("tenantId", "tenant"), ("displayName", "name"), ("subscriptions", "subscriptions")],
            title="tenants",
        ),
    )


@app.command()
def status(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show whether azemu answers, and its version, latency profile, clock and tenants."""
    with reported():
        client = Client(data_dir, port)
        result = {
            "endpoint": client.endpoint,
            "health": client.health(),
            "clock": client.admin("GET", "/clock"),
            "tenants": client.admin("GET", "/tenants")["value"],
        }
    emit(result, output, _status_table)


admin.register(app)
tenancy.register(app)
guest.register(app)
disk.register(app)
docs.register(app)


def main() -> None:  # pragma: no cover - console entry
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="azemu")
    sys.exit(0)
