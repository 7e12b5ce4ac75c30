"""Recovery Services vaults (``Microsoft.RecoveryServices/vaults``): storage redundancy, soft delete and the
vault-wide backup configuration (``backupconfig/vaultconfig``, ``backupstorageconfig/vaultstorageconfig``).

A vault holds what Backup and Site Recovery make in it (policies, protected items, recovery points, jobs,
fabrics ...) as child records. A vault that still protects something cannot be deleted (Azure's text); an
empty one - or one whose resource group goes - is purged with everything under it, children first, each
through its own kind's ``purge`` (recovery points release their content there).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, BadRequest, LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Operations
from azemu.domain.recoveryservices.common import VAULT, iso_z
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

FAMILY = "recoveryServicesVault"  # arm/lro.py: operationStatus under the vault
LIFECYCLE = StateTable(
    kind="vault",
    initial="Provisioning",
    transitions={
        "Provisioning": {"created": "Succeeded", "update": "Provisioning", "delete": "Deleting"},
        "Succeeded": {"update": "Succeeded", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    states_info={
        "Provisioning": State(provisioning="Provisioning", settles_to="Succeeded"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)
# the vault's request shapes: the spec's (scripts/gen-shapes, from azure-mgmt-recoveryservices)
SHAPE = shapes.kind_shape(VAULT)
PATCH_SHAPE = shapes.body_shape("RS.PatchVault")
CONFIG_SHAPE = {
    "properties": {
        "softDeleteFeatureState": str,
        "softDeleteRetentionPeriodInDays": int,
        "enhancedSecurityState": str,
        "storageModelType": str,
        "storageType": str,
        "crossRegionRestoreFlag": bool,
    }
}
KIND = KindSpec(
    type=VAULT,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=SHAPE,
    operations={"create": 8.0, "delete": 10.0},
    description="Recovery Services vaults: storage redundancy, soft delete, the vault configuration Azure "
    "Backup and Site Recovery keep their resources in.",
)

REDUNDANCY = ("GeoRedundant", "LocallyRedundant", "ZoneRedundant")
SOFT_DELETE_STATES = {
    "alwayson": "AlwaysON",
    "enabled": "Enabled",
    "disabled": "Disabled",
    "invalid": "Invalid",
}
REDUNDANCY_LOCKED = (
    "Storage Redundancy option is locked when the first machine is registered with the vault, and cannot be "
    "modified thereafter."
)
# azemu's words: soft delete that is always on cannot be turned off (az warns before it asks)
ALWAYS_ON = "Soft delete is always on for this vault: it cannot be disabled or set to Enabled."
VAULT_NOT_EMPTY = (
    "Vault cannot be deleted as there are existing resources within the vault. Please delete any replicated "
    "items, registered servers, Hyper-V sites (Used for Site Recovery), policy associations for System Center "
    "VMM clouds (Used for Site Recovery) and then delete the vault."
)


def _computed(props: dict[str, Any]) -> dict[str, Any]:
    """What the RP answers for a new vault, over what the client sent."""
    security = copy.deepcopy(props.get("securitySettings") or {})
    soft = security.setdefault("softDeleteSettings", {})
    soft["softDeleteState"] = SOFT_DELETE_STATES.get(
        str(soft.get("softDeleteState") or "Enabled").lower(), "Enabled"
    )
    soft["enhancedSecurityState"] = SOFT_DELETE_STATES.get(
        str(soft.get("enhancedSecurityState") or "Enabled").lower(), "Enabled"
    )
    soft.setdefault("softDeleteRetentionPeriodInDays", 14)
    security.setdefault("multiUserAuthorization", "Invalid")
    security.setdefault("sourceScanConfiguration", {"state": "Disabled"})
    redundancy = dict(props.get("redundancySettings") or {})
    redundancy.setdefault("standardTierStorageRedundancy", "GeoRedundant")
    redundancy.setdefault("crossRegionRestore", "Disabled")
    return {
        "privateEndpointStateForBackup": "None",
        "privateEndpointStateForSiteRecovery": "None",
        "monitoringSettings": props.get("monitoringSettings")
        or {
            "azureMonitorAlertSettings": {
                "alertsForAllJobFailures": "Enabled",
                "alertsForAllReplicationIssues": "Enabled",
                "alertsForAllFailoverIssues": "Enabled",
            },
            "classicAlertSettings": {
                "alertsForCriticalOperations": "Enabled",
                "emailNotificationsForSiteRecovery": "Enabled",
            },
        },
        "costManagementSettings": props.get("costManagementSettings") or {"granularityLevel": "VaultLevel"},
        "securitySettings": security,
        "redundancySettings": redundancy,
        "regionOfChoiceSettings": {"status": "Disabled"},
        "secureScore": "Adequate",
        "bcdrSecurityLevel": "Good",
        "publicNetworkAccess": props.get("publicNetworkAccess") or "Enabled",
        "restoreSettings": props.get("restoreSettings")
        or {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "Enabled"}},
    }


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in patch.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def soft_delete(rec: ResourceRecord) -> tuple[str, int]:
    """(soft delete state, retention days) of a vault."""
    soft = rec.body["properties"]["securitySettings"]["softDeleteSettings"]
    return str(soft["softDeleteState"]), int(soft.get("softDeleteRetentionPeriodInDays") or 14)


def redundancy(rec: ResourceRecord) -> str:
    return str(rec.body["properties"]["redundancySettings"]["standardTierStorageRedundancy"])


class Vaults:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        self.holds: list[Any] = []  # services that say whether a vault still protects something
        self.created: list[Callable[[Txn, ResourceRecord], None]] = []  # what a new vault starts with
        operations.register(KIND.op("create"), self._created)
        operations.register(KIND.op("delete"), self._complete_delete)
        registry.register(KIND, self)

    # the kind's face ---------------------------------------------------------------------------------
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = dict(rec.body["properties"])
        props["provisioningState"] = LIFECYCLE.provisioning_state(rec.state)
        doc = envelope(rec, props)
        doc["etag"] = f"W/\"datetime'{rec.internal.get('etagTime', '')}'\""
        return doc

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def require(self, tx: Txn, rid: str) -> ResourceRecord:
        return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, VAULT)

    def put(self, w: Write) -> Written:
        body = w.body
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                rec = self._update(tx, existing, body)
                return Written(rec, False, None)
            if not body.get("location"):
                raise LocationRequired("The location property is required for this definition.")
            loc = regions.require(str(body["location"]))
            sku = dict(body.get("sku") or {})
            if not sku.get("name"):
                raise BadRequest("Sku is required for a vault.", code="BadRequest", target="sku")
            props = dict(body.get("properties") or {})
            self._check_redundancy(props)
            doc: dict[str, Any] = {
                "tags": dict(body.get("tags") or {}),
                "sku": {
                    "name": "RS0" if str(sku["name"]).upper() == "RS0" else "Standard",
                    "tier": "Standard",
                },
                "properties": _merge(props, _computed(props)),
            }
            if body.get("identity"):
                doc["identity"] = dict(body["identity"])
            rec = self.tracked.new_record(tx, w.rid, VAULT, loc, doc, state=LIFECYCLE.initial)
            rec.internal["etagTime"] = _etag_time(self.clock.now())
            tx.put_resource(rec)
            for hook in self.created:
                hook(tx, rec)
            op = self.operations.start_for(
                tx, rec, kind=KIND.op("create"), family=FAMILY, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, op)

    def _created(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and LIFECYCLE.allows(rec.state, "created"):
            rec.state = LIFECYCLE.next(rec.state, "created")
            self.tracked.save(tx, rec)

    @staticmethod
    def _check_redundancy(props: dict[str, Any]) -> None:
        given = (props.get("redundancySettings") or {}).get("standardTierStorageRedundancy")
        if given is not None and str(given) not in REDUNDANCY:
            raise BadRequest(
                f"Invalid storage redundancy '{given}'. Supported values are {', '.join(REDUNDANCY)}.",
                code="BadRequest",
                target="redundancySettings.standardTierStorageRedundancy",
            )

    def _update(self, tx: Txn, rec: ResourceRecord, body: dict[str, Any]) -> ResourceRecord:
        """PATCH (and a PUT on an existing vault): the given properties merge into the vault's."""
        rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
        props = dict(body.get("properties") or {})
        self._check_redundancy(props)
        wanted = (props.get("redundancySettings") or {}).get("standardTierStorageRedundancy")
        if (
            wanted is not None
            and wanted != redundancy(rec)
            and any(h.holds_anything(tx, rec) for h in self.holds)
        ):
            raise BadRequest(REDUNDANCY_LOCKED, code="StorageModelModifyError")
        if "securitySettings" in props:
            soft = (props["securitySettings"] or {}).get("softDeleteSettings") or {}
            current, _ = soft_delete(rec)
            wanted = soft.get("softDeleteState")
            if wanted is not None:
                state = SOFT_DELETE_STATES.get(str(wanted).lower(), str(wanted))
                if current == "AlwaysON" and state != "AlwaysON":
                    raise BadRequest(ALWAYS_ON)
                soft["softDeleteState"] = state
        rec.body["properties"] = _merge(rec.body["properties"], props)
        if body.get("tags") is not None:
            rec.body["tags"] = dict(body["tags"])
        rec.internal["etagTime"] = _etag_time(self.clock.now())
        self.tracked.save(tx, rec)
        return rec

    def update(self, rid: str, body: dict[str, Any]) -> ResourceRecord:
        """PATCH: what is given merges into the vault's properties and tags."""
        body = PATCH_SHAPE.request(body)
        with self.store.transaction() as tx:
            return self._update(tx, self.tracked.require(tx, rid), body)

    # vault-wide backup configuration -----------------------------------------------------------------
    def set_config(self, rid: str, body: dict[str, Any]) -> ResourceRecord:
        """``backupconfig/vaultconfig`` (soft delete) and ``backupstorageconfig/vaultstorageconfig``
        (storage redundancy) written: the vault's own settings change."""
        shapes.check(body, CONFIG_SHAPE)
        props = body.get("properties") or {}
        wanted = props.get("storageModelType") or props.get("storageType")
        if wanted:
            self.update(
                rid, {"properties": {"redundancySettings": {"standardTierStorageRedundancy": wanted}}}
            )
        state, days = props.get("softDeleteFeatureState"), props.get("softDeleteRetentionPeriodInDays")
        if state is not None or days is not None:
            return self.set_soft_delete(rid, state, days)
        return self.get(rid)

    def set_soft_delete(self, rid: str, state: str | None, days: int | None) -> ResourceRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            soft = rec.body["properties"]["securitySettings"]["softDeleteSettings"]
            if state is not None:
                wanted = SOFT_DELETE_STATES.get(state.lower(), state)
                if soft["softDeleteState"] == "AlwaysON" and wanted != "AlwaysON":
                    raise BadRequest(ALWAYS_ON)
                soft["softDeleteState"] = wanted
            if days is not None:
                soft["softDeleteRetentionPeriodInDays"] = int(days)
            self.tracked.save(tx, rec)
            return rec

    def storage_config(self, rec: ResourceRecord, locked: bool) -> dict[str, Any]:
        crr = rec.body["properties"]["redundancySettings"].get("crossRegionRestore") == "Enabled"
        return {
            "id": f"{rec.id}/backupstorageconfig/vaultstorageconfig",
            "name": "vaultstorageconfig",
            "type": "Microsoft.RecoveryServices/vaults/backupstorageconfig",
            "properties": {
                "storageModelType": redundancy(rec),
                "storageType": redundancy(rec),
                "storageTypeState": "Locked" if locked else "Unlocked",
                "crossRegionRestoreFlag": crr,
                "dedupState": "Disabled",
                "xcoolState": "Disabled",
            },
        }

    def vault_config(self, rec: ResourceRecord, locked: bool) -> dict[str, Any]:
        state, days = soft_delete(rec)
        enhanced = rec.body["properties"]["securitySettings"]["softDeleteSettings"]["enhancedSecurityState"]
        return {
            "id": f"{rec.id}/backupconfig/vaultconfig",
            "name": "vaultconfig",
            "type": "Microsoft.RecoveryServices/vaults/backupconfig",
            "properties": {
                "storageModelType": redundancy(rec),
                "storageType": redundancy(rec),
                "storageTypeState": "Locked" if locked else "Unlocked",
                "enhancedSecurityState": enhanced,
                "softDeleteFeatureState": state,
                "softDeleteRetentionPeriodInDays": days,
                "isSoftDeleteFeatureStateEditable": state != "AlwaysON",
            },
        }

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            if any(h.holds_anything(tx, rec) for h in self.holds):
                raise AzureError(VAULT_NOT_EMPTY, code="ServiceResourceNotEmpty", status=400)
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family=FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The vault goes with everything it holds, deepest first, each through its own kind's purge."""
        children = tx.list_resources(parent_key=rec.key)
        for child in sorted(children, key=lambda r: -r.key.count("/")):
            fresh = tx.get_resource(child.key)
            if fresh is not None:
                self.registry.require(fresh.type).service.purge(tx, fresh)
        tx.delete_resource(rec.key)


def _etag_time(now: float) -> str:
    return iso_z(now).replace(":", "%3A")
