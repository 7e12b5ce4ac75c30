"""Fixed VHD export: the bytes behind a disk's SAS download (``beginGetAccess``).

A fixed VHD is the raw disk data followed by a 512-byte footer (Microsoft "Virtual Hard Disk Image Format
Specification", v1.0). For Linux guests the data area holds a real ext4 filesystem populated with the
guest's files, so the download can be inspected with standard tools (``debugfs``, ``e2fsck``, ``qemu-img``,
a loop mount). For Windows guests (``filesystem="none"``) the data area is all zeros: azemu does not
build NTFS.

Layout choice: the ext4 filesystem starts at byte 0 of the disk — there is NO partition table (like the
rootfs images many clouds publish). This keeps the download directly usable by ``debugfs <file.vhd>`` /
``e2fsck <file.vhd>`` / ``mount -o loop,ro <file.vhd>`` (the filesystem's block count is explicit, so the
trailing footer is simply ignored), and with ``qemu-img convert -f vpc``.

How the filesystem is built: ``entries`` are materialised (streamed, one file at a time) into a temporary
staging directory next to ``out`` and ``mke2fs -d`` copies that tree into an image file that was created
sparse with ``truncate``; nothing ever writes zeros (``lazy_journal_init=1``; mke2fs punches/discards the
inode tables of a regular file and knows they read back as zeros). A private ``mke2fs.conf`` pins the
feature set, so the result does not depend on the host's ``/etc/mke2fs.conf``. What is preserved:
ownership, permission bits (incl. setuid/setgid/sticky), symlink targets and mtimes (whole seconds: ``mke2fs
-d`` copies ``st_mtime``; atime is set to the mtime). ctime/crtime are the build time, the filesystem UUID
is random. Attributes of the root directory (an entry with path ``/``) and, when not running as root,
ownership and modes that the staging copy cannot carry, are applied afterwards with ``debugfs -w``.

The result is written to a temporary file next to ``out`` and renamed into place (crash-safe); it has
mode 0600 (a disk may contain keys and secrets).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

MIB = 1024 * 1024
SECTOR = 512
FOOTER_SIZE = 512

#: Seconds between the Unix epoch and the VHD epoch (2000-01-01 00:00:00 UTC).
VHD_EPOCH = 946_684_800
VHD_COOKIE = b"conectix"
VHD_FEATURES = 0x00000002  # "reserved" bit, must always be set
VHD_VERSION = 0x00010000
VHD_FIXED_DATA_OFFSET = 0xFFFF_FFFF_FFFF_FFFF
DISK_TYPE_FIXED = 2
#: Creator application. The spec leaves it free; we use Hyper-V's ``"win "`` on purpose: qemu (and tools built
#: on it) size a VHD from its CHS geometry — which rounds DOWN, truncating the tail of the filesystem — unless
#: the creator is one it knows to use ``current_size`` ("win ", "qem2", "d2v ", "CTXS", "tap\0"). Azure's own
#: disks are Hyper-V VHDs too.
VHD_CREATOR_APP = b"win "
VHD_CREATOR_VERSION = 0x000A0000
VHD_CREATOR_HOST_OS = b"Wi2k"
MAX_CHS_SECTORS = 65535 * 16 * 255

_FOOTER = struct.Struct(">8sIIQI4sI4sQQHBBII16sB427s")
assert _FOOTER.size == FOOTER_SIZE

_E2FSPROGS_HINT = "install the Debian/Ubuntu package 'e2fsprogs' (apt-get install e2fsprogs)"
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")

# Pinned so the filesystem does not depend on the host's /etc/mke2fs.conf. This is the long-standing ext4
# default (Ubuntu 20.04/22.04, Debian 11/12); notably without ``orphan_file`` (kernel >= 5.15 only) and
# ``metadata_csum_seed``, so older kernels and e2fsprogs can read the image.
_MKE2FS_CONF = """\
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
"""


@dataclass(frozen=True)
class FileEntry:
    """One object of a guest filesystem."""

    path: str  # absolute POSIX path inside the filesystem, e.g. "/etc/hostname"
    kind: str  # "f" file | "d" directory | "l" symlink
    mode: int  # permission bits, e.g. 0o644 (no type bits); ignored for symlinks (always 0777)
    uid: int
    gid: int
    mtime: float
    data: bytes | Callable[[], bytes] = b""  # file content (may be lazy), or symlink target for "l"


class VhdFooter(TypedDict):
    cookie: str
    features: int
    version: int
    data_offset: int
    timestamp: float  # Unix time
    creator_app: str
    creator_version: int
    creator_host_os: str
    original_size: int
    current_size: int
    geometry: tuple[int, int, int]  # (cylinders, heads, sectors per track)
    disk_type: int
    checksum: int
    checksum_ok: bool
    unique_id: str  # UUID, canonical text form
    saved_state: int


# --------------------------------------------------------------------------------------------------- footer


def chs_geometry(size_bytes: int) -> tuple[int, int, int]:
    """(cylinders, heads, sectors per track) for a disk of ``size_bytes``: the algorithm of the VHD spec."""
    total_sectors = min(size_bytes // SECTOR, MAX_CHS_SECTORS)
    if total_sectors >= 65535 * 16 * 63:
        sectors_per_track = 255
        heads = 16
        cylinder_times_heads = total_sectors // sectors_per_track
    else:
        sectors_per_track = 17
        cylinder_times_heads = total_sectors // sectors_per_track
        heads = max((cylinder_times_heads + 1023) // 1024, 4)
        if cylinder_times_heads >= heads * 1024 or heads > 16:
            sectors_per_track = 31
            heads = 16
            cylinder_times_heads = total_sectors // sectors_per_track
        if cylinder_times_heads >= heads * 1024:
            sectors_per_track = 63
            heads = 16
            cylinder_times_heads = total_sectors // sectors_per_track
    return cylinder_times_heads // heads, heads, sectors_per_track


def _checksum(footer: bytes) -> int:
    """One's complement of the byte sum, computed with the checksum field (bytes 64..67) zeroed."""
    return ~sum(footer[:64] + b"\0\0\0\0" + footer[68:]) & 0xFFFFFFFF


def vhd_footer(size_bytes: int, *, uuid_bytes: bytes | None = None, timestamp: float | None = None) -> bytes:
    """The 512-byte footer of a fixed VHD whose data area is ``size_bytes`` long.

    ``uuid_bytes`` (16 bytes) is the disk's unique id, random by default; ``timestamp`` (Unix time, default
    now) is stored as seconds since 2000-01-01 00:00:00 UTC.
    """
    if size_bytes <= 0 or size_bytes % SECTOR:
        raise ValueError(f"VHD size must be a positive multiple of {SECTOR} bytes, got {size_bytes}")
    if uuid_bytes is None:
        uuid_bytes = uuid.uuid4().bytes
    if len(uuid_bytes) != 16:
        raise ValueError(f"uuid_bytes must be 16 bytes, got {len(uuid_bytes)}")
    vhd_time = int((time.time() if timestamp is None else timestamp) - VHD_EPOCH)
    if not 0 <= vhd_time <= 0xFFFFFFFF:
        raise ValueError(f"timestamp {timestamp} is outside the VHD range (2000-01-01 .. 2136-02-07)")
    cylinders, heads, sectors = chs_geometry(size_bytes)
    fields = [
        VHD_COOKIE,
        VHD_FEATURES,
        VHD_VERSION,
        VHD_FIXED_DATA_OFFSET,
        vhd_time,
        VHD_CREATOR_APP,
        VHD_CREATOR_VERSION,
        VHD_CREATOR_HOST_OS,
        size_bytes,  # original size
        size_bytes,  # current size
        cylinders,
        heads,
        sectors,
        DISK_TYPE_FIXED,
        0,  # checksum, filled in below
        uuid_bytes,
        0,  # saved state
        b"",
    ]
    footer = _FOOTER.pack(*fields)
    return footer[:64] + struct.pack(">I", _checksum(footer)) + footer[68:]


def parse_footer(footer: bytes) -> VhdFooter:
    """Decode a 512-byte VHD footer (any disk type); never raises on bad content, see ``checksum_ok``."""
    if len(footer) != FOOTER_SIZE:
        raise ValueError(f"a VHD footer is {FOOTER_SIZE} bytes, got {len(footer)}")
    (cookie, features, version, data_offset, vhd_time, app, app_version, host_os, original, current,
     cylinders, heads, sectors, disk_type, checksum, unique_id, saved_state, _) = _FOOTER.unpack(footer)  # fmt: skip
    return VhdFooter(
        cookie=cookie.decode("latin-1"),
        features=features,
        version=version,
        data_offset=data_offset,
        timestamp=float(vhd_time + VHD_EPOCH),
        creator_app=app.decode("latin-1"),
        creator_version=app_version,
        creator_host_os=host_os.decode("latin-1"),
        original_size=original,
        current_size=current,
        geometry=(cylinders, heads, sectors),
        disk_type=disk_type,
        checksum=checksum,
        checksum_ok=checksum == _checksum(footer),
        unique_id=str(uuid.UUID(bytes=unique_id)),
        saved_state=saved_state,
    )


def read_footer(path: Path) -> VhdFooter:
    """Parse the footer (the last 512 bytes) of the VHD at ``path``."""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        if end < FOOTER_SIZE:
            raise ValueError(f"{path} is {end} bytes long, too short for a VHD footer")
        f.seek(end - FOOTER_SIZE)
        return parse_footer(f.read(FOOTER_SIZE))


# ----------------------------------------------------------------------------------------------- the image


def write_fixed_vhd(
    entries: Iterable[FileEntry],
    size_bytes: int,
    out: Path,
    *,
    filesystem: str = "ext4",
    label: str = "cloudimg-rootfs",
    uuid_bytes: bytes | None = None,
) -> int:
    """Write a fixed VHD of exactly ``size_bytes`` of disk data + the 512-byte footer to ``out``; return
    the total file size (``size_bytes + 512``).

    ``size_bytes`` must be a positive multiple of 1 MiB (Azure requires a 1 MiB-aligned virtual size).
    ``filesystem="ext4"``: the data area is an ext4 filesystem (no partition table) labelled ``label`` and
    populated with ``entries``; parent directories that are not listed are created 0755 root:root.
    ``filesystem="none"``: the data area is zeros and ``entries`` are ignored (not even iterated).
    ``uuid_bytes`` is the footer's unique id (random by default).
    The file is sparse: only the filesystem's metadata and the files' data take space on disk.

    Raises ValueError for bad arguments or inconsistent entries, RuntimeError when e2fsprogs is missing or
    mke2fs fails (e.g. the entries do not fit).
    """
    if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes <= 0 or size_bytes % MIB:
        raise ValueError(f"VHD size must be a positive multiple of 1 MiB ({MIB} bytes), got {size_bytes!r}")
    if filesystem not in ("ext4", "none"):
        raise ValueError(f"unsupported filesystem {filesystem!r}: expected 'ext4' or 'none'")
    if filesystem == "ext4" and len(label.encode()) > 16:
        raise ValueError(f"ext4 labels are at most 16 bytes, got {label!r}")
    mke2fs = _tool("mke2fs", "mkfs.ext4") if filesystem == "ext4" else ""
    out = Path(out)
    footer = vhd_footer(size_bytes, uuid_bytes=uuid_bytes)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.ftruncate(fd, size_bytes)  # sparse: a hole, not zeros
        os.close(fd)
        fd = -1
        if filesystem == "ext4":
            _build_ext4(mke2fs, entries, size_bytes, tmp, label)
        with open(tmp, "r+b") as f:
            f.seek(size_bytes)
            f.write(footer)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(out.parent)
    return size_bytes + FOOTER_SIZE


def _tool(*names: str) -> str:
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN_DIRS])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    raise RuntimeError(f"{names[0]} not found (looked for {', '.join(names)}): {_E2FSPROGS_HINT}")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@dataclass
class _Dir:
    """A staged directory whose final mode/owner/mtime are applied once all its children exist."""

    mode: int
    uid: int
    gid: int
    mtime: float
    declared: bool


@dataclass
class _Stage:
    """Materialises entries into ``root`` (a host directory) for ``mke2fs -d``."""

    root: Path
    as_root: bool
    dirs: dict[str, _Dir] = field(default_factory=dict)  # fs path -> pending attributes ("/" included)
    others: set[str] = field(default_factory=set)  # fs paths of files and symlinks
    fixups: list[str] = field(default_factory=list)  # debugfs commands to run on the built image

    def host(self, path: str) -> Path:
        return self.root / path.lstrip("/") if path != "/" else self.root

    def add(self, entry: FileEntry) -> None:
        path = _normalise(entry.path)
        if entry.kind not in ("f", "d", "l"):
            raise ValueError(f"{entry.path}: unknown kind {entry.kind!r} (expected 'f', 'd' or 'l')")
        if entry.mode & ~0o7777 or entry.mode < 0:
            raise ValueError(f"{entry.path}: mode {entry.mode:#o} has bits outside 0o7777")
        if entry.uid < 0 or entry.gid < 0 or entry.uid > 0xFFFFFFFE or entry.gid > 0xFFFFFFFE:
            raise ValueError(f"{entry.path}: uid/gid out of range")
        if path in self.others or (path in self.dirs and self.dirs[path].declared):
            raise ValueError(f"{entry.path}: listed twice")
        if path in self.dirs and entry.kind != "d":
            raise ValueError(
                f"{entry.path}: is a directory (it has children) but is listed as {entry.kind!r}"
            )
        self._parents(path, entry.mtime)
        if entry.kind == "d":
            if path not in self.dirs and path != "/":
                self.host(path).mkdir(mode=0o700)
            self.dirs[path] = _Dir(entry.mode, entry.uid, entry.gid, entry.mtime, declared=True)
            return
        self.others.add(path)
        target = self.host(path)
        if entry.kind == "l":
            link = _content(entry)
            if not link:
                raise ValueError(f"{entry.path}: a symlink needs a target")
            os.symlink(os.fsdecode(link), target)
            self._owner(target, path, entry.uid, entry.gid)
        else:
            with open(target, "xb") as f:
                f.write(_content(entry))  # one file's content at a time, dropped right after
            self._owner(target, path, entry.uid, entry.gid)
            self._mode(target, path, entry.mode, stat.S_IFREG, 0o400)  # mke2fs must be able to read it
        _set_mtime(target, entry.mtime)

    def _parents(self, path: str, mtime: float) -> None:
        parts = path.strip("/").split("/")[:-1] if path != "/" else []
        current = ""
        for part in parts:
            current += "/" + part
            if current in self.others:
                raise ValueError(f"{path}: parent {current} is not a directory")
            if current not in self.dirs:
                self.host(current).mkdir(mode=0o700)
                self.dirs[current] = _Dir(0o755, 0, 0, mtime, declared=False)

    def _owner(self, target: Path, path: str, uid: int, gid: int) -> None:
        if self.as_root:
            os.chown(target, uid, gid, follow_symlinks=False)
        else:
            self.fixups += [f"sif {_quote(path)} uid {uid}", f"sif {_quote(path)} gid {gid}"]

    def _mode(self, target: Path, path: str, mode: int, type_bits: int, needed: int) -> None:
        if self.as_root:
            os.chmod(target, mode)
        else:
            os.chmod(target, mode | needed)
            if mode & needed != needed:
                self.fixups.append(f"sif {_quote(path)} mode 0{type_bits | mode:o}")

    def finish(self) -> tuple[int, int]:
        """Apply directory attributes (deepest first, so children no longer touch them); return the root's
        (uid, gid) for ``mke2fs -E root_owner``. The root's mode and mtime become debugfs fixups."""
        root = self.dirs.get("/")
        for path in sorted(self.dirs, key=lambda p: p.count("/"), reverse=True):
            if path == "/":
                continue
            d = self.dirs[path]
            target = self.host(path)
            self._owner(target, path, d.uid, d.gid)
            self._mode(target, path, d.mode, stat.S_IFDIR, 0o500)  # mke2fs must be able to list it
            _set_mtime(target, d.mtime)
        if root is None:
            return 0, 0
        self.fixups += [f"sif / mode 0{stat.S_IFDIR | root.mode:o}", *_time_fixups("/", root.mtime)]
        return root.uid, root.gid


def _normalise(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"{path!r}: paths must be absolute")
    if "\0" in path or "\n" in path:
        raise ValueError(f"{path!r}: NUL and newline are not supported in paths")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{path!r}: '..' is not allowed")
    if any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts):
        raise ValueError(f"{path!r}: a name is longer than 255 bytes")
    return "/" + "/".join(parts)


def _content(entry: FileEntry) -> bytes:
    data = entry.data() if callable(entry.data) else entry.data
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"{entry.path}: data must be bytes, got {type(data).__name__}")
    return data


def _set_mtime(target: Path, mtime: float) -> None:
    ns = round(mtime * 1_000_000_000)
    os.utime(target, ns=(ns, ns), follow_symlinks=False)


def _time_fixups(path: str, mtime: float) -> list[str]:
    seconds = int(mtime // 1)
    return [f"sif {_quote(path)} {name} @{seconds}" for name in ("mtime", "atime")]


def _quote(path: str) -> str:
    """A path as one debugfs (libss) argument: inside double quotes, a quote is written twice."""
    return '"' + path.replace('"', '""') + '"'


def _build_ext4(mke2fs: str, entries: Iterable[FileEntry], size_bytes: int, image: Path, label: str) -> None:
    work = Path(tempfile.mkdtemp(dir=image.parent, prefix=f"{image.name}.", suffix=".stage"))
    try:
        stage = _Stage(work / "root", as_root=os.geteuid() == 0)
        stage.root.mkdir(mode=0o700)
        for entry in entries:
            stage.add(entry)
        root_uid, root_gid = stage.finish()
        conf = work / "mke2fs.conf"
        conf.write_text(_MKE2FS_CONF)
        env = {**os.environ, "MKE2FS_CONFIG": str(conf), "LC_ALL": "C"}
        cmd = [
            mke2fs, "-F", "-q", "-t", "ext4", "-b", "4096", "-L", label,
            "-E", f"root_owner={root_uid}:{root_gid},lazy_journal_init=1",
            "-d", str(stage.root), str(image), f"{size_bytes // 1024}k",
        ]  # fmt: skip
        _run(cmd, env, "mke2fs")
        if stage.fixups:
            script = work / "fixups.debugfs"
            script.write_text("\n".join(stage.fixups) + "\n")
            _run(
                [_tool("debugfs"), "-w", "-f", str(script), str(image)], env, "debugfs", stderr_is_error=True
            )
    finally:
        _rmtree(work)


def _run(cmd: list[str], env: dict[str, str], what: str, *, stderr_is_error: bool = False) -> None:
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    # debugfs exits 0 even when a request fails: anything on stderr but its version banner is an error.
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith(f"{what} ")]
    if proc.returncode != 0 or (stderr_is_error and errors):
        detail = (proc.stderr or proc.stdout).strip()
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {detail}")


def _rmtree(path: Path) -> None:
    """Remove the staging tree, also when (as non-root) it holds directories without owner write/exec."""
    if os.geteuid() != 0:
        for dirpath, dirnames, _ in os.walk(path):
            for name in dirnames:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(dirpath, name), 0o700, follow_symlinks=False)
    shutil.rmtree(path, ignore_errors=True)


__all__ = [
    "DISK_TYPE_FIXED",
    "FOOTER_SIZE",
    "MIB",
    "FileEntry",
    "VhdFooter",
    "chs_geometry",
    "parse_footer",
    "read_footer",
    "vhd_footer",
    "write_fixed_vhd",
]
