"""Data disks on an existing VM with the real az CLI: `az vm disk attach|detach` send the VM's whole disk list
in a PUT, which azemu reads as Azure does - a new lun is attached (a new empty disk, or an existing unattached
one), a lun left out is detached (the disk stays, unattached), a disk another VM owns is refused."""

from __future__ import annotations

import pytest

from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "disksRG"
PASSWORD = "Az3mu!Passw0rd"


@pytest.fixture(scope="module")
def vms(azemu):
    azemu.az("group", "create", "-n", RG, "-l", "eastus", "-o", "none", check=True)
    for name in ("vm1", "vm2"):
        azemu.az(
            "vm", "create", "-g", RG, "-n", name, "--image", "Ubuntu2204", "--size", "Standard_D2s_v3",
            "--admin-username", "azureuser", "--admin-password", PASSWORD, "--nsg", "", "--public-ip-address", "",
            "-o", "none", check=True,
        )  # fmt: skip
    return azemu


def data_disks(emu, vm: str) -> dict[int, str]:
    got = emu.az_json("vm", "show", "-g", RG, "-n", vm, "--query", "storageProfile.dataDisks")
    return {d["lun"]: d["name"] for d in got}


def disk_state(emu, name: str) -> tuple[str | None, str]:
    managed_by, state = emu.az_json("disk", "show", "-g", RG, "-n", name, "--query", "[managedBy,diskState]")
    return (managed_by.rsplit("/", 1)[-1] if managed_by else None), state


def test_attach_new_and_existing_then_detach(vms):
    emu = vms
    emu.az_json(
        "vm", "disk", "attach", "-g", RG, "--vm-name", "vm1", "--name", "logs", "--new", "--size-gb", "16"
    )
    emu.az_json("disk", "create", "-g", RG, "-n", "shared", "--size-gb", "8")
    assert disk_state(emu, "shared") == (None, "Unattached")
    emu.az_json("vm", "disk", "attach", "-g", RG, "--vm-name", "vm1", "--name", "shared", "--lun", "3")
    assert data_disks(emu, "vm1") == {0: "logs", 3: "shared"}
    assert disk_state(emu, "logs") == ("vm1", "Attached")
    assert disk_state(emu, "shared") == ("vm1", "Attached")
    size = emu.az_json("disk", "show", "-g", RG, "-n", "logs", "--query", "diskSizeGB")
    assert size == 16

    # a disk vm1 owns cannot go to vm2 (Azure's refusal), until it is detached
    refused = emu.az("vm", "disk", "attach", "-g", RG, "--vm-name", "vm2", "--name", "shared")
    assert refused.returncode != 0 and "already owned by VM" in refused.stderr, refused.stderr
    assert data_disks(emu, "vm2") == {}

    emu.az_json("vm", "disk", "detach", "-g", RG, "--vm-name", "vm1", "--name", "shared")
    assert data_disks(emu, "vm1") == {0: "logs"}
    assert disk_state(emu, "shared") == (None, "Unattached")
    emu.az_json("vm", "disk", "attach", "-g", RG, "--vm-name", "vm2", "--name", "shared")
    assert data_disks(emu, "vm2") == {0: "shared"}
    assert disk_state(emu, "shared") == ("vm2", "Attached")


def test_a_deallocated_vms_new_disk_is_reserved_and_follows_its_power(vms):
    emu = vms
    emu.az("vm", "deallocate", "-g", RG, "-n", "vm2", "-o", "none", check=True)
    emu.az_json(
        "vm", "disk", "attach", "-g", RG, "--vm-name", "vm2", "--name", "scratch", "--new", "--size-gb", "4"
    )
    assert disk_state(emu, "scratch") == ("vm2", "Reserved")
    emu.az("vm", "start", "-g", RG, "-n", "vm2", "-o", "none", check=True)
    assert disk_state(emu, "scratch") == ("vm2", "Attached")
    # deleting the VM detaches its data disks (deleteOption Detach, az's default): they stay
    emu.az("vm", "delete", "-g", RG, "-n", "vm2", "--yes", "-o", "none", check=True)
    assert disk_state(emu, "scratch") == (None, "Unattached")
