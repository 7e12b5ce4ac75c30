"""The seed's VM steps with the real az CLI (VMs themselves are made through the SDK until `az vm create`)."""

from __future__ import annotations

import json

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "azvmRG"


@pytest.fixture(scope="module")
def vm(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    return vmkit.linux_vm(c, RG, "myVM", vmkit.UBUNTU2204)


def test_seed_linux_walkthrough_with_az(azemu, vm):
    shown = azemu.az_json("vm", "show", "-g", RG, "-n", "myVM")
    assert shown["storageProfile"]["osDisk"]["osType"] == "Linux"
    detail = azemu.az_json("vm", "show", "-d", "-g", RG, "-n", "myVM")
    assert detail["powerState"] == "VM running" and detail["privateIps"] == "10.0.0.4"
    out = azemu.az_json(
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        "myVM",
        "--command-id",
        "RunShellScript",
        "--scripts",
        "sudo waagent -deprovision+user -force",
    )
    assert (
        "WARNING! azureuser account and entire home directory will be deleted." in out["value"][0]["message"]
    )
    assert azemu.az("vm", "deallocate", "-g", RG, "-n", "myVM").returncode == 0
    assert azemu.az("vm", "generalize", "-g", RG, "-n", "myVM").returncode == 0
    iv = azemu.az_json("vm", "get-instance-view", "-g", RG, "-n", "myVM")
    codes = [s["code"] for s in iv["instanceView"]["statuses"]]
    assert codes[0] == "OSState/generalized" and codes[-1] == "PowerState/deallocated"
    done = azemu.az("vm", "start", "-g", RG, "-n", "myVM")
    assert done.returncode != 0
    assert "Operation 'Start VM' is not allowed on VM 'myVM' since the VM is generalized." in done.stderr


def test_generalize_running_vm_fails_with_azure_message(azemu):
    c = vmkit.clients(azemu)
    vmkit.linux_vm(c, RG, "runningVM")
    done = azemu.az("vm", "generalize", "-g", RG, "-n", "runningVM")
    assert done.returncode != 0
    assert (
        "Operation 'generalize' is not allowed on VM 'runningVM' since the VM is running. Please power off "
        "explicitly in case you shut down the VM from inside the guest operating system."
    ) in " ".join(done.stderr.split())
    assert azemu.az("vm", "stop", "-g", RG, "-n", "runningVM").returncode == 0
    iv = azemu.az_json("vm", "get-instance-view", "-g", RG, "-n", "runningVM")
    assert iv["instanceView"]["statuses"][-1]["code"] == "PowerState/stopped"
    assert (
        azemu.az("vm", "generalize", "-g", RG, "-n", "runningVM").returncode == 0
    )  # stopped is enough (Azure)


def test_image_catalog_with_az(azemu):
    skus = azemu.az_json("vm", "image", "list-skus", "-l", "eastus", "-p", "Debian", "-f", "debian-12")
    assert {"12", "12-gen2"} <= {s["name"] for s in skus}
    listed = azemu.az_json(
        "vm",
        "image",
        "list",
        "-l",
        "eastus",
        "-p",
        "Canonical",
        "-f",
        "0001-com-ubuntu-server-jammy",
        "-s",
        "22_04-lts-gen2",
        "--all",
    )
    assert listed and all(
        i["urn"].startswith("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:") for i in listed
    )
    json.dumps(listed)
