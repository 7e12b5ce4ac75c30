"""Azure Backup's service: the backup kinds bound to the registry, and what the API asks of them."""

from __future__ import annotations

import builtins
import copy
import datetime as dt
import hashlib
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, shapes
from azemu.domain.backup import jobs as jobs_mod
from azemu.domain.backup import points, policies
from azemu.domain.backup import protection as prot
from azemu.domain.backup.jobs import Jobs
from azemu.domain.backup.restore import Restores
from azemu.domain.content import DiskContent
from azemu.domain.errors import AzureError, BadRequest, NotFound
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import StateTable
from azemu.domain.operations import Operations
from azemu.domain.recoveryservices import common
from azemu.domain.recoveryservices.common import Children, iso_z, parse_filter, parse_time
from azemu.domain.recoveryservices.vaults import Vaults, soft_delete
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

POLICY_KIND = KindSpec(
    type=policies.TYPE,
    lro_family="backup",
    lifecycle=StateTable(
        kind="backupPolicy", initial="Succeeded", transitions={"Succeeded": {"update": "Succeeded"}}
    ),
    shape=policies.SHAPE,
    operations={},
    description="VM backup policies: daily / weekly (and hourly, enhanced) schedules, daily to yearly retention, "
    "instant-restore snapshot retention.",
    parent=common.VAULT,
    api_type="vaults/backupPolicies",
)
DAY = policies.DAY
# how long Azure takes (seconds): the tasks of each job
BACKUP_TASKS: list[jobs_mod.Task] = [("Take Snapshot", 300.0), ("Transfer data to vault", 1800.0)]
CONFIGURE_TASKS: list[jobs_mod.Task] = [("Configure backup", 30.0)]
DISABLE_TASKS: list[jobs_mod.Task] = [("Disable backup", 20.0)]
DELETE_TASKS: list[jobs_mod.Task] = [("Delete backup data", 40.0)]
UNDELETE_TASKS: list[jobs_mod.Task] = [("Undelete", 20.0)]


class Backup:
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
        storage: Any,
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
        self.jobs = Jobs(clock, operations, self.children)
        self.restores = Restores(self, storage)
        self.jobs.work.update(
            {
                "configure": self._configured,
                "backup": self._backup_task,
                "disable": lambda tx, job, i: None,
                "delete": self._data_deleted,
                "undelete": lambda tx, job, i: None,
                "restore": self.restores.run,
            }
        )
        self.jobs.failed["backup"] = self._backup_failed
        registry.register(POLICY_KIND, _Policies(self))
        registry.register(prot.CONTAINER_KIND, _ReadOnly(self, self._container_document))
        registry.register(prot.ITEM_KIND, _Items(self))
        registry.register(points.KIND, _Points(self))
        registry.register(jobs_mod.KIND, _Jobs(self))
        operations.register(prot.ITEM_KIND.op("schedule"), self._tick)
        vaults.holds.append(self)
        vaults.created.append(self._new_vault)

    # vaults ------------------------------------------------------------------------------------------
    def _new_vault(self, tx: Txn, vault: ResourceRecord) -> None:
        for name, props in policies.defaults(vault.name, self.clock.now()).items():
            self.children.new(
                tx, vault, common.child_id(vault.id, "backupPolicies", name), policies.TYPE, props
            )

    def holds_anything(self, tx: Txn, vault: ResourceRecord) -> bool:
        return bool(self.children.of(tx, vault, prot.ITEM))

    def vault(self, tx: Txn, rid: str) -> ResourceRecord:
        return self.vaults.require(tx, common.vault_id_of(rid))

    def locked(self, vault: ResourceRecord) -> bool:
        """Storage redundancy is locked once the vault protects something."""
        with self.store.read() as tx:
            return self.holds_anything(tx, vault)

    # policies ----------------------------------------------------------------------------------------
    def put_policy(self, w: Write) -> Written:
        props = policies.clean(dict(w.body.get("properties") or {}))
        props.setdefault("backupManagementType", policies.IAAS)
        policies.validate(props)
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            existing = self.children.find(tx, w.rid)
            if existing is None:
                rec = self.children.new(tx, vault, w.rid, policies.TYPE, props)
                return Written(rec, True, None)
            existing.body["properties"] = props
            self.children.save(tx, existing)
            for item in self._items_of_policy(tx, vault, existing.id):
                self._ensure_schedule(tx, item)
            return Written(existing, False, None)

    def _items_of_policy(self, tx: Txn, vault: ResourceRecord, policy_id: str) -> list[ResourceRecord]:
        return [
            i
            for i in self.children.of(tx, vault, prot.ITEM)
            if str(i.internal.get("policy") or "").lower() == policy_id.lower()
        ]

    def policy_document(self, rec: ResourceRecord) -> dict[str, Any]:
        with self.store.read() as tx:
            vault = tx.get_resource(rec.parent_key or "")
            count = (
                0
                if vault is None
                else len([i for i in self._items_of_policy(tx, vault, rec.id) if prot.scheduled(i)])
            )
        props = {"protectedItemsCount": count, **copy.deepcopy(rec.body["properties"])}
        return common.document(rec, props)

    def require(self, tx: Txn, rid: str, what: str) -> ResourceRecord:
        rec = self.children.find(tx, rid)
        if rec is None:
            self.vault(tx, rid)
            raise NotFound(f"{what} not found.", code=_NOT_FOUND.get(what, "NotFound"))
        return rec

    def delete_policy(self, rid: str) -> None:
        with self.store.transaction() as tx:
            rec = self.children.find(tx, rid)
            if rec is None:
                self.vault(tx, rid)
                return
            vault = self.vault(tx, rid)
            if self._items_of_policy(tx, vault, rec.id):
                raise BadRequest(
                    f"Policy '{rec.name}' is associated with protected items: stop their protection or move them to "
                    "another policy before deleting it.",
                    code="BMSUserErrorPolicyInUse",
                )
            tx.delete_resource(rec.key)

    # protectable items and containers ----------------------------------------------------------------
    def _protected_vm_ids(self, tx: Txn) -> set[str]:
        return {str(i.internal["vm"]).lower() for i in tx.list_resources(type=prot.ITEM)}

    def protectable(self, vault_rid: str) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            vault = self.vault(tx, vault_rid)
            taken = self._protected_vm_ids(tx)
            vms = tx.list_resources(subscription_id=vault.subscription_id, type=prot.VM_TYPE)
        out = []
        for vm in vms:
            if vm.location != vault.location or vm.key in taken or vm.state in ("deleting", "deleted"):
                continue
            container, item = prot.names(vm.id)
            out.append(
                {
                    "id": f"{prot.container_id(vault.id, container)}/protectableItems/{item.lower()}",
                    "name": item.lower(),
                    "type": prot.PROTECTABLE,
                    "properties": {
                        "protectableItemType": prot.VM_TYPE,
                        "backupManagementType": "AzureIaasVM",
                        "workloadType": "VM",
                        "friendlyName": vm.name,
                        "protectionState": "NotProtected",
                        "virtualMachineId": vm.id,
                        "virtualMachineVersion": "Compute",
                        "resourceGroup": vm.resource_group,
                    },
                }
            )
        return out

    def containers(self, vault_rid: str, query: dict[str, str]) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            vault = self.vault(tx, vault_rid)
            recs = self.children.of(tx, vault, prot.CONTAINER)
        wanted = query.get("friendlyname")
        docs = [self._container_document(r) for r in recs]
        return [
            d for d in docs if wanted is None or d["properties"]["friendlyName"].lower() == wanted.lower()
        ]

    @staticmethod
    def _container_document(rec: ResourceRecord) -> dict[str, Any]:
        return common.document(rec, copy.deepcopy(rec.body["properties"]))

    # protected items ---------------------------------------------------------------------------------
    def put_item(self, w: Write, tenant_id: str | None = None) -> tuple[ResourceRecord, OperationRecord]:
        props = dict(w.body.get("properties") or {})
        with self.store.transaction() as tx:
            vault = self.vault(tx, w.rid)
            item = self.children.find(tx, w.rid)
            state = str(props.get("protectionState") or "")
            if props.get("isRehydrate") and item is not None:
                return self._undelete(tx, vault, item, tenant_id)
            if item is not None and state in ("ProtectionStopped", "BackupsSuspended"):
                return self._stop(tx, vault, item, state, tenant_id)
            policy_id = str(props.get("policyId") or "")
            if not policy_id:
                raise BadRequest(
                    "Policy id is required to protect an item.", code="BMSUserErrorInvalidPolicyInput"
                )
            policy = self.children.find(tx, policy_id)
            if policy is None or policy.type.lower() != policies.TYPE.lower():
                raise NotFound(f"The policy '{policy_id}' was not found.", code="BMSUserErrorPolicyNotExist")
            if item is not None:
                return self._set_policy(tx, vault, item, policy, props, tenant_id)
            return self._protect(tx, vault, w.rid, policy, props, tenant_id)

    def _protect(
        self,
        tx: Txn,
        vault: ResourceRecord,
        rid: str,
        policy: ResourceRecord,
        props: dict[str, Any],
        tenant_id: str | None,
    ) -> tuple[ResourceRecord, OperationRecord]:
        vm_id = str(props.get("sourceResourceId") or props.get("virtualMachineId") or "")
        vm = tx.get_resource(ids.key_of(vm_id)) if vm_id else None
        if vm is None or vm.type.lower() != prot.VM_TYPE.lower():
            raise NotFound(
                f"The virtual machine '{vm_id}' was not found. Enable protection needs an existing Azure VM.",
                code="UserErrorVmNotFound",
            )
        if vm.location != vault.location:
            raise BadRequest(
                "The VM should be in the same location as that of the Recovery Services vault to enable "
                "protection.",
                code="UserErrorVmAndVaultLocationMismatch",
            )
        if vm.key in self._protected_vm_ids(tx):
            raise BadRequest(
                f"The virtual machine '{vm.name}' is already protected by a Recovery Services vault (or its backup "
                "item is soft deleted). Stop its protection there first.",
                code="BMSUserErrorItemAlreadyProtected",
            )
        container_name, item_name = prot.names(vm.id)
        cid = prot.container_id(vault.id, container_name)
        if self.children.find(tx, cid) is None:
            self.children.new(
                tx,
                vault,
                cid,
                prot.CONTAINER,
                {
                    "containerType": prot.VM_TYPE,
                    "friendlyName": vm.name,
                    "backupManagementType": "AzureIaasVM",
                    "registrationStatus": "Registered",
                    "healthStatus": "Healthy",
                    "protectableObjectType": prot.VM_TYPE,
                    "virtualMachineId": vm.id,
                    "virtualMachineVersion": "Compute",
                    "resourceGroup": vm.resource_group,
                },
            )
        exclusion = (props.get("extendedProperties") or {}).get("diskExclusionProperties")
        item = self.children.new(
            tx,
            vault,
            prot.item_id(vault.id, container_name, item_name),
            prot.ITEM,
            {},
            state=prot.LIFECYCLE.initial,
            internal={
                "vm": vm.id,
                "vmName": vm.name,
                "policy": policy.id,
                "exclusion": exclusion,
                "dataId": str(int(hashlib.sha256(vm.key.encode()).hexdigest()[:15], 16)),
            },
            parent_key=vault.key,
        )
        _job, op = self.jobs.start(
            tx,
            vault,
            operation="ConfigureBackup",
            entity=vm.name,
            tasks=CONFIGURE_TASKS,
            work="configure",
            params={"item": item.id},
            bag={"VM Name": vm.name, "Policy Name": policy.name},
            tenant_id=tenant_id,
        )
        return self._fresh(tx, item), op

    def _configured(self, tx: Txn, job: ResourceRecord, _i: int) -> None:
        item = self.children.find(tx, job.internal["params"]["item"])
        if item is not None:
            self._ensure_schedule(tx, item)

    def _set_policy(
        self,
        tx: Txn,
        vault: ResourceRecord,
        item: ResourceRecord,
        policy: ResourceRecord,
        props: dict[str, Any],
        tenant_id: str | None,
    ) -> tuple[ResourceRecord, OperationRecord]:
        action = "resume" if item.state in ("ProtectionStopped", "BackupsSuspended") else "setPolicy"
        item.state = prot.LIFECYCLE.next(item.state, action, name=item.internal["vmName"])
        item.internal["policy"] = policy.id
        exclusion = (props.get("extendedProperties") or {}).get("diskExclusionProperties")
        if "extendedProperties" in props:
            item.internal["exclusion"] = exclusion
        if action == "resume":  # points kept forever get the policy's retention again
            for p in self.children.of(tx, item, points.TYPE):
                if p.internal.get("expiresAt") is None and not p.internal.get("adhoc"):
                    p.internal["expiresAt"] = policies.expiry(policy.body["properties"], p.created_at)
                    self.children.save(tx, p)
        self.children.save(tx, item)
        _job, op = self.jobs.start(
            tx,
            vault,
            operation="ConfigureBackup",
            entity=item.internal["vmName"],
            tasks=CONFIGURE_TASKS,
            work="configure",
            params={"item": item.id},
            bag={"VM Name": item.internal["vmName"], "Policy Name": policy.name},
            tenant_id=tenant_id,
        )
        return self._fresh(tx, item), op

    def _stop(
        self, tx: Txn, vault: ResourceRecord, item: ResourceRecord, state: str, tenant_id: str | None
    ) -> tuple[ResourceRecord, OperationRecord]:
        """Stop protection and retain data: forever (``ProtectionStopped``) or as the policy says
        (``BackupsSuspended``)."""
        action = "stop" if state == "ProtectionStopped" else "suspend"
        item.state = prot.LIFECYCLE.next(item.state, action, name=item.internal["vmName"])
        if action == "stop":
            self._keep_points(tx, item)
        self.children.save(tx, item)
        self._ensure_schedule(tx, item)
        op = self._item_job(tx, vault, item, "DisableBackup", DISABLE_TASKS, "disable", tenant_id)
        return self._fresh(tx, item), op

    def delete_item(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        """Stop protection and delete data: soft-deleted when the vault's soft delete is on."""
        with self.store.transaction() as tx:
            vault = self.vault(tx, rid)
            item = self.children.find(tx, rid)
            if item is None:
                return None
            item.state = prot.LIFECYCLE.next(item.state, "delete", name=item.internal["vmName"])
            state, days = soft_delete(vault)
            item.internal["softDeleted"] = self.clock.now()
            item.internal["softDeleteUntil"] = self.clock.now() + days * DAY if state != "Disabled" else None
            self.children.save(tx, item)
            op = self._item_job(tx, vault, item, "DeleteBackupData", DELETE_TASKS, "delete", tenant_id)
            return op

    def _data_deleted(self, tx: Txn, job: ResourceRecord, _i: int) -> None:
        item = self.children.find(tx, job.internal["params"]["item"])
        if item is None:
            return
        if item.internal.get("softDeleteUntil") is None:
            self.purge_item(tx, item)
        else:
            self._ensure_schedule(tx, item)

    def _undelete(
        self, tx: Txn, vault: ResourceRecord, item: ResourceRecord, tenant_id: str | None
    ) -> tuple[ResourceRecord, OperationRecord]:
        item.state = prot.LIFECYCLE.next(item.state, "undelete", name=item.internal["vmName"])
        item.internal.pop("softDeleteUntil", None)
        item.internal.pop("softDeleted", None)
        self._keep_points(tx, item)
        self.children.save(tx, item)
        self._ensure_schedule(tx, item)
        op = self._item_job(tx, vault, item, "Undelete", UNDELETE_TASKS, "undelete", tenant_id)
        return self._fresh(tx, item), op

    def _item_job(
        self,
        tx: Txn,
        vault: ResourceRecord,
        item: ResourceRecord,
        operation: str,
        tasks: list[jobs_mod.Task],
        work: str,
        tenant_id: str | None,
    ) -> OperationRecord:
        """A backup job about one protected item (Azure's job names the VM)."""
        _job, op = self.jobs.start(
            tx,
            vault,
            operation=operation,
            entity=item.internal["vmName"],
            tasks=tasks,
            work=work,
            params={"item": item.id},
            bag={"VM Name": item.internal["vmName"]},
            tenant_id=tenant_id,
        )
        return op

    def _keep_points(self, tx: Txn, item: ResourceRecord) -> None:
        """The item's recovery points are kept until deleted by hand (retention no longer applies)."""
        for p in self.children.of(tx, item, points.TYPE):
            p.internal["expiresAt"] = None
            self.children.save(tx, p)

    def purge_item(self, tx: Txn, item: ResourceRecord) -> None:
        """The item goes with its points (their content released); its container goes when it is empty."""
        for p in self.children.of(tx, item, points.TYPE):
            points.purge(tx, self.content, p)
        tx.delete_resource(item.key)
        cid = item.id.rsplit("/protectedItems/", 1)[0]
        left = [
            r
            for r in tx.list_resources(type=prot.ITEM, parent_key=item.parent_key)
            if r.id.lower().startswith(cid.lower() + "/")
        ]
        if not left:
            tx.delete_resource(ids.key_of(cid))

    @staticmethod
    def _fresh(tx: Txn, rec: ResourceRecord) -> ResourceRecord:
        return tx.get_resource(rec.key) or rec

    def items(self, vault_rid: str, query: dict[str, str]) -> list[ResourceRecord]:
        with self.store.read() as tx:
            vault = self.vault(tx, vault_rid)
            recs = self.children.of(tx, vault, prot.ITEM)
            policy = query.get("policyname")
            if policy:
                recs = [
                    r
                    for r in recs
                    if str(r.internal.get("policy") or "").rsplit("/", 1)[-1].lower() == policy.lower()
                ]
            return recs

    def item_document(self, rec: ResourceRecord) -> dict[str, Any]:
        emu = rec.internal
        container_name = rec.id.split("/protectionContainers/", 1)[1].split("/protectedItems/")[0]
        with self.store.read() as tx:
            pts = self.children.of(tx, rec, points.TYPE)
            policy = tx.get_resource(ids.key_of(emu["policy"])) if emu.get("policy") else None
        now = self.clock.now()
        state = prot.protection_state(rec)
        soft = emu.get("softDeleteUntil")
        props: dict[str, Any] = {
            "friendlyName": emu["vmName"],
            "virtualMachineId": emu["vm"],
            "protectionStatus": "Healthy",
            "protectionState": state,
            "healthStatus": "Passed",
            "healthDetails": [],
            "kpisHealths": {},
            "lastBackupStatus": emu.get("lastBackupStatus", ""),
            "protectedItemDataId": emu["dataId"],
            "extendedInfo": {
                "recoveryPointCount": len(pts),
                "policyInconsistent": False,
                **({"oldestRecoveryPoint": iso_z(pts[0].created_at)} if pts else {}),
                **(
                    {"oldestRecoveryPointInVault": iso_z(v[0].created_at)}
                    if (v := [p for p in pts if p.internal.get("vaulted")])
                    else {}
                ),
            },
            "protectedItemType": prot.VM_TYPE,
            "backupManagementType": "AzureIaasVM",
            "workloadType": "VM",
            "containerName": container_name.split(";", 1)[1],
            "sourceResourceId": emu["vm"],
            "policyId": emu.get("policy")
            if state != "ProtectionStopped" or rec.state == "SoftDeleted"
            else "",
            "policyName": policy.name if policy is not None and state != "ProtectionStopped" else "",
            "isScheduledForDeferredDelete": soft is not None,
            "isArchiveEnabled": False,
            "isRehydrate": False,
            "vaultId": common.vault_id_of(rec.id),
            "policyType": "V2"
            if policy is not None and policy.body["properties"].get("policyType") == "V2"
            else "V1",
            "sourceLocation": rec.location,
        }
        if state == "ProtectionStopped" and rec.state != "SoftDeleted":
            props["policyId"] = ""
        if emu.get("lastBackupTime") is not None:
            props["lastBackupTime"] = iso_z(float(emu["lastBackupTime"]))
        props["lastRecoveryPoint"] = iso_z(pts[-1].created_at) if pts else None
        if soft is not None:
            props["deferredDeleteTimeInUTC"] = iso_z(float(emu["softDeleted"]))
            props["deferredDeleteTimeRemaining"] = common.timespan(float(soft) - now)
            props["softDeleteRetentionPeriodInDays"] = round((float(soft) - float(emu["softDeleted"])) / DAY)
        if emu.get("exclusion") is not None:
            props["extendedProperties"] = {"diskExclusionProperties": emu["exclusion"]}
        return common.document(rec, props)

    # backups -----------------------------------------------------------------------------------------
    def backup_now(self, rid: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        shapes.check(body, prot.BACKUP_SHAPE)
        props = body.get("properties") or {}
        expiry_text = props.get("recoveryPointExpiryTimeInUTC")
        try:
            expires_given = parse_time(str(expiry_text)) if expiry_text else None
        except ValueError:
            raise BadRequest(
                f"Invalid recovery point expiry time '{expiry_text}'.", code="BMSUserErrorInvalidInput"
            ) from None
        with self.store.transaction() as tx:
            vault = self.vault(tx, rid)
            item = self.require(tx, rid, "Item")
            prot.LIFECYCLE.next(item.state, "backup", name=item.internal["vmName"])
            expires = expires_given if expires_given is not None else self.clock.now() + 30 * DAY
            _job, op = self._start_backup(tx, vault, item, expires=expires, adhoc=True, tenant_id=tenant_id)
            return op

    def _start_backup(
        self,
        tx: Txn,
        vault: ResourceRecord,
        item: ResourceRecord,
        *,
        expires: float | None,
        adhoc: bool,
        tenant_id: str | None = None,
    ) -> tuple[ResourceRecord, OperationRecord]:
        return self.jobs.start(
            tx,
            vault,
            operation="Backup",
            entity=item.internal["vmName"],
            tasks=BACKUP_TASKS,
            work="backup",
            params={"item": item.id, "expires": expires, "adhoc": adhoc},
            bag={"VM Name": item.internal["vmName"], "Backup Size": ""},
            tenant_id=tenant_id,
            cancellable=True,
        )

    def _backup_task(self, tx: Txn, job: ResourceRecord, task: int) -> None:
        params = job.internal["params"]
        item = self.children.find(tx, params["item"])
        if item is None:
            raise AzureError("The backup item no longer exists.", code="UserErrorItemNotFound", status=404)
        if task == 0:
            params["point"] = self._take_point(tx, item, params).id
            self.children.save(tx, job)
            return
        point = self.children.find(tx, params.get("point") or "")
        if point is not None:
            point.internal["vaulted"] = True
            self.children.save(tx, point)
        item.internal["lastBackupStatus"] = "Completed"
        size = (
            sum(self.content.blobs.size(d) for d in self._point_blobs(tx, point)) if point is not None else 0
        )
        job.body["properties"]["extendedInfo"]["propertyBag"]["Backup Size"] = f"{size // (1024 * 1024)} MB"
        self.children.save(tx, job)
        self.children.save(tx, item)

    def _point_blobs(self, tx: Txn, point: ResourceRecord) -> set[str]:
        out: set[str] = set()
        for _key, digest in tx.list_content(point.key):
            out |= self.content.references(digest)
        return out

    def _backup_failed(self, tx: Txn, job: ResourceRecord) -> None:
        item = self.children.find(tx, job.internal["params"]["item"])
        if item is not None:
            item.internal["lastBackupStatus"] = "Failed"
            self.children.save(tx, item)

    def _take_point(self, tx: Txn, item: ResourceRecord, params: dict[str, Any]) -> ResourceRecord:
        vm = tx.get_resource(ids.key_of(item.internal["vm"]))
        if vm is None:
            raise AzureError(
                "The virtual machine doesn't exist: it was deleted after backup was configured. Stop its protection "
                "(retain or delete its data).",
                code="UserErrorVmNotFoundV2",
                status=400,
            )
        now = self.clock.now()
        vprops = vm.body["properties"]
        storage = vprops["storageProfile"]
        os_disk = storage["osDisk"]
        included, excluded = self._included_luns(item, storage.get("dataDisks") or [])
        running = self.vms.powered_on(vm)
        said = guest_api.snapshot_consistency(self.vms.load_guest(tx, vm)) if running else "CrashConsistent"
        policy = (
            tx.get_resource(ids.key_of(item.internal.get("policy") or ""))
            if item.internal.get("policy")
            else None
        )
        pprops = policy.body["properties"] if policy is not None else {}
        expires = params.get("expires") if params.get("adhoc") else policies.expiry(pprops, now)
        os_rec = tx.get_resource(ids.key_of(os_disk["managedDisk"]["id"]))
        assert os_rec is not None
        internal = {
            "consistency": points.consistency(running, said),
            "os": {
                "diskId": os_rec.id,
                "name": os_rec.name,
                "osType": os_disk["osType"],
                "sizeGB": int(os_rec.body["properties"]["diskSizeGB"]),
                "sku": os_rec.body["sku"]["name"],
                "hyperVGeneration": os_rec.body["properties"].get("hyperVGeneration", "V1"),
                "caching": os_disk.get("caching", "ReadWrite"),
            },
            "data": [
                {
                    "diskId": d["managedDisk"]["id"],
                    "name": d.get("name") or d["managedDisk"]["id"].rsplit("/", 1)[1],
                    "lun": int(d["lun"]),
                    "sizeGB": int(d.get("diskSizeGB") or 0),
                    "sku": (d.get("managedDisk") or {}).get("storageAccountType") or "Standard_LRS",
                    "caching": d.get("caching", "None"),
                }
                for d in included
            ],
            "excluded": [{"lun": int(d["lun"]), "name": d.get("name", "")} for d in excluded],
            "attachedDisks": 1 + len(storage.get("dataDisks") or []),
            "vm": {
                "id": vm.id,
                "name": vm.name,
                "vmSize": vprops["hardwareProfile"]["vmSize"],
                "location": vm.location,
                "zones": vm.body.get("zones") or [],
                "config": copy.deepcopy(self.vms.document(vm)),
            },
            "expiresAt": expires,
            "adhoc": bool(params.get("adhoc")),
            "snapshotUntil": now + policies.snapshot_days(pprops) * DAY,
            "vaulted": False,
        }
        name = str(int(now * 1000) * 100 + int(hashlib.sha256(item.key.encode()).hexdigest()[:2], 16) % 100)
        vault = tx.get_resource(item.parent_key or "")
        assert vault is not None
        point = self.children.new(
            tx,
            vault,
            f"{item.id}/recoveryPoints/{name}",
            points.TYPE,
            {},
            state="Valid",
            internal=internal,
            parent_key=item.key,
        )
        points.link_disks(tx, self.content, point)
        item.internal["lastBackupTime"] = now
        if item.state == "IRPending":
            item.state = prot.LIFECYCLE.next(item.state, "backup", name=item.internal["vmName"])
        self.children.save(tx, item)
        self._ensure_schedule(tx, item)
        return point

    @staticmethod
    def _included_luns(
        item: ResourceRecord, data: builtins.list[dict[str, Any]]
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[dict[str, Any]]]:
        rule = item.internal.get("exclusion")
        if not rule:
            return list(data), []
        luns = {int(x) for x in rule.get("diskLunList") or []}
        inclusion = bool(rule.get("isInclusionList"))
        keep = [d for d in data if (int(d["lun"]) in luns) == inclusion]
        return keep, [d for d in data if d not in keep]

    # recovery points ---------------------------------------------------------------------------------
    def points_of(self, item_rid: str, query: dict[str, str]) -> list[ResourceRecord]:
        with self.store.read() as tx:
            item = self.require(tx, item_rid, "Item")
            recs = self.children.of(tx, item, points.TYPE)
        start, end = query.get("startdate"), query.get("enddate")
        if start:
            recs = [r for r in recs if r.created_at >= _filter_time(start)]
        if end:
            recs = [r for r in recs if r.created_at <= _filter_time(end)]
        return list(reversed(recs))

    def point(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = self.children.find(tx, rid)
            if rec is None or rec.type.lower() != points.TYPE.lower():
                self.require(tx, rid.rsplit("/recoveryPoints/", 1)[0], "Item")
                raise NotFound("Recovery point not found.", code="BMSUserErrorRecoveryPointNotFound")
            return rec

    def point_document(self, rec: ResourceRecord) -> dict[str, Any]:
        return points.point_document(rec, self.clock.now())

    # the schedule ------------------------------------------------------------------------------------
    def _ensure_schedule(self, tx: Txn, item: ResourceRecord) -> None:
        """(Re)arm the item's schedule operation for the earliest thing due."""
        now = self.clock.now()
        due = self._next_due(tx, item, now)
        item = tx.get_resource(item.key) or item
        if due is None:
            item.internal["schedule"] = None
            tx.put_resource(item)
            return
        op = self.operations.start_for(
            tx,
            item,
            kind=prot.ITEM_KIND.op("schedule"),
            family="backup",
            tenant_id=None,
            duration=max(0.001, due - now),
        )
        fresh = tx.get_resource(item.key) or item
        fresh.internal["schedule"] = op.id
        tx.put_resource(fresh)

    def _next_due(self, tx: Txn, item: ResourceRecord, now: float) -> float | None:
        times: builtins.list[float] = []
        if prot.scheduled(item) and item.internal.get("policy"):
            policy = tx.get_resource(ids.key_of(item.internal["policy"]))
            if policy is not None:
                nxt = policies.next_run(policy.body["properties"], item.internal.get("lastScheduled") or now)
                if nxt is not None:
                    times.append(max(nxt, now))
        if prot.points_expire(item):
            exp = [
                float(p.internal["expiresAt"])
                for p in self.children.of(tx, item, points.TYPE)
                if p.internal.get("expiresAt") is not None
            ]
            if exp:
                times.append(min(exp))
        if item.internal.get("softDeleteUntil") is not None:
            times.append(float(item.internal["softDeleteUntil"]))
        return min(times) if times else None

    def _tick(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        item = tx.get_resource(ids.key_of(op.resource_id))
        if item is None or item.internal.get("schedule") != op.id:
            return
        now = self.clock.now()
        soft = item.internal.get("softDeleteUntil")
        if soft is not None and float(soft) <= now:
            self.purge_item(tx, item)
            return
        if prot.points_expire(item):
            for p in self.children.of(tx, item, points.TYPE):
                if p.internal.get("expiresAt") is not None and float(p.internal["expiresAt"]) <= now:
                    points.purge(tx, self.content, p)
        if prot.scheduled(item) and item.internal.get("policy"):
            policy = tx.get_resource(ids.key_of(item.internal["policy"]))
            if policy is not None:
                nxt = policies.next_run(
                    policy.body["properties"], item.internal.get("lastScheduled") or op.started_at
                )
                if nxt is not None and nxt <= now:
                    item.internal["lastScheduled"] = now
                    tx.put_resource(item)
                    vault = tx.get_resource(item.parent_key or "")
                    if vault is not None:
                        self._start_backup(tx, vault, item, expires=None, adhoc=False)
        fresh = tx.get_resource(item.key)
        if fresh is not None and fresh.internal.get("schedule") == op.id:
            self._ensure_schedule(tx, fresh)

    # jobs --------------------------------------------------------------------------------------------
    def job_list(self, vault_rid: str, query: dict[str, str]) -> list[ResourceRecord]:
        with self.store.read() as tx:
            vault = self.vault(tx, vault_rid)
            recs = self.children.of(tx, vault, jobs_mod.TYPE)
        if query.get("status"):
            recs = [r for r in recs if r.body["properties"]["status"].lower() == query["status"].lower()]
        if query.get("operation"):
            recs = [
                r for r in recs if r.body["properties"]["operation"].lower() == query["operation"].lower()
            ]
        if query.get("starttime"):
            recs = [r for r in recs if r.created_at >= _filter_time(query["starttime"])]
        if query.get("endtime"):
            recs = [r for r in recs if r.created_at <= _filter_time(query["endtime"])]
        return list(reversed(recs))

    def job(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = self.children.find(tx, rid)
            if rec is None or rec.type.lower() != jobs_mod.TYPE.lower():
                self.vault(tx, rid)
                raise NotFound("Job not found.")
            return rec

    def cancel_job(self, rid: str) -> None:
        with self.store.transaction() as tx:
            rec = self.children.find(tx, rid)
            if rec is None:
                self.vault(tx, rid)
                raise NotFound("Job not found.")
            self.jobs.cancel(tx, rec)


_NOT_FOUND: dict[str, str] = {}


def _filter_time(text: str) -> float:
    """``2026-07-26 01:03:09 PM`` (az's filter format) or ISO 8601."""
    for fmt in ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            continue
    return parse_time(text)


# the kinds' faces ------------------------------------------------------------------------------------
class _Base:
    def __init__(self, backup: Backup) -> None:
        self.backup = backup

    def get(self, rid: str) -> ResourceRecord:
        with self.backup.store.read() as tx:
            rec = self.backup.children.find(tx, rid)
            if rec is None:
                raise NotFound(f"The resource '{rid}' was not found.")
            return rec

    def put(self, w: Write) -> Written:
        raise common.not_served("PUT")

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        raise common.not_served("DELETE")

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)


class _ReadOnly(_Base):
    def __init__(self, backup: Backup, doc: Any) -> None:
        super().__init__(backup)
        self._doc = doc

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return dict(self._doc(rec))


class _Policies(_Base):
    def put(self, w: Write) -> Written:
        return self.backup.put_policy(w)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return self.backup.policy_document(rec)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        self.backup.delete_policy(rid)
        return None


class _Items(_Base):
    def put(self, w: Write) -> Written:
        rec, op = self.backup.put_item(w, w.tenant_id)
        return Written(rec, False, op)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return self.backup.item_document(rec)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        return self.backup.delete_item(rid, tenant_id)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        self.backup.purge_item(tx, rec)


class _Points(_Base):
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return self.backup.point_document(rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        points.purge(tx, self.backup.content, rec)


class _Jobs(_Base):
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return self.backup.jobs.document(rec)


def query_of(text: str | None) -> dict[str, str]:
    return parse_filter(text)
