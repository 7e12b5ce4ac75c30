"""Site Recovery's configuration resources, Azure to Azure: fabrics (one per Azure region), their protection
containers, the mappings that pair a primary container with a recovery one under a replication policy, and
the policies themselves (recovery point retention, app-consistent and crash-consistent frequencies)."""

from __future__ import annotations

from typing import Any

from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import StateTable
from azemu.domain.recoveryservices.common import VAULT, document
from azemu.state.records import ResourceRecord

FABRIC = f"{VAULT}/replicationFabrics"
CONTAINER = f"{FABRIC}/replicationProtectionContainers"
MAPPING = f"{CONTAINER}/replicationProtectionContainerMappings"
POLICY = f"{VAULT}/replicationPolicies"
_PLAIN = StateTable(kind="asrConfig", initial="Succeeded", transitions={"Succeeded": {"update": "Succeeded"}})
SHAPES: dict[str, Any] = {
    FABRIC: {"location": str, "properties": {"customDetails": {"instanceType": str, "location": str}}},
    CONTAINER: {"location": str, "properties": {"providerSpecificInput": [{"instanceType": str}]}},
    POLICY: {
        "location": str,
        "properties": {
            "providerSpecificInput": {
                "instanceType": str,
                "recoveryPointHistory": int,
                "appConsistentFrequencyInMinutes": int,
                "crashConsistentFrequencyInMinutes": int,
                "multiVmSyncStatus": str,
            }
        },
    },
    MAPPING: {
        "location": str,
        "properties": {
            "targetProtectionContainerId": str,
            "policyId": str,
            "providerSpecificInput": {
                "instanceType": str,
                "agentAutoUpdateStatus": str,
                "automationAccountArmId": str,
            },
        },
    },
}


def _kind(t: str, parent: str, description: str, uses: tuple[str, ...] = ()) -> KindSpec:
    return KindSpec(
        type=t,
        lro_family="siteRecovery",
        lifecycle=_PLAIN,
        shape=SHAPES[t],
        operations={},
        description=description,
        parent=parent,
        uses=uses,
        api_type=t.split("/", 1)[1],
    )


FABRIC_KIND = _kind(FABRIC, VAULT, "Site Recovery fabrics: one per Azure region (Azure to Azure).")
CONTAINER_KIND = _kind(CONTAINER, FABRIC, "Site Recovery protection containers of a fabric.")
POLICY_KIND = _kind(
    POLICY, VAULT, "Replication policies: recovery point retention, app- and crash-consistent frequencies."
)
MAPPING_KIND = _kind(
    MAPPING,
    CONTAINER,
    "Protection container mappings: a primary container paired with a recovery one under a policy.",
    uses=(POLICY,),
)

# A2A policy defaults (minutes), as the service fills them in
DEFAULT_HISTORY = 1440  # recovery points kept 24 hours
DEFAULT_APP_FREQUENCY = 240
DEFAULT_CRASH_FREQUENCY = 5
RPO_THRESHOLD = 60


def fabric_document(rec: ResourceRecord, containers: list[str]) -> dict[str, Any]:
    emu = rec.internal
    props = {
        "friendlyName": rec.name,
        "encryptionDetails": {"kekState": "None"},
        "rolloverEncryptionDetails": {"kekState": "None"},
        "internalIdentifier": emu["internalId"],
        "bcdrState": "Valid",
        "customDetails": {
            "instanceType": "Azure",
            "location": emu["region"],
            "containerIds": containers,
            "zones": [],
        },
        "healthErrorDetails": [],
        "health": "Normal",
    }
    doc = document(rec, props)
    doc["location"] = rec.location
    return doc


def container_document(
    rec: ResourceRecord, fabric: ResourceRecord | None, items: int, paired: bool
) -> dict[str, Any]:
    props = {
        "fabricFriendlyName": fabric.name if fabric is not None else "",
        "friendlyName": rec.name,
        "fabricType": "Azure",
        "protectedItemCount": items,
        "pairingStatus": "Paired" if paired else "NotPaired",
        "role": "",
        "fabricSpecificDetails": {"instanceType": "A2A"},
    }
    doc = document(rec, props)
    doc["location"] = rec.location
    return doc


def policy_details(given: dict[str, Any]) -> dict[str, Any]:
    """An A2A policy's details from its creation input."""
    sync = str(given.get("multiVmSyncStatus") or "Enable")
    return {
        "instanceType": "A2A",
        "recoveryPointThresholdInMinutes": RPO_THRESHOLD,
        "recoveryPointHistory": int(given.get("recoveryPointHistory") or DEFAULT_HISTORY),
        "appConsistentFrequencyInMinutes": int(
            given.get("appConsistentFrequencyInMinutes") or DEFAULT_APP_FREQUENCY
        ),
        "crashConsistentFrequencyInMinutes": int(
            given.get("crashConsistentFrequencyInMinutes") or DEFAULT_CRASH_FREQUENCY
        ),
        "multiVmSyncStatus": "Enabled" if sync.lower().startswith("enable") else "Disabled",
    }


def policy_document(rec: ResourceRecord) -> dict[str, Any]:
    doc = document(rec, {"friendlyName": rec.name, "providerSpecificDetails": dict(rec.body["properties"])})
    doc["location"] = rec.location
    return doc


def mapping_document(
    rec: ResourceRecord,
    source: ResourceRecord | None,
    target: ResourceRecord | None,
    policy: ResourceRecord | None,
) -> dict[str, Any]:
    emu = rec.internal

    def fabric_name(container: ResourceRecord | None) -> str:
        return "" if container is None else container.id.split("/replicationFabrics/", 1)[1].split("/", 1)[0]

    props = {
        "targetProtectionContainerId": emu["target"],
        "targetProtectionContainerFriendlyName": target.name if target is not None else "",
        "providerSpecificDetails": {
            "instanceType": "A2A",
            "agentAutoUpdateStatus": emu.get("autoUpdate", "Disabled"),
            "automationAccountArmId": emu.get("automationAccount"),
            "scheduleName": None,
            "jobScheduleName": None,
        },
        "health": "Normal",
        "healthErrorDetails": [],
        "policyId": emu["policy"],
        "state": "Paired",
        "sourceProtectionContainerFriendlyName": source.name if source is not None else "",
        "sourceFabricFriendlyName": fabric_name(source),
        "targetFabricFriendlyName": fabric_name(target),
        "policyFriendlyName": policy.name if policy is not None else "",
    }
    doc = document(rec, props)
    doc["location"] = rec.location
    return doc
