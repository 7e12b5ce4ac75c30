"""Whole templates clients really submit: az vm create's template, and a gallery image version replicated to a list of
target regions with property-level copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azemu.templates import prepare

from .fixtures import RG_ID, context, rid, template

VM_CREATE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "vm_create_template.json"


@pytest.mark.skipif(not VM_CREATE.exists(), reason="the shared reference template is not present")
def test_az_vm_create_template() -> None:
    tpl = json.loads(VM_CREATE.read_text())
    prepared = prepare(tpl, context(), text=VM_CREATE.read_text())
    waves = [[i.type for i in wave] for wave in prepared.waves]
    assert waves == [
        [
            "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/networkSecurityGroups",
            "Microsoft.Network/publicIPAddresses",
        ],
        ["Microsoft.Network/networkInterfaces"],
        ["Microsoft.Compute/virtualMachines"],
    ]
    for inst in prepared.deployable:
        body = prepared.render(inst)
        decl = {k: v for k, v in inst.decl.raw.items() if k not in ("dependsOn",)}
        assert body == decl  # az CLI sends literal values only: rendering changes nothing
        assert inst.resource_id.startswith(RG_ID + "/providers/")
    assert prepared.outputs() == {}


# Older az CLI versions generated the same template with parameters and expressions; a trimmed version of that shape.
AZ_VM_WITH_EXPRESSIONS: dict[str, Any] = template(
    parameters={
        "vmName": {"type": "string", "defaultValue": "vm2"},
        "adminUsername": {"type": "string", "defaultValue": "azureuser"},
        "sshKey": {"type": "securestring"},
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    },
    variables={
        "vnet": "[concat(parameters('vmName'), 'VNET')]",
        "subnet": "[concat(parameters('vmName'), 'Subnet')]",
        "nic": "[concat(parameters('vmName'), 'VMNic')]",
        "pip": "[concat(parameters('vmName'), 'PublicIP')]",
    },
    resources=[
        {
            "name": "[variables('vnet')]",
            "type": "Microsoft.Network/virtualNetworks",
            "location": "[parameters('location')]",
            "apiVersion": "2015-06-15",
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [
                    {"name": "[variables('subnet')]", "properties": {"addressPrefix": "10.0.0.0/24"}}
                ],
            },
        },
        {
            "apiVersion": "2022-01-01",
            "type": "Microsoft.Network/publicIPAddresses",
            "name": "[variables('pip')]",
            "location": "[parameters('location')]",
            "properties": {"publicIPAllocationMethod": "Static"},
            "sku": {"name": "Standard"},
        },
        {
            "apiVersion": "2015-06-15",
            "type": "Microsoft.Network/networkInterfaces",
            "name": "[variables('nic')]",
            "location": "[parameters('location')]",
            "dependsOn": [
                "[resourceId('Microsoft.Network/virtualNetworks', variables('vnet'))]",
                "[concat('Microsoft.Network/publicIpAddresses/', variables('pip'))]",
            ],
            "properties": {
                "ipConfigurations": [
                    {
                        "name": "[concat('ipconfig', parameters('vmName'))]",
                        "properties": {
                            "privateIPAllocationMethod": "Dynamic",
                            "subnet": {
                                "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), variables('subnet'))]"
                            },
                            "publicIPAddress": {
                                "id": "[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"
                            },
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "2024-07-01",
            "type": "Microsoft.Compute/virtualMachines",
            "name": "[parameters('vmName')]",
            "location": "[parameters('location')]",
            "dependsOn": ["[variables('nic')]"],
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                "networkProfile": {
                    "networkInterfaces": [
                        {"id": "[resourceId('Microsoft.Network/networkInterfaces', variables('nic'))]"}
                    ]
                },
                "osProfile": {
                    "computerName": "[parameters('vmName')]",
                    "adminUsername": "[parameters('adminUsername')]",
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": True,
                        "ssh": {
                            "publicKeys": [
                                {
                                    "keyData": "[parameters('sshKey')]",
                                    "path": "[concat('/home/', parameters('adminUsername'), '/.ssh/authorized_keys')]",
                                }
                            ]
                        },
                    },
                },
            },
        },
    ],
    outputs={
        "vmId": {
            "type": "string",
            "value": "[resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))]",
        }
    },
)


def test_az_vm_create_shape_with_expressions() -> None:
    prepared = prepare(AZ_VM_WITH_EXPRESSIONS, context(), {"sshKey": {"value": "ssh-rsa AAAA"}})
    assert [[i.name for i in w] for w in prepared.waves] == [
        ["vm2VNET", "vm2PublicIP"],
        ["vm2VMNic"],
        ["vm2"],
    ]
    nic = prepared.render(prepared.instance("vm2VMNic"))
    config = nic["properties"]["ipConfigurations"][0]
    assert config["name"] == "ipconfigvm2"
    assert config["properties"]["subnet"]["id"] == rid(
        "Microsoft.Network/virtualNetworks/subnets", "vm2VNET", "vm2Subnet"
    )
    vm = prepared.render(prepared.instance("vm2"))
    assert vm["location"] == "eastus"
    assert vm["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0] == {
        "keyData": "ssh-rsa AAAA",
        "path": "/home/azureuser/.ssh/authorized_keys",
    }
    assert prepared.outputs() == {
        "vmId": {"type": "String", "value": rid("Microsoft.Compute/virtualMachines", "vm2")}
    }
    assert prepared.parameters_for_response()["sshKey"] == {"type": "SecureString"}


GALLERY: dict[str, Any] = template(
    parameters={
        "galleryName": {"type": "string", "defaultValue": "myGallery"},
        "imageName": {"type": "string", "defaultValue": "ubuntu"},
        "versions": {"type": "array", "defaultValue": ["1.0.0", "1.0.1", "1.1.0"]},
        "targetRegions": {
            "type": "array",
            "defaultValue": [
                {"name": "eastus", "replicas": 1},
                {"name": "westeurope", "replicas": 2},
                {"name": "southeastasia", "replicas": 3},
            ],
        },
    },
    resources=[
        {
            "type": "Microsoft.Compute/galleries",
            "apiVersion": "2023-07-03",
            "name": "[parameters('galleryName')]",
            "location": "[resourceGroup().location]",
            "properties": {},
        },
        {
            "type": "Microsoft.Compute/galleries/images",
            "apiVersion": "2023-07-03",
            "name": "[concat(parameters('galleryName'), '/', parameters('imageName'))]",
            "location": "[resourceGroup().location]",
            "dependsOn": ["[resourceId('Microsoft.Compute/galleries', parameters('galleryName'))]"],
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "identifier": {"publisher": "azemu", "offer": "demo", "sku": "[parameters('imageName')]"},
            },
        },
        {
            "type": "Microsoft.Compute/galleries/images/versions",
            "apiVersion": "2023-07-03",
            "name": "[concat(parameters('galleryName'), '/', parameters('imageName'), '/', parameters('versions')[copyIndex()])]",
            "location": "[resourceGroup().location]",
            "copy": {
                "name": "versionLoop",
                "count": "[length(parameters('versions'))]",
                "mode": "serial",
                "batchSize": 1,
            },
            "dependsOn": [
                "[resourceId('Microsoft.Compute/galleries/images', parameters('galleryName'), parameters('imageName'))]"
            ],
            "properties": {
                "publishingProfile": {
                    "copy": [
                        {
                            "name": "targetRegions",
                            "count": "[length(parameters('targetRegions'))]",
                            "input": {
                                "name": "[parameters('targetRegions')[copyIndex('targetRegions')].name]",
                                "regionalReplicaCount": "[parameters('targetRegions')[copyIndex('targetRegions')].replicas]",
                                "storageAccountType": "Standard_LRS",
                            },
                        }
                    ],
                    "replicaCount": 1,
                    "excludeFromLatest": "[not(equals(copyIndex(), sub(length(parameters('versions')), 1)))]",
                },
                "storageProfile": {"source": {"id": "[resourceId('Microsoft.Compute/images', 'myImage')]"}},
            },
        },
    ],
    outputs={
        "regions": {
            "type": "array",
            "copy": {
                "count": "[length(parameters('targetRegions'))]",
                "input": "[parameters('targetRegions')[copyIndex()].name]",
            },
        }
    },
)


def test_gallery_versions_with_copy_over_target_regions() -> None:
    prepared = prepare(GALLERY, context())
    assert [[i.name for i in w] for w in prepared.waves] == [
        ["myGallery"],
        ["myGallery/ubuntu"],
        ["myGallery/ubuntu/1.0.0"],
        ["myGallery/ubuntu/1.0.1"],
        ["myGallery/ubuntu/1.1.0"],
    ]
    last = prepared.instance("myGallery/ubuntu/1.1.0")
    assert last.resource_id == rid(
        "Microsoft.Compute/galleries/images/versions", "myGallery", "ubuntu", "1.1.0"
    )
    profile = prepared.render(last)["properties"]["publishingProfile"]
    assert profile == {
        "targetRegions": [
            {"name": "eastus", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
            {"name": "westeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_LRS"},
            {"name": "southeastasia", "regionalReplicaCount": 3, "storageAccountType": "Standard_LRS"},
        ],
        "replicaCount": 1,
        "excludeFromLatest": False,
    }
    first = prepared.render(prepared.instance("myGallery/ubuntu/1.0.0"))
    assert first["properties"]["publishingProfile"]["excludeFromLatest"] is True
    assert prepared.outputs() == {
        "regions": {"type": "Array", "value": ["eastus", "westeurope", "southeastasia"]}
    }


# The shape of the template Packer's azure-arm builder submits (packer-plugin-azure, builder/azure/common/template:
# variables built with resourceId(subscription, group, type, name), dependsOn written as concat('Namespace/type/', name),
# a customScript extension gated by a condition), trimmed.
PACKER_PARAMETERS = [
    "adminPassword",
    "adminUsername",
    "commandToExecute",
    "nicName",
    "osDiskName",
    "publicIPAddressName",
    "subnetName",
    "virtualNetworkName",
    "vmName",
    "vmSize",
    "dnsNameForPublicIP",
]
PACKER_LIKE: dict[str, Any] = template(
    parameters={
        name: {"type": "securestring" if name == "adminPassword" else "string"} for name in PACKER_PARAMETERS
    },
    variables={
        "location": "[resourceGroup().location]",
        "networkApiVersion": "2023-04-01",
        "computeApiVersion": "2023-03-01",
        "subnetName": "[parameters('subnetName')]",
        "virtualNetworkName": "[parameters('virtualNetworkName')]",
        "virtualNetworkResourceGroup": "[resourceGroup().name]",
        "virtualNetworkSubscriptionID": "[subscription().subscriptionId]",
        "vnetID": "[resourceId(variables('virtualNetworkSubscriptionID'), variables('virtualNetworkResourceGroup'), 'Microsoft.Network/virtualNetworks', variables('virtualNetworkName'))]",
        "subnetRef": "[concat(variables('vnetID'), '/subnets/', variables('subnetName'))]",
        "sshKeyPath": "[concat('/home/', parameters('adminUsername'), '/.ssh/authorized_keys')]",
    },
    resources=[
        {
            "apiVersion": "[variables('networkApiVersion')]",
            "type": "Microsoft.Network/publicIPAddresses",
            "name": "[parameters('publicIPAddressName')]",
            "location": "[variables('location')]",
            "properties": {
                "dnsSettings": {"domainNameLabel": "[parameters('dnsNameForPublicIP')]"},
                "publicIPAllocationMethod": "Dynamic",
            },
        },
        {
            "apiVersion": "[variables('networkApiVersion')]",
            "type": "Microsoft.Network/virtualNetworks",
            "name": "[variables('virtualNetworkName')]",
            "location": "[variables('location')]",
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [
                    {"name": "[variables('subnetName')]", "properties": {"addressPrefix": "10.0.0.0/24"}}
                ],
            },
        },
        {
            "apiVersion": "[variables('networkApiVersion')]",
            "type": "Microsoft.Network/networkInterfaces",
            "name": "[parameters('nicName')]",
            "location": "[variables('location')]",
            "dependsOn": [
                "[concat('Microsoft.Network/publicIPAddresses/', parameters('publicIPAddressName'))]",
                "[concat('Microsoft.Network/virtualNetworks/', variables('virtualNetworkName'))]",
            ],
            "properties": {
                "ipConfigurations": [
                    {
                        "name": "ipconfig",
                        "properties": {
                            "privateIPAllocationMethod": "Dynamic",
                            "publicIPAddress": {
                                "id": "[resourceId('Microsoft.Network/publicIPAddresses', parameters('publicIPAddressName'))]"
                            },
                            "subnet": {"id": "[variables('subnetRef')]"},
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "[variables('computeApiVersion')]",
            "type": "Microsoft.Compute/virtualMachines",
            "name": "[parameters('vmName')]",
            "location": "[variables('location')]",
            "dependsOn": ["[concat('Microsoft.Network/networkInterfaces/', parameters('nicName'))]"],
            "properties": {
                "hardwareProfile": {"vmSize": "[parameters('vmSize')]"},
                "networkProfile": {
                    "networkInterfaces": [
                        {"id": "[resourceId('Microsoft.Network/networkInterfaces', parameters('nicName'))]"}
                    ]
                },
                "osProfile": {
                    "adminUsername": "[parameters('adminUsername')]",
                    "adminPassword": "[parameters('adminPassword')]",
                    "computerName": "[parameters('vmName')]",
                    "linuxConfiguration": {
                        "ssh": {
                            "publicKeys": [{"keyData": "ssh-rsa AAAA", "path": "[variables('sshKeyPath')]"}]
                        }
                    },
                },
                "storageProfile": {
                    "imageReference": {
                        "publisher": "Canonical",
                        "offer": "UbuntuServer",
                        "sku": "16.04",
                        "version": "latest",
                    },
                    "osDisk": {
                        "name": "[parameters('osDiskName')]",
                        "createOption": "FromImage",
                        "caching": "ReadWrite",
                    },
                },
            },
        },
        {
            "apiVersion": "[variables('computeApiVersion')]",
            "type": "Microsoft.Compute/virtualMachines/extensions",
            "name": "[concat(parameters('vmName'), '/extension-customscript')]",
            "location": "[variables('location')]",
            "condition": "[not(empty(parameters('commandToExecute')))]",
            "dependsOn": ["[resourceId('Microsoft.Compute/virtualMachines/', parameters('vmName'))]"],
            "properties": {
                "publisher": "Microsoft.Compute",
                "type": "CustomScriptExtension",
                "typeHandlerVersion": "1.10",
                "settings": {"commandToExecute": "[parameters('commandToExecute')]"},
            },
        },
    ],
)


@pytest.mark.parametrize("command", ["", "echo hi"])
def test_packer_like_template(command: str) -> None:
    values = {
        "adminPassword": "S3cret!",
        "adminUsername": "packer",
        "commandToExecute": command,
        "nicName": "pkrni1",
        "osDiskName": "pkros1",
        "publicIPAddressName": "pkrip1",
        "subnetName": "pkrsn1",
        "virtualNetworkName": "pkrvn1",
        "vmName": "pkrvm1",
        "vmSize": "Standard_B2s",
        "dnsNameForPublicIP": "pkrdns1",
    }
    prepared = prepare(PACKER_LIKE, context(), {k: {"value": v} for k, v in values.items()})
    expected = [["pkrip1", "pkrvn1"], ["pkrni1"], ["pkrvm1"]] + (
        [["pkrvm1/extension-customscript"]] if command else []
    )
    assert [[i.name for i in w] for w in prepared.waves] == expected
    nic = prepared.render(prepared.instance("pkrni1"))
    subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    assert subnet == rid("Microsoft.Network/virtualNetworks/subnets", "pkrvn1", "pkrsn1")
    vm = prepared.render(prepared.instance("pkrvm1"))
    assert vm["apiVersion"] == "2023-03-01"
    assert (
        vm["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["path"]
        == "/home/packer/.ssh/authorized_keys"
    )
    assert prepared.parameters_for_response()["adminPassword"] == {"type": "SecureString"}
