"""Disk content: which tree each disk, snapshot or image points to, with reference counts and GC.

Every change goes through the caller's transaction: a capture either commits the image's reference to
the tree or leaves nothing behind. Blobs are written before that commit (content-addressed, so writing
twice is harmless); blobs that no committed reference holds are removed by :meth:`collect` - after
deletes, and at start-up for anything a crash left half-done.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from azemu.domain import ids
from azemu.domain.errors import AzureError
from azemu.guest.fs import GuestFS, Node
from azemu.guest.machine import Guest
from azemu.guest.registry import Registry
from azemu.state.store import Store, Txn
from azemu.storage import trees
from azemu.storage.blobs import BlobStore


class ContentMissing(AzureError):
    code, status = "InternalDiskManagementError", 500


class DiskContent:
    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs
        self._gc_lock = threading.RLock()

    # references --------------------------------------------------------------------------------------
    def digest(self, tx: Txn, key: str) -> str | None:
        return tx.get_content(ids.key_of(key))

    def link(self, tx: Txn, key: str, digest: str) -> None:
        """Point ``key`` (a disk, snapshot, image ... id) at a tree: metadata only, no bytes copied."""
        k = ids.key_of(key)
        old = tx.get_content(k)
        if old == digest:
            return
        deltas: Counter[str] = Counter()
        for d in trees.references(self.blobs, digest):
            deltas[d] += 1
        if old is not None:
            for d in trees.references(self.blobs, old):
                deltas[d] -= 1
        tx.change_refs(dict(deltas))
        tx.put_content(k, digest)

    def unlink(self, tx: Txn, key: str) -> None:
        k = ids.key_of(key)
        old = tx.get_content(k)
        if old is None:
            return
        tx.change_refs({d: -1 for d in trees.references(self.blobs, old)})
        tx.delete_content(k)

    def copy(self, tx: Txn, source_key: str, target_key: str) -> str:
        digest = self.digest(tx, source_key)
        if digest is None:
            raise ContentMissing(f"The content of '{source_key}' is missing.")
        self.link(tx, target_key, digest)
        return digest

    # guests ------------------------------------------------------------------------------------------
    def save_guest(self, tx: Txn, key: str, guest: Guest) -> str:
        digest = self.write_guest(guest)
        self.link(tx, key, digest)
        return digest

    def write_guest(self, guest: Guest) -> str:
        files = []
        for n in guest.fs.nodes():
            if n.kind == "f" and not n.loaded and n.chunks is not None:
                files.append(
                    trees.TreeFile(n.name, n.kind, n.mode, n.uid, n.gid, n.mtime, None, n.chunks, n.size)
                )
            elif n.kind == "f" and n.size > trees.INLINE_MAX:
                chunks = trees.chunk_and_store(self.blobs, n.data)
                n.chunks = chunks  # clean again: the next save reuses the chunk list
                files.append(
                    trees.TreeFile(n.name, n.kind, n.mode, n.uid, n.gid, n.mtime, None, chunks, n.size)
                )
            else:
                files.append(
                    trees.TreeFile(
                        n.name,
                        n.kind,
                        n.mode,
                        n.uid,
                        n.gid,
                        n.mtime,
                        n.data if n.kind != "d" else b"",
                        None,
                        n.size,
                    )
                )
        meta: dict[str, Any] = {
            "osType": guest.os_type,
            "distro": guest.distro,
            "ci": guest.fs.ci,
            "registry": guest.registry.to_dict() if guest.registry is not None else None,
        }
        return trees.write_tree(self.blobs, meta, files)

    def load_guest(self, tx: Txn, key: str) -> Guest:
        digest = self.digest(tx, key)
        if digest is None:
            raise ContentMissing(f"The content of '{key}' is missing.")
        return self.read_guest(digest)

    def read_guest(self, digest: str) -> Guest:
        meta, files = trees.read_tree(self.blobs, digest)
        fs = GuestFS(bool(meta.get("ci")))

        def loader(chunks: tuple[str, ...]) -> bytes:
            return trees.load_chunks(self.blobs, chunks)

        for f in files:
            if f.chunks is not None:
                fs.add_node(
                    Node(
                        f.kind,
                        f.mode,
                        f.uid,
                        f.gid,
                        b"",
                        f.mtime,
                        f.path,
                        chunks=f.chunks,
                        size=f.size,
                        loader=loader,
                    )
                )
            else:
                fs.add_node(Node(f.kind, f.mode, f.uid, f.gid, f.inline or b"", f.mtime, f.path))
        reg = meta.get("registry")
        return Guest(meta["osType"], meta["distro"], fs, Registry.from_dict(reg) if reg is not None else None)

    # garbage collection ------------------------------------------------------------------------------
    def collect(self) -> int:
        """Delete blobs no committed reference holds; returns how many were removed."""
        with self._gc_lock:
            with self.store.transaction() as tx:
                dead = tx.dead_refs()
                tx.drop_refs(dead)
            for d in dead:
                self.blobs.delete(d)
            return len(dead)

    def sweep_orphans(self) -> int:
        """At start-up: blobs written by work that never committed (a crash mid-capture) are removed."""
        with self._gc_lock:
            with self.store.read() as tx:
                live = tx.live_refs()
            self.collect()
            return len(self.blobs.sweep(live))

    def stats(self) -> dict[str, int]:
        digests = list(self.blobs.digests())
        with self.store.read() as tx:
            live = set(tx.live_refs())
        return {
            "blobs": len(digests),
            "bytes": sum(self.blobs.size(d) for d in digests),
            "referenced": len(live),
            "unreferenced": len(set(digests) - live),
            "missing": len(live - set(digests)),
        }
