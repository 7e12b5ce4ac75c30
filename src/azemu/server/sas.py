"""The data plane behind ``beginGetAccess``: a SAS URL that serves the disk as a fixed VHD.

Authorised by the URL's signature (as Azure Storage SAS URLs are), not by a bearer token; expiry and
revocation are checked on every request. As Azure Blob storage serves a page blob:

* ``GET``/``HEAD`` answer the whole blob (``Content-Length``, ``Accept-Ranges: bytes``);
* ``Range: bytes=a-b`` (or ``x-ms-range``) answers ``206`` with ``Content-Range``;
* ``GET ?comp=pagelist`` ("Get Page Ranges") lists the ranges that hold data: everything else reads as zeros,
  which is how tools (``azemu disk download --sparse``, AzCopy) avoid fetching a 30 GiB disk that is mostly
  empty.

A disk exports at its full size (a fixed VHD is as large as the disk): every answer carries an
``x-azemu-warning`` header saying so, and a full download is logged.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from azemu.arm.http import FileBody, Request, Response
from azemu.arm.router import Router
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError

log = logging.getLogger("azemu.sas")

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
PAGE = 512


def _invalid_range() -> AzureError:
    return AzureError(
        "The range specified is invalid for the current size of the resource.",
        code="InvalidRange",
        status=416,
    )


def parse_range(value: str, total: int) -> tuple[int, int]:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` -> (start, end) inclusive, clipped to the blob."""
    m = _RANGE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise _invalid_range()
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else total - 1, total - 1)
    else:
        start, end = max(0, total - int(m.group(2))), total - 1
    if start > end or start >= total:
        raise _invalid_range()
    return start, end


def data_ranges(path: Path, start: int, end: int) -> list[tuple[int, int]]:
    """The byte ranges of ``path`` within ``start..end`` (inclusive) that may hold data, page-aligned.

    Holes of the (sparse) exported file read as zeros and are left out; where the file system cannot tell
    holes apart, the whole range is reported (correct, just not sparse)."""
    out: list[tuple[int, int]] = []
    stop = end + 1
    with open(path, "rb") as fh:
        fd = fh.fileno()
        pos = start
        while pos < stop:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after pos
                break
            if data >= stop:
                break
            hole = min(os.lseek(fd, data, os.SEEK_HOLE), stop)
            first = max(start, data - data % PAGE)
            last = min(end, hole + (-hole % PAGE) - 1)
            if out and first <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], last))
            else:
                out.append((first, last))
            pos = hole
    return out


def page_list_xml(ranges: list[tuple[int, int]]) -> bytes:
    body = "".join(f"<PageRange><Start>{a}</Start><End>{b}</End></PageRange>" for a, b in ranges)
    return f'<?xml version="1.0" encoding="utf-8"?><PageList>{body}</PageList>'.encode()


def size_warning(total: int) -> str:
    return (
        f"this export is a fixed VHD of {total / 1024**3:.1f} GiB (as large as the disk); fetch only what you "
        "need with Range requests or the page list (?comp=pagelist), e.g. azemu disk download --sparse"
    )


class SasEndpoint:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def register(self, router: Router) -> None:
        router.add("GET", "/_azemu/sas/{token}/{blob}", self.download, api=None, auth=False)
        router.add("HEAD", "/_azemu/sas/{token}/{blob}", self.download, api=None, auth=False)

    def download(self, req: Request) -> Response:
        rec = self.emu.disks.resolve_sas(req.params["token"], req.query.get("sig", ""))
        with self.emu.store.read() as tx:
            digest = self.emu.content.digest(tx, rec.id)
        if digest is None:
            raise AzureError("The specified blob does not exist.", code="BlobNotFound", status=404)
        path = self.emu.exports.vhd_for(digest, int(rec.body["properties"]["diskSizeGB"]))
        total = path.stat().st_size
        headers = {
            "Accept-Ranges": "bytes",
            "x-ms-blob-type": "PageBlob",
            "x-ms-blob-content-length": str(total),
            "ETag": f'"{digest[:16]}"',
            "x-azemu-warning": size_warning(total),
        }
        rng = req.header("range") or req.header("x-ms-range")
        if (req.query.get("comp") or "").lower() == "pagelist" and req.method == "GET":
            start, end = parse_range(rng, total) if rng else (0, total - 1)
            return Response(
                200,
                page_list_xml(data_ranges(path, start, end)),
                headers=headers,
                content_type="application/xml",
            )
        if rng:
            start, end = parse_range(rng, total)
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            return Response(
                206, FileBody(path, start, end), headers=headers, content_type="application/octet-stream"
            )
        if req.method == "GET":
            log.warning("SAS download of %s: streaming all of it; %s", rec.id, size_warning(total))
        return Response(
            200, FileBody(path, 0, total - 1), headers=headers, content_type="application/octet-stream"
        )


class BlobEndpoint:
    """The blobs a backup restore writes to a storage account (its VM configuration and template), behind
    SAS URLs signed with the account's key - the only blobs azemu serves (domain/storage_accounts.py)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def register(self, router: Router) -> None:
        router.add("GET", "/_azemu/blob/{account}/{container}/{blob}", self.download, api=None, auth=False)

    def download(self, req: Request) -> Response:
        p = req.params
        data = self.emu.storage_accounts.read_blob(p["account"], p["container"], p["blob"], dict(req.query))
        return Response(200, data, headers={"x-ms-blob-type": "BlockBlob"}, content_type="application/json")
