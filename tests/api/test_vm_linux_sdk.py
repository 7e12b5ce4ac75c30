"""Linux VMs through the Azure SDK: shapes, power lifecycle, Run Command, waagent/cloud-init, generalize,
first boot from generalized and specialized sources, identity conflicts."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import VirtualMachine

from tests import vmkit

RG = "linuxRG"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


def guest_file(azemu, vm_id: str, path: str) -> str | None:
    import urllib.parse

    status, body, _ = azemu.request(
        "GET", "/_azemu/guest/file?" + urllib.parse.urlencode({"vm": vm_id, "path": path})
    )
    return None if status == 404 else body if isinstance(body, str) else str(body)


def test_create_shapes_and_instance_view(azemu, c):
    vm = vmkit.linux_vm(c, RG, "shapevm", vmkit.UBUNTU2204)
    assert vm.provisioning_state == "Succeeded"
    assert vm.vm_id and vm.time_created
    ref = vm.storage_profile.image_reference
    assert (ref.publisher, ref.offer, ref.sku, ref.version) == (
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        "latest",
    )
    assert ref.exact_version.startswith("22.04.")
    os_disk = vm.storage_profile.os_disk
    assert os_disk.os_type == "Linux" and os_disk.create_option == "FromImage"
    assert os_disk.name.startswith("shapevm_OsDisk_1_") and len(os_disk.name) == len("shapevm_OsDisk_1_") + 32
    assert os_disk.delete_option == "Detach"
    disk = c.compute.disks.get(RG, os_disk.name)
    assert disk.disk_state == "Attached" and disk.managed_by.lower() == vm.id.lower()
    assert vm.os_profile.computer_name == "shapevm" and vm.os_profile.admin_password is None
    view = c.compute.virtual_machines.instance_view(RG, "shapevm")
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert view.vm_agent.statuses[0].display_status == "Ready"
    assert view.computer_name == "shapevm"
    expanded = c.compute.virtual_machines.get(RG, "shapevm", expand="instanceView")
    assert expanded.instance_view.statuses[-1].display_status == "VM running"
    nic = c.network.network_interfaces.get(RG, "shapevm-nic")
    assert nic.virtual_machine.id.lower() == vm.id.lower() and nic.mac_address
    assert nic.ip_configurations[0].private_ip_address == "10.0.0.4"


def test_patch_tags_and_list(c):
    from azure.mgmt.compute.models import VirtualMachineUpdate

    updated = c.compute.virtual_machines.begin_update(
        RG, "shapevm", VirtualMachineUpdate(tags={"env": "test"})
    ).result()
    assert updated.tags == {"env": "test"}
    assert "shapevm" in [v.name for v in c.compute.virtual_machines.list(RG)]
    assert "shapevm" in [v.name for v in c.compute.virtual_machines.list_all()]


def test_run_command_output_and_shell_errors(c):
    result = vmkit.run(c, RG, "shapevm", "cat /etc/hostname")
    assert result.value[0].code == "ProvisioningState/succeeded"
    assert result.value[0].message == "Enable succeeded: \n[stdout]\nshapevm\n\n[stderr]\n"
    result = vmkit.run(c, RG, "shapevm", "nosuchtool --x")
    msg = result.value[0].message
    assert "exit status=127" in msg and "nosuchtool: command not found" in msg
    result = vmkit.run(
        c, RG, "shapevm", "echo $GREETING > /tmp/x && cat /tmp/x", params={"GREETING": "hello"}
    )
    assert "[stdout]\nhello\n" in result.value[0].message


def test_power_lifecycle_and_refusals(c):
    vms = c.compute.virtual_machines
    with pytest.raises(HttpResponseError) as info:
        vms.generalize(RG, "shapevm")
    assert info.value.status_code == 409
    assert info.value.error.message == (
        "Operation 'generalize' is not allowed on VM 'shapevm' since the VM is running. Please power off explicitly "
        "in case you shut down the VM from inside the guest operating system."
    )
    vms.begin_power_off(RG, "shapevm").result()
    assert vmkit.statuses(c, RG, "shapevm")[-1] == "PowerState/stopped"
    with pytest.raises(HttpResponseError) as info:
        vmkit.run(c, RG, "shapevm", "hostname")
    assert info.value.error.code == "OperationNotAllowed"
    vms.begin_start(RG, "shapevm").result()
    assert vmkit.statuses(c, RG, "shapevm")[-1] == "PowerState/running"
    vms.begin_restart(RG, "shapevm").result()
    vms.begin_deallocate(RG, "shapevm").result()
    assert vmkit.statuses(c, RG, "shapevm")[-1] == "PowerState/deallocated"
    disk_name = vms.get(RG, "shapevm").storage_profile.os_disk.name
    assert c.compute.disks.get(RG, disk_name).disk_state == "Reserved"
    with pytest.raises(HttpResponseError) as info:
        vmkit.run(c, RG, "shapevm", "hostname")
    assert "deallocated" in info.value.error.message
    vms.begin_start(RG, "shapevm").result()
    assert c.compute.disks.get(RG, disk_name).disk_state == "Attached"


def test_seed_linux_walkthrough_waagent_deprovision_generalize(azemu, c):
    vm = vmkit.linux_vm(c, RG, "goldvm", vmkit.DEBIAN12)
    vmkit.run(c, RG, "goldvm", "apt-get install -y nginx")
    result = vmkit.run(c, RG, "goldvm", "sudo waagent -deprovision+user -force")
    msg = result.value[0].message
    assert "WARNING! azureuser account and entire home directory will be deleted." in msg
    # waagent never shuts the machine down: the VM keeps running
    assert vmkit.statuses(c, RG, "goldvm")[-1] == "PowerState/running"
    assert guest_file(azemu, vm.id, "/etc/hostname") == "localhost.localdomain"
    assert guest_file(azemu, vm.id, "/home/azureuser/.ssh/authorized_keys") is None
    assert guest_file(azemu, vm.id, "/var/lib/waagent/ovf-env.xml") is None
    c.compute.virtual_machines.begin_deallocate(RG, "goldvm").result()
    c.compute.virtual_machines.generalize(RG, "goldvm")
    codes = vmkit.statuses(c, RG, "goldvm")
    assert codes[0] == "OSState/generalized" and codes[-1] == "PowerState/deallocated"
    with pytest.raises(HttpResponseError) as info:
        c.compute.virtual_machines.begin_start(RG, "goldvm").result()
    assert (
        info.value.error.message
        == "Operation 'Start VM' is not allowed on VM 'goldvm' since the VM is generalized."
    )


def test_generalized_source_needs_os_profile_and_specialized_refuses_it(c):
    nic = vmkit.make_nic(c, RG, "noprof-nic")
    from azure.mgmt.compute.models import (
        HardwareProfile,
        NetworkInterfaceReference,
        NetworkProfile,
        OSDisk,
        StorageProfile,
    )

    vm = VirtualMachine(
        location="eastus",
        hardware_profile=HardwareProfile(vm_size="Standard_B1s"),
        storage_profile=StorageProfile(
            image_reference=vmkit.DEBIAN12, os_disk=OSDisk(create_option="FromImage")
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    with pytest.raises(HttpResponseError) as info:
        c.compute.virtual_machines.begin_create_or_update(RG, "noprof", vm).result()
    assert info.value.status_code == 400
    assert info.value.error.message == "Required parameter 'osProfile' is missing (null)."


def test_specialized_clone_keeps_identity_and_conflicts_are_reported(azemu, c):
    src = vmkit.linux_vm(c, RG, "srcvm", vmkit.DEBIAN12)
    vmkit.run(c, RG, "srcvm", "echo marker > /root/data.txt")
    c.compute.virtual_machines.begin_power_off(RG, "srcvm").result()
    disk_id = src.storage_profile.os_disk.managed_disk.id
    copy = c.compute.disks.begin_create_or_update(
        RG,
        "clone-os",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
        },
    ).result()
    assert copy.disk_state == "Unattached" and copy.os_type == "Linux"
    with pytest.raises(HttpResponseError) as info:
        nic = vmkit.make_nic(c, RG, "bad-clone-nic")
        c.compute.virtual_machines.begin_create_or_update(
            RG,
            "badclone",
            {
                "location": "eastus",
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_B1s"},
                    "storageProfile": {
                        "osDisk": {
                            "createOption": "Attach",
                            "osType": "Linux",
                            "managedDisk": {"id": copy.id},
                        }
                    },
                    "osProfile": {
                        "computerName": "x",
                        "adminUsername": "someone",
                        "adminPassword": "Xy!12345",
                    },
                    "networkProfile": {"networkInterfaces": [{"id": nic}]},
                },
            },
        ).result()
    assert info.value.error.message == "Parameter 'osProfile' is not allowed."
    clone = vmkit.attach_vm(c, RG, "clonevm", copy.id, "Linux")
    assert clone.os_profile is None
    assert vmkit.statuses(c, RG, "clonevm")[0] == "OSState/specialized"
    c.compute.virtual_machines.begin_start(RG, "srcvm").result()
    a = azemu.admin("GET", "/guest/identity?vm=" + src.id)
    b = azemu.admin("GET", "/guest/identity?vm=" + clone.id)
    assert a["computerName"] == b["computerName"] == "srcvm"
    assert a["sshHostKeys"] == b["sshHostKeys"] and a["machineId"] == b["machineId"]
    assert (
        vmkit.run(c, RG, "clonevm", "cat /root/data.txt")
        .value[0]
        .message.startswith("Enable succeeded: \n[stdout]\nmarker\n")
    )
    kinds = {
        g["kind"]
        for g in azemu.admin("GET", "/identity-conflicts")["value"]
        if {src.id.lower(), clone.id.lower()} <= {v.lower() for v in g["virtualMachines"]}
    }
    assert {"machineId", "sshHostKey", "computerName"} <= kinds
    view = c.compute.virtual_machines.instance_view(RG, "clonevm")
    assert any(s.code == "AzEmu/IdentityConflict/machineId" and s.level == "Warning" for s in view.statuses)


def test_delete_honours_delete_options(c):
    vm = vmkit.linux_vm(c, RG, "tempvm", delete_disk=True)
    disk_name = vm.storage_profile.os_disk.name
    c.compute.virtual_machines.begin_delete(RG, "tempvm").result()
    with pytest.raises(ResourceNotFoundError):
        c.compute.disks.get(RG, disk_name)
    nic = c.network.network_interfaces.get(RG, "tempvm-nic")
    assert nic.virtual_machine is None
    keep = vmkit.linux_vm(c, RG, "keepvm")
    with pytest.raises(HttpResponseError) as info:
        c.compute.disks.begin_delete(RG, keep.storage_profile.os_disk.name).result()
    assert info.value.error.code == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as info:
        c.network.network_interfaces.begin_delete(RG, "keepvm-nic").result()
    assert info.value.error.code == "NicInUse"
    c.compute.virtual_machines.begin_delete(RG, "keepvm").result()
    assert c.compute.disks.get(RG, keep.storage_profile.os_disk.name).disk_state == "Unattached"


def test_platform_image_catalog(c):
    vers = c.compute.virtual_machine_images.list(
        "eastus", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"
    )
    assert vers and all(v.name.startswith("22.04.") for v in vers)
    img = c.compute.virtual_machine_images.get(
        "eastus", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", vers[-1].name
    )
    assert img.hyper_v_generation == "V2" and img.os_disk_image.operating_system == "Linux"
    skus = {s.name for s in c.compute.virtual_machine_images.list_skus("eastus", "Debian", "debian-12")}
    assert {"12", "12-gen2"} <= skus
    win = {
        s.name
        for s in c.compute.virtual_machine_images.list_skus(
            "eastus", "MicrosoftWindowsServer", "WindowsServer"
        )
    }
    assert {"2019-datacenter", "2022-datacenter-g2", "2025-datacenter-g2"} <= win
    with pytest.raises(ResourceNotFoundError):
        c.compute.virtual_machine_images.list("eastus", "Nobody", "nothing", "none")
