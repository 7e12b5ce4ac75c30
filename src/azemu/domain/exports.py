"""Disk export: the fixed VHD a SAS URL serves, built from the disk's content tree (cached per tree)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

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

    def guest(self, digest: str) -> Guest:
        return self.content.read_guest(digest)
