"""Bad input to every write endpoint answers in Azure's error envelope with a 4xx: never a 500."""

from __future__ import annotations

import pytest

from tests import vmkit

RG = "fuzzRG"
BODIES = [
    {},
    {"location": "eastus"},
    {"location": "eastus", "properties": []},
    {"location": "eastus", "properties": "x"},
    {"location": 42, "properties": {}},
    {"location": "eastus", "tags": ["a"]},
    {"location": "eastus", "properties": {"storageProfile": "x", "osProfile": 1, "networkProfile": []}},
    {
        "location": "eastus",
        "properties": {"hardwareProfile": {"vmSize": 5}, "storageProfile": {"osDisk": []}},
    },
    {
        "location": "eastus",
        "properties": {"storageProfile": {"imageReference": "x", "osDisk": {"createOption": 1}}},
    },
    {"location": "eastus", "properties": {"creationData": "x", "diskSizeGB": "big"}},
    {"location": "eastus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": 5}}},
    {"location": "eastus", "properties": {"sourceVirtualMachine": "x", "storageProfile": {"osDisk": "y"}}},
    {"location": "eastus", "properties": {"osType": [], "osState": {}, "identifier": "x"}},
    {"location": "eastus", "properties": {"publishingProfile": {"targetRegions": "x"}, "storageProfile": []}},
    {
        "location": "eastus",
        "properties": {
            "publishingProfile": {"targetRegions": [1, None]},
            "storageProfile": {"source": {"id": 7}},
        },
    },
    {"location": "eastus", "properties": {"ipConfigurations": [{"properties": {"subnet": "x"}}]}},
    {"location": "eastus", "properties": {"subnets": "x", "addressSpace": {"addressPrefixes": "x"}}},
    {"commandId": "RunShellScript", "script": "not-a-list"},
    {"commandId": 5},
    {"access": "Read", "durationInSeconds": "soon"},
    {"operationType": "Add", "groups": "x"},
    {"properties": {"policyRule": "x", "parameters": [], "mode": 5}},
    {"properties": {"policyRule": {"if": {"field": "type", "equalz": 1}, "then": {"effect": "deny"}}}},
    {
        "properties": {
            "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "[parameters('e')]"}}
        }
    },
    {"properties": {"policyDefinitionId": 5, "parameters": "x", "notScopes": "y", "enforcementMode": []}},
    {"properties": {"policyDefinitions": [{"policyDefinitionId": "/nope", "parameters": 1}]}},
    {"properties": {"policyAssignmentId": [], "exemptionCategory": "Sometimes", "expiresOn": "never"}},
    [1, 2, 3],
    "just a string",
]


@pytest.fixture(scope="module")
def paths(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    vm = vmkit.linux_vm(c, RG, "fuzzvm")
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers"
    gallery = f"{base}/Microsoft.Compute/galleries/fuzzgal"
    azemu.request("PUT", gallery + "?api-version=2024-03-03", {"location": "eastus"})
    azemu.request(
        "PUT",
        gallery + "/images/def?api-version=2024-03-03",
        {
            "location": "eastus",
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
            },
        },
    )
    auth = "providers/Microsoft.Authorization"
    group = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}"
    return [
        ("PUT", f"/subscriptions/{azemu.subscription_id}/resourcegroups/fuzzRG2?api-version=2024-11-01"),
        ("PATCH", f"/subscriptions/{azemu.subscription_id}/resourcegroups/{RG}?api-version=2024-11-01"),
        ("PUT", f"{base}/Microsoft.Compute/virtualMachines/newvm?api-version=2024-11-01"),
        ("PATCH", f"{vm.id}?api-version=2024-11-01"),
        ("POST", f"{vm.id}/runCommand?api-version=2024-11-01"),
        ("PUT", f"{base}/Microsoft.Compute/disks/d?api-version=2025-01-02"),
        ("PATCH", f"{base}/Microsoft.Compute/disks/{vm.storage_profile.os_disk.name}?api-version=2025-01-02"),
        (
            "POST",
            f"{base}/Microsoft.Compute/disks/{vm.storage_profile.os_disk.name}/beginGetAccess?api-version=2025-01-02",
        ),
        ("PUT", f"{base}/Microsoft.Compute/snapshots/s?api-version=2025-01-02"),
        ("PUT", f"{base}/Microsoft.Compute/images/i?api-version=2024-11-01"),
        ("PUT", f"{base}/Microsoft.Compute/galleries/g2?api-version=2024-03-03"),
        ("PUT", f"{gallery}/images/def2?api-version=2024-03-03"),
        ("PATCH", f"{gallery}/images/def?api-version=2024-03-03"),
        ("PUT", f"{gallery}/images/def/versions/1.0.0?api-version=2024-03-03"),
        ("POST", f"{gallery}/share?api-version=2024-03-03"),
        ("PUT", f"{base}/Microsoft.Network/networkInterfaces/n?api-version=2024-05-01"),
        ("PUT", f"{base}/Microsoft.Network/virtualNetworks/v?api-version=2024-05-01"),
        ("PUT", f"{base}/Microsoft.Network/publicIPAddresses/p?api-version=2024-05-01"),
        ("PUT", f"{base}/Microsoft.Network/networkSecurityGroups/s?api-version=2024-05-01"),
        ("PUT", f"/subscriptions/{azemu.subscription_id}/{auth}/policyDefinitions/p?api-version=2025-11-01"),
        (
            "PUT",
            f"/subscriptions/{azemu.subscription_id}/{auth}/policySetDefinitions/p?api-version=2025-11-01",
        ),
        ("PUT", f"{group}/{auth}/policyAssignments/a?api-version=2025-11-01"),
        ("PUT", f"{vm.id}/{auth}/policyAssignments/a?api-version=2025-11-01"),
        ("PUT", f"{group}/{auth}/policyExemptions/e?api-version=2026-01-01-preview"),
        (
            "POST",
            f"{group}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?api-version=2019-10-01",
        ),
        (
            "POST",
            f"{group}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize?api-version=2019-10-01",
        ),
    ]


def test_malformed_bodies_get_4xx_envelopes(azemu, paths):
    failures = []
    for method, path in paths:
        for body in BODIES:
            status, answer, _ = azemu.request(method, path, body)
            if status >= 500 or (
                status >= 400 and not (isinstance(answer, dict) and "code" in answer.get("error", {}))
            ):
                failures.append((method, path.split("/providers/")[-1], body, status, answer))
    assert failures == []
