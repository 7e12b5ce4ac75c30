"""Recovery plans (``vaults/replicationRecoveryPlans``): replicated items in ordered groups. A plan's test
failover, failover, commit and re-protect run one job whose tasks go group by group - ``Shutdown`` groups
first, then ``Failover``, then each ``Boot`` group in order - doing to each item of a group what the item's own
request would do."""

from __future__ import annotations

from typing import Any

from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import StateTable
from azemu.domain.recoveryservices.common import VAULT, document, iso_z
from azemu.domain.siterecovery.replication import ITEM
from azemu.state.records import ResourceRecord

PLAN = f"{VAULT}/replicationRecoveryPlans"
PLAN_KIND = KindSpec(
    type=PLAN,
    lro_family="siteRecovery",
    lifecycle=StateTable(
        kind="recoveryPlan", initial="Succeeded", transitions={"Succeeded": {"update": "Succeeded"}}
    ),
    shape={
        "location": str,
        "properties": {
            "primaryFabricId": str,
            "recoveryFabricId": str,
            "failoverDeploymentModel": str,
            "groups": [
                {
                    "groupType": str,
                    "replicationProtectedItems": [{"id": str, "virtualMachineId": str}],
                    "startGroupActions": list,
                    "endGroupActions": list,
                }
            ],
            "providerSpecificInput": list,
        },
    },
    operations={},
    description="Recovery plans: replicated items in ordered groups, failed over (and tested, committed, "
    "re-protected) group by group.",
    parent=VAULT,
    uses=(ITEM,),
    api_type="vaults/replicationRecoveryPlans",
)
ORDER = {"Shutdown": 0, "Failover": 1, "Boot": 2}


def ordered_groups(groups: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(index, group) in the order a plan runs them: Shutdown, Failover, then the Boot groups as listed."""
    return sorted(enumerate(groups), key=lambda ig: (ORDER.get(str(ig[1].get("groupType")), 2), ig[0]))


def items_of(rec: ResourceRecord) -> list[str]:
    return [
        str(i.get("id"))
        for g in rec.body["properties"].get("groups") or []
        for i in g.get("replicationProtectedItems") or []
        if i.get("id")
    ]


def plan_document(rec: ResourceRecord, primary: str, recovery: str, allowed: list[str]) -> dict[str, Any]:
    props = rec.body["properties"]
    emu = rec.internal
    out = {
        "friendlyName": rec.name,
        "primaryFabricId": props.get("primaryFabricId"),
        "primaryFabricFriendlyName": primary,
        "recoveryFabricId": props.get("recoveryFabricId"),
        "recoveryFabricFriendlyName": recovery,
        "failoverDeploymentModel": props.get("failoverDeploymentModel") or "ResourceManager",
        "replicationProviders": ["A2A"],
        "allowedOperations": allowed,
        "currentScenarioStatus": "Succeeded" if emu.get("scenario") else "NotStarted",
        "currentScenarioStatusDescription": "Completed" if emu.get("scenario") else "",
        "groups": [
            {
                "groupType": g.get("groupType"),
                "replicationProtectedItems": g.get("replicationProtectedItems") or [],
                "startGroupActions": g.get("startGroupActions") or [],
                "endGroupActions": g.get("endGroupActions") or [],
            }
            for g in props.get("groups") or []
        ],
        "providerSpecificDetails": [],
    }
    for key, name in (
        ("lastPlannedFailoverTime", "planned"),
        ("lastUnplannedFailoverTime", "unplanned"),
        ("lastTestFailoverTime", "test"),
    ):
        if emu.get(name) is not None:
            out[key] = iso_z(float(emu[name]))
    if emu.get("scenario"):
        out["currentScenario"] = dict(emu["scenario"])
    doc = document(rec, out)
    doc["location"] = rec.location
    return doc
