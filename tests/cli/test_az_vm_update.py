"""An existing VM changed with the real az CLI the way Azure changes it: `az vm disk attach|detach` and
`az vm nic add|remove|set` send the VM's whole list in a PUT, `az vm update --os-disk` swaps the OS disk - each
read as Azure reads it (a new lun attached, a left-out one detached; NICs and the OS disk changed only while the
VM is deallocated), never silently ignored."""

from __future__ import annotations

import pytest

from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "updateRG"
PASSWORD = "Az3mu!Passw0rd"


@pytest.fixture(scope="module")
def vms(azemu):
    azemu.az("group", "create", "-n", RG, "-l", "eastus", "-o", "none", check=True)
    for name in ("vm1", "vm2"):
        azemu.az(
            "vm", "create", "-g", RG, "-n", name, "--image", "Ubuntu2204", "--size", "Standard_D4s_v3",
            "--admin-username", "azureuser", "--admin-password", PASSWORD, "--nsg", "", "--public-ip-address", "",
            "-o", "none", check=True,
        )  # fmt: skip
    return azemu


def data_disks(emu, vm: str) -> dict[int, str]:
    got = emu.az_json("vm", "show", "-g", RG, "-n", vm, "--query", "storageProfile.dataDisks")
    return {d["lun"]: d["name"] for d in got}


def owner_and_state(emu, kind: str, name: str) -> tuple[str | None, str]:
    if kind == "disk":
        managed_by, state = emu.az_json(
            "disk", "show", "-g", RG, "-n", name, "--query", "[managedBy,diskState]"
        )
        return (managed_by.rsplit("/", 1)[-1] if managed_by else None), state
    vm = emu.az_json("network", "nic", "show", "-g", RG, "-n", name, "--query", "virtualMachine.id")
    return (vm.rsplit("/", 1)[-1] if vm else None), ""


def test_attach_new_and_existing_data_disks_then_detach(vms):
    emu = vms
    emu.az_json(
        "vm", "disk", "attach", "-g", RG, "--vm-name", "vm1", "--name", "logs", "--new", "--size-gb", "16"
    )
    emu.az_json("disk", "create", "-g", RG, "-n", "shared", "--size-gb", "8")
    assert owner_and_state(emu, "disk", "shared") == (None, "Unattached")
    emu.az_json("vm", "disk", "attach", "-g", RG, "--vm-name", "vm1", "--name", "shared", "--lun", "3")
    assert data_disks(emu, "vm1") == {0: "logs", 3: "shared"}
    assert owner_and_state(emu, "disk", "logs") == ("vm1", "Attached")
    assert owner_and_state(emu, "disk", "shared") == ("vm1", "Attached")
    assert emu.az_json("disk", "show", "-g", RG, "-n", "logs", "--query", "diskSizeGB") == 16

    # a disk vm1 owns cannot go to vm2 (Azure's refusal), until it is detached
    refused = emu.az("vm", "disk", "attach", "-g", RG, "--vm-name", "vm2", "--name", "shared")
    assert refused.returncode != 0 and "already owned by VM" in refused.stderr, refused.stderr
    assert data_disks(emu, "vm2") == {}

    emu.az_json("vm", "disk", "detach", "-g", RG, "--vm-name", "vm1", "--name", "shared")
    assert data_disks(emu, "vm1") == {0: "logs"}
    assert owner_and_state(emu, "disk", "shared") == (None, "Unattached")
    emu.az_json("vm", "disk", "attach", "-g", RG, "--vm-name", "vm2", "--name", "shared")
    assert data_disks(emu, "vm2") == {0: "shared"}
    assert owner_and_state(emu, "disk", "shared") == ("vm2", "Attached")


def test_nics_change_only_while_deallocated_with_one_primary(vms):
    emu = vms
    emu.az("network", "nic", "create", "-g", RG, "-n", "nic2", "--vnet-name", "vm1VNET", "--subnet", "vm1Subnet",
           "-o", "none", check=True)  # fmt: skip
    running = emu.az(
        "vm", "nic", "add", "-g", RG, "--vm-name", "vm1", "--nics", "nic2", "--primary-nic", "vm1VMNic"
    )
    assert running.returncode != 0 and "OperationNotAllowed" in running.stderr, running.stderr
    assert owner_and_state(emu, "nic", "nic2")[0] is None

    emu.az("vm", "deallocate", "-g", RG, "-n", "vm1", "-o", "none", check=True)
    nics = emu.az_json(
        "vm", "nic", "add", "-g", RG, "--vm-name", "vm1", "--nics", "nic2", "--primary-nic", "vm1VMNic"
    )
    assert [(n["id"].rsplit("/", 1)[-1], n["primary"]) for n in nics] == [("vm1VMNic", True), ("nic2", False)]
    assert owner_and_state(emu, "nic", "nic2")[0] == "vm1"
    # a NIC another VM uses is refused
    taken = emu.az(
        "vm", "nic", "add", "-g", RG, "--vm-name", "vm1", "--nics", "vm2VMNic", "--primary-nic", "vm1VMNic"
    )
    assert taken.returncode != 0 and "is used by existing VM" in taken.stderr, taken.stderr

    nics = emu.az_json("vm", "nic", "set", "-g", RG, "--vm-name", "vm1", "--nics", "vm1VMNic", "nic2",
                       "--primary-nic", "nic2")  # fmt: skip
    assert [(n["id"].rsplit("/", 1)[-1], n["primary"]) for n in nics] == [("vm1VMNic", False), ("nic2", True)]
    nics = emu.az_json("vm", "nic", "remove", "-g", RG, "--vm-name", "vm1", "--nics", "vm1VMNic")
    assert [n["id"].rsplit("/", 1)[-1] for n in nics] == ["nic2"]
    assert owner_and_state(emu, "nic", "vm1VMNic")[0] is None
    emu.az("vm", "start", "-g", RG, "-n", "vm1", "-o", "none", check=True)


def test_os_disk_swap_boots_the_other_disks_guest(vms):
    emu = vms
    rg_vm2 = ["-g", RG, "-n", "vm2"]
    old = emu.az_json("vm", "show", *rg_vm2, "--query", "storageProfile.osDisk.name")
    emu.az_json("vm", "run-command", "invoke", *rg_vm2, "--command-id", "RunShellScript", "--scripts",
                "echo before-swap > /etc/marker")  # fmt: skip
    emu.az("snapshot", "create", "-g", RG, "-n", "vm2snap", "--source", old, "-o", "none", check=True)
    emu.az("disk", "create", "-g", RG, "-n", "vm2restored", "--source", "vm2snap", "-o", "none", check=True)
    emu.az_json("vm", "run-command", "invoke", *rg_vm2, "--command-id", "RunShellScript", "--scripts",
                "echo after-snapshot > /etc/marker")  # fmt: skip

    running = emu.az("vm", "update", *rg_vm2, "--os-disk", "vm2restored")
    assert running.returncode != 0 and "OperationNotAllowed" in running.stderr, running.stderr
    emu.az("vm", "deallocate", *rg_vm2, "-o", "none", check=True)
    emu.az("vm", "update", *rg_vm2, "--os-disk", "vm2restored", "-o", "none", check=True)
    assert emu.az_json("vm", "show", *rg_vm2, "--query", "storageProfile.osDisk.name") == "vm2restored"
    assert owner_and_state(emu, "disk", "vm2restored") == ("vm2", "Reserved")
    assert owner_and_state(emu, "disk", old) == (None, "Unattached")
    emu.az("vm", "start", *rg_vm2, "-o", "none", check=True)
    out = emu.az_json("vm", "run-command", "invoke", *rg_vm2, "--command-id", "RunShellScript", "--scripts",
                      "cat /etc/marker")  # fmt: skip
    assert "before-swap" in out["value"][0]["message"]


@pytest.mark.parametrize(
    ("setting", "target"),
    [
        ("osProfile.computerName=other", "osProfile.computerName"),
        ("osProfile.adminUsername=other", "osProfile.adminUsername"),
        ("storageProfile.imageReference.sku=20_04-lts", "imageReference"),
    ],
)
def test_properties_fixed_at_creation_are_refused(vms, setting, target):
    done = vms.az("vm", "update", "-g", RG, "-n", "vm1", "--set", setting)
    assert done.returncode != 0
    assert f"(PropertyChangeNotAllowed) Changing property '{target}' is not allowed." in done.stderr, (
        done.stderr
    )
