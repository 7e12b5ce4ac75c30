"""One delete path: deleting a resource group runs each kind's own delete and gives every byte back.

A group holding VMs with written data, data disks, snapshots, images with data disks and a gallery version
replicated to two regions (with data disk images) is deleted; after GC the content store is back to its
byte count from before the group existed.
"""

from __future__ import annotations

import pytest

from tests import gallerykit, vmkit

RG = "leakRG"


@pytest.fixture(scope="module")
def c(azemu):
    return vmkit.clients(azemu)


def _content(azemu):
    azemu.admin("POST", "/gc")
    return azemu.admin("GET", "/content")


def test_group_delete_releases_all_content(azemu, c):
    before = _content(azemu)
    vmkit.ensure_group(c, RG)
    vmkit.linux_vm(c, RG, "src")
    vmkit.run(
        c,
        RG,
        "src",
        "dd if=/dev/urandom of=/var/lib/app.bin bs=1M count=6",
        "waagent -deprovision+user -force",
    )
    c.compute.virtual_machines.begin_deallocate(RG, "src").result()
    c.compute.virtual_machines.generalize(RG, "src")
    src = c.compute.virtual_machines.get(RG, "src")
    os_snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "os-snap",
        {
            "location": "eastus",
            "properties": {
                "creationData": {
                    "createOption": "Copy",
                    "sourceResourceId": src.storage_profile.os_disk.managed_disk.id,
                }
            },
        },
    ).result()
    data = c.compute.disks.begin_create_or_update(
        RG,
        "data",
        {"location": "eastus", "properties": {"diskSizeGB": 8, "creationData": {"createOption": "Empty"}}},
    ).result()
    data_snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "data-snap",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": data.id}},
        },
    ).result()
    image = c.compute.images.begin_create_or_update(
        RG,
        "img",
        {
            "location": "eastus",
            "properties": {
                "hyperVGeneration": "V2",
                "storageProfile": {
                    "osDisk": {"osType": "Linux", "osState": "Generalized", "snapshot": {"id": os_snap.id}},
                    "dataDisks": [{"lun": 1, "snapshot": {"id": data_snap.id}}],
                },
            },
        },
    ).result()
    gallerykit.gallery(c, RG, "leakGallery")
    gallerykit.definition(c, RG, "leakGallery", "leakDef")
    gallerykit.version(
        c,
        RG,
        "leakGallery",
        "leakDef",
        "1.0.0",
        image_id=image.id,
        regions=[("eastus", 2), ("westeurope", 1)],
    )
    clone = vmkit.linux_vm(c, RG, "clone", vmkit.DEBIAN12)
    vmkit.run(c, RG, "clone", "dd if=/dev/urandom of=/srv/clone.bin bs=1M count=3")
    assert clone.provisioning_state == "Succeeded"
    during = _content(azemu)
    assert during["bytes"] > before["bytes"] + 8 * 1024 * 1024  # both VMs' random data is stored once

    c.rm.resource_groups.begin_delete(RG).result()

    after = _content(azemu)
    assert after["bytes"] == before["bytes"]
    assert after["blobs"] == before["blobs"]
    assert after["referenced"] == before["referenced"]
    assert after["missing"] == 0 and after["unreferenced"] == 0
