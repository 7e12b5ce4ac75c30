"""Capture through the SDK: managed images, snapshots, disks, export, VMs from images, GC, capture-and-delete."""

from __future__ import annotations

import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    GrantAccessData,
    HardwareProfile,
    Image,
    ImageReference,
    LinuxConfiguration,
    NetworkInterfaceReference,
    NetworkProfile,
    OSDisk,
    OSProfile,
    SshConfiguration,
    SshPublicKey,
    StorageProfile,
    SubResource,
    VirtualMachine,
)

from tests import vmkit

RG = "capRG"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


def vm_from_image(c, name: str, image_id: str, user: str = "builder") -> VirtualMachine:
    nic = vmkit.make_nic(c, RG, f"{name}-nic")
    vm = VirtualMachine(
        location="eastus",
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(
            image_reference=ImageReference(id=image_id), os_disk=OSDisk(create_option="FromImage")
        ),
        os_profile=OSProfile(
            computer_name=name,
            admin_username=user,
            linux_configuration=LinuxConfiguration(
                disable_password_authentication=True,
                ssh=SshConfiguration(
                    public_keys=[
                        SshPublicKey(
                            path=f"/home/{user}/.ssh/authorized_keys", key_data=vmkit.ssh_public_key()
                        )
                    ]
                ),
            ),
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(RG, name, vm).result()


def capture(c, vm_id: str, name: str):
    return c.compute.images.begin_create_or_update(
        RG, name, Image(location="eastus", source_virtual_machine=SubResource(id=vm_id))
    ).result()


def test_capture_requires_a_generalized_vm(c):
    vm = vmkit.linux_vm(c, RG, "notgen")
    with pytest.raises(HttpResponseError) as info:
        capture(c, vm.id, "img-notgen")
    assert info.value.status_code == 409
    assert (
        info.value.error.message
        == "The operation 'Create Image' requires the Virtual Machine 'notgen' to be Generalized."
    )
    c.compute.virtual_machines.begin_power_off(RG, "notgen").result()
    with pytest.raises(HttpResponseError):
        capture(c, vm.id, "img-notgen")  # stopped but not marked generalized: still refused
    c.compute.virtual_machines.generalize(RG, "notgen")
    image = capture(c, vm.id, "img-notgen")  # stopped + generalized is enough for Azure
    assert image.provisioning_state == "Succeeded"
    assert image.storage_profile.os_disk.os_state == "Generalized"
    assert image.storage_profile.os_disk.os_type == "Linux"
    assert image.source_virtual_machine.id.lower() == vm.id.lower()
    with pytest.raises(HttpResponseError) as info:
        c.compute.virtual_machines.begin_capture(
            RG, "notgen", {"vhdPrefix": "x", "destinationContainerName": "vhds", "overwriteVhds": True}
        ).result()
    assert "only supported on a Virtual Machine with blob based disks" in info.value.error.message


def test_vms_from_a_deprovisioned_image_get_fresh_identities(azemu, c):
    gold = vmkit.linux_vm(c, RG, "gold", vmkit.DEBIAN12)
    vmkit.run(c, RG, "gold", "waagent -deprovision+user -force")
    c.compute.virtual_machines.begin_deallocate(RG, "gold").result()
    c.compute.virtual_machines.generalize(RG, "gold")
    image = capture(c, gold.id, "img-gold")
    a = vm_from_image(c, "clone-a", image.id)
    b = vm_from_image(c, "clone-b", image.id)
    assert a.storage_profile.image_reference.id.lower() == image.id.lower()
    ia = azemu.admin("GET", "/guest/identity?vm=" + a.id)
    ib = azemu.admin("GET", "/guest/identity?vm=" + b.id)
    assert (ia["computerName"], ib["computerName"]) == ("clone-a", "clone-b")
    assert set(ia["sshHostKeys"]).isdisjoint(ib["sshHostKeys"])  # cloud-init made new host keys
    assert "builder" in ia["users"] and "azureuser" not in ia["users"]
    # waagent alone does not reset machine-id on Debian: the clones share it, and azemu says so
    assert ia["machineId"] == ib["machineId"]
    conflict = next(
        s
        for s in c.compute.virtual_machines.instance_view(RG, "clone-a").statuses
        if s.code == "AzEmu/IdentityConflict/machineId"
    )
    # the warning names the shared value, its real cause (waagent keeps machine-id) and the fix
    assert ia["machineId"].strip() in conflict.message and "/etc/machine-id" in conflict.message
    assert "waagent -deprovision' does not clear it" in conflict.message
    assert "not generalized inside the guest" not in conflict.message
    assert "truncate -s 0 /etc/machine-id" in conflict.message


def test_vm_from_image_survives_image_delete_and_gc_reclaims(azemu, c):
    src = vmkit.linux_vm(c, RG, "bigsrc")
    vmkit.run(c, RG, "bigsrc", "mkdir -p /data && dd if=/dev/urandom of=/data/blob bs=1M count=16")
    c.compute.virtual_machines.begin_deallocate(RG, "bigsrc").result()
    c.compute.virtual_machines.generalize(RG, "bigsrc")
    image = capture(c, src.id, "img-big")
    before = azemu.admin("GET", "/content")
    vm_from_image(c, "child", image.id)
    after_clone = azemu.admin("GET", "/content")
    assert after_clone["bytes"] - before["bytes"] < 1024 * 1024  # copy-on-write: no 16 MiB copy
    c.compute.images.begin_delete(RG, "img-big").result()
    c.compute.virtual_machines.begin_delete(RG, "bigsrc").result()
    azemu.admin("POST", "/gc")
    # the child still reads the content its image had
    out = vmkit.run(c, RG, "child", "ls -l /data/blob").value[0].message
    assert "16777216" in out
    with_child = azemu.admin("GET", "/content")["bytes"]
    c.compute.virtual_machines.begin_delete(RG, "child").result()
    for disk in c.compute.disks.list_by_resource_group(RG):
        if disk.name.startswith(("child_", "bigsrc_")):
            c.compute.disks.begin_delete(RG, disk.name).result()
    gc = azemu.admin("POST", "/gc")
    assert with_child - gc["bytes"] >= 16 * 1024 * 1024  # the 16 MiB file is reclaimed


def test_snapshots_disks_and_image_from_snapshot(c):
    vm = vmkit.linux_vm(c, RG, "snapsrc")
    disk_id = vm.storage_profile.os_disk.managed_disk.id
    snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "snap1",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
        },
    ).result()
    assert snap.os_type == "Linux" and snap.creation_data.source_resource_id.lower() == disk_id.lower()
    assert snap.incremental is False and snap.disk_state == "Unattached"
    inc1 = c.compute.snapshots.begin_create_or_update(
        RG,
        "inc1",
        {
            "location": "eastus",
            "properties": {
                "incremental": True,
                "creationData": {"createOption": "Copy", "sourceResourceId": disk_id},
            },
        },
    ).result()
    inc2 = c.compute.snapshots.begin_create_or_update(
        RG,
        "inc2",
        {
            "location": "eastus",
            "properties": {
                "incremental": True,
                "creationData": {"createOption": "Copy", "sourceResourceId": disk_id},
            },
        },
    ).result()
    assert inc1.incremental_snapshot_family_id == inc2.incremental_snapshot_family_id
    disk = c.compute.disks.begin_create_or_update(
        RG,
        "fromsnap",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": snap.id}},
        },
    ).result()
    assert disk.disk_state == "Unattached" and disk.disk_size_gb == snap.disk_size_gb
    grown = c.compute.disks.begin_update(RG, "fromsnap", {"properties": {"diskSizeGB": 64}}).result()
    assert grown.disk_size_gb == 64
    with pytest.raises(HttpResponseError) as info:
        c.compute.disks.begin_update(RG, "fromsnap", {"properties": {"diskSizeGB": 8}}).result()
    assert info.value.status_code == 400
    img = c.compute.images.begin_create_or_update(
        RG,
        "img-snap",
        {
            "location": "eastus",
            "properties": {
                "storageProfile": {
                    "osDisk": {"osType": "Linux", "osState": "Generalized", "snapshot": {"id": snap.id}}
                }
            },
        },
    ).result()
    assert img.storage_profile.os_disk.snapshot.id.lower() == snap.id.lower()
    # a snapshot outlives its source disk
    c.compute.virtual_machines.begin_delete(RG, "snapsrc").result()
    c.compute.disks.begin_delete(RG, vm.storage_profile.os_disk.name).result()
    assert c.compute.snapshots.get(RG, "snap1").disk_size_gb == snap.disk_size_gb
    with pytest.raises(ResourceNotFoundError):
        c.compute.disks.get(RG, vm.storage_profile.os_disk.name)


def test_disk_export_is_a_real_vhd_with_ext4(azemu, c):
    vm = vmkit.linux_vm(c, RG, "exportvm")
    vmkit.run(c, RG, "exportvm", "echo exported-data > /root/proof.txt")
    c.compute.virtual_machines.begin_deallocate(RG, "exportvm").result()
    with pytest.raises(HttpResponseError):  # cannot shrink below the source
        c.compute.disks.begin_create_or_update(
            RG,
            "export-disk",
            {
                "location": "eastus",
                "properties": {
                    "diskSizeGB": 1,
                    "creationData": {
                        "createOption": "Copy",
                        "sourceResourceId": vm.storage_profile.os_disk.managed_disk.id,
                    },
                },
            },
        ).result()
    c.compute.disks.begin_create_or_update(
        RG,
        "export-disk",
        {
            "location": "eastus",
            "properties": {
                "creationData": {
                    "createOption": "Copy",
                    "sourceResourceId": vm.storage_profile.os_disk.managed_disk.id,
                }
            },
        },
    ).result()
    c.compute.disks.begin_update(RG, "export-disk", {"properties": {"diskSizeGB": 31}}).result()
    access = c.compute.disks.begin_grant_access(
        RG, "export-disk", GrantAccessData(access="Read", duration_in_seconds=600)
    ).result()
    assert c.compute.disks.get(RG, "export-disk").disk_state == "ActiveSAS"
    url = access.access_sas
    assert url.startswith(azemu.endpoint + "/_azemu/sas/") and "sig=" in url
    with tempfile.TemporaryDirectory() as tmp:
        # A ranged download (as blob clients do): the filesystem's metadata and this small guest's files sit in
        # the first MiBs; the 31 GiB of free space is never transferred. The local copy is sparse, so debugfs
        # opens it with -c (no allocation bitmaps, which ext4 spreads over the whole disk).
        vhd = Path(tmp) / "disk.vhd"
        head = urllib.request.Request(url, headers={"Range": "bytes=0-67108863"})
        with urllib.request.urlopen(head, context=azemu.ssl_context()) as resp:
            assert resp.status == 206
            total = int(resp.headers["Content-Range"].rsplit("/", 1)[1])
            first = resp.read()
        tail = urllib.request.Request(url, headers={"Range": "bytes=-512"})
        with urllib.request.urlopen(tail, context=azemu.ssl_context()) as resp:
            footer = resp.read()
        with open(vhd, "wb") as fh:
            fh.truncate(total)
            fh.write(first)
            fh.seek(total - 512)
            fh.write(footer)
        assert (total - 512) % (1024 * 1024) == 0 and total - 512 == 31 * 1024**3
        assert footer[:8] == b"conectix" and int.from_bytes(footer[60:64], "big") == 2
        assert int.from_bytes(footer[48:56], "big") == 31 * 1024**3
        got = subprocess.run(
            ["/usr/sbin/debugfs", "-c", "-R", "cat /root/proof.txt", str(vhd)], capture_output=True
        )
        assert got.stdout == b"exported-data\n"
        host = subprocess.run(
            ["/usr/sbin/debugfs", "-c", "-R", "cat /etc/hostname", str(vhd)], capture_output=True
        )
        assert host.stdout.strip() == b"exportvm"
    c.compute.disks.begin_revoke_access(RG, "export-disk").result()
    assert c.compute.disks.get(RG, "export-disk").disk_state == "Unattached"
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(url, context=azemu.ssl_context())
    assert denied.value.code == 403
    forged = url.replace("sig=", "sig=00")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(forged, context=azemu.ssl_context())


def test_capture_and_delete_vm_order(azemu, c):
    vm = vmkit.linux_vm(c, RG, "oneshot", delete_disk=True)
    with pytest.raises(RuntimeError):  # not generalized: nothing happens, the VM stays
        azemu.admin("POST", "/capture", {"vm": vm.id, "image": "img-oneshot"})
    assert c.compute.virtual_machines.get(RG, "oneshot").name == "oneshot"
    c.compute.virtual_machines.begin_deallocate(RG, "oneshot").result()
    c.compute.virtual_machines.generalize(RG, "oneshot")
    result = azemu.admin("POST", "/capture", {"vm": vm.id, "image": "img-oneshot"})
    assert result["vmDeleted"] is True
    assert c.compute.images.get(RG, "img-oneshot").provisioning_state == "Succeeded"
    with pytest.raises(ResourceNotFoundError):
        c.compute.virtual_machines.get(RG, "oneshot")
    with pytest.raises(ResourceNotFoundError):  # deleteOption Delete: its OS disk went too
        c.compute.disks.get(RG, vm.storage_profile.os_disk.name)
    clone = vm_from_image(c, "after-oneshot", c.compute.images.get(RG, "img-oneshot").id)
    assert clone.provisioning_state == "Succeeded"


def test_disk_access_expires_on_azemus_clock(azemu, c):
    disk = c.compute.disks.begin_create_or_update(
        RG,
        "expiring",
        {"location": "eastus", "properties": {"diskSizeGB": 1, "creationData": {"createOption": "Empty"}}},
    ).result()
    access = c.compute.disks.begin_grant_access(
        RG, disk.name, GrantAccessData(access="Read", duration_in_seconds=60)
    ).result()
    req = urllib.request.Request(access.access_sas, headers={"Range": "bytes=-512"})
    with urllib.request.urlopen(req, context=azemu.ssl_context()) as resp:
        assert resp.read()[:8] == b"conectix"
    azemu.admin("POST", "/clock", {"advance": 61})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(req, context=azemu.ssl_context())
    assert denied.value.code == 403
    assert c.compute.disks.get(RG, disk.name).disk_state == "Unattached"


def test_image_with_a_data_disk_gives_vms_their_data_disk(azemu, c):
    src = vmkit.linux_vm(c, RG, "datasrc")
    vmkit.run(c, RG, "datasrc", "waagent -deprovision+user -force")
    c.compute.virtual_machines.begin_deallocate(RG, "datasrc").result()
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
        "data-src",
        {"location": "eastus", "properties": {"diskSizeGB": 16, "creationData": {"createOption": "Empty"}}},
    ).result()
    data_snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "data-snap",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": data.id}},
        },
    ).result()
    with pytest.raises(HttpResponseError) as info:
        c.compute.images.begin_create_or_update(
            RG,
            "img-data-bad",
            {
                "location": "eastus",
                "properties": {
                    "storageProfile": {
                        "osDisk": {
                            "osType": "Linux",
                            "osState": "Generalized",
                            "snapshot": {"id": os_snap.id},
                        },
                        "dataDisks": [
                            {"lun": 0, "snapshot": {"id": data_snap.id}},
                            {"lun": 0, "snapshot": {"id": data_snap.id}},
                        ],
                    }
                },
            },
        ).result()
    assert "Duplicated lun numbers" in info.value.error.message
    img = c.compute.images.begin_create_or_update(
        RG,
        "img-data",
        {
            "location": "eastus",
            "properties": {
                "storageProfile": {
                    "osDisk": {"osType": "Linux", "osState": "Generalized", "snapshot": {"id": os_snap.id}},
                    "dataDisks": [{"lun": 2, "snapshot": {"id": data_snap.id}}],
                }
            },
        },
    ).result()
    assert [(d.lun, d.disk_size_gb) for d in img.storage_profile.data_disks] == [(2, 16)]
    vm = vm_from_image(c, "withdata", img.id)
    disks = vm.storage_profile.data_disks
    assert [(d.lun, d.create_option, d.disk_size_gb) for d in disks] == [(2, "FromImage", 16)]
    assert disks[0].name.startswith("withdata_lun_2_2_")
    assert c.compute.disks.get(RG, disks[0].name).disk_state == "Attached"
    c.compute.virtual_machines.begin_deallocate(RG, "withdata").result()
    assert c.compute.disks.get(RG, disks[0].name).disk_state == "Reserved"
    c.compute.virtual_machines.begin_delete(RG, "withdata").result()
    assert c.compute.disks.get(RG, disks[0].name).disk_state == "Unattached"
