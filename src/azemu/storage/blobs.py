"""Content-addressed, immutable blobs: the bytes behind every disk, snapshot, image and replica.

A blob's name is the SHA-256 of its bytes, so identical content is stored once, and nothing is ever
modified in place: a "copy" of a disk is a new reference to the same blobs. Writes are crash-safe
(temporary file, fsync, rename, fsync of the directory); a blob either exists complete or not at all.
Which blobs are still wanted is decided by reference counts kept in the state store (one transaction with
the resource change); :meth:`BlobStore.sweep` removes the rest.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """On disk under ``root`` (``content/`` in the data directory), or in memory when ``root`` is None."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._mem: dict[str, bytes] = {}
        self._lock = threading.Lock()
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
            self._cleanup_temp()

    def _path(self, digest: str) -> Path:
        assert self.root is not None
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a blob digest: {digest!r}")
        return self.root / digest[:2] / digest[2:]

    def _cleanup_temp(self) -> None:
        """Half-written temporary files from a crash are never blobs: remove them."""
        assert self.root is not None
        for tmp in self.root.glob("*/.tmp-*"):
            tmp.unlink(missing_ok=True)

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if self.root is None:
            with self._lock:
                self._mem.setdefault(digest, data)
            return digest
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(exist_ok=True)
        tmp = path.parent / f".tmp-{path.name}-{os.getpid()}-{threading.get_ident()}"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return digest

    def get(self, digest: str) -> bytes:
        if self.root is None:
            return self._mem[digest]
        return self._path(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        if self.root is None:
            return digest in self._mem
        return self._path(digest).exists()

    def size(self, digest: str) -> int:
        if self.root is None:
            return len(self._mem[digest])
        return self._path(digest).stat().st_size

    def delete(self, digest: str) -> None:
        if self.root is None:
            with self._lock:
                self._mem.pop(digest, None)
            return
        self._path(digest).unlink(missing_ok=True)

    def digests(self) -> Iterator[str]:
        if self.root is None:
            yield from list(self._mem)
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for f in sub.iterdir():
                    if not f.name.startswith(".tmp-"):
                        yield sub.name + f.name

    def bytes_stored(self) -> int:
        return sum(self.size(d) for d in self.digests())

    def sweep(self, wanted: Iterable[str]) -> list[str]:
        """Delete every blob not in ``wanted``; returns what was deleted."""
        keep = set(wanted)
        gone = [d for d in self.digests() if d not in keep]
        for d in gone:
            self.delete(d)
        return gone
