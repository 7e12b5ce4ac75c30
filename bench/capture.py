"""Capture cost on the copy-on-write content store, beside a full copy of the same content, in one run.

For VMs whose OS disk is 1, 8 and 64 GiB logical, with real content written into the guest (1/64 of the
logical size, random bytes, through Run Command): capture time and bytes added, next to a plain full copy
of that content on the same disk. Then 100 captures (snapshot + image) of one VM with a small change each.
Run: scripts/bench   (or .venv/bin/python -m bench.capture)
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from azure.mgmt.compute.models import Image, SubResource
from tests import vmkit

from azemu.testing import AzemuServer

GIB = 1024**3


def blob_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def full_copy(src_dir: Path, files: set[Path], dst_dir: Path) -> float:
    """Copy the VM's content (the bytes a naive capture would duplicate), fsync'd, on the same disk."""
    t = time.perf_counter()
    for path in files:
        if path.is_file():
            out = dst_dir / path.relative_to(src_dir)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
            with open(out, "rb") as fh:
                os.fsync(fh.fileno())
    return time.perf_counter() - t


def main() -> None:
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("AZEMU_BENCH_DIR")) as tmp,
        AzemuServer(data_dir=Path(tmp) / "data", in_memory=False) as emu,
    ):
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "cap")
        rows = []
        for logical in (1, 8, 64):
            name = f"vm{logical}g"
            store_dir = Path(tmp) / "data" / "content"
            existing = blob_files(store_dir) if store_dir.exists() else set()
            vmkit.linux_vm(c, "cap", name)
            mib = logical * 1024 // 64
            vmkit.run(
                c, "cap", name, "mkdir -p /data", f"dd if=/dev/urandom of=/data/payload bs=1M count={mib}"
            )
            c.compute.virtual_machines.begin_deallocate("cap", name).result()
            c.compute.disks.begin_update(
                "cap",
                c.compute.virtual_machines.get("cap", name).storage_profile.os_disk.name,
                {"properties": {"diskSizeGB": max(logical, 30)}},
            ).result()
            c.compute.virtual_machines.generalize("cap", name)
            vm_id = c.compute.virtual_machines.get("cap", name).id
            before = emu.admin("GET", "/content")["bytes"]
            t = time.perf_counter()
            c.compute.images.begin_create_or_update(
                "cap",
                f"img{logical}g",
                Image(location="eastus", source_virtual_machine=SubResource(id=vm_id)),
            ).result()
            capture_s = time.perf_counter() - t
            added = emu.admin("GET", "/content")["bytes"] - before
            copy_dir = Path(tmp) / f"copy{logical}"
            copy_s = full_copy(store_dir, blob_files(store_dir) - existing, copy_dir)
            copied = sum(p.stat().st_size for p in copy_dir.rglob("*") if p.is_file())
            shutil.rmtree(copy_dir)
            rows.append((logical, mib, capture_s, added, copy_s, copied))

        # 100 captures of one VM with a small change each (snapshot of the OS disk, then an image of it)
        start = emu.admin("GET", "/content")["bytes"]
        vmkit.linux_vm(c, "cap", "often")
        vmkit.run(c, "cap", "often", "mkdir -p /data", "dd if=/dev/urandom of=/data/payload bs=1M count=512")
        base = emu.admin("GET", "/content")["bytes"]
        one_copy = base - start  # everything this VM's disk holds
        disk_id = c.compute.virtual_machines.get("cap", "often").storage_profile.os_disk.managed_disk.id
        times = []
        for i in range(100):
            vmkit.run(c, "cap", "often", f"echo change-{i} > /etc/azemu-build-{i % 5}")
            t = time.perf_counter()
            snap = c.compute.snapshots.begin_create_or_update(
                "cap",
                f"s{i}",
                {
                    "location": "eastus",
                    "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
                },
            ).result()
            c.compute.images.begin_create_or_update(
                "cap",
                f"i{i}",
                {
                    "location": "eastus",
                    "properties": {
                        "storageProfile": {
                            "osDisk": {
                                "osType": "Linux",
                                "osState": "Generalized",
                                "snapshot": {"id": snap.id},
                            }
                        }
                    },
                },
            ).result()
            times.append(time.perf_counter() - t)
        after = emu.admin("GET", "/content")["bytes"]

    print("capture on the copy-on-write store vs a full copy of the same content (same disk, same run)")
    for logical, mib, cap, added, copy_s, copied in rows:
        print(
            f"  {logical:3d} GiB logical ({mib:5d} MiB written): capture {cap * 1000:7.1f} ms, +{added / 1024:8.1f} KiB"
            f"   | full copy {copy_s * 1000:8.1f} ms, {copied / 1024**2:8.1f} MiB"
        )
    cap1, cap64 = rows[0][2], rows[-1][2]
    print(f"  capture time 64 GiB / 1 GiB      : {cap64 / cap1:6.2f}   (target <= 1.5)")
    print(f"  full copy / capture at 64 GiB    : {rows[-1][4] / cap64:6.0f}   (target >= 100)")
    print(
        f"  100 captures (snapshot + image) with a small change each: median {statistics.median(times) * 1000:.1f} ms"
    )
    stored = one_copy + (after - base)
    print(
        f"  bytes stored after 100 captures / one copy: {stored / one_copy:6.3f}   (target <= 1.1; "
        f"{(after - base) / 1024**2:.1f} MiB added for 100 captures of a {one_copy / 1024**2:.0f} MiB VM)"
    )


if __name__ == "__main__":
    main()
