"""The resource-kind registry, driven without HTTP: every kind declared once and reachable by type; the
cascade order; a PUT through the registry is the same as a direct one; the content audit."""

from __future__ import annotations

import pytest

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.emulator import Emulator
from azemu.domain.errors import InvalidRequestContent, InvalidResourceNamespace, InvalidResourceType
from azemu.domain.kinds import Write
from azemu.domain.tenancy import Defaults
from azemu.guest import api as guest_api
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
BASE = f"/subscriptions/{SUB}/resourceGroups/rg/providers"

SERVED = {
    "Microsoft.Resources/resourceGroups",
    "Microsoft.Resources/deployments",
    # Scenario 2: managed identities, RBAC, Image Builder, DevTest Labs
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "Microsoft.Authorization/roleAssignments",
    "Microsoft.Authorization/roleDefinitions",
    "Microsoft.VirtualMachineImages/imageTemplates",
    "Microsoft.VirtualMachineImages/imageTemplates/triggers",
    "Microsoft.DevTestLab/labs",
    "Microsoft.DevTestLab/labs/virtualnetworks",
    "Microsoft.DevTestLab/labs/policysets/policies",
    "Microsoft.DevTestLab/labs/schedules",
    "Microsoft.DevTestLab/labs/virtualmachines/schedules",
    "Microsoft.DevTestLab/labs/formulas",
    "Microsoft.DevTestLab/labs/artifactsources",
    "Microsoft.DevTestLab/labs/sharedgalleries",
    "Microsoft.DevTestLab/labs/sharedgalleries/sharedimages",
    "Microsoft.DevTestLab/labs/virtualmachines",
    "Microsoft.DevTestLab/labs/customimages",
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Compute/virtualMachines/extensions",
    "Microsoft.Compute/availabilitySets",
    "Microsoft.Compute/disks",
    "Microsoft.Compute/snapshots",
    "Microsoft.Compute/images",
    "Microsoft.Compute/galleries",
    "Microsoft.Compute/galleries/images",
    "Microsoft.Compute/galleries/images/versions",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/publicIPAddresses",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Compute/virtualMachineScaleSets",
    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    "Microsoft.Network/loadBalancers",
    "Microsoft.Network/loadBalancers/inboundNatRules",
    "Microsoft.Insights/autoscalesettings",
    "Microsoft.Authorization/policyDefinitions",
    "Microsoft.Authorization/policySetDefinitions",
    "Microsoft.Authorization/policyAssignments",
    "Microsoft.Authorization/policyExemptions",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.RecoveryServices/vaults",
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


@pytest.fixture
def emu() -> Emulator:
    e = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    e.resource_groups.create_or_update(SUB, "rg", "eastus", None, None)
    return e


def test_every_served_kind_is_registered_once_with_its_facts(emu):
    kinds = {k.spec.type: k.spec for k in emu.kinds}
    assert set(kinds) == SERVED
    for spec in kinds.values():
        assert spec.api_versions, f"{spec.type} has no api-versions"
        assert spec.lifecycle.initial in spec.lifecycle.states
        for action, seconds in spec.operations.items():
            assert emu.operations.realistic_seconds(spec.op(action)) == seconds


@pytest.mark.parametrize(
    ("user", "used"),
    [
        ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks"),
        ("Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces"),
        ("Microsoft.Network/networkInterfaces", "Microsoft.Network/virtualNetworks"),
        ("Microsoft.Network/networkInterfaces", "Microsoft.Network/publicIPAddresses"),
        ("Microsoft.Compute/galleries/images/versions", "Microsoft.Compute/galleries/images"),
        ("Microsoft.Compute/galleries/images", "Microsoft.Compute/galleries"),
        (
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
        ),
        ("Microsoft.RecoveryServices/vaults/backupPolicies", "Microsoft.RecoveryServices/vaults"),
        (
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
            "Microsoft.Compute/virtualMachines",
        ),
    ],
)
def test_cascade_deletes_users_and_children_first(emu, user, used):
    order = [k.spec.type for k in emu.kinds.delete_order()]
    assert order.index(user) < order.index(used)


@pytest.mark.parametrize(
    ("rid", "error"),
    [
        (f"{BASE}/Microsoft.Compute/proximityPlacementGroups/ppg", InvalidResourceType),
        (f"{BASE}/Microsoft.Banana/things/x", InvalidResourceNamespace),
    ],
)
def test_unserved_types_are_refused_as_arm_does(emu, rid, error):
    with pytest.raises(error):
        emu.kinds.put(Write(rid, {"location": "eastus"}, None))


def test_a_put_through_the_registry_checks_shape_and_tags(emu):
    rid = f"{BASE}/Microsoft.Network/publicIPAddresses/ip"
    with pytest.raises(InvalidRequestContent):
        emu.kinds.put(Write(rid, {"location": "eastus", "properties": []}, None))
    written = emu.kinds.put(Write(rid, {"location": "eastus", "tags": {"n": 1}}, None))
    assert written.created and written.record.body["tags"] == {"n": "1"}
    doc = emu.kinds.document(written.record)
    assert doc["id"] == rid and doc["properties"]["provisioningState"] == "Succeeded"
    assert doc["properties"]["ipAddress"]


def test_group_put_and_delete_go_through_the_registry(emu):
    rid = ids.resource_group_id(SUB, "other")
    written = emu.kinds.put(Write(rid, {"location": "westeurope"}, None))
    assert written.created and written.record.location == "westeurope"
    emu.kinds.put(
        Write(f"{rid}/providers/Microsoft.Network/networkSecurityGroups/n", {"location": "eastus"}, None)
    )
    op = emu.kinds.of_id(rid).service.begin_delete(rid, None)
    assert op is not None and op.status == "Succeeded"
    with emu.store.read() as tx:
        assert tx.list_resources(subscription_id=SUB, resource_group="other") == []


def test_audit_releases_leaked_references_and_recounts(emu):
    digest = emu.content.write_guest(guest_api.base_guest("debian-12", 0.0))
    gone = f"{BASE}/Microsoft.Compute/images/deleted-long-ago"
    with emu.store.transaction() as tx:
        emu.content.link(tx, gone + "#lun0", digest)  # a reference whose resource no longer exists
        tx.change_refs({digest: 5})  # and a count that disagrees with the references
    report = emu.content.audit(emu.clock.now())
    assert report.leaked == [ids.key_of(gone + "#lun0")]
    assert report.recounted >= 1 and report.orphans >= 1 and report.missing == []
    stats = emu.content.stats()
    assert stats["blobs"] == 0 and stats["referenced"] == 0
    again = emu.content.audit(emu.clock.now())
    assert (again.leaked, again.recounted, again.orphans) == ([], 0, 0)
