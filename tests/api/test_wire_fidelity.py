"""Wire fidelity through the Azure SDK and plain REST: what a client sends is kept (or refused in Azure's
words), read-only facts are computed, and the gaps Microsoft's examples showed stay closed."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute.models import AdditionalCapabilities, Image, SubResource, VirtualMachineExtension

from tests import vmkit

RG = "fidelityRG"
API = "2025-04-01"
DISK_API = "2025-01-02"
GALLERY_API = "2025-03-03"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


@pytest.fixture(scope="module")
def base(azemu):
    return f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute"


def call(azemu, method, path, body=None, api=API, query=""):
    return azemu.request(method, f"{path}?api-version={api}{query}", body)


def vm_body(c, name, **props):
    nic = vmkit.make_nic(c, RG, f"{name}-nic")
    body = {
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "0001-com-ubuntu-server-jammy",
                    "sku": "22_04-lts-gen2",
                    "version": "latest",
                },
                "osDisk": {"createOption": "fromImage"},
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "adminPassword": vmkit.WIN_PASSWORD,
            },
            "networkProfile": {"networkInterfaces": [{"id": nic}]},
            **props,
        },
    }
    return body


def test_user_data_is_kept_and_shown_only_when_expanded(azemu, c, base):
    data = base64.b64encode(b"#!/bin/sh\necho hello\n").decode()
    status, got, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/udvm",
        vm_body(c, "udvm", userData=data, extensionsTimeBudget="PT45M"),
    )
    assert status == 201 and "userData" not in got["properties"]
    assert got["properties"]["extensionsTimeBudget"] == "PT45M"
    assert got["properties"]["storageProfile"]["osDisk"]["createOption"] == "FromImage"  # enum, any case
    _, plain, _ = call(azemu, "GET", f"{base}/virtualMachines/udvm")
    assert "userData" not in plain["properties"]
    vm = c.compute.virtual_machines.get(RG, "udvm", expand="userData")
    assert vm.user_data == data and vm.extensions_time_budget == "PT45M"
    status, err, _ = call(
        azemu, "PUT", f"{base}/virtualMachines/udbad", vm_body(c, "udbad", userData="not base64!")
    )
    assert status == 400 and err["error"]["code"] == "InvalidParameter"
    assert err["error"]["message"] == (
        "UserData must be in Base64 encoding and with a maximum length of 87384 characters."
    )


def test_read_only_and_unknown_properties_are_ignored_as_arm_does(azemu, c, base):
    body = vm_body(c, "rovm", provisioningState="Failed", vmId="not-mine", madeUp={"x": 1})
    body["properties"]["storageProfile"]["osDisk"]["diskSizeGb"] = 64  # az's own templates spell it so
    status, got, _ = call(azemu, "PUT", f"{base}/virtualMachines/rovm", body)
    assert status == 201
    props = got["properties"]
    assert props["vmId"] != "not-mine" and "madeUp" not in props
    assert props["storageProfile"]["osDisk"]["diskSizeGB"] == 64
    status, err, _ = call(azemu, "PUT", f"{base}/virtualMachines/rovm2", vm_body(c, "rovm2", userData=5))
    assert status == 400 and err["error"]["code"] == "InvalidRequestContent"
    assert "Path 'properties.userData'" in err["error"]["message"]
    # a property newer than the request's api-version does not exist for it: ignored, as ARM does
    status, got, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/oldvm",
        vm_body(c, "oldvm", extensionsTimeBudget="PT30M"),
        api="2019-07-01",
    )
    assert status == 201 and "extensionsTimeBudget" not in got["properties"]


def test_availability_sets_are_validated_and_give_domains(azemu, c, base):
    status, err, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/avmissing",
        vm_body(c, "avmissing", availabilitySet={"id": f"{base}/availabilitySets/nope"}),
    )
    assert status == 404 and err["error"]["code"] == "NotFound"
    avset = c.compute.availability_sets.create_or_update(
        RG,
        "avset",
        {"location": "eastus", "platform_fault_domain_count": 2, "platform_update_domain_count": 5},
    )
    for i in range(3):
        status, _, _ = call(
            azemu,
            "PUT",
            f"{base}/virtualMachines/av{i}",
            vm_body(c, f"av{i}", availabilitySet={"id": avset.id}),
        )
        assert status == 201
    members = c.compute.availability_sets.get(RG, "avset").virtual_machines
    assert [m.id.lower() for m in members] == [f"{base}/virtualMachines/av{i}".lower() for i in range(3)]
    view = c.compute.virtual_machines.instance_view(RG, "av2")
    assert (view.platform_update_domain, view.platform_fault_domain) == (2, 0)
    assert view.is_vm_in_standby_pool is False and view.patch_status is not None
    status, err, _ = call(azemu, "DELETE", f"{base}/availabilitySets/avset")
    assert status == 409 and "does not contain any VM" in err["error"]["message"]


def test_hibernation_needs_it_enabled(azemu, c, base):
    call(azemu, "PUT", f"{base}/virtualMachines/nohib", vm_body(c, "nohib"))
    status, err, _ = call(azemu, "POST", f"{base}/virtualMachines/nohib/deallocate", query="&hibernate=true")
    assert status == 409 and err["error"]["code"] == "OperationNotAllowed"
    assert "Hibernation is not enabled" in err["error"]["message"]
    vm = vmkit.linux_vm(c, RG, "hib")
    vm.additional_capabilities = AdditionalCapabilities(hibernation_enabled=True)
    c.compute.virtual_machines.begin_create_or_update(RG, "hib", vm).result()
    c.compute.virtual_machines.begin_deallocate(RG, "hib", hibernate=True).result()
    codes = vmkit.statuses(c, RG, "hib")
    assert "PowerState/deallocated" in codes and "HibernationState/Hibernated" in codes


def test_ids_without_a_leading_slash_name_the_resource(azemu, c, base):
    body = vm_body(c, "noslash")
    nic = body["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    body["properties"]["networkProfile"]["networkInterfaces"][0]["id"] = nic.lstrip("/")
    status, got, _ = call(azemu, "PUT", f"{base}/virtualMachines/noslash", body)
    assert status == 201
    assert got["properties"]["networkProfile"]["networkInterfaces"][0]["id"] == nic


def test_image_of_a_vm_captures_its_data_disks_and_refuses_a_generation_mismatch(azemu, c, base):
    body = vm_body(c, "capsrc")
    body["properties"]["storageProfile"]["dataDisks"] = [{"lun": 1, "createOption": "Empty", "diskSizeGB": 8}]
    call(azemu, "PUT", f"{base}/virtualMachines/capsrc", body)
    c.compute.virtual_machines.begin_deallocate(RG, "capsrc").result()
    c.compute.virtual_machines.generalize(RG, "capsrc")
    vm_id = f"{base}/virtualMachines/capsrc"
    status, err, _ = call(
        azemu,
        "PUT",
        f"{base}/images/capv1",
        {
            "location": "eastus",
            "properties": {"sourceVirtualMachine": {"id": vm_id}, "hyperVGeneration": "V1"},
        },
    )
    assert status == 400 and err["error"]["code"] == "InvalidParameter"
    assert err["error"]["message"] == (
        "The Input HyperVGeneration property: 'V1' does not match with the HyperVGeneration property: 'Gen2' "
        "belonging to source: 'sourceVirtualMachine'."
    )
    image = c.compute.images.begin_create_or_update(
        RG, "capimg", Image(location="eastus", source_virtual_machine=SubResource(id=vm_id))
    ).result()
    assert image.hyper_v_generation == "V2"
    assert [(d.lun, d.disk_size_gb) for d in image.storage_profile.data_disks] == [(1, 8)]
    # Image_Update: a PATCH keeps the data disks
    patched = c.compute.images.begin_update(RG, "capimg", {"tags": {"dept": "hr"}}).result()
    assert patched.tags == {"dept": "hr"} and len(patched.storage_profile.data_disks) == 1


def test_disks_keep_their_properties_and_show_ownership_changes(azemu, c, base):
    status, disk, _ = call(
        azemu,
        "PUT",
        f"{base}/disks/hibdisk",
        {
            "location": "eastus",
            "properties": {
                "creationData": {"createOption": "Empty"},
                "diskSizeGB": 8,
                "supportsHibernation": True,
                "supportedCapabilities": {"acceleratedNetwork": True},
                "securityProfile": {"securityType": "TrustedLaunch"},
                "networkAccessPolicy": "DenyAll",
            },
        },
        api=DISK_API,
    )
    assert status == 202
    _, disk, _ = call(azemu, "GET", f"{base}/disks/hibdisk", api=DISK_API)
    p = disk["properties"]
    assert p["supportsHibernation"] is True and p["supportedCapabilities"]["acceleratedNetwork"] is True
    assert p["securityProfile"] == {"securityType": "TrustedLaunch"} and p["networkAccessPolicy"] == "DenyAll"
    assert "LastOwnershipUpdateTime" not in p
    body = vm_body(c, "owner")
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": 0, "createOption": "Attach", "managedDisk": {"id": disk["id"]}}
    ]
    call(azemu, "PUT", f"{base}/virtualMachines/owner", body)
    _, disk, _ = call(azemu, "GET", f"{base}/disks/hibdisk", api=DISK_API)
    assert disk["properties"]["LastOwnershipUpdateTime"] and disk["managedBy"].endswith("/owner")
    _, snap, _ = call(
        azemu,
        "PUT",
        f"{base}/snapshots/hibsnap",
        {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]}},
        },
        api=DISK_API,
    )
    _, snap, _ = call(azemu, "GET", f"{base}/snapshots/hibsnap", api=DISK_API)
    assert snap["properties"]["supportsHibernation"] is True  # a copy keeps what its source had


def test_disk_from_a_gallery_version_and_version_rules(azemu, c, base):
    src = vmkit.linux_vm(c, RG, "galsrc", vmkit.UBUNTU2204)
    c.compute.virtual_machines.begin_deallocate(RG, "galsrc").result()
    c.compute.virtual_machines.generalize(RG, "galsrc")
    image = c.compute.images.begin_create_or_update(
        RG, "galimg", Image(location="eastus", source_virtual_machine=SubResource(id=src.id))
    ).result()
    call(azemu, "PUT", f"{base}/galleries/fidGallery", {"location": "eastus"}, api=GALLERY_API)
    definition = {
        "location": "eastus",
        "properties": {
            "osType": "linux",  # enum values are read case-insensitively
            "osState": "generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        },
    }
    status, got, _ = call(
        azemu, "PUT", f"{base}/galleries/fidGallery/images/def", definition, api=GALLERY_API
    )
    assert (
        status == 201
        and got["properties"]["osType"] == "Linux"
        and got["properties"]["osState"] == "Generalized"
    )
    version = f"{base}/galleries/fidGallery/images/def/versions/1.0.0"
    des = f"{base}/diskEncryptionSets/myDes"
    status, err, _ = call(
        azemu,
        "PUT",
        version,
        {
            "location": "eastus",
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {"name": "eastus", "encryption": {"osDiskImage": {"diskEncryptionSetId": des}}}
                    ]
                },
                "storageProfile": {"source": {"id": image.id}},
            },
        },
        api=GALLERY_API,
    )
    assert 400 <= status < 500 and des in err["error"]["message"]
    status, got, _ = call(
        azemu,
        "PUT",
        version,
        {
            "location": "eastus",
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {"name": "eastus", "encryption": {"osDiskImage": {"securityProfile": {}}}}
                    ]
                },
                "storageProfile": {"source": {"id": image.id}},
            },
        },
        api=GALLERY_API,
    )
    assert status in (200, 201) and "encryption" in got["properties"]["publishingProfile"]["targetRegions"][0]
    status, disk, _ = call(
        azemu,
        "PUT",
        f"{base}/disks/fromgallery",
        {
            "location": "eastus",
            "properties": {
                "creationData": {"createOption": "FromImage", "galleryImageReference": {"id": version}}
            },
        },
        api=DISK_API,
    )
    assert status == 202, disk
    _, disk, _ = call(azemu, "GET", f"{base}/disks/fromgallery", api=DISK_API)
    p = disk["properties"]
    assert p["osType"] == "Linux" and p["hyperVGeneration"] == "V2" and p["diskSizeGB"] == 30
    assert p["creationData"]["galleryImageReference"]["id"] == version
    assert p["supportedCapabilities"]["supportedSecurityOption"] == "TrustedLaunchSupported"


def test_a_version_from_a_vm_has_its_data_disk_images(azemu, c, base):
    body = vm_body(c, "vsrc")
    body["properties"]["storageProfile"]["dataDisks"] = [{"lun": 2, "createOption": "Empty", "diskSizeGB": 4}]
    call(azemu, "PUT", f"{base}/virtualMachines/vsrc", body)
    call(azemu, "PUT", f"{base}/galleries/vmGallery", {"location": "eastus"}, api=GALLERY_API)
    spec = {
        "location": "eastus",
        "properties": {
            "osType": "Linux",
            "osState": "Specialized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "spec", "sku": "s"},
        },
    }
    call(azemu, "PUT", f"{base}/galleries/vmGallery/images/spec", spec, api=GALLERY_API)
    status, got, _ = call(
        azemu,
        "PUT",
        f"{base}/galleries/vmGallery/images/spec/versions/1.0.0",
        {
            "location": "eastus",
            "properties": {
                "storageProfile": {"source": {"virtualMachineId": f"{base}/virtualMachines/vsrc"}}
            },
        },
        api=GALLERY_API,
    )
    assert status in (200, 201), got
    images = got["properties"]["storageProfile"]["dataDiskImages"]
    assert [(d["lun"], d["sizeInGB"]) for d in images] == [(2, 4)]


def test_windows_server_2016_reports_its_own_name(azemu, c):
    image = vmkit.ImageReference(
        publisher="MicrosoftWindowsServer",
        offer="WindowsServer",
        sku="2016-datacenter-gensecond",
        version="latest",
    )
    vmkit.windows_vm(c, RG, "win2016", image)
    view = c.compute.virtual_machines.instance_view(RG, "win2016")
    assert (view.os_name, view.os_version) == ("Windows Server 2016 Datacenter", "10.0.14393.7515")


def test_namespaces_and_types_azemu_does_not_serve(azemu):
    sub = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers"
    status, err, _ = azemu.request("PUT", f"{sub}/Microsoft.KeyVault/vaults/kv?api-version=2023-07-01", {})
    assert status == 409 and err["error"]["code"] == "MissingSubscriptionRegistration"
    assert err["error"]["message"].startswith(
        "The subscription is not registered to use namespace 'Microsoft.KeyVault'."
    )
    status, err, _ = azemu.request("GET", f"{sub}/Microsoft.Nope/things/x?api-version=2023-01-01")
    assert status == 400 and err["error"]["code"] == "InvalidResourceNamespace"
    status, err, _ = azemu.request(
        "GET", f"{sub}/Microsoft.Compute/proximityPlacementGroups/p?api-version=2024-07-01"
    )
    assert err["error"]["code"] == "InvalidResourceType"
    assert (
        "'proximityPlacementGroups'" in err["error"]["message"]
        and "api version" not in err["error"]["message"]
    )


def test_cloud_metadata_list_form(azemu):
    status, body, _ = azemu.request("GET", "/metadata/endpoints?api-version=2019-05-01")
    assert status == 200 and isinstance(body, list) and body[0]["name"] == "AzEmu"
    assert body[0]["authentication"]["audiences"] and body[0]["suffixes"]["sqlServerHostname"]
    status, body, _ = azemu.request("GET", "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200 and isinstance(body, dict) and body["resourceManager"]


def test_vm_sizes_of_a_location(azemu):
    status, body, _ = azemu.request(
        "GET",
        f"/subscriptions/{azemu.subscription_id}/providers/Microsoft.Compute/locations/eastus/vmSizes?api-version={API}",
    )
    assert status == 200 and any(s["name"] == "Standard_D2s_v5" for s in body["value"])


def test_custom_script_runs_in_the_guest_and_failures_are_azures(azemu, c, base):
    vmkit.linux_vm(c, RG, "extvm")
    ext = f"{base}/virtualMachines/extvm/extensions/CustomScript"
    status, got, _ = call(
        azemu,
        "PUT",
        ext,
        {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.Azure.Extensions",
                "type": "CustomScript",
                "typeHandlerVersion": "2.1",
                "settings": {"commandToExecute": "echo from-extension > /tmp/ext.txt"},
                "protectedSettings": {"secret": "x"},
            },
        },
    )
    assert status == 201 and "protectedSettings" not in got["properties"]
    result = vmkit.run(c, RG, "extvm", "cat /tmp/ext.txt")
    assert "from-extension" in result.value[0].message
    vm = c.compute.virtual_machines.get(RG, "extvm", expand="instanceView")
    assert [r.name for r in vm.resources] == ["CustomScript"]
    assert vm.instance_view.extensions[0].statuses[0].code == "ProvisioningState/succeeded"
    poller = c.compute.virtual_machine_extensions.begin_create_or_update(
        RG,
        "extvm",
        "RunCommandLinux",
        VirtualMachineExtension(
            {
                "location": "eastus",
                "properties": {
                    "publisher": "Microsoft.CPlat.Core",
                    "type": "RunCommandLinux",
                    "typeHandlerVersion": "1.0",
                    "settings": {"script": ["exit 3"]},
                },
            }
        ),
    )
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    assert "VMExtensionProvisioningError" in str(info.value) or "exit status=3" in str(info.value)
    status, err, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/extvm/extensions/old",
        {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.Azure.Extensions",
                "type": "CustomScript",
                "typeHandlerVersion": "9.9",
            },
        },
    )
    assert status == 404 and "could not be found in the extension repository" in err["error"]["message"]


def test_windows_custom_script_and_run_command_handlers(azemu, c, base):
    vmkit.windows_vm(c, RG, "winext")
    status, _, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/winext/extensions/cse",
        {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.Compute",
                "type": "CustomScriptExtension",
                "typeHandlerVersion": "1.10",
                "protectedSettings": {"commandToExecute": "Set-Content -Path C:\\cse.txt -Value from-cse"},
            },
        },
    )
    assert status == 201
    result = vmkit.run(c, RG, "winext", "Get-Content C:\\cse.txt", windows=True)
    assert "from-cse" in result.value[0].message
    status, _, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/winext/extensions/rc",
        {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.CPlat.Core",
                "type": "RunCommandWindows",
                "typeHandlerVersion": "1.1",
                "settings": {"script": ["Write-Output 'hello from run command'"]},
            },
        },
    )
    assert status == 201
    _, ext, _ = call(
        azemu, "GET", f"{base}/virtualMachines/winext/extensions/rc", query="&$expand=instanceView"
    )
    stdout = ext["properties"]["instanceView"]["substatuses"][0]
    assert (
        stdout["code"] == "ComponentStatus/StdOut/succeeded" and "hello from run command" in stdout["message"]
    )
    status, err, _ = call(
        azemu,
        "PUT",
        f"{base}/virtualMachines/winext/extensions/wrongos",
        {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.Azure.Extensions",
                "type": "CustomScript",
                "typeHandlerVersion": "2.1",
            },
        },
    )
    assert status == 409 and err["error"]["code"] == "OperationNotAllowed"
