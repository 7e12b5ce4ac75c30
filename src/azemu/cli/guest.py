"""Looking inside a VM's guest without Run Command, and capture-and-delete."""

from __future__ import annotations

import json
import sys
import urllib.parse
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType

from azemu.cli.common import Client, DataDirOpt, PortOpt, reported, vm_id, write_stdout
from azemu.cli.output import Output, OutputOpt, emit, pairs, rows

guest_app = typer.Typer(no_args_is_help=True, help="Look inside a VM's guest without Run Command.")
VmOpt = Annotated[
    str, typer.Option("--vm", help="The VM: a resource id, or RG/NAME in the default subscription.")
]


def _guest_call(client: Client, what: str, vm: str, **query: str) -> bytes:
    params = urllib.parse.urlencode({"vm": vm_id(client, vm), **query})
    return client.call_raw("GET", f"/_azemu/guest/{what}?{params}")


@guest_app.command("cat")
def guest_cat(path: str, vm: VmOpt, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """Print a file of the guest (e.g. /etc/hostname or C:\\Windows\\Setup\\State\\State.ini)."""
    with reported():
        data = _guest_call(Client(data_dir, port), "file", vm, path=path)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@guest_app.command("ls")
def guest_ls(path: str, vm: VmOpt, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List a directory of the guest, one name a line."""
    with reported():
        entries = json.loads(_guest_call(Client(data_dir, port), "dir", vm, path=path))["entries"]
    if entries:
        write_stdout("\n".join(entries))


def _reg_table(data: dict[str, Any]) -> RenderableType:
    if "name" in data:
        return pairs(data)
    values = data.get("values") or {}
    items = [{"name": k, "value": v} for k, v in values.items()] if isinstance(values, dict) else list(values)
    return Group(
        rows(items, title=data["key"], empty="(no values)"),
        rows([{"subkey": s} for s in data.get("subkeys") or []], empty="(no subkeys)"),
    )


@guest_app.command("reg")
def guest_reg(
    key: str,
    vm: VmOpt,
    name: Annotated[str | None, typer.Argument()] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Show a registry key (values and subkeys) or one value of a Windows guest."""
    query = {"key": key, **({"name": name} if name else {})}
    with reported():
        data = json.loads(_guest_call(Client(data_dir, port), "registry", vm, **query))
    emit(data, output, _reg_table)


@guest_app.command("identity")
def guest_identity(
    vm: VmOpt, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """Show the guest's identity: computer name, SID / machine-id, SSH host keys, users."""
    with reported():
        data = json.loads(_guest_call(Client(data_dir, port), "identity", vm))
    emit(data, output)


@guest_app.command("load")
def guest_load(
    vm: VmOpt,
    cores: Annotated[float | None, typer.Option("--cores", help="vCPUs to keep busy.")] = None,
    percent: Annotated[
        float | None, typer.Option("--percent", help="Or: a share of the VM size's vCPUs.")
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option("--seconds", help="For how long on azemu's clock (default: until stopped)."),
    ] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Keep a guest's CPUs busy (a busy process, as `stress-ng` in the guest makes): its Percentage CPU."""
    with reported():
        client = Client(data_dir, port)
        body: dict[str, Any] = {"vm": vm_id(client, vm)}
        for key, value in (("cores", cores), ("percent", percent), ("seconds", seconds)):
            if value is not None:
                body[key] = value
        emit(client.admin("POST", "/guest/load", body), output)


@guest_app.command("unload")
def guest_unload(
    vm: VmOpt, output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443
) -> None:
    """End every busy process in a guest now."""
    with reported():
        client = Client(data_dir, port)
        query = urllib.parse.urlencode({"vm": vm_id(client, vm)})
        emit(client.admin("DELETE", f"/guest/load?{query}"), output)


def capture(
    vm: VmOpt,
    image: Annotated[str, typer.Option("--image", help="Name (or id) of the managed image to create.")],
    keep_vm: Annotated[bool, typer.Option("--keep-vm", help="Do not delete the VM afterwards.")] = False,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Capture a generalized VM into a managed image, then delete the VM (the portal's "automatically delete
    this virtual machine after creating the image"): image first, never the other way round."""
    with reported():
        client = Client(data_dir, port)
        body = {"vm": vm_id(client, vm), "image": image, "deleteVm": not keep_vm}
        emit(client.admin("POST", "/capture", body), output)


def register(app: typer.Typer) -> None:
    app.add_typer(guest_app, name="guest")
    app.command()(capture)
