"""Disk content: which tree each disk, snapshot or image points to, with reference counts and GC.

Every change goes through the caller's transaction: a capture either commits the image's reference to
the tree or leaves nothing behind. Blobs are written before that commit (content-addressed, so writing
twice is harmless); blobs that no committed reference holds are removed by :meth:`collect` - after
deletes, and at start-up for anything a crash left half-done.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
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


# Content keys. A resource holds content under its own key, and - for what it holds beside its OS disk -
# under keys derived from it: one place defines them, so deleting a resource releases all it holds.
def data_key(owner_id: str, lun: Any) -> str:
    """Where an image's or gallery version's data disk (``lun``) content is referenced from."""
    return f"{owner_id}#lun{lun}"


def replica_key(owner_id: str, region: str) -> str:
    """Where a gallery version's replica in ``region`` is referenced from."""
    return f"{owner_id}@{region}"


def owner_of(key: str) -> str:
    """The resource key a content key belongs to."""
    return key.split("#", 1)[0].split("@", 1)[0]


@dataclass
class AuditReport:
    """What the start-up audit found and repaired (``GET /_azemu/content`` shows the last one)."""

    at: float = 0.0
    references: int = 0
    leaked: list[str] = field(default_factory=list)  # references whose resource no longer exists (released)
    recounted: int = 0  # blobs whose reference count was wrong (corrected)
    missing: list[str] = field(default_factory=list)  # blobs referenced but absent from the blob store
    orphans: int = 0  # blobs no reference holds (removed)


class DiskContent:
    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs
        self._gc_lock = threading.RLock()
        self.last_audit: AuditReport | None = None
        # a tree is immutable (content-addressed): what it keeps alive is read once, not on every link
        self._refs: dict[str, frozenset[str]] = {}

    def references(self, digest: str) -> frozenset[str]:
        found = self._refs.get(digest)
        if found is None:
            found = frozenset(trees.references(self.blobs, digest))
            if len(self._refs) >= 4096:
                self._refs.pop(next(iter(self._refs)))
            self._refs[digest] = found
        return found

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
        for d in self.references(digest):
            deltas[d] += 1
        if old is not None:
            for d in self.references(old):
                deltas[d] -= 1
        tx.change_refs(dict(deltas))
        tx.put_content(k, digest)

    def unlink(self, tx: Txn, key: str) -> None:
        k = ids.key_of(key)
        old = tx.get_content(k)
        if old is None:
            return
        tx.change_refs({d: -1 for d in self.references(old)})
        tx.delete_content(k)

    def release(self, tx: Txn, owner: str) -> int:
        """Drop every content reference a resource holds (its own, its data disks', its replicas');
        returns how many. The one place a delete releases content."""
        keys = [k for k, _ in tx.list_content(ids.key_of(owner))]
        for k in keys:
            self.unlink(tx, k)
        return len(keys)

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
        """Blobs written by work that never committed (a crash mid-capture) are removed."""
        with self._gc_lock:
            with self.store.read() as tx:
                live = tx.live_refs()
            self.collect()
            return len(self.blobs.sweep(live))

    def audit(self, now: float) -> AuditReport:
        """Mark and sweep, as Azurite's blob GC does: every content reference whose resource is gone is
        released; every blob's reference count is recomputed from the references that remain; blobs no
        reference holds are removed; referenced blobs missing from the store are reported."""
        report = AuditReport(at=now)
        with self._gc_lock:
            with self.store.transaction() as tx:
                refs = tx.list_content()
                for key, _digest in refs:
                    if tx.get_resource(owner_of(key)) is None:
                        report.leaked.append(key)
                        tx.delete_content(key)
                expected: Counter[str] = Counter()
                for key, digest in refs:
                    if key in report.leaked:
                        continue
                    try:
                        expected.update(self.references(digest))
                    except Exception:  # the tree itself is unreadable: reported as missing below
                        expected[digest] += 1
                report.references = len(refs) - len(report.leaked)
                actual = tx.all_refs()
                report.recounted = sum(
                    1 for d in set(actual) | set(expected) if actual.get(d, 0) != expected.get(d, 0)
                )
                if report.recounted:
                    tx.set_refs(dict(expected))
            present = set(self.blobs.digests())
            report.missing = sorted(set(expected) - present)
            report.orphans = len(self.blobs.sweep(list(expected)))
        self.last_audit = report
        return report

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
