"""Fixed VHD export: the footer (layout, checksum, CHS geometry) and a real, sparse ext4 data area that standard
e2fsprogs tools read back."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from azemu.storage import vhd
from azemu.storage.vhd import FOOTER_SIZE, MIB, FileEntry, read_footer, vhd_footer, write_fixed_vhd

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
DEBUGFS = shutil.which("debugfs", path=SBIN)
E2FSCK = shutil.which("e2fsck", path=SBIN)
MKE2FS = shutil.which("mke2fs", path=SBIN)
needs_e2fsprogs = pytest.mark.skipif(
    not (DEBUGFS and E2FSCK and MKE2FS), reason="e2fsprogs (mke2fs, debugfs, e2fsck) is not installed"
)

MTIME = 1_700_000_000.0
KEY = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyMaterial azureuser@host\n"
LONG_TARGET = "/usr/lib/very/long/target/" + "x" * 80  # > 60 bytes: a "slow" symlink with a data block


def debugfs(image: Path, request: str) -> str:
    assert DEBUGFS
    proc = subprocess.run([DEBUGFS, "-R", request, str(image)], capture_output=True, check=True)
    return proc.stdout.decode("utf-8", "replace")


def debugfs_bytes(image: Path, request: str) -> bytes:
    assert DEBUGFS
    return subprocess.run([DEBUGFS, "-R", request, str(image)], capture_output=True, check=True).stdout


def inode(image: Path, path: str) -> tuple[str, int, int, int, int]:
    """(type, permission bits, uid, gid, mtime) of ``path`` according to debugfs."""
    out = debugfs(image, f'stat "{path}"')
    m = re.search(r"Type: (\w+)\s+Mode:\s+(\d+)", out)
    owner = re.search(r"User:\s+(\d+)\s+Group:\s+(\d+)", out)
    mtime = re.search(r"mtime: 0x([0-9a-f]+)", out)
    assert m and owner and mtime, out
    return m.group(1), int(m.group(2), 8), int(owner.group(1)), int(owner.group(2)), int(mtime.group(1), 16)


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def guest_entries(big: bytes) -> list[FileEntry]:
    return [
        FileEntry("/etc", "d", 0o755, 0, 0, MTIME),
        FileEntry("/etc/hostname", "f", 0o644, 0, 0, MTIME + 1, b"vm-azemu-01\n"),
        FileEntry("/etc/localtime", "l", 0o777, 0, 0, MTIME, b"/usr/share/zoneinfo/Etc/UTC"),
        FileEntry("/etc/alternatives/long", "l", 0o777, 0, 0, MTIME, LONG_TARGET.encode()),
        FileEntry("/home", "d", 0o755, 0, 0, MTIME),
        FileEntry("/home/azureuser", "d", 0o750, 1000, 1000, MTIME + 2),
        FileEntry("/home/azureuser/.ssh", "d", 0o700, 1000, 1000, MTIME + 3),
        FileEntry("/home/azureuser/.ssh/authorized_keys", "f", 0o600, 1000, 1000, MTIME + 4, KEY),
        FileEntry("/usr/bin/sudo", "f", 0o4755, 0, 0, MTIME, b"\x7fELF"),  # parents implied
        FileEntry("/tmp", "d", 0o1777, 0, 0, MTIME),
        FileEntry("/big", "f", 0o640, 0, 4, MTIME + 5, lambda: big),  # lazy content
    ]


@pytest.fixture(scope="module")
def big() -> bytes:
    return random.Random(1234).randbytes(5 * MIB)


@pytest.fixture(scope="module")
def linux_vhd(tmp_path_factory: pytest.TempPathFactory, big: bytes) -> Path:
    if not (DEBUGFS and E2FSCK and MKE2FS):
        pytest.skip("e2fsprogs is not installed")
    out = tmp_path_factory.mktemp("vhd") / "osdisk.vhd"
    assert write_fixed_vhd(guest_entries(big), 64 * MIB, out) == 64 * MIB + FOOTER_SIZE
    return out


# ------------------------------------------------------------------------------------------------ ext4 disk


@needs_e2fsprogs
def test_fixed_vhd_size_footer_and_sparseness(linux_vhd: Path) -> None:
    size = linux_vhd.stat().st_size
    assert size == 64 * MIB + FOOTER_SIZE
    assert (size - FOOTER_SIZE) % MIB == 0
    footer = read_footer(linux_vhd)
    assert footer["cookie"] == "conectix"
    assert footer["disk_type"] == 2
    assert footer["checksum_ok"]
    assert footer["current_size"] == footer["original_size"] == 64 * MIB
    assert footer["data_offset"] == 0xFFFF_FFFF_FFFF_FFFF
    assert footer["geometry"] == (963, 8, 17)
    # ext4 metadata and the 5 MiB file take space; the rest of the 64 MiB is holes.
    assert allocated(linux_vhd) < 40 * MIB
    assert not list(linux_vhd.parent.glob(".*")), "temporary files or staging directories left behind"


@needs_e2fsprogs
def test_filesystem_is_clean_ext4_at_offset_zero(linux_vhd: Path) -> None:
    assert E2FSCK
    # debugfs / e2fsck open the VHD file itself: a fixed VHD is raw data + footer, and the filesystem
    # starts at byte 0 (no partition table).
    check = subprocess.run([E2FSCK, "-fn", str(linux_vhd)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    stats = debugfs(linux_vhd, "stats")
    assert "Filesystem volume name:   cloudimg-rootfs" in stats
    assert "Block count:              16384" in stats  # 64 MiB of 4 KiB blocks: the footer is outside
    assert "extent" in stats and "has_journal" in stats


@needs_e2fsprogs
def test_file_contents_read_back(linux_vhd: Path, big: bytes, tmp_path: Path) -> None:
    assert debugfs_bytes(linux_vhd, "cat /etc/hostname") == b"vm-azemu-01\n"
    assert debugfs_bytes(linux_vhd, "cat /home/azureuser/.ssh/authorized_keys") == KEY
    dumped = tmp_path / "big"
    debugfs(linux_vhd, f"dump /big {dumped}")
    assert hashlib.sha256(dumped.read_bytes()).hexdigest() == hashlib.sha256(big).hexdigest()


@needs_e2fsprogs
def test_ownership_modes_and_mtimes_preserved(linux_vhd: Path) -> None:
    keys = "/home/azureuser/.ssh/authorized_keys"
    assert inode(linux_vhd, keys) == ("regular", 0o600, 1000, 1000, int(MTIME) + 4)
    assert inode(linux_vhd, "/home/azureuser/.ssh") == ("directory", 0o700, 1000, 1000, int(MTIME) + 3)
    assert inode(linux_vhd, "/home/azureuser") == ("directory", 0o750, 1000, 1000, int(MTIME) + 2)
    assert inode(linux_vhd, "/etc/hostname") == ("regular", 0o644, 0, 0, int(MTIME) + 1)
    assert inode(linux_vhd, "/big") == ("regular", 0o640, 0, 4, int(MTIME) + 5)
    assert inode(linux_vhd, "/usr/bin/sudo")[:4] == ("regular", 0o4755, 0, 0)
    assert inode(linux_vhd, "/tmp")[:2] == ("directory", 0o1777)
    # Parents that were not listed: root-owned 0755.
    assert inode(linux_vhd, "/usr")[:4] == ("directory", 0o755, 0, 0)
    assert inode(linux_vhd, "/")[:4] == ("directory", 0o755, 0, 0)
    listing = debugfs(linux_vhd, "ls /")
    for name in ("etc", "home", "usr", "tmp", "big", "lost+found"):
        assert name in listing


@needs_e2fsprogs
def test_symlinks(linux_vhd: Path, tmp_path: Path) -> None:
    assert inode(linux_vhd, "/etc/localtime")[0] == "symlink"
    assert 'Fast link dest: "/usr/share/zoneinfo/Etc/UTC"' in debugfs(linux_vhd, "stat /etc/localtime")
    debugfs(linux_vhd, f"rdump /etc/alternatives {tmp_path}")
    assert os.readlink(tmp_path / "alternatives" / "long") == LONG_TARGET


@needs_e2fsprogs
def test_root_directory_entry_and_label(tmp_path: Path) -> None:
    out = tmp_path / "d.vhd"
    entries = [
        FileEntry("/", "d", 0o700, 0, 0, MTIME),
        FileEntry("/root", "d", 0o700, 0, 0, MTIME),
    ]
    write_fixed_vhd(entries, 16 * MIB, out, label="data")
    assert inode(out, "/") == ("directory", 0o700, 0, 0, int(MTIME))
    assert "Filesystem volume name:   data" in debugfs(out, "stats")


@needs_e2fsprogs
def test_without_root_privileges_ownership_is_applied_with_debugfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    out = tmp_path / "user.vhd"
    entries = [
        FileEntry("/srv/locked", "d", 0o000, 33, 33, MTIME),
        FileEntry("/srv/locked/secret", "f", 0o000, 33, 33, MTIME, b"s3cret"),
        FileEntry('/srv/a b"c', "f", 0o644, 70000, 70001, MTIME, b"quoted"),
        FileEntry("/srv/ln", "l", 0o777, 5, 6, MTIME, b"locked/secret"),
    ]
    write_fixed_vhd(entries, 16 * MIB, out)
    assert inode(out, "/srv/locked") == ("directory", 0o000, 33, 33, int(MTIME))
    assert inode(out, "/srv/locked/secret") == ("regular", 0o000, 33, 33, int(MTIME))
    assert inode(out, '/srv/a b""c') == ("regular", 0o644, 70000, 70001, int(MTIME))
    assert inode(out, "/srv/ln")[:4] == ("symlink", 0o777, 5, 6)
    assert debugfs_bytes(out, "cat /srv/locked/secret") == b"s3cret"
    assert [p.name for p in tmp_path.iterdir()] == ["user.vhd"]


@needs_e2fsprogs
def test_overwrites_existing_output_atomically(tmp_path: Path) -> None:
    out = tmp_path / "disk.vhd"
    out.write_bytes(b"old")
    write_fixed_vhd([FileEntry("/x", "f", 0o644, 0, 0, MTIME, b"new")], 8 * MIB, out)
    assert out.stat().st_size == 8 * MIB + FOOTER_SIZE
    assert debugfs_bytes(out, "cat /x") == b"new"


@needs_e2fsprogs
def test_entries_that_do_not_fit_raise_and_leave_nothing(tmp_path: Path) -> None:
    out = tmp_path / "small.vhd"
    too_big = FileEntry("/blob", "f", 0o644, 0, 0, MTIME, lambda: b"\1" * (12 * MIB))
    with pytest.raises(RuntimeError, match="mke2fs failed"):
        write_fixed_vhd([too_big], 8 * MIB, out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("entries", "match"),
    [
        ([FileEntry("etc/hostname", "f", 0o644, 0, 0, MTIME)], "absolute"),
        ([FileEntry("/etc/../x", "f", 0o644, 0, 0, MTIME)], r"'\.\.'"),
        ([FileEntry("/x", "f", 0o644, 0, 0, MTIME), FileEntry("/x", "f", 0o644, 0, 0, MTIME)], "twice"),
        ([FileEntry("/x", "f", 0o644, 0, 0, MTIME), FileEntry("/x/y", "f", 0o644, 0, 0, MTIME)], "not a dir"),
        ([FileEntry("/x/y", "f", 0o644, 0, 0, MTIME), FileEntry("/x", "f", 0o644, 0, 0, MTIME)], "is a dir"),
        ([FileEntry("/x", "p", 0o644, 0, 0, MTIME)], "kind"),
        ([FileEntry("/x", "f", 0o100644, 0, 0, MTIME)], "mode"),
        ([FileEntry("/x", "l", 0o777, 0, 0, MTIME, b"")], "target"),
    ],
)
@needs_e2fsprogs
def test_inconsistent_entries_are_rejected(tmp_path: Path, entries: list[FileEntry], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        write_fixed_vhd(entries, 8 * MIB, tmp_path / "bad.vhd")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [64 * MIB + 512, 64 * MIB - 4096, 0, -MIB, 1])
def test_size_must_be_a_positive_multiple_of_one_mib(tmp_path: Path, size: int) -> None:
    with pytest.raises(ValueError, match="1 MiB"):
        write_fixed_vhd([], size, tmp_path / "x.vhd")
    assert list(tmp_path.iterdir()) == []


def test_bad_filesystem_and_label(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="filesystem"):
        write_fixed_vhd([], MIB, tmp_path / "x.vhd", filesystem="ntfs")
    with pytest.raises(ValueError, match="16 bytes"):
        write_fixed_vhd([], MIB, tmp_path / "x.vhd", label="a-label-that-is-too-long")


def test_missing_mke2fs_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(vhd, "_SBIN_DIRS", ())
    with pytest.raises(RuntimeError, match="e2fsprogs"):
        write_fixed_vhd([], 8 * MIB, tmp_path / "x.vhd")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ blank (Windows)


@pytest.mark.parametrize(("size", "chs"), [(64 * MIB, (963, 8, 17)), (30 * 1024 * MIB, (62415, 16, 63))])
def test_filesystem_none_is_sparse_zeros_with_valid_footer(
    tmp_path: Path, size: int, chs: tuple[int, int, int]
) -> None:
    def never() -> Iterator[FileEntry]:
        raise AssertionError("entries must not be read for filesystem='none'")
        yield  # pragma: no cover

    out = tmp_path / "win.vhd"
    assert write_fixed_vhd(never(), size, out, filesystem="none") == size + FOOTER_SIZE
    assert out.stat().st_size == size + FOOTER_SIZE
    assert allocated(out) <= 64 * 1024  # the footer's block, nothing else
    with open(out, "rb") as f:
        # No data anywhere before the footer: SEEK_DATA skips the holes straight to it.
        assert os.lseek(f.fileno(), 0, os.SEEK_DATA) == size
        f.seek(0)
        if size <= 64 * MIB:
            for _ in range(size // MIB):
                assert f.read(MIB) == bytes(MIB)
        else:
            assert f.read(MIB) == bytes(MIB)
            f.seek(size - MIB)
            assert f.read(MIB) == bytes(MIB)
    footer = read_footer(out)
    assert (footer["cookie"], footer["disk_type"], footer["checksum_ok"]) == ("conectix", 2, True)
    assert footer["current_size"] == size
    assert footer["geometry"] == chs
    assert [p.name for p in tmp_path.iterdir()] == ["win.vhd"]


# ------------------------------------------------------------------------------------------------- footer


def test_footer_layout() -> None:
    uid = bytes(range(16))
    ts = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    raw = vhd_footer(64 * MIB, uuid_bytes=uid, timestamp=ts)
    assert len(raw) == 512
    assert raw[0:8] == b"conectix"
    assert struct.unpack(">I", raw[8:12])[0] == 2  # features
    assert struct.unpack(">I", raw[12:16])[0] == 0x00010000  # format version
    assert raw[16:24] == b"\xff" * 8  # data offset: none for a fixed disk
    seconds_since_2000 = int(ts - datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    assert struct.unpack(">I", raw[24:28])[0] == seconds_since_2000
    assert raw[36:40] == b"Wi2k"
    assert struct.unpack(">QQ", raw[40:56]) == (64 * MIB, 64 * MIB)
    assert struct.unpack(">HBB", raw[56:60]) == (963, 8, 17)
    assert struct.unpack(">I", raw[60:64])[0] == 2  # fixed
    assert raw[68:84] == uid
    assert raw[84:] == bytes(428)  # saved state 0 + reserved
    unchecked = raw[:64] + bytes(4) + raw[68:]
    assert struct.unpack(">I", raw[64:68])[0] == (~sum(unchecked)) & 0xFFFFFFFF
    parsed = vhd.parse_footer(raw)
    assert parsed["checksum_ok"] and parsed["timestamp"] == int(ts)
    assert parsed["unique_id"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert not vhd.parse_footer(raw[:100] + b"\x01" + raw[101:])["checksum_ok"]


def test_footer_defaults_are_unique_and_current() -> None:
    a, b = vhd.parse_footer(vhd_footer(MIB)), vhd.parse_footer(vhd_footer(MIB))
    assert a["unique_id"] != b["unique_id"]
    assert abs(a["timestamp"] - datetime.now(UTC).timestamp()) < 5
    with pytest.raises(ValueError):
        vhd_footer(MIB, uuid_bytes=b"short")
    with pytest.raises(ValueError):
        vhd_footer(MIB, timestamp=0.0)  # before 2000
    with pytest.raises(ValueError):
        vhd_footer(1000)


# Worked by hand from the spec's algorithm (sectors = bytes / 512):
#  64 MiB: 131072 sectors < 65535*16*63; 17 spt: 131072//17 = 7710 = C*H, H = ceil(7710/1024) = 8,
#          7710 < 8*1024 -> (7710//8, 8, 17) = (963, 8, 17).
#  1 GiB:  2097152 sectors; 17 spt: C*H = 123361, H = 121 > 16 -> 31 spt, 16 heads: C*H = 67650 >= 16384
#          -> 63 spt: C*H = 2097152//63 = 33288 -> (2080, 16, 63).
#  30 GiB: 62914560 sectors < 66059280; ends in 63 spt: C*H = 998643 -> (62415, 16, 63).
#  32 GiB: 67108864 sectors >= 65535*16*63 -> 255 spt, 16 heads: C*H = 263172 -> (16448, 16, 255).
#  2 TiB:  capped at 65535*16*255 sectors -> (65535, 16, 255).
@pytest.mark.parametrize(
    ("size", "chs"),
    [
        (64 * MIB, (963, 8, 17)),
        (1024 * MIB, (2080, 16, 63)),
        (30 * 1024 * MIB, (62415, 16, 63)),
        (32 * 1024 * MIB, (16448, 16, 255)),
        (2 * 1024 * 1024 * MIB, (65535, 16, 255)),
    ],
)
def test_chs_geometry_per_spec(size: int, chs: tuple[int, int, int]) -> None:
    assert vhd.chs_geometry(size) == chs
    assert struct.unpack(">HBB", vhd_footer(size)[56:60]) == chs
