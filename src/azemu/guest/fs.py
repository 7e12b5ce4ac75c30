"""An in-memory filesystem holding a guest's files, serialisable to JSON.

Linux guests use POSIX paths (case-sensitive). Windows guests use the same structure with
``case_insensitive=True``; Windows paths are mapped with :func:`win_path` (``C:\\Windows\\X`` ->
``/C:/Windows/X``). Each node keeps the case it was created with.
"""

from __future__ import annotations

import base64
import fnmatch
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from azemu.guest import lazyfile


class FsError(Exception):
    """A filesystem error, with the errno-style name the shell prints (ENOENT, EEXIST, ENOTDIR, EISDIR)."""

    def __init__(self, errno: str, path: str) -> None:
        super().__init__(f"{errno}: {path}")
        self.errno = errno
        self.path = path


Loader = Callable[[tuple[str, ...]], bytes]


class Node:
    """One path. A large file's content may stay in the content store (``chunks``) until something reads it:
    loading a disk costs metadata, not bytes. Assigning ``data`` makes the node dirty (``chunks`` cleared)."""

    __slots__ = ("_data", "_loader", "_size", "chunks", "gid", "kind", "mode", "mtime", "name", "uid")

    def __init__(
        self,
        kind: str,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        data: bytes = b"",
        mtime: float = 0.0,
        name: str = "",
        *,
        chunks: tuple[str, ...] | None = None,
        size: int = 0,
        loader: Loader | None = None,
    ) -> None:
        self.kind = kind  # "f" file | "d" directory | "l" symlink
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.name = name  # the path as created (case kept on case-insensitive filesystems)
        self.chunks = chunks
        self._loader = loader
        self._data: bytes | None = None if chunks is not None else data
        self._size = size if chunks is not None else len(data)

    @property
    def data(self) -> bytes:
        """File content, or the symlink target."""
        if self._data is None:
            assert self._loader is not None and self.chunks is not None
            self._data = self._loader(self.chunks)
        return self._data

    @data.setter
    def data(self, value: bytes) -> None:
        self._data = value
        self._size = len(value)
        self.chunks = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def loaded(self) -> bool:
        return self._data is not None


def win_path(path: str) -> str:
    """``C:\\Windows\\System32`` or ``C:/Windows`` -> ``/C:/Windows/System32``; POSIX paths pass through."""
    p = path.replace("\\", "/")
    if len(p) >= 2 and p[1] == ":":
        p = "/" + p[0].upper() + ":" + p[2:]
    return p


class GuestFS:
    def __init__(self, case_insensitive: bool = False) -> None:
        self.ci = case_insensitive
        self._nodes: dict[str, Node] = {}
        self._nodes[self._key("/")] = Node("d", 0o755, name="/")

    # paths -------------------------------------------------------------------------------------------
    def norm(self, path: str) -> str:
        p = win_path(path) if self.ci else path
        if not p.startswith("/"):
            p = "/" + p
        p = posixpath.normpath(p)
        return "/" if p in ("/", "//") else p

    def _key(self, path: str) -> str:
        return path.lower() if self.ci else path

    def _get(self, path: str) -> Node | None:
        return self._nodes.get(self._key(self.norm(path)))

    # queries -----------------------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return self._get(path) is not None

    def is_file(self, path: str) -> bool:
        n = self._get(path)
        return n is not None and n.kind == "f"

    def is_dir(self, path: str) -> bool:
        n = self._get(path)
        return n is not None and n.kind == "d"

    def is_symlink(self, path: str) -> bool:
        n = self._get(path)
        return n is not None and n.kind == "l"

    def stat(self, path: str) -> Node:
        n = self._get(path)
        if n is None:
            raise FsError("ENOENT", path)
        return n

    def read(self, path: str) -> bytes:
        n = self._get(path)
        if n is None:
            raise FsError("ENOENT", path)
        if n.kind == "d":
            raise FsError("EISDIR", path)
        if n.kind == "l":
            return self.read(posixpath.join(posixpath.dirname(self.norm(path)), n.data.decode()))
        return lazyfile.materialize(n.data)  # a lazy file (guest/lazyfile.py) reads as what it stands for

    def read_text(self, path: str, default: str | None = None) -> str:
        try:
            return self.read(path).decode("utf-8", "replace")
        except FsError:
            if default is not None:
                return default
            raise

    def listdir(self, path: str) -> list[str]:
        """Names of the direct children, sorted."""
        base = self.norm(path)
        node = self._get(base)
        if node is None:
            raise FsError("ENOENT", path)
        if node.kind != "d":
            raise FsError("ENOTDIR", path)
        prefix = self._key(base.rstrip("/") + "/")
        names = []
        for key, n in self._nodes.items():
            if key.startswith(prefix) and key != prefix and "/" not in key[len(prefix) :]:
                names.append(posixpath.basename(n.name))
        return sorted(names)

    def walk(self, path: str = "/") -> list[str]:
        """Every path at or below ``path`` (as created), sorted."""
        base = self._key(self.norm(path))
        prefix = base.rstrip("/") + "/"
        return sorted(n.name for k, n in self._nodes.items() if k == base or k.startswith(prefix))

    def glob(self, pattern: str) -> list[str]:
        pat = self.norm(pattern)
        if self.ci:
            return sorted(n.name for k, n in self._nodes.items() if fnmatch.fnmatchcase(k, pat.lower()))
        return sorted(
            n.name
            for k, n in self._nodes.items()
            if fnmatch.fnmatchcase(k, pat) and k.count("/") == pat.count("/")
        )

    # changes -----------------------------------------------------------------------------------------
    def mkdir(
        self, path: str, mode: int = 0o755, *, parents: bool = True, uid: int = 0, gid: int = 0
    ) -> None:
        p = self.norm(path)
        if self.exists(p):
            if not self.is_dir(p):
                raise FsError("EEXIST", path)
            return
        parent = posixpath.dirname(p)
        if not self.exists(parent):
            if not parents:
                raise FsError("ENOENT", parent)
            self.mkdir(parent, 0o755, parents=True)
        elif not self.is_dir(parent):
            raise FsError("ENOTDIR", parent)
        self._nodes[self._key(p)] = Node("d", mode, uid, gid, name=p)

    def write(
        self,
        path: str,
        data: bytes | str,
        mode: int | None = None,
        *,
        uid: int | None = None,
        gid: int | None = None,
        append: bool = False,
        mtime: float = 0.0,
    ) -> None:
        p = self.norm(path)
        raw = data.encode() if isinstance(data, str) else data
        existing = self._get(p)
        if existing is not None and existing.kind == "d":
            raise FsError("EISDIR", path)
        parent = posixpath.dirname(p)
        if not self.exists(parent):
            self.mkdir(parent)
        if existing is not None and existing.kind == "f":
            existing.data = existing.data + raw if append else raw
            if mode is not None:
                existing.mode = mode
            if uid is not None:
                existing.uid = uid
            if gid is not None:
                existing.gid = gid
            existing.mtime = mtime or existing.mtime
            return
        self._nodes[self._key(p)] = Node(
            "f", 0o644 if mode is None else mode, uid or 0, gid or 0, raw, mtime, p
        )

    def symlink(self, target: str, path: str) -> None:
        p = self.norm(path)
        parent = posixpath.dirname(p)
        if not self.exists(parent):
            self.mkdir(parent)
        self._nodes[self._key(p)] = Node("l", 0o777, data=target.encode(), name=p)

    def chmod(self, path: str, mode: int) -> None:
        self.stat(path).mode = mode

    def chown(self, path: str, uid: int, gid: int) -> None:
        n = self.stat(path)
        n.uid, n.gid = uid, gid

    def remove(self, path: str) -> None:
        """Delete a file or symlink (``rm``)."""
        p = self.norm(path)
        n = self._get(p)
        if n is None:
            raise FsError("ENOENT", path)
        if n.kind == "d":
            raise FsError("EISDIR", path)
        del self._nodes[self._key(p)]

    def rmtree(self, path: str) -> None:
        """Delete a path and everything below it (``rm -rf``); missing paths are fine."""
        base = self._key(self.norm(path))
        if base == "/":
            raise FsError("EPERM", path)
        prefix = base.rstrip("/") + "/"
        for key in [k for k in self._nodes if k == base or k.startswith(prefix)]:
            del self._nodes[key]

    def empty_dir(self, path: str) -> None:
        """Delete everything inside a directory, keeping the directory."""
        if not self.is_dir(path):
            return
        for name in self.listdir(path):
            self.rmtree(posixpath.join(self.norm(path), name))

    def nodes(self) -> Iterator[Node]:
        """Every node, sorted by path (for writers of disk trees)."""
        yield from sorted(self._nodes.values(), key=lambda n: n.name)

    def add_node(self, node: Node) -> None:
        """Insert a node as stored (for readers of disk trees)."""
        self._nodes[self._key(node.name)] = node

    # serialisation -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "ci": self.ci,
            "nodes": [
                [n.name, n.kind, n.mode, n.uid, n.gid, base64.b64encode(n.data).decode(), n.mtime]
                for n in sorted(self._nodes.values(), key=lambda n: n.name)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GuestFS:
        fs = cls(bool(data.get("ci")))
        for name, kind, mode, uid, gid, b64, mtime in data["nodes"]:
            fs._nodes[fs._key(name)] = Node(kind, mode, uid, gid, base64.b64decode(b64), mtime, name)
        return fs

    def copy(self) -> GuestFS:
        fs = GuestFS(self.ci)
        for n in self._nodes.values():
            if n.loaded:
                clone = Node(n.kind, n.mode, n.uid, n.gid, n.data, n.mtime, n.name)
            else:
                clone = Node(
                    n.kind,
                    n.mode,
                    n.uid,
                    n.gid,
                    b"",
                    n.mtime,
                    n.name,
                    chunks=n.chunks,
                    size=n.size,
                    loader=n._loader,
                )
            fs._nodes[fs._key(n.name)] = clone
        return fs
