"""The wire shapes: the checked-in artifact is what the pinned SDK says, and a write reads a body as an ARM
resource provider does (spelling, types, read-only and unknown properties, api-versions, ids)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from azemu.domain import shapes
from azemu.domain.errors import InvalidRequestContent

ROOT = Path(__file__).resolve().parents[2]


def test_the_artifact_is_what_the_pinned_sdk_says():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-shapes"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("body", "api", "cleaned", "ignored"),
    [
        # names and enum values in any case get the spec's spelling
        (
            {"Properties": {"storageprofile": {"osDisk": {"createOption": "fromimage", "diskSizeGb": 30}}}},
            "",
            {"properties": {"storageProfile": {"osDisk": {"createOption": "FromImage", "diskSizeGB": 30}}}},
            [],
        ),
        # read-only and unknown properties are what ARM ignores
        (
            {"id": "x", "properties": {"provisioningState": "Failed", "vmId": "v", "made": 1}},
            "",
            {"properties": {}},
            ["id", "properties.provisioningState", "properties.vmId", "properties.made"],
        ),
        # a property newer than the request's api-version does not exist for it
        ({"properties": {"userData": "aGk="}}, "2020-12-01", {"properties": {}}, ["properties.userData"]),
        ({"properties": {"userData": "aGk="}}, "2021-03-01", {"properties": {"userData": "aGk="}}, []),
        # a string holding a boolean or a number is converted, as ARM's JSON reader does (az's templates)
        (
            {
                "properties": {
                    "storageProfile": {"osDisk": {"diskSizeGB": " 64", "writeAcceleratorEnabled": "True"}}
                }
            },
            "",
            {
                "properties": {
                    "storageProfile": {"osDisk": {"diskSizeGB": 64, "writeAcceleratorEnabled": True}}
                }
            },
            [],
        ),
        # null is the same as leaving a property out
        ({"properties": {"licenseType": None}}, "", {"properties": {}}, []),
        # ids written without their leading slash name the same resource
        (
            {"properties": {"availabilitySet": {"id": "subscriptions/s/resourceGroups/r/providers/X/y/z"}}},
            "",
            {"properties": {"availabilitySet": {"id": "/subscriptions/s/resourceGroups/r/providers/X/y/z"}}},
            [],
        ),
    ],
)
def test_a_body_is_read_as_arm_reads_it(body, api, cleaned, ignored):
    seen: list[str] = []
    assert shapes.VM.request(body, api, seen) == cleaned
    assert seen == ignored


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (
            {"properties": {"hardwareProfile": {"vmSize": 3}}},
            "properties.hardwareProfile.vmSize",
            "System.String",
        ),
        (
            {"properties": {"storageProfile": {"dataDisks": {}}}},
            "properties.storageProfile.dataDisks",
            "Array",
        ),
        (
            {"properties": {"storageProfile": {"osDisk": {"diskSizeGB": True}}}},
            "properties.storageProfile.osDisk.diskSizeGB",
            "System.Int32",
        ),
        ({"properties": []}, "properties", "Object"),
        (
            {"properties": {"storageProfile": {"osDisk": {"diskSizeGB": "64GB"}}}},
            "properties.storageProfile.osDisk.diskSizeGB",
            "System.Int32",
        ),
        (
            {"properties": {"storageProfile": {"osDisk": {"writeAcceleratorEnabled": "yes"}}}},
            "properties.storageProfile.osDisk.writeAcceleratorEnabled",
            "System.Boolean",
        ),
    ],
)
def test_a_wrong_type_is_invalid_request_content(body, path, expected):
    with pytest.raises(InvalidRequestContent) as info:
        shapes.VM.request(body)
    assert f"to type '{expected}'. Path '{path}'" in info.value.message


@pytest.mark.parametrize(
    ("given", "computed", "kept"),
    [
        ({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, {"b": {"d": 3, "c": 2}, "a": 1}),
        ({"a": 1}, {"a": 2}, {"a": 2}),  # the platform's value wins
        # array items are matched by lun (or id, or name), else by position
        (
            [{"lun": 1, "x": "one"}, {"lun": 0, "x": "zero"}],
            [{"lun": 0, "id": "d0"}, {"lun": 1, "id": "d1"}],
            [{"lun": 0, "id": "d0", "x": "zero"}, {"lun": 1, "id": "d1", "x": "one"}],
        ),
        ([{"tag": "t"}], [], [{"tag": "t"}]),  # nothing computed: what was sent
    ],
)
def test_keep_lays_what_was_sent_under_what_was_computed(given, computed, kept):
    assert shapes.keep(given, computed) == kept


# kinds still on small hand-written shapes, each with the reason it is not on the spec's yet
SHAPES_PENDING = {
    # Azure Policy's exemptions: a hand-written shape (domain/policy/service.py SHAPES). The pinned policy SDK
    # (azure-mgmt-resource-policy 1.0.0) models definitions, set definitions and assignments, not exemptions
    # (a spec of their own, preview api-versions only), and azure-mgmt-resource 26 has no policy subpackage
    "Microsoft.Authorization/policyExemptions",
    # the attached gallery exists only at 2018-10-15-preview, which no SDK models: hand-written shapes
    # (domain/devtestlabs/model.py)
    "Microsoft.DevTestLab/labs/sharedgalleries",
    "Microsoft.DevTestLab/labs/sharedgalleries/sharedimages",
}
# Azure Backup's and Site Recovery's kinds inside a vault keep hand-written shapes (the vault itself is on the
# spec's): their request bodies are polymorphic (``objectType``, ``instanceType``, ``protectedItemType``,
# ``schedulePolicyType`` ... choose the model) with subtype trees deeper than a base model; the artifact's reader
# dispatches on a discriminator (shapes._subtype) but their services read the subtypes' properties case by case,
# and the move (their SDKs are pinned) is one of its own; several are read-only kinds (jobs, recovery points)
# with no PUT. Storage accounts: no storage SDK is pinned (azemu serves only the ARM face a restore needs).
SHAPES_PENDING |= {
    "Microsoft.Storage/storageAccounts",
    "Microsoft.RecoveryServices/vaults/backupPolicies",
    "Microsoft.RecoveryServices/vaults/backupJobs",
    "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers",
    "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
    "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
    "Microsoft.RecoveryServices/vaults/replicationFabrics",
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers",
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
    "replicationProtectionContainerMappings",
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
    "replicationProtectedItems",
    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
    "replicationProtectedItems/recoveryPoints",
    "Microsoft.RecoveryServices/vaults/replicationPolicies",
    "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans",
    "Microsoft.RecoveryServices/vaults/replicationJobs",
}


def test_every_served_kind_has_a_spec_shape(tmp_path):
    from azemu.clock.clock import Clock
    from azemu.domain.emulator import Emulator
    from azemu.domain.tenancy import Defaults
    from azemu.state.sqlite import SqliteStore

    emu = Emulator(SqliteStore(None), Clock(), Defaults("t", "s", "c", "x"))
    for kind in emu.kinds:
        if kind.spec.type == "Microsoft.Resources/deployments":
            continue  # a template is any JSON: its resources are checked by their own kinds
        if kind.spec.type in SHAPES_PENDING:
            continue
        assert isinstance(kind.spec.shape, shapes.SpecShape), kind.spec.type
    assert {k.spec.type for k in emu.kinds} >= SHAPES_PENDING


def test_az_vmss_templates_load_balancer_reads_as_the_network_rp_reads_it():
    """az vmss create's template sends NAT rule ports as strings (``"frontendPortRangeStart": "50000"``); with
    enum values in any case and ids without their leading slash, the spec shape reads them as the Network RP
    does."""
    from azemu.clock.clock import Clock
    from azemu.domain.emulator import Emulator
    from azemu.domain.kinds import Write
    from azemu.domain.tenancy import Defaults
    from azemu.state.sqlite import SqliteStore

    defaults = Defaults("t", "s", "c", "x")
    emu = Emulator(SqliteStore(None), Clock(), defaults)
    emu.resource_groups.create_or_update("s", "rg", "eastus", None, None)
    lb = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb"
    emu.kinds.put(Write(lb.replace("loadBalancers/lb", "publicIPAddresses/ip"), {"location": "eastus"}, None))
    emu.kinds.put(
        Write(
            lb,
            {
                "location": "eastus",
                "Properties": {
                    "frontendIPConfigurations": [
                        {
                            "name": "fe",
                            "properties": {
                                "publicIPAddress": {
                                    "id": lb.replace("loadBalancers/lb", "publicIPAddresses/ip")[1:]
                                }
                            },
                        }
                    ],
                    "backendAddressPools": [{"name": "pool"}],
                    "provisioningState": "Failed",
                },
            },
            None,
        )
    )
    nat = emu.kinds.put(
        Write(
            f"{lb}/inboundNatRules/nat",
            {
                "properties": {
                    "frontendIPConfiguration": {"id": f"{lb}/frontendIPConfigurations/fe"},
                    "backendAddressPool": {"id": f"{lb}/backendAddressPools/pool"},
                    "protocol": "tcp",
                    "frontendPortRangeStart": "50000",
                    "frontendPortRangeEnd": "50119",
                    "backendPort": "22",
                }
            },
            None,
        )
    )
    props = emu.kinds.document(nat.record)["properties"]
    assert (props["protocol"], props["frontendPortRangeStart"], props["backendPort"]) == ("Tcp", 50000, 22)
    shown = emu.kinds.document(emu.load_balancers.get(lb))["properties"]
    assert shown["frontendIPConfigurations"][0]["properties"]["publicIPAddress"]["id"].startswith(
        "/subscriptions/"
    )
    assert [r["name"] for r in shown["inboundNatRules"]] == ["nat"]


def test_an_autoscale_setting_is_read_as_the_insights_rp_reads_it():
    rule = {
        "metricTrigger": {
            "metricname": "Percentage CPU",
            "metricResourceUri": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/ss",
            "timeGrain": "PT1M",
            "statistic": "average",
            "timeWindow": "PT5M",
            "timeAggregation": "AVERAGE",
            "operator": "greaterThan",
            "threshold": 70,
        },
        "scaleAction": {"direction": "increase", "type": "changeCount", "value": "1", "cooldown": "PT5M"},
    }
    body = {
        "location": "eastus",
        "properties": {
            "enabled": "true",
            "targetResourceUri": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/ss",
            "profiles": [
                {"name": "p", "capacity": {"minimum": "1", "maximum": "5", "default": "2"}, "rules": [rule]}
            ],
        },
    }
    seen: list[str] = []
    read = shapes.AUTOSCALE.request(body, "2022-10-01", seen)
    got = read["properties"]["profiles"][0]["rules"][0]
    assert read["properties"]["enabled"] is True and seen == []
    assert got["metricTrigger"]["metricName"] == "Percentage CPU"
    assert (got["metricTrigger"]["statistic"], got["metricTrigger"]["operator"]) == ("Average", "GreaterThan")
    assert (got["scaleAction"]["direction"], got["scaleAction"]["type"]) == ("Increase", "ChangeCount")
    # the spec's counts are strings: a number is not one
    body["properties"]["profiles"][0]["capacity"]["minimum"] = 1
    with pytest.raises(InvalidRequestContent) as info:
        shapes.AUTOSCALE.request(body, "2022-10-01")
    assert "Path 'properties.profiles[0].capacity.minimum'" in info.value.message


def test_a_policy_definition_is_read_as_the_authorization_rp_reads_it():
    shape = shapes.kind_shape("Microsoft.Authorization/policyDefinitions")
    body = {
        "id": "/providers/Microsoft.Authorization/policyDefinitions/x",
        "properties": {
            "mode": "all",
            "policyRule": {
                "if": {"field": "location", "notIn": "[parameters('allowed')]"},
                "then": {"effect": "deny"},
            },
            "parameters": {
                "allowed": {
                    "type": "array",
                    "metadata": {"displayName": "Allowed", "strongType": "location", "deprecated": False},
                }
            },
        },
    }
    seen: list[str] = []
    props = shape.request(body, "2023-04-01", seen)["properties"]
    assert seen == ["id"]
    # the rule is any JSON: kept as written (its own language checks it)
    assert props["policyRule"] == body["properties"]["policyRule"]
    allowed = props["parameters"]["allowed"]
    assert allowed["type"] == "Array"
    # parameter metadata is open in the spec (additionalProperties): keys it does not name are kept
    assert allowed["metadata"] == {"displayName": "Allowed", "strongType": "location", "deprecated": False}
    assignment = shapes.kind_shape("Microsoft.Authorization/policyAssignments").request(
        {"properties": {"enforcementMode": "donotenforce", "parameters": {"allowed": {"value": ["eastus"]}}}}
    )
    assert assignment["properties"]["enforcementMode"] == "DoNotEnforce"


def test_a_role_assignment_is_read_as_the_authorization_rp_reads_it():
    role = "subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    seen: list[str] = []
    read = shapes.kind_shape("Microsoft.Authorization/roleAssignments").request(
        {
            "properties": {
                "roleDefinitionId": role,
                "principalId": "00000000-0000-0000-0000-000000000001",
                "principalType": "serviceprincipal",
                "scope": "/subscriptions/s",
                "canDelegate": False,
            }
        },
        "2022-04-01",
        seen,
    )
    assert read["properties"] == {
        "roleDefinitionId": "/" + role,
        "principalId": "00000000-0000-0000-0000-000000000001",
        "principalType": "ServicePrincipal",
    }
    assert seen == ["properties.scope", "properties.canDelegate"]
    definition = shapes.kind_shape("Microsoft.Authorization/roleDefinitions").request(
        {"properties": {"roleName": "r", "permissions": [{"actions": ["*/read"], "notactions": []}]}}
    )
    assert definition["properties"]["permissions"] == [{"actions": ["*/read"], "notActions": []}]


def test_a_vault_is_read_as_the_recovery_services_rp_reads_it():
    seen: list[str] = []
    read = shapes.kind_shape("Microsoft.RecoveryServices/vaults").request(
        {
            "location": "eastus",
            "sku": {"name": "rs0"},
            "properties": {
                "redundancySettings": {"standardTierStorageRedundancy": "locallyredundant"},
                "securitySettings": {"softDeleteSettings": {"softDeleteState": "alwayson"}},
                "provisioningState": "Succeeded",
            },
        },
        "2024-04-01",
        seen,
    )
    assert read["sku"] == {"name": "RS0"} and seen == ["properties.provisioningState"]
    assert read["properties"]["redundancySettings"] == {"standardTierStorageRedundancy": "LocallyRedundant"}
    assert read["properties"]["securitySettings"]["softDeleteSettings"] == {"softDeleteState": "AlwaysON"}
