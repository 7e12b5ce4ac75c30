"""Scenario 2's admin commands: the platform catalog on azemu's clock (``azemu catalog``) and Image Builder's
logs (``azemu imagebuilder log``)."""

from __future__ import annotations

import sys
import urllib.parse
from typing import Annotated

import typer

from azemu.cli.common import Client, DataDirOpt, PortOpt, reported, resource_id
from azemu.cli.output import Output, OutputOpt, emit, pairs, rows

catalog_app = typer.Typer(
    no_args_is_help=True, help="The platform image catalog: publish new image versions on azemu's clock."
)
imagebuilder_app = typer.Typer(no_args_is_help=True, help="Azure VM Image Builder: read a build's logs.")

CATALOG_COLUMNS = [
    ("image", "image"),
    ("version", "version"),
    ("appearsAt", "appears at"),
    ("visible", "visible"),
]


@catalog_app.command("publish")
def catalog_publish(
    image: Annotated[str, typer.Argument(help="publisher:offer:sku (an image of the catalog)")],
    version: Annotated[str, typer.Argument(help="the new version, e.g. 22.04.202407010")],
    at: Annotated[str | None, typer.Option("--at", help="when it appears (ISO 8601, azemu's clock)")] = None,
    in_seconds: Annotated[
        float | None, typer.Option("--in", help="appears this many seconds from now on azemu's clock")
    ] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Publish a new version of a platform image (now, or at a time on azemu's clock): `latest` names it
    from then on, and Image Builder's source-image triggers notice it."""
    body: dict[str, object] = {"image": image, "version": version}
    if at is not None:
        body["at"] = at
    if in_seconds is not None:
        body["inSeconds"] = in_seconds
    with reported():
        result = Client(data_dir, port).admin("POST", "/catalog/versions", body)
    emit(result, output, pairs)


@catalog_app.command("list")
def catalog_list(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """The versions published on azemu's clock (the shipped ones: az vm image list --all)."""
    with reported():
        result = Client(data_dir, port).admin("GET", "/catalog/versions")
    emit(result["value"], output, lambda v: rows(v, CATALOG_COLUMNS, empty="(nothing published)"))


@imagebuilder_app.command("log")
def imagebuilder_log(
    template: Annotated[
        str, typer.Argument(help="the image template: a resource id, or RESOURCE_GROUP/NAME")
    ],
    run: Annotated[
        int | None, typer.Option("--run", help="which run (1 = the first; default the last)")
    ] = None,
    validation: Annotated[bool, typer.Option("--validation", help="validation.log instead")] = False,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Print a build's customization.log (as Azure keeps it in the staging group's storage account)."""
    with reported():
        client = Client(data_dir, port)
        query = {"template": resource_id(client, template, "Microsoft.VirtualMachineImages/imageTemplates")}
        if run is not None:
            query["run"] = str(run)
        if validation:
            query["log"] = "validation"
        data = client.call_raw("GET", "/_azemu/imagebuilder/logs?" + urllib.parse.urlencode(query))
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


RUN_COLUMNS = [
    ("runId", "run"),
    ("state", "state"),
    ("subState", "sub-state"),
    ("start", "start"),
    ("end", "end"),
]


@imagebuilder_app.command("runs")
def imagebuilder_runs(
    template: Annotated[
        str, typer.Argument(help="the image template: a resource id, or RESOURCE_GROUP/NAME")
    ],
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """A template's runs: state, times on azemu's clock, and (-o json) what each stage cost azemu itself."""
    with reported():
        client = Client(data_dir, port)
        query = {"template": resource_id(client, template, "Microsoft.VirtualMachineImages/imageTemplates")}
        result = client.admin("GET", "/imagebuilder/runs?" + urllib.parse.urlencode(query))
    emit(result["value"], output, lambda v: rows(v, RUN_COLUMNS, empty="(no runs)"))


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(imagebuilder_app, name="imagebuilder")
