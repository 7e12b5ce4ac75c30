"""``azemu``: serve, env, az, status; the admin commands (cli/admin.py, cli/tenancy.py), guest inspection and
capture (cli/guest.py), disk download (cli/disk.py), the generated docs (cli/docs.py), the labs (cli/lab.py)
and the guided demo (cli/demo.py)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group

from azemu.cli import admin, clientenv, demo, disk, docs, guest, images, lab, tenancy
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
    proxy_port: Annotated[
        int, typer.Option("--proxy-port", help="Loopback HTTPS proxy for Azure's own hosts (0: off).")
    ] = clientenv.DEFAULT_PROXY_PORT,
    ssh_port: Annotated[
        str,
        typer.Option(
            "--ssh-port", help="Port for guests' SSH on their addresses: auto (22 when allowed), N, off."
        ),
    ] = "auto",
    ssh_idle_timeout: Annotated[
        float, typer.Option("--ssh-idle-timeout", help="Seconds before an idle guest SSH session is closed.")
    ] = 1800.0,
) -> None:
    """Run azemu (HTTPS; a local CA and certificate are created in the data directory on first start)."""
    from azemu.server.runner import serve as run

    try:
        profile = parse_profile(latency)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--latency") from None
    if rules not in ("azure", "textbook"):
        raise typer.BadParameter("use 'azure' or 'textbook'", param_hint="--rules")
    try:
        ssh = clientenv.resolve_ssh_port(ssh_port)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ssh-port") from None
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
            proxy_port=proxy_port,
            ssh_port=ssh,
            ssh_idle_timeout=ssh_idle_timeout,
        )
    )


@app.command()
def env(
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
    proxy: Annotated[
        bool, typer.Option("--proxy", help="Point public-cloud tools at azemu through its proxy instead.")
    ] = False,
    hosts: Annotated[
        bool, typer.Option("--hosts", help="Print /etc/hosts lines for tools that ignore proxies.")
    ] = False,
) -> None:
    """Print the shell ``export`` lines that point az, the Azure SDK and later azemu commands at azemu
    (``--proxy``: tools that only know Azure's public cloud - Packer, Ansible, Terraform - reach azemu through
    its proxy; see docs/tools.md). The proxy and SSH ports are the running azemu's."""
    if hosts:
        print(clientenv.hosts_block())
        return
    data = open_data_dir(data_dir_of(data_dir))
    try:
        health = Client(data_dir, port).health()
    except Exception:  # not running: the defaults `azemu serve` would use
        health = {}
    proxy_port = int(health.get("proxyPort") or clientenv.DEFAULT_PROXY_PORT)
    values = clientenv.env_vars(data, port)
    if proxy:
        values = {
            **clientenv.proxy_env_vars(data, proxy_port),
            "AZEMU_PORT": str(port),
            "AZEMU_DATA_DIR": str(data.root),
        }
    ssh_port = health.get("sshPort", clientenv.resolve_ssh_port("auto"))
    if ssh_port:
        values["AZEMU_SSH_PORT"] = str(ssh_port)
    for key, value in values.items():
        print(f"export {key}={shlex.quote(value)}")


@app.command()
def trust(
    data_dir: DataDirOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do it without asking.")] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Take azemu's CA out of the system store.")
    ] = False,
) -> None:
    """Install azemu's local CA into the system trust store (Debian/Ubuntu: update-ca-certificates), for tools
    that read no CA variable. Every program on this machine then trusts certificates azemu issues,
    including ones for Azure's own host names: undo with ``azemu trust --remove``."""
    data = open_data_dir(data_dir_of(data_dir))
    target = Path("/usr/local/share/ca-certificates/azemu-local-ca.crt")
    if remove:
        if target.exists():
            target.unlink()
        done = subprocess.run(["update-ca-certificates", "--fresh"], capture_output=True, text=True)
        err_console.print(
            "azemu's CA removed from the system store." if done.returncode == 0 else done.stderr
        )
        raise typer.Exit(done.returncode)
    err_console.print(
        "[yellow]Warning:[/] this makes EVERY program on this machine trust azemu's local CA "
        f"({data.tls.ca_cert}). azemu issues certificates for Azure's own host names (management.azure.com, "
        "login.microsoftonline.com ...): with this CA trusted system-wide, anything that can read the CA key "
        'in the data directory can impersonate Azure to this machine. Prefer `eval "$(azemu env --proxy)"`, '
        "which trusts it per process. Undo with `azemu trust --remove`."
    )
    if not yes and not typer.confirm("Install azemu's CA system-wide?", default=False):
        raise typer.Exit(1)
    if shutil.which("update-ca-certificates") is None:
        err_console.print(
            "[red]azemu:[/] update-ca-certificates not found (Debian/Ubuntu's ca-certificates)."
        )
        raise typer.Exit(2)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.tls.ca_cert, target)
    except OSError as exc:
        err_console.print(f"[red]azemu:[/] {exc} (run as root)")
        raise typer.Exit(2) from None
    done = subprocess.run(["update-ca-certificates"], capture_output=True, text=True)
    err_console.print(done.stdout.strip() or done.stderr.strip())
    raise typer.Exit(done.returncode)


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
lab.register(app)
demo.register(app)
images.register(app)


def main() -> None:  # pragma: no cover - console entry
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="azemu")
    sys.exit(0)
