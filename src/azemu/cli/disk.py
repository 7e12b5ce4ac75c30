"""``azemu disk download``: fetch an exported disk (a fixed VHD as large as the disk) as a sparse file.

The SAS URL behind ``az disk grant-access`` answers ``Range`` requests and its page list (``?comp=pagelist``,
Azure's "Get Page Ranges"); only the ranges that hold data are fetched, in chunks, and the file is written by
seeking over everything else, so a 30 GiB disk with a few hundred MiB of files takes a few hundred MiB of
transfer and of disk space.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from azemu.cli.common import AzureCallError, Client, DataDirOpt, PortOpt, err_console, reported, resource_id
from azemu.cli.output import Output, OutputOpt, emit
from azemu.domain import apiversions

disk_app = typer.Typer(no_args_is_help=True, help="Exported disks: download a disk's VHD.")

MIB = 1024 * 1024
ZERO_BLOCK = 64 * 1024  # the granularity at which zeros are skipped (and left as holes)
_ZEROS = bytes(ZERO_BLOCK)


def page_ranges(client: Client, url: str, total: int) -> list[tuple[int, int]]:
    """The ranges that hold data (Get Page Ranges); the whole blob if the server cannot tell."""
    sep = "&" if "?" in url else "?"
    try:
        _, _, raw = client.raw("GET", f"{url}{sep}comp=pagelist")
        root = ET.fromstring(raw)
    except (AzureCallError, ET.ParseError):
        return [(0, total - 1)] if total else []
    return [(int(r.findtext("Start") or 0), int(r.findtext("End") or 0)) for r in root.iter("PageRange")]


def _write_nonzero(fd: int, offset: int, data: bytes) -> int:
    """Write ``data`` at ``offset`` except its all-zero blocks (left as holes); returns the bytes written."""
    view = memoryview(data)
    written = 0
    run_start: int | None = None
    for pos in range(0, len(view), ZERO_BLOCK):
        block = view[pos : pos + ZERO_BLOCK]
        zero = block == _ZEROS[: len(block)]
        if not zero and run_start is None:
            run_start = pos
        if zero and run_start is not None:
            written += os.pwrite(fd, view[run_start:pos], offset + run_start)
            run_start = None
    if run_start is not None:
        written += os.pwrite(fd, view[run_start:], offset + run_start)
    return written


def download(client: Client, url: str, target: Path, *, sparse: bool, chunk: int) -> dict[str, Any]:
    _, headers, _ = client.raw("HEAD", url)
    total = int(headers["content-length"])
    ranges = page_ranges(client, url, total) if sparse else ([(0, total - 1)] if total else [])
    to_fetch = sum(b - a + 1 for a, b in ranges)
    fetched = written = 0
    tmp = target.with_name(target.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, total)  # the full size, all holes: what is never written reads as zeros
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as progress:
            task = progress.add_task(f"{target.name}", total=to_fetch)
            for first, last in ranges:
                for start in range(first, last + 1, chunk):
                    end = min(start + chunk, last + 1) - 1
                    _, _, data = client.raw("GET", url, None, {"Range": f"bytes={start}-{end}"})
                    if len(data) != end - start + 1:
                        raise AzureCallError(
                            0, "ShortRead", f"asked for bytes {start}-{end}, got {len(data)} bytes"
                        )
                    if sparse:
                        written += _write_nonzero(fd, start, data)
                    else:
                        written += os.pwrite(fd, data, start)
                    fetched += len(data)
                    progress.update(task, completed=fetched)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, target)
    st = target.stat()
    return {
        "file": str(target),
        "size": total,
        "fetched": fetched,
        "written": written,
        "allocated": st.st_blocks * 512,
    }


def _grant(client: Client, rid: str, seconds: int) -> str:
    api = _api_version(rid)
    out = client.lro(
        "POST", f"{rid}/beginGetAccess?api-version={api}", {"access": "Read", "durationInSeconds": seconds}
    )
    return str(out["accessSAS"])


def _revoke(client: Client, rid: str) -> None:
    client.lro("POST", f"{rid}/endGetAccess?api-version={_api_version(rid)}")


def _api_version(rid: str) -> str:
    rtype = "snapshots" if "/providers/microsoft.compute/snapshots/" in rid.lower() else "disks"
    versions = apiversions.supported("Microsoft.Compute", rtype)
    return next((v for v in versions if "preview" not in v), versions[0])


@disk_app.command("download")
def disk_download(
    source: Annotated[
        str,
        typer.Argument(
            help="A SAS URL (az disk grant-access), or a disk or snapshot: a resource id, or RG/NAME "
            "(access is granted for the download and revoked afterwards)."
        ),
    ],
    target: Annotated[Path, typer.Argument(help="The file to write (a fixed VHD).")],
    sparse: Annotated[
        bool,
        typer.Option(
            "--sparse/--no-sparse", help="Fetch only the ranges that hold data; write a sparse file."
        ),
    ] = True,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="RG/NAME names a snapshot, not a disk.")
    ] = False,
    chunk_mib: Annotated[int, typer.Option("--chunk-mib", min=1, help="Size of each ranged request.")] = 4,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Download an exported disk as a (sparse) fixed VHD."""
    with reported():
        client = Client(data_dir, port)
        granted: str | None = None
        if source.startswith("https://"):
            url = source  # trusted with the data directory's CA, whatever port it names
        else:
            rtype = "Microsoft.Compute/snapshots" if snapshot else "Microsoft.Compute/disks"
            granted = resource_id(client, source, rtype)
            url = _grant(client, granted, 3600)
        try:
            result = download(client, url, target, sparse=sparse, chunk=chunk_mib * MIB)
        finally:
            if granted is not None:
                _revoke(client, granted)
    emit(result, output)


def register(app: typer.Typer) -> None:
    app.add_typer(disk_app, name="disk")
