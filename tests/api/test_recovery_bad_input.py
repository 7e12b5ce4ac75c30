"""Bad input to every Backup, Site Recovery and storage-account write answers in Azure's error envelope with a
4xx: never a 500 (the same rule as tests/api/test_bad_input_never_500.py, for the Recovery Services kinds)."""

from __future__ import annotations

import pytest

from tests import vmkit
from tests.api.test_bad_input_never_500 import BODIES as COMMON

RG = "rsFuzzRG"
BODIES = [
    *COMMON,
    {"properties": {"policyId": 5, "sourceResourceId": []}},
    {"properties": {"policyId": "/subscriptions/x/nothing", "sourceResourceId": "/subscriptions/x"}},
    {"properties": {"protectionState": "ProtectionStopped", "isRehydrate": "yes"}},
    {"properties": {"recoveryPointExpiryTimeInUTC": "never", "objectType": 3}},
    {"properties": {"recoveryType": 3, "targetResourceGroupId": "/nope", "storageAccountId": 7}},
    {"properties": {"recoveryType": "AlternateLocation", "targetVirtualMachineId": "x", "subnetId": "y"}},
    {"properties": {"schedulePolicy": "x", "retentionPolicy": []}},
    {
        "properties": {
            "schedulePolicy": {"scheduleRunFrequency": "Daily"},
            "retentionPolicy": {"dailySchedule": {}},
        }
    },
    {"properties": {"customDetails": [], "providerSpecificInput": "x"}},
    {"properties": {"customDetails": {"instanceType": "Azure", "location": "nowhere"}}},
    {"properties": {"providerSpecificInput": {"instanceType": "A2A", "recoveryPointHistory": "long"}}},
    {"properties": {"targetProtectionContainerId": 1, "policyId": None}},
    {
        "properties": {
            "policyId": "x",
            "providerSpecificDetails": {"instanceType": "A2A", "fabricObjectId": 9},
        }
    },
    {"properties": {"failoverDirection": 2, "networkId": [], "providerSpecificDetails": "x"}},
    {"properties": {"groups": "x", "primaryFabricId": 1}},
    {"properties": {"softDeleteFeatureState": 5, "storageModelType": []}},
    {"name": 5, "type": []},
]


@pytest.fixture(scope="module")
def paths(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    vmkit.linux_vm(c, RG, "fuzzvm")
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers"
    vault = f"{base}/Microsoft.RecoveryServices/vaults/fv"
    status, _, _ = azemu.request(
        "PUT", vault + "?api-version=2026-07-01", {"location": "eastus", "sku": {"name": "Standard"}}
    )
    assert status in (200, 201)
    item = f"{vault}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rsfuzzrg;fuzzvm/protectedItems/VM;iaasvmcontainerv2;rsfuzzrg;fuzzvm"
    b, a = "api-version=2026-08-01", "api-version=2025-08-01"
    pc = f"{vault}/replicationFabrics/f/replicationProtectionContainers/c"
    return [
        ("PUT", f"{vault}?api-version=2026-07-01"),
        ("PATCH", f"{vault}?api-version=2026-07-01"),
        ("PUT", f"{base}/Microsoft.RecoveryServices/vaults/fv2?api-version=2026-07-01"),
        ("PATCH", f"{vault}/backupconfig/vaultconfig?{b}"),
        ("PATCH", f"{vault}/backupstorageconfig/vaultstorageconfig?{b}"),
        ("PUT", f"{vault}/backupPolicies/p?{b}"),
        ("POST", f"{vault}/backupFabrics/Azure/refreshContainers?{b}"),
        ("PUT", f"{item}?{b}"),
        ("POST", f"{item}/backup?{b}"),
        ("POST", f"{item}/recoveryPoints/123/restore?{b}"),
        (
            "POST",
            f"/subscriptions/{azemu.subscription_id}/providers/Microsoft.RecoveryServices/locations/eastus/backupStatus?{b}",
        ),
        ("PUT", f"{base}/Microsoft.Storage/storageAccounts/fuzzsa1?api-version=2025-06-01"),
        (
            "POST",
            f"/subscriptions/{azemu.subscription_id}/providers/Microsoft.Storage/checkNameAvailability?api-version=2025-06-01",
        ),
        ("PUT", f"{vault}/replicationFabrics/f?{a}"),
        ("PUT", f"{pc}?{a}"),
        ("PUT", f"{pc}/replicationProtectionContainerMappings/m?{a}"),
        ("PUT", f"{vault}/replicationPolicies/p?{a}"),
        ("PUT", f"{pc}/replicationProtectedItems/i?{a}"),
        ("POST", f"{pc}/replicationProtectedItems/i/testFailover?{a}"),
        ("POST", f"{pc}/replicationProtectedItems/i/unplannedFailover?{a}"),
        ("PUT", f"{vault}/replicationRecoveryPlans/rp?{a}"),
        ("POST", f"{vault}/replicationRecoveryPlans/rp/testFailover?{a}"),
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
