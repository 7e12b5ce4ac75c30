"""Replicated items (Azure to Azure) and their recovery points: the state table, and the documents the SDK
reads.

An item's life: ``Enabling`` (initial replication) -> ``Protected`` (a recovery point every crash-consistent
interval, an app-consistent one every app-consistent interval, points older than the policy's history
purged) -> ``FailedOver`` (a VM in the recovery region from the chosen point; the point may still be
changed) -> ``Committed`` (points gone) -> re-protect: ``Enabling`` again in the other direction, and so on
(fail back is a failover from the recovery region to the primary one). A test failover leaves the item
``Protected`` with a test VM until its cleanup.
"""

from __future__ import annotations

from typing import Any

from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.recoveryservices.common import document, iso_z
from azemu.domain.siterecovery.config import CONTAINER, POLICY
from azemu.state.records import ResourceRecord

ITEM = f"{CONTAINER}/replicationProtectedItems"
POINT = f"{ITEM}/recoveryPoints"
VM_TYPE = "Microsoft.Compute/virtualMachines"

LIFECYCLE = StateTable(
    kind="replicatedItem",
    initial="Enabling",
    transitions={
        "Enabling": {"replicated": "Protected", "disable": "Removed"},
        "Protected": {"testFailover": "Protected", "failover": "FailedOver", "disable": "Removed"},
        "FailedOver": {"failover": "FailedOver", "commit": "Committed"},
        "Committed": {"reprotect": "Enabling", "disable": "Removed"},
    },
    terminal=frozenset({"Removed"}),
    states_info={
        "Enabling": State(
            facts={
                "protectionState": "UnprotectedStatesBegin",
                "description": "Enabling protection",
                "allowed": ["DisableProtection"],
                "replicating": True,
            }
        ),
        "Protected": State(
            facts={
                "protectionState": "Protected",
                "description": "Protected",
                "allowed": ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"],
                "replicating": True,
            }
        ),
        "FailedOver": State(
            facts={
                "protectionState": "UnplannedFailoverCommitPendingStatesBegin",
                "description": "Failover completed",
                "allowed": ["Commit", "ChangePit"],
                "replicating": False,
            }
        ),
        "Committed": State(
            facts={
                "protectionState": "UnplannedFailoverCommitted",
                "description": "Failover committed",
                "allowed": ["ReverseReplicate", "DisableProtection"],
                "replicating": False,
            }
        ),
    },
)
SHAPE = {
    "location": str,
    "properties": {
        "policyId": str,
        "protectableItemId": str,
        "providerSpecificDetails": {
            "instanceType": str,
            "fabricObjectId": str,
            "recoveryContainerId": str,
            "recoveryResourceGroupId": str,
            "recoveryAzureNetworkId": str,
            "recoverySubnetName": str,
            "vmManagedDisks": [dict],
        },
    },
}
_ACTION = {
    "failoverDirection": str,
    "networkType": str,
    "networkId": str,
    "sourceSiteOperations": str,
    "comments": str,
    "policyId": str,
}
ACTION_SHAPE = {
    "properties": {
        **_ACTION,
        "providerSpecificDetails": {
            "instanceType": str,
            "recoveryPointId": str,
            "recoveryContainerId": str,
            "recoveryResourceGroupId": str,
            "policyId": str,
        },
    }
}
PLAN_ACTION_SHAPE = {
    "properties": {**_ACTION, "providerSpecificDetails": [{"instanceType": str, "recoveryPointType": str}]}
}
ITEM_KIND = KindSpec(
    type=ITEM,
    lro_family="siteRecovery",
    lifecycle=LIFECYCLE,
    shape=SHAPE,
    operations={"replicate": 0.0},
    description="Replicated items (Azure to Azure): initial replication, recovery points on the clock, test "
    "failover, planned and unplanned failover, commit, re-protect, fail back.",
    parent=CONTAINER,
    uses=(VM_TYPE, POLICY),
    api_type=ITEM.split("/", 1)[1],
)
POINT_KIND = KindSpec(
    type=POINT,
    lro_family="siteRecovery",
    lifecycle=StateTable(kind="asrPoint", initial="Valid", transitions={"Valid": {}}),
    shape=None,
    operations={},
    description="Site Recovery recovery points (read-only): crash- and app-consistent, content shared with the "
    "replicated VM's disks.",
    parent=ITEM,
    api_type=POINT.split("/", 1)[1],
)


def fact(rec: ResourceRecord, name: str) -> Any:
    return LIFECYCLE.fact(rec.state, name)


def point_document(rec: ResourceRecord) -> dict[str, Any]:
    emu = rec.internal
    return document(
        rec,
        {
            "recoveryPointTime": iso_z(rec.created_at),
            "recoveryPointType": emu["type"],
            "providerSpecificDetails": {
                "instanceType": "A2A",
                "recoveryPointSyncType": "PerVmRecoveryPoint",
                "disks": [d["diskId"] for d in emu["disks"]],
            },
        },
    )
