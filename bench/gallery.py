"""Gallery replication: a version of a VM with a multi-GiB disk replicated to 50 regions x 3 replicas.

Prints extra bytes stored / one copy (target <= 1.01) and the completion time under `instant`; then, under
`scaled`, that replication progress is monotonic and finishes in the expected simulated time.
Run: scripts/bench   (or .venv/bin/python -m bench.gallery)
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from azure.mgmt.compute.models import (
    GalleryArtifactVersionFullSource,
    GalleryImageVersion,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    TargetRegion,
)
from tests import gallerykit as gk
from tests import vmkit

from azemu.domain import regions
from azemu.domain.gallery_versions import SECONDS_PER_GIB_REPLICA
from azemu.testing import AzemuServer

GIB_WRITTEN = 2
SCALE = 0.0005


def version_body(image_id: str, region_names: list[str]) -> GalleryImageVersion:
    return GalleryImageVersion(
        location="eastus",
        publishing_profile=GalleryImageVersionPublishingProfile(
            target_regions=[TargetRegion(name=r, regional_replica_count=3) for r in region_names]
        ),
        storage_profile=GalleryImageVersionStorageProfile(
            source=GalleryArtifactVersionFullSource(id=image_id)
        ),
    )


def main() -> None:
    names = ["eastus", *[r["name"] for r in regions.all_regions() if r["name"] != "eastus"]][:50]
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("AZEMU_BENCH_DIR")) as tmp,
        AzemuServer(data_dir=Path(tmp) / "data", in_memory=False) as emu,
    ):
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "gal")
        vm = vmkit.linux_vm(c, "gal", "src", vmkit.DEBIAN12)
        vmkit.run(
            c,
            "gal",
            "src",
            "mkdir -p /data",
            f"dd if=/dev/urandom of=/data/payload bs=1M count={GIB_WRITTEN * 1024}",
        )
        c.compute.virtual_machines.begin_deallocate("gal", "src").result()
        c.compute.virtual_machines.generalize("gal", "src")
        image = c.compute.images.begin_create_or_update(
            "gal",
            "img",
            {
                "location": "eastus",
                "properties": {"sourceVirtualMachine": {"id": vm.id}, "hyperVGeneration": "V2"},
            },
        ).result()
        gk.gallery(c, "gal", "g")
        gk.definition(c, "gal", "g", "d")
        one_copy = emu.admin("GET", "/content")["bytes"]
        t = time.perf_counter()
        v = c.compute.gallery_image_versions.begin_create_or_update(
            "gal", "g", "d", "1.0.0", version_body(image.id, names)
        ).result()
        instant_s = time.perf_counter() - t
        after = emu.admin("GET", "/content")["bytes"]
        assert v.provisioning_state == "Succeeded"

        emu.admin("POST", "/clock", {"latency": f"scaled:{SCALE}"})
        size_gb = image.storage_profile.os_disk.disk_size_gb
        expected = SECONDS_PER_GIB_REPLICA * size_gb * 3 * SCALE
        t = time.perf_counter()
        c.compute.gallery_image_versions.begin_create_or_update(
            "gal", "g", "d", "2.0.0", version_body(image.id, names)
        )
        progress: list[int] = []
        while True:
            got = c.compute.gallery_image_versions.get("gal", "g", "d", "2.0.0", expand="ReplicationStatus")
            progress.append(min(s.progress for s in got.replication_status.summary))
            if got.replication_status.aggregated_state == "Completed":
                break
            time.sleep(0.02)
        scaled_s = time.perf_counter() - t
    monotonic = progress == sorted(progress)
    print(
        f"gallery version of a VM with {GIB_WRITTEN} GiB written ({size_gb} GiB disk) -> 50 regions x 3 replicas"
    )
    print(
        f"  extra bytes stored / one copy : {after / one_copy:7.4f}   (target <= 1.01; +{(after - one_copy) / 1024:.0f} KiB)"
    )
    print(f"  completion under instant     : {instant_s * 1000:7.1f} ms")
    print(
        f"  scaled:{SCALE}: expected {expected:.2f} s simulated-to-real, finished in {scaled_s:.2f} s; progress "
        f"{'monotonic' if monotonic else 'NOT monotonic'} over {len(progress)} polls "
        f"({progress[0]}% -> {progress[-1]}%)"
    )


if __name__ == "__main__":
    main()
