"""The seed's capture step with the real az CLI: deallocate, generalize, image create; snapshots, disks,
image from a snapshot, and disk export."""

from __future__ import annotations

import urllib.request

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "myRG"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


def test_seed_cli_example_verbatim(azemu, c):
    # a Gen1 VM: `az image create` sends hyperVGeneration V1, so on a Gen2 VM the seed's command is refused as
    # Azure refuses it (the generation trap: tests/cli/test_az_fidelity.py)
    gen1 = vmkit.ImageReference(
        publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="latest"
    )
    vmkit.linux_vm(c, RG, "myVM", gen1)
    azemu.az_json(
        "vm",
        "run-command",
        "invoke",
        "--resource-group",
        RG,
        "--name",
        "myVM",
        "--command-id",
        "RunShellScript",
        "--scripts",
        "sudo waagent -deprovision+user -force",
    )
    # failure order 1: capture before generalize
    done = azemu.az("image", "create", "--resource-group", RG, "--source", "myVM", "--name", "myImage")
    assert done.returncode != 0
    assert "The operation 'Create Image' requires the Virtual Machine 'myVM' to be Generalized." in " ".join(
        done.stderr.split()
    )
    # the seed's three commands, verbatim
    assert azemu.az("vm", "deallocate", "--resource-group", RG, "--name", "myVM").returncode == 0
    assert azemu.az("vm", "generalize", "--resource-group", RG, "--name", "myVM").returncode == 0
    image = azemu.az_json("image", "create", "--resource-group", RG, "--source", "myVM", "--name", "myImage")
    assert image["provisioningState"] == "Succeeded"
    assert image["storageProfile"]["osDisk"]["osType"] == "Linux"
    assert image["storageProfile"]["osDisk"]["osState"] == "Generalized"
    assert [i["name"] for i in azemu.az_json("image", "list", "--resource-group", RG)] == ["myImage"]


def test_snapshot_disk_and_image_from_snapshot_with_az(azemu, c):
    vm = vmkit.linux_vm(c, RG, "srcVM", vmkit.DEBIAN12)
    os_disk = vm.storage_profile.os_disk.name
    snap = azemu.az_json("snapshot", "create", "-g", RG, "-n", "snap1", "--source", os_disk)
    assert snap["provisioningState"] == "Succeeded" and snap["osType"] == "Linux"
    disk = azemu.az_json("disk", "create", "-g", RG, "-n", "disk1", "--source", "snap1")
    assert disk["diskState"] == "Unattached" and disk["creationData"]["createOption"] == "Copy"
    img = azemu.az_json(
        "image", "create", "-g", RG, "-n", "imgFromSnap", "--source", "snap1", "--os-type", "Linux"
    )
    assert img["storageProfile"]["osDisk"]["snapshot"]["id"].lower().endswith("/snapshots/snap1")
    sas = azemu.az_json("disk", "grant-access", "-g", RG, "-n", "disk1", "--duration-in-seconds", "300")
    url = sas["accessSAS"]  # az prints the operation output as Azure returns it
    req = urllib.request.Request(url, headers={"Range": "bytes=-512"})
    with urllib.request.urlopen(req, context=azemu.ssl_context()) as resp:
        assert resp.read()[:8] == b"conectix"
    assert azemu.az("disk", "revoke-access", "-g", RG, "-n", "disk1").returncode == 0
    assert azemu.az_json("disk", "show", "-g", RG, "-n", "disk1")["diskState"] == "Unattached"
