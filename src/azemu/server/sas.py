"""The data plane behind ``beginGetAccess``: a SAS URL that serves the disk as a fixed VHD.

Authorised by the URL's signature (as Azure Storage SAS URLs are), not by a bearer token; expiry and
revocation are checked on every request. Supports ``Range`` as blob downloads use it.
"""

from __future__ import annotations

import re

from azemu.arm.http import FileBody, Request, Response
from azemu.arm.router import Router
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
        headers = {"Accept-Ranges": "bytes", "x-ms-blob-type": "PageBlob", "ETag": f'"{digest[:16]}"'}
        rng = req.header("range") or req.header("x-ms-range")
        if rng:
            m = _RANGE.match(rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise AzureError(
                    "The range specified is invalid for the current size of the resource.",
                    code="InvalidRange",
                    status=416,
                )
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)) if m.group(2) else total - 1, total - 1)
            else:
                start, end = max(0, total - int(m.group(2))), total - 1
            if start > end or start >= total:
                raise AzureError(
                    "The range specified is invalid for the current size of the resource.",
                    code="InvalidRange",
                    status=416,
                )
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            return Response(
                206, FileBody(path, start, end), headers=headers, content_type="application/octet-stream"
            )
        return Response(
            200, FileBody(path, 0, total - 1), headers=headers, content_type="application/octet-stream"
        )
