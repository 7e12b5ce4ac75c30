"""What ``GET /_azemu/health`` reports beyond "up": the data directory's free space and the store's errors.

``degraded`` (still answering, but something needs an operator) when the data directory's file system has less
than ``min_free_bytes`` left, or when a request failed on the store or the file system (a full disk, an I/O
error). A full disk answers each write 503 ``ServiceUnavailable`` with a message saying so; what was
acknowledged before stays (SQLite's transaction is rolled back, content blobs are written before the
transaction that references them, and swept when nothing does).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

MIN_FREE_BYTES = int(os.environ.get("AZEMU_MIN_FREE_MB", "256")) * 1024**2


def disk_full(exc: BaseException) -> bool:
    """Whether an exception (or what caused it) is the file system or SQLite saying the disk is full."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError) and "full" in str(seen).lower():
            return True
        if "database or disk is full" in str(seen) or "No space left on device" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "orig", None)
    return False


def store_trouble(exc: BaseException) -> bool:
    """A failure of the store or the file system (not a bug in azemu's rules)."""
    if disk_full(exc):
        return True
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.Error | OSError) or type(seen).__module__.startswith("sqlalchemy"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Health:
    def __init__(self, root: Path | None, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        self.root = root  # None: in memory, nothing on disk to watch
        self.min_free_bytes = min_free_bytes
        self.store_errors = 0
        self.last_store_error: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def store_failed(self, exc: BaseException) -> None:
        with self._lock:
            self.store_errors += 1
            self.last_store_error = (time.time(), f"{type(exc).__name__}: {exc}"[:300])

    def report(self) -> dict[str, Any]:
        problems: list[dict[str, Any]] = []
        disk: dict[str, Any] | None = None
        if self.root is not None:
            try:
                usage = shutil.disk_usage(self.root)
                disk = {"path": str(self.root), "freeBytes": usage.free, "totalBytes": usage.total}
                if usage.free < self.min_free_bytes:
                    problems.append(
                        {
                            "code": "DiskNearlyFull",
                            "message": f"The data directory {self.root} has {usage.free // 1024**2} MiB free "
                            f"(under {self.min_free_bytes // 1024**2} MiB): writes will soon fail with 503.",
                        }
                    )
            except OSError as exc:
                problems.append({"code": "DataDirUnreadable", "message": str(exc)})
        if self.last_store_error is not None:
            at, text = self.last_store_error
            problems.append(
                {
                    "code": "StoreErrors",
                    "message": f"{self.store_errors} request(s) failed on the store or file system; last: {text}",
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
                }
            )
        out: dict[str, Any] = {"status": "degraded" if problems else "ok", "problems": problems}
        if disk is not None:
            out["disk"] = disk
        return out
