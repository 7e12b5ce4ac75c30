"""Commands that write raw bytes: ``dd`` and ``fallocate`` (for putting real content on a disk)."""

from __future__ import annotations

import os
import re

from azemu.guest.fs import FsError
from azemu.guest.linux.shcore import Io, Shell, command, strerror

_UNITS = {
    "": 1,
    "c": 1,
    "w": 2,
    "b": 512,
    "k": 1024,
    "K": 1024,
    "M": 1024**2,
    "G": 1024**3,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}
_LIMIT = 2 * 1024**3  # a guard: azemu keeps a guest's written data in memory while a script runs
_RUN_KEY = "blockio.written"  # bytes dd and fallocate wrote in this run (shared by its subshells)


def _spend(sh: Shell, size: int) -> bool:
    """Count ``size`` more raw bytes against the run's budget (``_LIMIT`` in all, however many commands or
    loop turns write them: a guest writing without end fills its disk); False once it would be exceeded."""
    spent = int(sh.state.get(_RUN_KEY, 0))
    if spent + size > _LIMIT:
        return False
    sh.state[_RUN_KEY] = spent + size
    return True


def _size(text: str) -> int | None:
    m = re.fullmatch(r"(\d+)([a-zA-Z]*)", text)
    if not m or m.group(2) not in _UNITS:
        return None
    return int(m.group(1)) * _UNITS[m.group(2)]


def _source(sh: Shell, name: str, size: int) -> bytes:
    if name == "/dev/zero":
        return bytes(size)
    if name in ("/dev/urandom", "/dev/random"):
        return os.urandom(size)
    return sh.fs.read(sh.path(name))[:size]


@command("dd")
def _dd(sh: Shell, argv: list[str], io: Io) -> int:
    opts = dict(a.split("=", 1) for a in argv[1:] if "=" in a)
    bs = _size(opts.get("bs", "512"))
    count = opts.get("count")
    n = None if count is None else _size(count)
    if bs is None or (count is not None and n is None):
        io.error(f"dd: invalid number: '{opts.get('bs') if bs is None else count}'")
        return 1
    src, dst = opts.get("if"), opts.get("of")
    if src in (None, "/dev/zero", "/dev/urandom", "/dev/random") and n is None:
        io.error("dd: an input of unbounded size needs count=")
        return 1
    total = bs * n if n is not None else None
    if total is not None and total > _LIMIT:
        io.error(f"dd: azemu limits one write to {_LIMIT // 1024**3} GiB")
        return 1
    try:
        data = _source(sh, src, total if total is not None else _LIMIT) if src else io.stdin.encode()[:total]
    except FsError as e:
        io.error(f"dd: failed to open '{src}': {strerror(e)}")
        return 1
    if dst is None or dst == "/dev/null":
        pass
    elif not _spend(sh, len(data)):
        io.error(f"dd: error writing '{dst}': No space left on device")
        return 1
    else:
        try:
            sh.fs.write(sh.path(dst), data, mtime=sh.now)
        except FsError as e:
            io.error(f"dd: failed to open '{dst}': {strerror(e)}")
            return 1
    records = len(data) // bs
    io.error(
        f"{records}+{1 if len(data) % bs else 0} records in\n{records}+{1 if len(data) % bs else 0} records out\n"
        f"{len(data)} bytes copied, 0.01 s, {len(data) // 1024**2} MB/s"
    )
    return 0


@command("fallocate")
def _fallocate(sh: Shell, argv: list[str], io: Io) -> int:
    args = argv[1:]
    if "-l" not in args or args.index("-l") + 2 > len(args):
        io.error("fallocate: no length argument specified")
        return 1
    i = args.index("-l")
    size = _size(args[i + 1].rstrip("iB") if args[i + 1].endswith("iB") else args[i + 1])
    target = [a for j, a in enumerate(args) if j not in (i, i + 1)]
    if size is None or not target:
        io.error(
            "fallocate: invalid length value specified"
            if size is None
            else "fallocate: no filename specified"
        )
        return 1
    if size > _LIMIT:
        io.error(f"fallocate: azemu limits one file to {_LIMIT // 1024**3} GiB")
        return 1
    if not _spend(sh, size):
        io.error("fallocate: fallocate failed: No space left on device")
        return 1
    sh.fs.write(sh.path(target[0]), bytes(size), mtime=sh.now)
    return 0
