"""Azure Site Recovery's service (Azure to Azure): the kinds bound to the registry, and what the API asks of
them. Every change is an ASR job (``jobs.py``); the work of each job is here."""

from __future__ import annotations

import builtins
import copy
import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.content import DiskContent, data_key
from azemu.domain.errors import AzureError, BadRequest, NotFound
from azemu.domain.kinds import Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.recoveryservices import common
from azemu.domain.recoveryservices.common import Children, parse_filter
from azemu.domain.recoveryservices.vaults import Vaults
from azemu.domain.siterecovery import config, plans, replication
from azemu.domain.siterecovery import jobs as jobs_mod
from azemu.domain.siterecovery.jobs import AsrJobs
from azemu.domain.siterecovery.replication import LIFECYCLE, fact
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

MINUTE = 60.0
# tasks of each job: (name, friendly name, seconds real Azure takes)
CONFIG_TASKS: list[jobs_mod.Task] = [
    ("PrerequisiteCheck", "Prerequisites check", 5.0),
    ("Configure", "Configure", 25.0),
]
ENABLE_TASKS: list[jobs_mod.Task] = [
    ("EnableProtectionPrerequisitesCheckTask", "Prerequisites check for enabling protection", 10.0),
    ("CreateProtectionTargetTask", "Identifying the replication target", 20.0),
    ("EnableProtectionTask", "Enable replication", 60.0),
    ("StartInitialReplicationTask", "Starting initial replication", 1800.0),
]
TEST_TASKS: list[jobs_mod.Task] = [
    ("TestFailoverPrerequisitesCheckTask", "Prerequisites check for test failover", 10.0),
    ("TestFailoverTask", "Test failover", 300.0),
    ("StartVmTask", "Start the virtual machine", 60.0),
]
CLEANUP_TASKS: list[jobs_mod.Task] = [("TestFailoverCleanupTask", "Cleaning up test virtual machines", 120.0)]
FAILOVER_TASKS: list[jobs_mod.Task] = [
    ("FailoverPrerequisitesCheckTask", "Prerequisites check for failover", 10.0),
    ("FailoverTask", "Failover", 300.0),
    ("StartVmTask", "Start the virtual machine", 60.0),
]
COMMIT_TASKS: list[jobs_mod.Task] = [("CommitFailoverTask", "Commit", 30.0)]
REPROTECT_TASKS: list[jobs_mod.Task] = [
    ("ReprotectPrerequisitesCheckTask", "Prerequisites check", 10.0),
    ("ReprotectTask", "Re-protect", 120.0),
    ("StartInitialReplicationTask", "Starting initial replication", 1800.0),
]
DISABLE_TASKS: list[jobs_mod.Task] = [("DisableProtectionTask", "Disable replication", 60.0)]


class SiteRecovery:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        operations: Operations,
        registry: Registry,
        vaults: Vaults,
        vms: Any,
        disks: Any,
        content: DiskContent,
    ) -> None:
        self.store = store
        self.clock = clock
        self.operations = operations
        self.registry = registry
        self.vaults = vaults
        self.vms = vms
        self.disks = disks
        self.content = content
        self.children = Children(clock)
        self.jobs = AsrJobs(clock, operations, self.children)
        self.jobs.work.update(
            {
                "none": lambda tx, job, i: None,
                "enable": self._enable_work,
                "testFailover": self._test_work,
                "testCleanup": self._cleanup_work,
                "failover": self._failover_work,
                "commit": self._commit_work,
                "reprotect": self._reprotect_work,
                "disable": self._disable_work,
                "plan": self._plan_work,
            }
        )
        for spec, face in (
            (config.FABRIC_KIND, _Face(self, "fabric")),
            (config.CONTAINER_KIND, _Face(self, "container")),
            (config.POLICY_KIND, _Face(self, "policy")),
            (config.MAPPING_KIND, _Face(self, "mapping")),
            (replication.ITEM_KIND, _Face(self, "item")),
            (replication.POINT_KIND, _Face(self, "point")),
            (plans.PLAN_KIND, _Face(self, "plan")),
            (jobs_mod.KIND, _Face(self, "job")),
        ):
            registry.register(spec, face)
        operations.register(replication.ITEM_KIND.op("replicate"), self._tick)
        vaults.holds.append(self)

    # shared ------------------------------------------------------------------------------------------
    def holds_anything(self, tx: Txn, vault: ResourceRecord) -> bool:
        return bool(self.children.of(tx, vault, replication.ITEM))

    def vault(self, tx: Txn, rid: str) -> ResourceRecord:
        return self.vaults.require(tx, common.vault_id_of(rid))

    def find(self, tx: Txn, rid: str, full_type: str, what: str) -> ResourceRecord:
        rec = self.children.find(tx, rid) if rid else None
        if rec is None or rec.type.lower() != full_type.lower():
            if "/vaults/" in rid.lower():
                self.vault(tx, rid)
            raise NotFound(f"{what} '{rid.rsplit('/', 1)[-1]}' was not found.", code="NotFound")
        return rec

    def get(self, rid: str, full_type: str, what: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.find(tx, rid, full_type, what)

    def list(self, vault_rid: str, full_type: str, under: str | None = None) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            vault = self.vault(tx, vault_rid)
            recs = self.children.of(tx, vault, full_type)
        if under is not None:
            recs = [r for r in recs if r.key.startswith(under.lower() + "/")]
        return recs

    def _job(
        self,
        tx: Txn,
        vault: ResourceRecord,
        target: ResourceRecord,
        scenario: str,
        friendly: str,
        tasks: builtins.list[jobs_mod.Task],
        work: str,
        params: dict[str, Any] | None = None,
        tenant_id: str | None = None,
        target_type: str = "ProtectionEntity",
    ) -> OperationRecord:
        return self.jobs.start(
            tx,
            vault,
            scenario=scenario,
            friendly=friendly,
            target_id=target.id,
            target_name=target.name,
            target_type=target_type,
            tasks=tasks,
            work=work,
            params={"target": target.id, **(params or {})},
            tenant_id=tenant_id,
        )

    # configuration -----------------------------------------------------------------------------------
    def put_fabric(self, w: Write) -> Written:
        details = (w.body.get("properties") or {}).get("customDetails") or {}
        if str(details.get("instanceType") or "").lower() != "azure":
            raise BadRequest(
                "azemu serves Azure-to-Azure Site Recovery: a fabric's customDetails.instanceType must be 'Azure'.",
                code="InvalidParameter",
            )
        region = regions.require(str(details.get("location") or ""))
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            rec = self.children.find(tx, w.rid)
            created = rec is None
            if rec is None:
                rec = self.children.new(
                    tx,
                    vault,
                    w.rid,
                    config.FABRIC,
                    {},
                    internal={"region": region, "internalId": str(uuid.uuid4())},
                )
            op = self._job(
                tx,
                vault,
                rec,
                "CreateFabric",
                "Create fabric",
                CONFIG_TASKS,
                "none",
                tenant_id=w.tenant_id,
                target_type="Fabric",
            )
            return Written(rec, created, op)

    def put_container(self, w: Write) -> Written:
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            self.find(tx, w.rid.split("/replicationProtectionContainers/")[0], config.FABRIC, "Fabric")
            rec = self.children.find(tx, w.rid)
            created = rec is None
            if rec is None:
                rec = self.children.new(tx, vault, w.rid, config.CONTAINER, {})
            op = self._job(
                tx, vault, rec, "CreateProtectionContainer", "Create protection container", CONFIG_TASKS, "none",
                tenant_id=w.tenant_id, target_type="ProtectionContainer",
            )  # fmt: skip
            return Written(rec, created, op)

    def put_policy(self, w: Write) -> Written:
        given = (w.body.get("properties") or {}).get("providerSpecificInput") or {}
        if str(given.get("instanceType") or "").upper() != "A2A":
            raise BadRequest(
                "azemu serves Azure-to-Azure replication policies: providerSpecificInput.instanceType must be 'A2A'.",
                code="InvalidParameter",
            )
        details = config.policy_details(given)
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            rec = self.children.find(tx, w.rid)
            created = rec is None
            if rec is None:
                rec = self.children.new(tx, vault, w.rid, config.POLICY, details)
            else:
                rec.body["properties"] = details
                self.children.save(tx, rec)
            op = self._job(tx, vault, rec, "AddProtectionProfile", "Create replication policy", CONFIG_TASKS, "none",
                           tenant_id=w.tenant_id, target_type="ProtectionProfile")  # fmt: skip
            return Written(rec, created, op)

    def put_mapping(self, w: Write) -> Written:
        props = w.body.get("properties") or {}
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            source = self.find(
                tx,
                w.rid.split("/replicationProtectionContainerMappings/")[0],
                config.CONTAINER,
                "Protection container",
            )
            target = self.find(
                tx,
                str(props.get("targetProtectionContainerId") or ""),
                config.CONTAINER,
                "Protection container",
            )
            policy = self.find(tx, str(props.get("policyId") or ""), config.POLICY, "Policy")
            given = props.get("providerSpecificInput") or {}
            rec = self.children.find(tx, w.rid)
            created = rec is None
            internal = {
                "source": source.id,
                "target": target.id,
                "policy": policy.id,
                "autoUpdate": given.get("agentAutoUpdateStatus") or "Disabled",
                "automationAccount": given.get("automationAccountArmId"),
            }
            if rec is None:
                rec = self.children.new(tx, vault, w.rid, config.MAPPING, {}, internal=internal)
            else:
                rec.internal.update(internal)
                self.children.save(tx, rec)
            op = self._job(tx, vault, rec, "ConfigureProtection", "Configure protection", CONFIG_TASKS, "none",
                           tenant_id=w.tenant_id, target_type="ProtectionContainerMapping")  # fmt: skip
            return Written(rec, created, op)

    def remove_config(self, rid: str) -> None:
        with self.store.transaction() as tx:
            rec = self.children.find(tx, rid)
            if rec is None:
                self.vault(tx, rid)
                return
            below = [
                r for r in tx.list_resources(parent_key=rec.parent_key) if r.key.startswith(rec.key + "/")
            ]
            if rec.type.lower() == config.POLICY.lower():
                below = [
                    m
                    for m in self.children.of(tx, self.vault(tx, rid), config.MAPPING)
                    if m.internal["policy"].lower() == rec.key
                ]
            if below:
                raise AzureError(
                    f"'{rec.name}' is in use: remove what uses it first.", code="InvalidOperation", status=400
                )
            tx.delete_resource(rec.key)

    # documents ---------------------------------------------------------------------------------------
    def fabric_document(self, rec: ResourceRecord) -> dict[str, Any]:
        with self.store.read() as tx:
            containers = [
                c.id
                for c in tx.list_resources(type=config.CONTAINER, parent_key=rec.parent_key)
                if c.key.startswith(rec.key + "/")
            ]
        return config.fabric_document(rec, containers)

    def container_document(self, rec: ResourceRecord) -> dict[str, Any]:
        with self.store.read() as tx:
            fabric = tx.get_resource(rec.key.split("/replicationprotectioncontainers/")[0])
            items = [
                i
                for i in tx.list_resources(type=replication.ITEM, parent_key=rec.parent_key)
                if i.key.startswith(rec.key + "/")
            ]
            paired = any(
                m.internal["source"].lower() == rec.key or m.internal["target"].lower() == rec.key
                for m in tx.list_resources(type=config.MAPPING, parent_key=rec.parent_key)
            )
        return config.container_document(rec, fabric, len(items), paired)

    def mapping_document(self, rec: ResourceRecord) -> dict[str, Any]:
        with self.store.read() as tx:
            source = tx.get_resource(ids.key_of(rec.internal["source"]))
            target = tx.get_resource(ids.key_of(rec.internal["target"]))
            policy = tx.get_resource(ids.key_of(rec.internal["policy"]))
        return config.mapping_document(rec, source, target, policy)

    def plan_document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = rec.body["properties"]
        with self.store.read() as tx:
            primary = tx.get_resource(ids.key_of(str(props.get("primaryFabricId") or "-")))
            recovery = tx.get_resource(ids.key_of(str(props.get("recoveryFabricId") or "-")))
            members = [tx.get_resource(ids.key_of(i)) for i in plans.items_of(rec)]
        allowed = sorted({op for m in members if m is not None for op in fact(m, "allowed") or []})
        return plans.plan_document(
            rec, primary.name if primary else "", recovery.name if recovery else "", allowed
        )

    def item_document(self, rec: ResourceRecord) -> dict[str, Any]:
        emu = rec.internal
        now = self.clock.now()
        with self.store.read() as tx:
            pts = self.children.of(tx, rec, replication.POINT)
            policy = tx.get_resource(ids.key_of(emu["policy"]))
            primary = tx.get_resource(ids.key_of(emu["primaryFabric"]))
            recovery = tx.get_resource(ids.key_of(emu["recoveryFabric"]))
            pcont = tx.get_resource(ids.key_of(emu["primaryContainer"]))
            rcont = tx.get_resource(ids.key_of(emu["recoveryContainer"]))
        test = emu.get("testVm")
        allowed = list(fact(rec, "allowed") or [])
        if test:
            allowed = [a for a in allowed if a != "TestFailover"] + ["TestFailoverCleanup"]
        description = str(fact(rec, "description"))
        if test and rec.state == "Protected":
            description = "Cleanup test failover pending"
        latest = pts[-1].created_at if pts else None
        disks = [
            {
                "diskId": d["diskId"],
                "diskName": d["name"],
                "recoveryResourceGroupId": emu["recoveryRg"],
                "recoveryReplicaDiskAccountType": d["sku"],
                "recoveryTargetDiskAccountType": d["sku"],
                "recoveryTargetDiskId": d.get("targetDiskId"),
                "diskCapacityInBytes": int(d["sizeGB"]) * 1024**3,
                "diskType": d["sku"],
                "diskState": "Healthy",
                "resyncRequired": False,
                "monitoringPercentageCompletion": 100 if rec.state != "Enabling" else 0,
                "isDiskEncrypted": False,
                "failoverDiskName": f"{d['name']}-ASRReplica",
                "tfoDiskName": f"{d['name']}-test",
            }
            for d in emu["disks"]
        ]
        details: dict[str, Any] = {
            "instanceType": "A2A",
            "fabricObjectId": emu["vm"],
            "initialPrimaryFabricLocation": primary.internal["region"] if primary else None,
            "initialRecoveryFabricLocation": recovery.internal["region"] if recovery else None,
            "primaryFabricLocation": self._region(emu, "source"),
            "recoveryFabricLocation": self._region(emu, "target"),
            "osType": emu["osType"],
            "recoveryAzureVMSize": emu["vmSize"],
            "recoveryAzureVMName": emu["recoveryVmName"],
            "recoveryAzureResourceGroupId": emu["recoveryRg"],
            "selectedRecoveryAzureNetworkId": emu.get("recoveryNetwork"),
            "protectedManagedDisks": disks,
            "monitoringPercentageCompletion": 100 if rec.state != "Enabling" else 0,
            "vmProtectionState": str(fact(rec, "protectionState")),
            "vmProtectionStateDescription": description,
            "agentVersion": "9.62.7172.1",
            "isReplicationAgentUpdateRequired": False,
            "recoveryFabricObjectId": emu.get("failedOverVm"),
            "testFailoverRecoveryFabricObjectId": test,
            "tfoAzureVMName": f"{emu['recoveryVmName']}-test",
            "lifecycleId": emu["lifecycleId"],
            "rpoInSeconds": int(now - latest) if latest is not None and fact(rec, "replicating") else None,
            "lastRpoCalculatedTime": common.iso_z(now) if latest is not None else None,
            "lastHeartbeat": common.iso_z(now),
            "vmNics": [],
        }
        props: dict[str, Any] = {
            "friendlyName": emu["vmName"],
            "protectedItemType": "A2A",
            "protectableItemId": None,
            "recoveryServicesProviderId": None,
            "primaryFabricFriendlyName": primary.name if primary else "",
            "primaryFabricProvider": "Azure",
            "recoveryFabricFriendlyName": recovery.name if recovery else "",
            "recoveryFabricId": emu["recoveryFabric"],
            "primaryProtectionContainerFriendlyName": pcont.name if pcont else "",
            "recoveryProtectionContainerFriendlyName": rcont.name if rcont else "",
            "protectionState": str(fact(rec, "protectionState")),
            "protectionStateDescription": description,
            "activeLocation": emu["active"],
            "testFailoverState": "TestFailoverCompleted" if test else "None",
            "testFailoverStateDescription": "Test failover completed" if test else "None",
            "allowedOperations": allowed,
            "replicationHealth": "Normal",
            "failoverHealth": "Normal" if emu.get("lastTestFailover") else "Warning",
            "healthErrors": [],
            "policyId": emu["policy"],
            "policyFriendlyName": policy.name if policy else "",
            "currentScenario": {"scenarioName": "None"},
            "failoverRecoveryPointId": emu.get("failoverPoint"),
            "providerSpecificDetails": details,
            "recoveryContainerId": emu["recoveryContainer"],
        }
        for key, name in (
            ("lastSuccessfulFailoverTime", "lastFailover"),
            ("lastSuccessfulTestFailoverTime", "lastTestFailover"),
        ):
            if emu.get(name) is not None:
                props[key] = common.iso_z(float(emu[name]))
        doc = common.document(rec, props)
        doc["location"] = rec.location
        return doc

    def _region(self, emu: dict[str, Any], which: str) -> str:
        """The region replication goes from (``source``) or to (``target``), in the item's direction."""
        forward = emu["direction"] == "PrimaryToRecovery"
        return str(emu["primaryRegion"] if (which == "source") == forward else emu["recoveryRegion"])

    # enabling replication ----------------------------------------------------------------------------
    def put_item(self, w: Write) -> Written:
        props = w.body.get("properties") or {}
        details = props.get("providerSpecificDetails") or {}
        if str(details.get("instanceType") or "").upper() != "A2A":
            raise BadRequest(
                "azemu serves Azure-to-Azure replication: providerSpecificDetails.instanceType must be 'A2A'.",
                code="InvalidParameter",
            )
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            existing = self.children.find(tx, w.rid)
            if existing is not None:
                return Written(existing, False, None)
            container_id = w.rid.split("/replicationProtectedItems/")[0]
            pcont = self.find(tx, container_id, config.CONTAINER, "Protection container")
            primary = self.find(
                tx, container_id.split("/replicationProtectionContainers/")[0], config.FABRIC, "Fabric"
            )
            policy = self.find(tx, str(props.get("policyId") or ""), config.POLICY, "Policy")
            rcont_id = str(details.get("recoveryContainerId") or "")
            mapping = next(
                (
                    m
                    for m in self.children.of(tx, vault, config.MAPPING)
                    if m.internal["source"].lower() == pcont.key
                    and (not rcont_id or m.internal["target"].lower() == rcont_id.lower())
                ),
                None,
            )
            if mapping is None:
                raise BadRequest(
                    "No protection container mapping pairs the primary container with the recovery container: "
                    "create the mapping first.",
                    code="ProtectionContainerMappingNotFound",
                )
            rcont = self.find(tx, mapping.internal["target"], config.CONTAINER, "Protection container")
            recovery = self.find(
                tx, rcont.id.split("/replicationProtectionContainers/")[0], config.FABRIC, "Fabric"
            )
            vm_id = str(details.get("fabricObjectId") or "")
            vm = tx.get_resource(ids.key_of(vm_id)) if vm_id else None
            if vm is None or vm.type.lower() != replication.VM_TYPE.lower():
                raise NotFound(f"The virtual machine '{vm_id}' was not found.", code="NotFound")
            if vm.location != primary.internal["region"]:
                raise BadRequest(
                    f"The virtual machine is in '{vm.location}', not in the primary fabric's region "
                    f"'{primary.internal['region']}'.",
                    code="InvalidParameter",
                )
            if primary.internal["region"] == recovery.internal["region"]:
                raise BadRequest(
                    "The recovery region must differ from the primary region for Azure-to-Azure replication.",
                    code="InvalidParameter",
                )
            if any(i.internal["vm"].lower() == vm.key for i in tx.list_resources(type=replication.ITEM)):
                raise BadRequest(
                    f"The virtual machine '{vm.name}' is already replicated.", code="ProtectionAlreadyEnabled"
                )
            rg = str(details.get("recoveryResourceGroupId") or "")
            p = ids.parse(rg)
            if p is None or p.resource_group is None:
                raise BadRequest("recoveryResourceGroupId is required.", code="InvalidParameter")
            self.disks.tracked.groups.require(tx, p.subscription, p.resource_group)
            storage = vm.body["properties"]["storageProfile"]
            internal = {
                "vm": vm.id,
                "origin": vm.id,
                "vmName": vm.name,
                "recoveryVmName": vm.name,
                "vmSize": vm.body["properties"]["hardwareProfile"]["vmSize"],
                "osType": storage["osDisk"]["osType"],
                "primaryFabric": primary.id,
                "recoveryFabric": recovery.id,
                "primaryRegion": primary.internal["region"],
                "recoveryRegion": recovery.internal["region"],
                "primaryContainer": pcont.id,
                "recoveryContainer": rcont.id,
                "policy": policy.id,
                "recoveryRg": ids.resource_group_id(p.subscription, p.resource_group),
                "originRg": ids.resource_group_id(vm.subscription_id, vm.resource_group or ""),
                "recoveryNetwork": details.get("recoveryAzureNetworkId"),
                "recoverySubnet": details.get("recoverySubnetName"),
                "direction": "PrimaryToRecovery",
                "active": "Primary",
                "disks": self._disks_of(tx, vm),
                "lifecycleId": str(uuid.uuid4()),
            }
            rec = self.children.new(
                tx, vault, w.rid, replication.ITEM, {}, state=LIFECYCLE.initial, internal=internal
            )
            op = self._job(
                tx,
                vault,
                rec,
                "EnableDr",
                "Enable replication",
                ENABLE_TASKS,
                "enable",
                tenant_id=w.tenant_id,
            )
            return Written(rec, True, op)

    def _disks_of(self, tx: Txn, vm: ResourceRecord) -> builtins.list[dict[str, Any]]:
        storage = vm.body["properties"]["storageProfile"]
        out = []
        for i, d in enumerate([storage["osDisk"], *(storage.get("dataDisks") or [])]):
            disk = tx.get_resource(ids.key_of(d["managedDisk"]["id"]))
            if disk is None:
                continue
            out.append(
                {
                    "diskId": disk.id,
                    "name": disk.name,
                    "lun": None if i == 0 else int(d["lun"]),
                    "sizeGB": int(disk.body["properties"]["diskSizeGB"]),
                    "sku": disk.body["sku"]["name"],
                    "hyperVGeneration": disk.body["properties"].get("hyperVGeneration", "V1"),
                    "caching": d.get("caching", "None"),
                }
            )
        return out

    def _enable_work(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        if task != len(jobs_mod_tasks(job)) - 1:
            return
        item = self.children.find(tx, job.internal["params"]["target"])
        if item is None:
            return
        item.state = LIFECYCLE.next(item.state, "replicated")
        self.children.save(tx, item)
        self._take_point(tx, item, app=True)
        self._arm(tx, item)

    # replication on the clock ------------------------------------------------------------------------
    def _policy(self, tx: Txn, item: ResourceRecord) -> dict[str, Any]:
        policy = tx.get_resource(ids.key_of(item.internal["policy"]))
        return dict(policy.body["properties"]) if policy is not None else config.policy_details({})

    def _arm(self, tx: Txn, item: ResourceRecord) -> None:
        pol = self._policy(tx, item)
        op = self.operations.start_for(
            tx,
            item,
            kind=replication.ITEM_KIND.op("replicate"),
            family="siteRecovery",
            tenant_id=None,
            duration=float(pol["crashConsistentFrequencyInMinutes"]) * MINUTE,
            payload={"target": item.id},
        )
        fresh = tx.get_resource(item.key) or item
        fresh.internal["replication"] = op.id
        tx.put_resource(fresh)

    def _tick(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        item = tx.get_resource(ids.key_of(op.resource_id))
        if item is None or item.internal.get("replication") != op.id or not fact(item, "replicating"):
            return
        if item.state == "Protected":
            pol = self._policy(tx, item)
            app_due = (
                self.clock.now() - float(item.internal.get("lastApp") or 0)
                >= float(pol["appConsistentFrequencyInMinutes"]) * MINUTE
            )
            self._take_point(tx, item, app=app_due)
            self._prune(tx, item, float(pol["recoveryPointHistory"]) * MINUTE)
        fresh = tx.get_resource(item.key)
        if fresh is not None:
            self._arm(tx, fresh)

    def _take_point(self, tx: Txn, item: ResourceRecord, *, app: bool) -> ResourceRecord | None:
        """A recovery point: the replicated VM's disks as they are now (content shared, not copied)."""
        vm = tx.get_resource(ids.key_of(item.internal["vm"]))
        if vm is None:
            return None
        running = self.vms.powered_on(vm)
        consistent = (
            running and app and guest_api.snapshot_consistency(self.vms.load_guest(tx, vm)) == "AppConsistent"
        )
        now = self.clock.now()
        vault = tx.get_resource(item.parent_key or "")
        assert vault is not None
        disks = self._disks_of(tx, vm)
        point = self.children.new(
            tx,
            vault,
            f"{item.id}/recoveryPoints/{uuid.uuid4()}",
            replication.POINT,
            {},
            state="Valid",
            internal={"type": "ApplicationConsistent" if consistent else "CrashConsistent", "disks": disks},
            parent_key=item.key,
        )
        for i, d in enumerate(disks):
            self.content.copy(tx, d["diskId"], point.key if i == 0 else data_key(point.key, d["lun"]))
        if consistent:
            item.internal["lastApp"] = now
        item.internal["disks"] = disks
        self.children.save(tx, item)
        return point

    def _prune(self, tx: Txn, item: ResourceRecord, keep: float) -> None:
        now = self.clock.now()
        pts = self.children.of(tx, item, replication.POINT)
        for p in pts[:-1]:  # the latest point always stays
            if now - p.created_at > keep:
                self.purge_point(tx, p)

    def purge_point(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)
        self.content.release(tx, rec.key)

    def points(self, item_rid: str) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            item = self.find(tx, item_rid, replication.ITEM, "Replicated item")
            return list(reversed(self.children.of(tx, item, replication.POINT)))

    # actions -----------------------------------------------------------------------------------------
    def action(self, rid: str, name: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        """``testFailover``, ``testFailoverCleanup``, ``unplannedFailover``, ``plannedFailover``,
        ``failoverCommit``, ``reProtect``, ``remove`` on a replicated item."""
        shapes.check(body, replication.ACTION_SHAPE)
        props = body.get("properties") or {}
        with self.store.transaction() as tx:
            vault = self.vault(tx, rid)
            item = self.find(tx, rid, replication.ITEM, "Replicated item")
            return self._start_action(tx, vault, item, name, props, tenant_id)

    def _start_action(
        self,
        tx: Txn,
        vault: ResourceRecord,
        item: ResourceRecord,
        name: str,
        props: dict[str, Any],
        tenant_id: str | None,
    ) -> OperationRecord:
        details = props.get("providerSpecificDetails") or {}
        direction = str(props.get("failoverDirection") or self._forward(item))
        if name == "testFailover":
            LIFECYCLE.next(item.state, "testFailover", name=item.name)
            if item.internal.get("testVm"):
                raise BadRequest(
                    "A test failover is already done for this item: clean it up before another.",
                    code="TestFailoverCleanupPending",
                )
            network = str(props.get("networkId") or "")
            if not network or tx.get_resource(ids.key_of(network)) is None:
                raise NotFound(f"Test failover network '{network}' was not found.", code="NotFound")
            params = {"point": details.get("recoveryPointId"), "network": network}
            return self._job(
                tx,
                vault,
                item,
                "TestFailover",
                "Test failover",
                TEST_TASKS,
                "testFailover",
                params,
                tenant_id,
            )
        if name == "testFailoverCleanup":
            if not item.internal.get("testVm"):
                raise BadRequest(
                    "There is no test failover to clean up for this item.", code="InvalidOperation"
                )
            return self._job(
                tx,
                vault,
                item,
                "TestFailoverCleanup",
                "Test failover cleanup",
                CLEANUP_TASKS,
                "testCleanup",
                None,
                tenant_id,
            )
        if name in ("unplannedFailover", "plannedFailover"):
            LIFECYCLE.next(item.state, "failover", name=item.name)
            if direction != self._forward(item):
                raise BadRequest(
                    f"Failover direction '{direction}' is not allowed now: the item replicates "
                    f"{self._forward(item)}.",
                    code="InvalidFailoverDirection",
                )
            planned = name == "plannedFailover" or str(props.get("sourceSiteOperations") or "") == "Required"
            params = {"point": details.get("recoveryPointId"), "planned": planned}
            label = "Planned failover" if name == "plannedFailover" else "Failover"
            scenario = "PlannedFailover" if name == "plannedFailover" else "UnplannedFailover"
            return self._job(tx, vault, item, scenario, label, FAILOVER_TASKS, "failover", params, tenant_id)
        if name == "failoverCommit":
            LIFECYCLE.next(item.state, "commit", name=item.name)
            return self._job(
                tx, vault, item, "CommitFailover", "Commit", COMMIT_TASKS, "commit", None, tenant_id
            )
        if name == "reProtect":
            LIFECYCLE.next(item.state, "reprotect", name=item.name)
            params = {
                "container": details.get("recoveryContainerId"),
                "rg": details.get("recoveryResourceGroupId"),
                "policy": details.get("policyId") or props.get("policyId"),
            }
            return self._job(
                tx, vault, item, "ReprotectVm", "Reprotect", REPROTECT_TASKS, "reprotect", params, tenant_id
            )
        if name in ("remove", "purge"):
            LIFECYCLE.next(item.state, "disable", name=item.name)
            return self._job(
                tx, vault, item, "DisableDr", "Disable replication", DISABLE_TASKS, "disable", None, tenant_id
            )
        raise NotFound(f"The action '{name}' is not served by azemu.")

    @staticmethod
    def _forward(item: ResourceRecord) -> str:
        return str(item.internal["direction"])

    def _item_of(self, tx: Txn, job: ResourceRecord) -> ResourceRecord:
        item = self.children.find(tx, job.internal["params"]["target"])
        if item is None:
            raise AzureError(
                "The replicated item no longer exists.", code="ProtectionEntityNotFound", status=404
            )
        return item

    def _choose_point(self, tx: Txn, item: ResourceRecord, wanted: str | None) -> ResourceRecord:
        pts = self.children.of(tx, item, replication.POINT)
        if wanted:
            point = next(
                (p for p in pts if p.key == wanted.lower() or p.name.lower() == wanted.lower()), None
            )
            if point is None:
                raise AzureError(
                    f"Recovery point '{wanted}' was not found.", code="RecoveryPointNotFound", status=404
                )
            return point
        if not pts:
            raise AzureError(
                "The item has no recovery point yet.", code="NoRecoveryPointAvailable", status=400
            )
        return pts[-1]

    def _test_work(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        if task != 1:
            return
        item = self._item_of(tx, job)
        point = self._choose_point(tx, item, job.internal["params"].get("point"))
        name = f"{item.internal['recoveryVmName']}-test"
        vm_id, made = self._materialize(
            tx, item, point, name, network=job.internal["params"]["network"], suffix="-test"
        )
        item.internal["testVm"] = vm_id
        item.internal["testResources"] = made
        self.children.save(tx, item)

    def _cleanup_work(self, tx: Txn, job: ResourceRecord, _task: int) -> None:
        item = self._item_of(tx, job)
        self._remove(tx, [item.internal.get("testVm") or "", *item.internal.get("testResources", [])])
        item.internal["testVm"] = None
        item.internal["testResources"] = []
        item.internal["lastTestFailover"] = self.clock.now()
        self.children.save(tx, item)

    def _failover_work(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        if task != 1:
            return
        item = self._item_of(tx, job)
        params = job.internal["params"]
        source = tx.get_resource(ids.key_of(item.internal["vm"]))
        wanted = params.get("point")
        if params.get("planned"):  # the source shuts down first: nothing is lost
            if source is not None and self.vms.powered_on(source):
                self.vms.begin_member_power(tx, source, "powerOff")
                self.vms.settle_power(tx, tx.get_resource(source.key) or source, "powerOff")
            fresh = self._take_point(tx, tx.get_resource(item.key) or item, app=False)
            wanted = fresh.id if fresh is not None else wanted
        item = tx.get_resource(item.key) or item
        point = self._choose_point(tx, item, wanted)
        target_vm = item.internal.get("failbackVm")
        if target_vm and tx.get_resource(ids.key_of(target_vm)) is not None:
            self._replace(tx, target_vm, point)
            vm_id = target_vm
        else:
            vm_id, _made = self._materialize(
                tx, item, point, item.internal["recoveryVmName"], network=None, suffix="-ASRReplica"
            )
        item = tx.get_resource(item.key) or item
        item.state = LIFECYCLE.next(item.state, "failover", name=item.name)
        item.internal["failedOverVm"] = vm_id
        item.internal["failoverPoint"] = point.id
        item.internal["lastFailover"] = self.clock.now()
        item.internal["active"] = (
            "Recovery" if item.internal["direction"] == "PrimaryToRecovery" else "Primary"
        )
        self.children.save(tx, item)

    def _commit_work(self, tx: Txn, job: ResourceRecord, _task: int) -> None:
        item = self._item_of(tx, job)
        item.state = LIFECYCLE.next(item.state, "commit", name=item.name)
        for p in self.children.of(tx, item, replication.POINT):
            self.purge_point(tx, p)
        self.children.save(tx, item)

    def _reprotect_work(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        item = self._item_of(tx, job)
        emu = item.internal
        if task == 1:  # the failed-over VM is now the one replicated, back towards where the source was
            params = job.internal["params"]
            new_source = emu["failedOverVm"]
            old_source = emu["vm"]
            emu["vm"], emu["failbackVm"] = new_source, old_source
            emu["direction"] = (
                "RecoveryToPrimary" if emu["direction"] == "PrimaryToRecovery" else "PrimaryToRecovery"
            )
            if params.get("rg"):
                emu["recoveryRg"] = str(params["rg"])
            else:
                emu["recoveryRg"], emu["originRg"] = emu["originRg"], emu["recoveryRg"]
            if params.get("policy"):
                emu["policy"] = str(params["policy"])
            old_vm = tx.get_resource(ids.key_of(old_source))
            emu["recoveryVmName"] = old_vm.name if old_vm is not None else emu["recoveryVmName"]
            emu["failedOverVm"] = None
            emu["failoverPoint"] = None
            item.state = LIFECYCLE.next(item.state, "reprotect", name=item.name)
            vm = tx.get_resource(ids.key_of(new_source))
            if vm is not None:
                emu["disks"] = self._disks_of(tx, vm)
            self.children.save(tx, item)
            return
        if task == 2:
            item.state = LIFECYCLE.next(item.state, "replicated")
            self.children.save(tx, item)
            self._take_point(tx, item, app=True)
            self._arm(tx, item)

    def _disable_work(self, tx: Txn, job: ResourceRecord, _task: int) -> None:
        item = self.children.find(tx, job.internal["params"]["target"])
        if item is not None:
            self.purge_item(tx, item)

    def purge_item(self, tx: Txn, item: ResourceRecord) -> None:
        for p in self.children.of(tx, item, replication.POINT):
            self.purge_point(tx, p)
        tx.delete_resource(item.key)

    # making and removing VMs -------------------------------------------------------------------------
    def _target_region(self, item: ResourceRecord) -> str:
        return self._region(item.internal, "target")

    def _materialize(
        self,
        tx: Txn,
        item: ResourceRecord,
        point: ResourceRecord,
        vm_name: str,
        *,
        network: str | None,
        suffix: str,
    ) -> tuple[str, builtins.list[str]]:
        """A VM in the target region from a point: its disks (content from the point, copy-on-write), a network
        interface in the target network, the VM attached to them - a specialized copy of the source."""
        emu = item.internal
        p = ids.parse(emu["recoveryRg"])
        assert p is not None and p.resource_group is not None
        region = self._target_region(item)
        made: builtins.list[str] = []
        disk_ids: builtins.list[str] = []
        for i, d in enumerate(point.internal["disks"]):
            did = ids.resource_id(
                p.subscription, p.resource_group, "Microsoft.Compute", ["disks"], [f"{d['name']}{suffix}"]
            )
            if tx.get_resource(ids.key_of(did)) is not None:
                did = ids.resource_id(
                    p.subscription,
                    p.resource_group,
                    "Microsoft.Compute",
                    ["disks"],
                    [f"{d['name']}{suffix}-{uuid.uuid4().hex[:6]}"],
                )
            self.disks.new_os_disk(
                tx,
                did,
                region,
                os_type=emu["osType"] if i == 0 else "",
                hyper_v=d.get("hyperVGeneration", "V1") if i == 0 else "",
                architecture="x64",
                size_gb=int(d["sizeGB"]),
                sku=d["sku"],
                creation={"createOption": "Copy", "sourceResourceId": point.id},
                vm_id=None,
                source_key=point.key if i == 0 else data_key(point.key, d["lun"]),
            )
            disk_ids.append(did)
            made.append(did)
        subnet = self._subnet(tx, item, network, p.subscription, p.resource_group, region, made)
        nic_id = ids.resource_id(
            p.subscription,
            p.resource_group,
            "Microsoft.Network",
            ["networkInterfaces"],
            [f"{vm_name}-nic-{uuid.uuid4().hex[:6]}"],
        )
        self.registry.put(
            Write(
                rid=nic_id,
                body={
                    "location": region,
                    "properties": {
                        "ipConfigurations": [
                            {
                                "name": "ipconfig1",
                                "properties": {
                                    "privateIPAllocationMethod": "Dynamic",
                                    "subnet": {"id": subnet},
                                },
                            }
                        ]
                    },
                },
                tenant_id=None,
            )
        )
        made.append(nic_id)
        vm_id = ids.resource_id(
            p.subscription, p.resource_group, "Microsoft.Compute", ["virtualMachines"], [vm_name]
        )
        disks = point.internal["disks"]
        storage = {
            "osDisk": {
                "osType": emu["osType"],
                "createOption": "Attach",
                "caching": disks[0].get("caching", "ReadWrite"),
                "managedDisk": {"id": disk_ids[0]},
            },
            "dataDisks": [
                {
                    "lun": d["lun"],
                    "createOption": "Attach",
                    "caching": d.get("caching", "None"),
                    "managedDisk": {"id": did},
                }
                for d, did in zip(disks[1:], disk_ids[1:], strict=True)
            ],
        }
        self.registry.put(
            Write(
                rid=vm_id,
                body={
                    "location": region,
                    "properties": {
                        "hardwareProfile": {"vmSize": emu["vmSize"]},
                        "storageProfile": storage,
                        "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
                    },
                },
                tenant_id=None,
            )
        )
        return vm_id, made

    def _subnet(
        self,
        tx: Txn,
        item: ResourceRecord,
        network: str | None,
        sub: str,
        rg: str,
        region: str,
        made: builtins.list[str],
    ) -> str:
        """The subnet a failed-over VM joins: of the given network (test failover, or the item's recovery
        network), else of a network ASR creates in the target region (``{source network}-asr``)."""
        vnet_id = network or item.internal.get("recoveryNetwork")
        if vnet_id:
            vnet = tx.get_resource(ids.key_of(vnet_id))
            if vnet is None:
                raise AzureError(f"Network '{vnet_id}' was not found.", code="NetworkNotFound", status=400)
            subnets = vnet.body["properties"].get("subnets") or []
            wanted = item.internal.get("recoverySubnet")
            chosen = next(
                (s for s in subnets if wanted and s["name"].lower() == str(wanted).lower()),
                subnets[0] if subnets else None,
            )
            if chosen is None:
                raise AzureError(f"Network '{vnet_id}' has no subnet.", code="SubnetNotFound", status=400)
            return f"{vnet.id}/subnets/{chosen['name']}"
        vnet_id = ids.resource_id(
            sub, rg, "Microsoft.Network", ["virtualNetworks"], [f"{item.internal['vmName']}-vnet-asr"]
        )
        if tx.get_resource(ids.key_of(vnet_id)) is None:
            self.registry.put(
                Write(
                    rid=vnet_id,
                    body={
                        "location": region,
                        "properties": {
                            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                            "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}],
                        },
                    },
                    tenant_id=None,
                )
            )
            made.append(vnet_id)
        return f"{vnet_id}/subnets/default"

    def _replace(self, tx: Txn, vm_id: str, point: ResourceRecord) -> None:
        """Fail back onto the VM that was the source: its disks take the point's content, and it boots."""
        vm = tx.get_resource(ids.key_of(vm_id))
        assert vm is not None
        storage = vm.body["properties"]["storageProfile"]
        self.content.copy(tx, point.key, storage["osDisk"]["managedDisk"]["id"])
        by_lun = {int(d["lun"]): d["managedDisk"]["id"] for d in storage.get("dataDisks") or []}
        for d in point.internal["disks"][1:]:
            if int(d["lun"]) in by_lun:
                self.content.copy(tx, data_key(point.key, d["lun"]), by_lun[int(d["lun"])])
        if not self.vms.powered_on(vm):
            self.vms.begin_member_power(tx, vm, "start")
            vm = tx.get_resource(vm.key) or vm
            self.vms.settle_power(tx, vm, "start")
        else:
            guest = self.vms.load_guest(tx, vm)
            guest_api.boot(guest, self.vms.exec_context(vm))
            self.vms.store_guest(tx, vm, guest)
            tx.put_resource(vm)

    def _remove(self, tx: Txn, rids: builtins.list[str]) -> None:
        """Remove what a test failover made (VM first, then its disks, interface and network)."""
        for rid in rids:
            if not rid:
                continue
            rec = tx.get_resource(ids.key_of(rid))
            if rec is not None:
                self.registry.require(rec.type).service.purge(tx, rec)

    # recovery plans ----------------------------------------------------------------------------------
    def put_plan(self, w: Write) -> Written:
        props = dict(w.body.get("properties") or {})
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            for key in ("primaryFabricId", "recoveryFabricId"):
                self.find(tx, str(props.get(key) or ""), config.FABRIC, "Fabric")
            for item_id in [
                str(i.get("id"))
                for g in props.get("groups") or []
                for i in g.get("replicationProtectedItems") or []
            ]:
                self.find(tx, item_id, replication.ITEM, "Replicated item")
            rec = self.children.find(tx, w.rid)
            created = rec is None
            if rec is None:
                rec = self.children.new(tx, vault, w.rid, plans.PLAN, props)
            else:
                rec.body["properties"] = props
                self.children.save(tx, rec)
            op = self._job(tx, vault, rec, "CreateRecoveryPlan", "Create recovery plan", CONFIG_TASKS, "none",
                           tenant_id=w.tenant_id, target_type="RecoveryPlan")  # fmt: skip
            return Written(rec, created, op)

    def plan_action(
        self, rid: str, name: str, body: dict[str, Any], tenant_id: str | None
    ) -> OperationRecord:
        props = body.get("properties") or {}
        with self.store.transaction() as tx:
            vault = self.vault(tx, rid)
            plan = self.find(tx, rid, plans.PLAN, "Recovery plan")
            groups = plans.ordered_groups(plan.body["properties"].get("groups") or [])
            tasks: builtins.list[jobs_mod.Task] = [
                (f"Group{idx}", f"Group {idx}: {g.get('groupType')}", 120.0) for idx, g in groups
            ] or [("Empty", "Nothing to do", 1.0)]
            specifics = props.get("providerSpecificDetails") or []
            point_type = next((s.get("recoveryPointType") for s in specifics if isinstance(s, dict)), None)
            params = {
                "action": name,
                "props": props,
                "groups": [i for i, _g in groups],
                "pointType": point_type,
            }
            scenario = {
                "testFailover": "TestFailover",
                "testFailoverCleanup": "TestFailoverCleanup",
                "unplannedFailover": "UnplannedFailover",
                "plannedFailover": "PlannedFailover",
                "failoverCommit": "CommitFailover",
                "reProtect": "ReprotectVm",
            }.get(name)
            if scenario is None:
                raise NotFound(f"The action '{name}' is not served by azemu.")
            plan.internal["scenario"] = {
                "scenarioName": scenario,
                "startTime": common.iso_z(self.clock.now()),
            }
            stamp = {
                "testFailover": "test",
                "unplannedFailover": "unplanned",
                "plannedFailover": "planned",
            }.get(name)
            if stamp:
                plan.internal[stamp] = self.clock.now()
            self.children.save(tx, plan)
            return self._job(
                tx,
                vault,
                plan,
                scenario,
                f"{scenario} of recovery plan",
                tasks,
                "plan",
                params,
                tenant_id,
                "RecoveryPlan",
            )

    def _plan_work(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        """One group of the plan: each of its items does what its own request would (in this job)."""
        params = job.internal["params"]
        if not params["groups"]:
            return
        plan = self.children.find(tx, params["target"])
        if plan is None:
            return
        group = (plan.body["properties"].get("groups") or [])[params["groups"][task]]
        action = params["action"]
        for ref in group.get("replicationProtectedItems") or []:
            item = self.children.find(tx, str(ref.get("id")))
            if item is None:
                continue
            fake = copy.deepcopy(job)
            fake.internal["params"] = {"target": item.id, **self._item_params(tx, item, action, params)}
            self._run_item_action(tx, fake, action)

    def _item_params(
        self, tx: Txn, item: ResourceRecord, action: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        props = params["props"]
        point = None
        if params.get("pointType") == "LatestApplicationConsistent":
            pts = [
                p
                for p in self.children.of(tx, item, replication.POINT)
                if p.internal["type"] == "ApplicationConsistent"
            ]
            point = pts[-1].id if pts else None
        if action == "testFailover":
            return {"point": point, "network": props.get("networkId")}
        if action in ("unplannedFailover", "plannedFailover"):
            return {
                "point": point,
                "planned": action == "plannedFailover" or props.get("sourceSiteOperations") == "Required",
            }
        return {}

    def _run_item_action(self, tx: Txn, job: ResourceRecord, action: str) -> None:
        steps = {
            "testFailover": (self._test_work, [1]),
            "testFailoverCleanup": (self._cleanup_work, [0]),
            "unplannedFailover": (self._failover_work, [1]),
            "plannedFailover": (self._failover_work, [1]),
            "failoverCommit": (self._commit_work, [0]),
            "reProtect": (self._reprotect_work, [1, 2]),
        }
        work, tasks = steps[action]
        for t in tasks:
            work(tx, job, t)

    # jobs --------------------------------------------------------------------------------------------
    def job_list(self, vault_rid: str, query: dict[str, str]) -> builtins.list[ResourceRecord]:
        recs = list(reversed(self.list(vault_rid, jobs_mod.TYPE)))
        if query.get("state"):
            recs = [r for r in recs if r.state.lower() == query["state"].lower()]
        return recs


def jobs_mod_tasks(job: ResourceRecord) -> builtins.list[Any]:
    return list(job.internal["tasks"])


class _Face:
    """One resource kind's face to the registry (what a PUT, a GET, a delete and the cascade ask)."""

    def __init__(self, asr: SiteRecovery, what: str) -> None:
        self.asr = asr
        self.what = what

    def put(self, w: Write) -> Written:
        puts = {
            "fabric": self.asr.put_fabric,
            "container": self.asr.put_container,
            "policy": self.asr.put_policy,
            "mapping": self.asr.put_mapping,
            "item": self.asr.put_item,
            "plan": self.asr.put_plan,
        }
        if self.what not in puts:
            raise common.not_served("PUT")
        return puts[self.what](w)

    def get(self, rid: str) -> ResourceRecord:
        with self.asr.store.read() as tx:
            rec = self.asr.children.find(tx, rid)
            if rec is None:
                raise NotFound(f"The resource '{rid}' was not found.")
            return rec

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        if self.what == "item":
            return self.asr.action(rid, "purge", {}, tenant_id)
        if self.what in ("point", "job"):
            raise common.not_served("DELETE")
        self.asr.remove_config(rid)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        if self.what == "item":
            self.asr.purge_item(tx, rec)
        elif self.what == "point":
            self.asr.purge_point(tx, rec)
        else:
            tx.delete_resource(rec.key)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        a = self.asr
        docs = {
            "fabric": a.fabric_document,
            "container": a.container_document,
            "policy": config.policy_document,
            "mapping": a.mapping_document,
            "item": a.item_document,
            "point": replication.point_document,
            "plan": a.plan_document,
            "job": a.jobs.document,
        }
        return dict(docs[self.what](rec))


def query_of(text: str | None) -> dict[str, str]:
    return parse_filter(text)
