"""Disk export: the fixed VHD a SAS URL serves, built from the disk's content tree (cached per tree).

An exported VHD's footer carries the first half of its tree's digest as its unique id, so a VHD azemu exported
can be imported again (a disk ``Import``, a DevTest Labs custom image from a VHD) without reading its bytes."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from azemu.domain import files
from azemu.domain.content import DiskContent
from azemu.guest import lazyfile
from azemu.guest.machine import Guest
from azemu.storage import vhd
from azemu.storage.trees import load_chunks, read_tree

MIB = 1024 * 1024


class Exports:
    def __init__(self, content: DiskContent, work_dir: Path | None) -> None:
        self.content = content
        self._dir = work_dir or Path(tempfile.mkdtemp(prefix="azemu-exports-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def vhd_for(self, digest: str, size_gb: int) -> Path:
        """The VHD of a content tree at a disk size; built once, then served from the cache."""
        size = size_gb * 1024**3
        size -= size % MIB
        out = self._dir / f"{digest}-{size_gb}.vhd"
        with self._lock:
            if out.exists():
                return out
            meta, _ = read_tree(self.content.blobs, digest)
            linux = meta.get("osType") == "Linux"
            vhd.write_fixed_vhd(
                self._entries(digest) if linux else iter(()),
                size,
                out,
                filesystem="ext4" if linux else "none",
                uuid_bytes=bytes.fromhex(digest[:32]),
            )
            return out

    def _entries(self, digest: str) -> Iterator[vhd.FileEntry]:
        _, files = read_tree(self.content.blobs, digest)
        blobs = self.content.blobs
        for f in files:
            if f.path == "/":
                continue
            # large files are read lazily, one at a time, while the filesystem is built
            data: bytes | Callable[[], bytes] = (
                partial(load_chunks, blobs, f.chunks)
                if f.chunks is not None
                else lazyfile.materialize(f.inline or b"")  # a lazy file exports as what it reads as
            )
            yield vhd.FileEntry(f.path, f.kind, f.mode & 0o7777, f.uid, f.gid, f.mtime, data)

    def from_uri(self, uri: str, files_dir: Path | None) -> tuple[str, dict[str, Any], int] | None:
        """What :meth:`imported` says of the VHD a blob URL names (kept under the data directory, offline)."""
        try:
            path = files.resolve(uri, files_dir)
        except files.FetchError:
            return None
        return self.imported(path) if path.is_file() else None

    def imported(self, path: Path) -> tuple[str, dict[str, Any], int] | None:
        """(tree digest, its metadata, disk size in GB) of a VHD azemu exported, or None for any other file."""
        try:
            footer = vhd.read_footer(path)
        except (OSError, ValueError):
            return None
        if footer["cookie"] != "conectix" or not footer["checksum_ok"]:
            return None
        prefix = footer["unique_id"].replace("-", "")
        digest = next((d for d in self.content.blobs.digests() if d.startswith(prefix)), None)
        if digest is None:
            return None
        try:
            meta, _ = read_tree(self.content.blobs, digest)
        except (OSError, ValueError, KeyError):
            return None
        return digest, meta, max(1, -(-int(footer["current_size"]) // 1024**3))

    def guest(self, digest: str) -> Guest:
        return self.content.read_guest(digest)
