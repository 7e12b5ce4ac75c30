"""``azemu``: serve, env, az, status, reset."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from azemu.cli import clientenv
from azemu.clock.profiles import parse_profile
from azemu.server.datadir import default_data_dir, open_data_dir
from azemu.settings import Settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="azemu: a local emulator of Azure's VM image lifecycle."
)
console = Console(stderr=True, soft_wrap=True)

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ~/.azemu).")]
PortOpt = Annotated[int, typer.Option("--port", help="Port azemu listens on.")]


def _data_dir(value: Path | None) -> Path:
    return (value or default_data_dir()).expanduser().resolve()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: PortOpt = 8443,
    data_dir: DataDirOpt = None,
    in_memory: Annotated[bool, typer.Option("--in-memory", help="Keep state in memory only.")] = False,
    latency: Annotated[str, typer.Option(help="instant | realistic | scaled:<factor>")] = "instant",
    loose: Annotated[bool, typer.Option("--loose", help="Accept any api-version.")] = False,
    rules: Annotated[
        str, typer.Option(help="azure (default) | textbook (the seed's stricter rules)")
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
            data_dir=_data_dir(data_dir),
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
    proxy_port: Annotated[int, typer.Option("--proxy-port")] = clientenv.DEFAULT_PROXY_PORT,
    ssh_port: Annotated[str, typer.Option("--ssh-port", help="The port guests' SSH is served on.")] = "auto",
    hosts: Annotated[
        bool, typer.Option("--hosts", help="Print /etc/hosts lines for tools that ignore proxies.")
    ] = False,
) -> None:
    """Print the shell ``export`` lines that point az and the Azure SDK at azemu (``--proxy``: tools that
    only know the public cloud, such as Packer, Ansible, Terraform; see docs/tools.md)."""
    data = open_data_dir(_data_dir(data_dir))
    if hosts:
        print(clientenv.hosts_block())
        return
    values = clientenv.proxy_env_vars(data, proxy_port) if proxy else clientenv.env_vars(data, port)
    try:
        values["AZEMU_SSH_PORT"] = str(clientenv.resolve_ssh_port(ssh_port))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ssh-port") from None
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
    data = open_data_dir(_data_dir(data_dir))
    target = Path("/usr/local/share/ca-certificates/azemu-local-ca.crt")
    if remove:
        if target.exists():
            target.unlink()
        done = subprocess.run(["update-ca-certificates", "--fresh"], capture_output=True, text=True)
        console.print("azemu's CA removed from the system store." if done.returncode == 0 else done.stderr)
        raise typer.Exit(done.returncode)
    console.print(
        "[yellow]Warning:[/] this makes EVERY program on this machine trust azemu's local CA "
        f"({data.tls.ca_cert}). azemu issues certificates for Azure's own host names (management.azure.com, "
        "login.microsoftonline.com ...): with this CA trusted system-wide, anything that can read the CA key "
        'in the data directory can impersonate Azure to this machine. Prefer `eval "$(azemu env --proxy)"`, '
        "which trusts it per process. Undo with `azemu trust --remove`."
    )
    if not yes and not typer.confirm("Install azemu's CA system-wide?", default=False):
        raise typer.Exit(1)
    if shutil.which("update-ca-certificates") is None:
        console.print("[red]azemu:[/] update-ca-certificates not found (Debian/Ubuntu's ca-certificates).")
        raise typer.Exit(2)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.tls.ca_cert, target)
    except OSError as exc:
        console.print(f"[red]azemu:[/] {exc} (run as root)")
        raise typer.Exit(2) from None
    done = subprocess.run(["update-ca-certificates"], capture_output=True, text=True)
    console.print(done.stdout.strip() or done.stderr.strip())
    raise typer.Exit(done.returncode)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def az(
    ctx: typer.Context,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Run the real az CLI against azemu (isolated profile, logged in as the default service principal)."""
    data = open_data_dir(_data_dir(data_dir))
    az_bin = clientenv.find_az() or clientenv.install_az()
    try:
        env_ = clientenv.ensure_az_login(az_bin, data, port)
    except RuntimeError as exc:
        console.print(f"[red]azemu:[/] {exc}\nIs azemu running on port {port}? Start it with: azemu serve")
        raise typer.Exit(2) from None
    done = subprocess.run([az_bin, *ctx.args], env=env_)
    raise typer.Exit(done.returncode)


def _admin_raw(
    data_dir: Path, port: int, method: str, path: str, body: dict[str, Any] | None = None
) -> bytes:
    data = open_data_dir(data_dir)
    ep = clientenv.endpoint_for(port)
    context = ssl.create_default_context(cafile=str(data.tls.ca_cert))
    d = data.defaults
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": d.client_id,
            "client_secret": d.client_secret,
            "scope": "https://management.azure.com/.default",
        }
    )
    with urllib.request.urlopen(f"{ep}/{d.tenant_id}/oauth2/v2.0/token", form.encode(), context=context) as r:
        token = json.load(r)["access_token"]
    req = urllib.request.Request(
        f"{ep}{path}",
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, context=context) as r:
        return bytes(r.read())


def _admin(data_dir: Path, port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return json.loads(_admin_raw(data_dir, port, method, path, body))


guest_app = typer.Typer(no_args_is_help=True, help="Look inside a VM's guest without Run Command.")
app.add_typer(guest_app, name="guest")
VmOpt = Annotated[
    str, typer.Option("--vm", help="The VM: a resource id, or RG/NAME in the default subscription.")
]


def _vm_id(root: Path, vm: str) -> str:
    if vm.lower().startswith("/subscriptions/"):
        return vm
    rg, _, name = vm.partition("/")
    sub = open_data_dir(root).defaults.subscription_id
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"


def _guest_call(data_dir: Path | None, port: int, what: str, vm: str, **query: str) -> bytes:
    root = _data_dir(data_dir)
    params = urllib.parse.urlencode({"vm": _vm_id(root, vm), **query})
    try:
        return _admin_raw(root, port, "GET", f"/_azemu/guest/{what}?{params}")
    except urllib.error.HTTPError as err:
        console.print(f"[red]{json.loads(err.read()).get('error', {}).get('message', err)}[/]")
        raise typer.Exit(1) from None


@guest_app.command("cat")
def guest_cat(path: str, vm: VmOpt, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Print a file of the guest (e.g. /etc/hostname or C:\\Windows\\Setup\\State\\State.ini)."""
    sys.stdout.buffer.write(_guest_call(data_dir, port, "file", vm, path=path))


@guest_app.command("ls")
def guest_ls(path: str, vm: VmOpt, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List a directory of the guest."""
    print("\n".join(json.loads(_guest_call(data_dir, port, "dir", vm, path=path))["entries"]))


@guest_app.command("reg")
def guest_reg(
    key: str,
    vm: VmOpt,
    name: Annotated[str | None, typer.Argument()] = None,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Show a registry key or value of a Windows guest."""
    query = {"key": key, **({"name": name} if name else {})}
    print(json.dumps(json.loads(_guest_call(data_dir, port, "registry", vm, **query)), indent=2))


@guest_app.command("identity")
def guest_identity(vm: VmOpt, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show the guest's identity: computer name, SID / machine-id, SSH host keys, users."""
    print(json.dumps(json.loads(_guest_call(data_dir, port, "identity", vm)), indent=2))


@app.command()
def capture(
    vm: VmOpt,
    image: Annotated[str, typer.Option("--image", help="Name (or id) of the managed image to create.")],
    keep_vm: Annotated[bool, typer.Option("--keep-vm", help="Do not delete the VM afterwards.")] = False,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Capture a generalized VM into a managed image, then delete the VM (the portal's "automatically delete
    this virtual machine after creating the image"): image first, never the other way round."""
    root = _data_dir(data_dir)
    body = {"vm": _vm_id(root, vm), "image": image, "deleteVm": not keep_vm}
    try:
        print(json.dumps(_admin(root, port, "POST", "/_azemu/capture", body), indent=2))
    except urllib.error.HTTPError as err:
        console.print(f"[red]{json.loads(err.read()).get('error', {}).get('message', err)}[/]")
        raise typer.Exit(1) from None


@app.command()
def conflicts(data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List VMs that share a SID, machine-id, SSH host key or computer name."""
    print(
        json.dumps(_admin(_data_dir(data_dir), port, "GET", "/_azemu/identity-conflicts")["value"], indent=2)
    )


@app.command()
def status(data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Show whether azemu answers, and its clock and tenants."""
    root = _data_dir(data_dir)
    try:
        data = open_data_dir(root)
        context = ssl.create_default_context(cafile=str(data.tls.ca_cert))
        with urllib.request.urlopen(f"{clientenv.endpoint_for(port)}/_azemu/health", context=context) as r:
            health = json.load(r)
        result = {
            "health": health,
            "clock": _admin(root, port, "GET", "/_azemu/clock"),
            "tenants": _admin(root, port, "GET", "/_azemu/tenants")["value"],
        }
    except (urllib.error.URLError, OSError) as exc:
        console.print(f"[red]azemu is not answering on port {port}:[/] {exc}")
        raise typer.Exit(1) from None
    print(json.dumps(result, indent=2))


@app.command()
def reset(data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Forget every resource and operation (the default tenant and subscription remain)."""
    print(json.dumps(_admin(_data_dir(data_dir), port, "POST", "/_azemu/reset"), indent=2))


def main() -> None:  # pragma: no cover - console entry
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(prog_name="azemu")
    sys.exit(0)
