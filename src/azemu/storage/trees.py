"""Disk trees: one immutable blob listing a disk's files, whose large contents are chunk blobs.

A tree is what a disk, a snapshot, a managed image or a gallery replica *points to*. Saving a guest writes
only the blobs that changed (unchanged large files keep their chunk lists; small files live inline in the
tree), so capture, snapshot and clone cost metadata; content is shared by construction.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from azemu.storage.blobs import BlobStore

CHUNK = 4 * 1024 * 1024  # large files are stored in 4 MiB content-addressed chunks
INLINE_MAX = 64 * 1024  # files up to this size live inside the tree blob itself
FORMAT = 1


@dataclass(frozen=True)
class TreeFile:
    path: str
    kind: str  # "f" | "d" | "l"
    mode: int
    uid: int
    gid: int
    mtime: float
    inline: bytes | None  # small file content or symlink target
    chunks: tuple[str, ...] | None  # large file content
    size: int


def chunk_and_store(blobs: BlobStore, data: bytes) -> tuple[str, ...]:
    return tuple(blobs.put(data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)) or (blobs.put(b""),)


def write_tree(blobs: BlobStore, meta: dict[str, Any], files: Iterable[TreeFile]) -> str:
    rows = []
    for f in files:
        body: Any = (
            ["c", list(f.chunks)] if f.chunks is not None else base64.b64encode(f.inline or b"").decode()
        )
        rows.append([f.path, f.kind, f.mode, f.uid, f.gid, f.mtime, f.size, body])
    doc = {"format": FORMAT, "meta": meta, "files": rows}
    # compressed: a tree is the whole metadata cost of a snapshot, an image or a recovery point (its small
    # files inline), and it is mostly repetitive JSON
    return blobs.put(zlib.compress(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode(), 6))


def read_tree(blobs: BlobStore, digest: str) -> tuple[dict[str, Any], Iterator[TreeFile]]:
    raw = blobs.get(digest)
    doc = json.loads(raw if raw[:1] == b"{" else zlib.decompress(raw))  # trees written before compression
    if doc.get("format") != FORMAT:
        raise ValueError(f"tree {digest} has unknown format {doc.get('format')}")

    def files() -> Iterator[TreeFile]:
        for path, kind, mode, uid, gid, mtime, size, body in doc["files"]:
            if isinstance(body, list):
                yield TreeFile(path, kind, mode, uid, gid, mtime, None, tuple(body[1]), size)
            else:
                yield TreeFile(path, kind, mode, uid, gid, mtime, base64.b64decode(body), None, size)

    return doc["meta"], files()


def references(blobs: BlobStore, digest: str) -> set[str]:
    """Every blob a tree keeps alive: itself and its chunks."""
    _, files = read_tree(blobs, digest)
    refs = {digest}
    for f in files:
        if f.chunks:
            refs.update(f.chunks)
    return refs


def load_chunks(blobs: BlobStore, chunks: tuple[str, ...]) -> bytes:
    return b"".join(blobs.get(c) for c in chunks)
