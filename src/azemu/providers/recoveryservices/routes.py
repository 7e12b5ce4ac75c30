"""Routes of Microsoft.RecoveryServices for vaults and Azure Backup (``az backup ...``). Thin: each handler turns
the request into a call on ``emu.vaults`` / ``emu.backup`` and the result into Azure's answer."""

from __future__ import annotations

from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.lro import retry_headers
from azemu.arm.router import Router
from azemu.domain import ids
from azemu.domain.backup import jobs, points, policies, protection
from azemu.domain.backup.service import POLICY_KIND, query_of
from azemu.domain.errors import NotFound
from azemu.domain.recoveryservices import vaults
from azemu.domain.recoveryservices.common import iso_z
from azemu.providers.base import ProviderContext, accepted, api_of, deleted, listed, put_response, write_of
from azemu.state.records import OperationRecord

NS = "/providers/Microsoft.RecoveryServices"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
SUB = "/subscriptions/{subscriptionId}"
V = RG + NS + "/vaults/{vaultName}"
FAB = V + "/backupFabrics/{fabricName}"
CONT = FAB + "/protectionContainers/{containerName}"
ITEM = CONT + "/protectedItems/{itemName}"
RP = ITEM + "/recoveryPoints/{pointName}"


def _api(t: str) -> tuple[str, str]:
    return ("Microsoft.RecoveryServices", t)


class RecoveryServicesProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    # ids ---------------------------------------------------------------------------------------------
    @staticmethod
    def _vault_id(req: Request) -> str:
        p = req.params
        return ids.resource_id(
            p["subscriptionId"],
            p["resourceGroupName"],
            "Microsoft.RecoveryServices",
            ["vaults"],
            [p["vaultName"]],
        )

    def _sub(self, req: Request, *path: str) -> str:
        return self._vault_id(req) + "/" + "/".join(path)

    def _item_id(self, req: Request) -> str:
        p = req.params
        return self._sub(
            req,
            "backupFabrics",
            p["fabricName"],
            "protectionContainers",
            p["containerName"],
            "protectedItems",
            p["itemName"],
        )

    # vaults ------------------------------------------------------------------------------------------
    def put_vault(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._vault_id(req)))
        return put_response(req, self.emu, written, self.emu.vaults.document(written.record))

    def patch_vault(self, req: Request) -> Response:
        rec = self.emu.vaults.update(self._vault_id(req), req.json_object())
        return Response(200, self.emu.vaults.document(rec))

    def get_vault(self, req: Request) -> Response:
        return Response(200, self.emu.vaults.document(self.emu.vaults.get(self._vault_id(req))))

    def list_vaults(self, req: Request) -> Response:
        recs = self.emu.vaults.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.emu.vaults.document(r) for r in recs])

    def delete_vault(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._vault_id(req), req.tenant_id))

    def vault_operation(self, req: Request) -> Response:
        op = self._op(req)
        body: dict[str, Any] = {"id": req.path, "name": op.id, "status": op.status}
        if op.status == "Failed" and op.error:
            body["error"] = op.error
        headers = {} if op.done else retry_headers(op, self.emu.clock, 10)
        return Response(200, body, headers=headers)

    def _op(self, req: Request) -> OperationRecord:
        op = self.emu.operations.get(req.params["operationId"])
        if op is None or op.subscription_id.lower() != req.params["subscriptionId"].lower():
            raise NotFound("The operation was not found.", code="NotFound")
        return op

    # vault-wide backup configuration -----------------------------------------------------------------
    def storage_config(self, req: Request) -> Response:
        rid = self._vault_id(req)
        rec = self.emu.vaults.set_config(rid, req.json_object()) if req.method in ("PATCH", "PUT") else None
        if req.method == "PATCH":
            return Response(204, None)
        rec = rec or self.emu.vaults.get(rid)
        return Response(200, self.emu.vaults.storage_config(rec, self.emu.backup.locked(rec)))

    def vault_config(self, req: Request) -> Response:
        rid = self._vault_id(req)
        rec = self.emu.vaults.set_config(rid, req.json_object()) if req.method in ("PATCH", "PUT") else None
        rec = rec or self.emu.vaults.get(rid)
        return Response(200, self.emu.vaults.vault_config(rec, self.emu.backup.locked(rec)))

    def encryption_config(self, req: Request) -> Response:
        rec = self.emu.vaults.get(self._vault_id(req))
        return Response(
            200,
            {
                "id": f"{rec.id}/backupEncryptionConfigs/backupResourceEncryptionConfig",
                "name": "backupResourceEncryptionConfig",
                "type": "Microsoft.RecoveryServices/vaults/backupEncryptionConfigs",
                "properties": {
                    "encryptionAtRestType": "MicrosoftManaged",
                    "lastUpdateStatus": "NotEnabled",
                    "infrastructureEncryptionState": "Disabled",
                },
            },
        )

    def guard_proxies(self, req: Request) -> Response:
        self.emu.vaults.get(self._vault_id(req))
        return listed([])

    # policies ----------------------------------------------------------------------------------------
    def put_policy(self, req: Request) -> Response:
        rid = self._sub(req, "backupPolicies", req.params["policyName"])
        written = self.emu.kinds.put(write_of(req, rid))
        return Response(200, self.emu.backup.policy_document(written.record))

    def get_policy(self, req: Request) -> Response:
        rid = self._sub(req, "backupPolicies", req.params["policyName"])
        with self.emu.store.read() as tx:
            rec = self.emu.backup.require(tx, rid, "Policy")
        return Response(200, self.emu.backup.policy_document(rec))

    def list_policies(self, req: Request) -> Response:
        with self.emu.store.read() as tx:
            vault = self.emu.backup.vault(tx, self._vault_id(req))
            recs = self.emu.backup.children.of(tx, vault, policies.TYPE)
        wanted = query_of(req.query.get("$filter")).get("backupmanagementtype")
        docs = [self.emu.backup.policy_document(r) for r in recs]
        return listed(
            [
                d
                for d in docs
                if wanted is None or d["properties"]["backupManagementType"].lower() == wanted.lower()
            ]
        )

    def delete_policy(self, req: Request) -> Response:
        self.emu.backup.delete_policy(self._sub(req, "backupPolicies", req.params["policyName"]))
        return Response(200, None)

    # discovery and containers ------------------------------------------------------------------------
    def refresh(self, req: Request) -> Response:
        rid = self._vault_id(req)
        with self.emu.store.transaction() as tx:
            vault = self.emu.backup.vault(tx, rid)
            op = self.emu.operations.start_for(
                tx, vault, kind=jobs.KIND.op("accept"), family="backup", tenant_id=req.tenant_id, payload={}
            )
        url = f"{req.scheme_host}{rid}/backupFabrics/{req.params['fabricName']}/operationResults/{op.id}?api-version={req.api_version}"
        return Response(202, None, headers={"Location": url, **retry_headers(op, self.emu.clock, 10)})

    def fabric_operation_result(self, req: Request) -> Response:
        op = self._op(req)
        if not op.done:
            return Response(202, None, headers=retry_headers(op, self.emu.clock, 10))
        return Response(204, None)

    def protectable_items(self, req: Request) -> Response:
        return listed(self.emu.backup.protectable(self._vault_id(req)))

    def containers(self, req: Request) -> Response:
        query = query_of(req.query.get("$filter"))
        return listed(self.emu.backup.containers(self._vault_id(req), query))

    def get_container(self, req: Request) -> Response:
        p = req.params
        rid = self._sub(req, "backupFabrics", p["fabricName"], "protectionContainers", p["containerName"])
        with self.emu.store.read() as tx:
            rec = self.emu.backup.require(tx, rid, "Container")
        return Response(200, self.emu.backup._container_document(rec))

    # protected items ---------------------------------------------------------------------------------
    def put_item(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._item_id(req)))
        assert written.operation is not None
        return accepted(req, self.emu, written.operation)

    def get_item(self, req: Request) -> Response:
        with self.emu.store.read() as tx:
            rec = self.emu.backup.require(tx, self._item_id(req), "Item")
        return Response(200, self.emu.backup.item_document(rec))

    def delete_item(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.backup.delete_item(self._item_id(req), req.tenant_id))

    def list_items(self, req: Request) -> Response:
        query = query_of(req.query.get("$filter"))
        recs = self.emu.backup.items(self._vault_id(req), query)
        return listed([self.emu.backup.item_document(r) for r in recs])

    def backup_now(self, req: Request) -> Response:
        op = self.emu.backup.backup_now(self._item_id(req), req.json_object(required=False), req.tenant_id)
        return accepted(req, self.emu, op)

    def item_operation(self, req: Request) -> Response:
        return self.backup_operation(req)

    def item_operation_result(self, req: Request) -> Response:
        return self.backup_operation_result(req)

    # recovery points and restores --------------------------------------------------------------------
    def list_points(self, req: Request) -> Response:
        query = query_of(req.query.get("$filter"))
        recs = self.emu.backup.points_of(self._item_id(req), query)
        return listed([self.emu.backup.point_document(r) for r in recs])

    def get_point(self, req: Request) -> Response:
        rec = self.emu.backup.point(self._item_id(req) + "/recoveryPoints/" + req.params["pointName"])
        return Response(200, self.emu.backup.point_document(rec))

    def restore(self, req: Request) -> Response:
        rid = self._item_id(req) + "/recoveryPoints/" + req.params["pointName"]
        op = self.emu.backup.restores.trigger(rid, req.json_object(), req.tenant_id, req.scheme_host)
        return accepted(req, self.emu, op)

    # operations and jobs -----------------------------------------------------------------------------
    def backup_operation(self, req: Request) -> Response:
        op = self._op(req)
        body: dict[str, Any] = {
            "id": op.id,
            "name": op.id,
            "status": op.status,
            "startTime": iso_z(op.started_at),
        }
        if op.done and op.finished_at is not None:
            body["endTime"] = iso_z(op.finished_at)
        if op.status == "Failed" and op.error:
            body["error"] = op.error
        if op.payload.get("jobId"):
            body["properties"] = {
                "objectType": "OperationStatusJobExtendedInfo",
                "jobId": op.payload["jobId"],
            }
        headers = {} if op.done else retry_headers(op, self.emu.clock, 60)
        return Response(200, body, headers=headers)

    def backup_operation_result(self, req: Request) -> Response:
        op = self._op(req)
        if not op.done:
            return Response(202, None, headers=retry_headers(op, self.emu.clock, 60))
        return Response(204, None)

    def list_jobs(self, req: Request) -> Response:
        recs = self.emu.backup.job_list(self._vault_id(req), query_of(req.query.get("$filter")))
        return listed([self.emu.backup.jobs.document(r) for r in recs])

    def get_job(self, req: Request) -> Response:
        rec = self.emu.backup.job(self._sub(req, "backupJobs", req.params["jobName"]))
        return Response(200, self.emu.backup.jobs.document(rec))

    def cancel_job(self, req: Request) -> Response:
        self.emu.backup.cancel_job(self._sub(req, "backupJobs", req.params["jobName"]))
        return Response(202, None)

    def backup_status(self, req: Request) -> Response:
        """``az backup protection check-vm``: the vault protecting a VM, if any."""
        body = req.json_object()
        vm_id = str(body.get("resourceId") or "")
        with self.emu.store.read() as tx:
            found = [
                i
                for i in tx.list_resources(subscription_id=req.params["subscriptionId"], type=protection.ITEM)
                if str(i.internal.get("vm") or "").lower() == vm_id.lower()
            ]
        if not found:
            return Response(200, {"protectionStatus": "NotProtected"})
        item = found[0]
        doc = self.emu.backup.item_document(item)
        container = item.id.split("/protectionContainers/", 1)[1].split("/protectedItems/")[0]
        return Response(
            200,
            {
                "protectionStatus": "Protected",
                "vaultId": doc["properties"]["vaultId"],
                "fabricName": "Azure",
                "containerName": container,
                "protectedItemName": item.name,
                "policyName": doc["properties"]["policyName"],
                "registrationStatus": "Registered",
            },
        )


def register(router: Router, ctx: ProviderContext) -> None:
    p = RecoveryServicesProvider(ctx)
    r = router.add
    vault_api = api_of(vaults.KIND)
    bk = api_of(POLICY_KIND)
    items_api = api_of(protection.ITEM_KIND)
    r("GET", SUB + NS + "/vaults", p.list_vaults, api=vault_api)
    r("GET", RG + NS + "/vaults", p.list_vaults, api=vault_api)
    r("PUT", V, p.put_vault, api=vault_api)
    r("PATCH", V, p.patch_vault, api=vault_api)
    r("GET", V, p.get_vault, api=vault_api)
    r("DELETE", V, p.delete_vault, api=vault_api)
    r("GET", V + "/operationStatus/{operationId}", p.vault_operation, api=vault_api)
    r("GET", V + "/operationResults/{operationId}", p.backup_operation_result, api=vault_api)
    for method in ("GET", "PATCH", "PUT"):
        r(
            method,
            V + "/backupstorageconfig/vaultstorageconfig",
            p.storage_config,
            api=_api("vaults/backupstorageconfig"),
        )
        r(method, V + "/backupconfig/vaultconfig", p.vault_config, api=_api("vaults/backupconfig"))
    r("GET", V + "/backupEncryptionConfigs/backupResourceEncryptionConfig", p.encryption_config, api=bk)
    r("GET", V + "/backupResourceGuardProxies", p.guard_proxies, api=bk)
    r("GET", V + "/backupPolicies", p.list_policies, api=bk)
    r("PUT", V + "/backupPolicies/{policyName}", p.put_policy, api=bk)
    r("GET", V + "/backupPolicies/{policyName}", p.get_policy, api=bk)
    r("DELETE", V + "/backupPolicies/{policyName}", p.delete_policy, api=bk)
    r("POST", FAB + "/refreshContainers", p.refresh, api=bk)
    r("GET", FAB + "/operationResults/{operationId}", p.fabric_operation_result, api=bk)
    r("GET", V + "/backupProtectableItems", p.protectable_items, api=_api("vaults/backupProtectableItems"))
    r("GET", V + "/backupProtectionContainers", p.containers, api=api_of(protection.CONTAINER_KIND))
    r("GET", CONT, p.get_container, api=api_of(protection.CONTAINER_KIND))
    r("GET", V + "/backupProtectedItems", p.list_items, api=items_api)
    r("PUT", ITEM, p.put_item, api=items_api)
    r("GET", ITEM, p.get_item, api=items_api)
    r("DELETE", ITEM, p.delete_item, api=items_api)
    r("POST", ITEM + "/backup", p.backup_now, api=items_api)
    r("GET", ITEM + "/operationsStatus/{operationId}", p.item_operation, api=items_api)
    r("GET", ITEM + "/operationResults/{operationId}", p.item_operation_result, api=items_api)
    r("GET", ITEM + "/recoveryPoints", p.list_points, api=api_of(points.KIND))
    r("GET", RP, p.get_point, api=api_of(points.KIND))
    r("POST", RP + "/restore", p.restore, api=api_of(points.KIND))
    r("GET", V + "/backupOperations/{operationId}", p.backup_operation, api=_api("vaults/backupOperations"))
    r(
        "GET",
        V + "/backupOperationResults/{operationId}",
        p.backup_operation_result,
        api=_api("vaults/backupOperations"),
    )
    r("GET", V + "/backupJobs", p.list_jobs, api=api_of(jobs.KIND))
    r("GET", V + "/backupJobs/{jobName}", p.get_job, api=api_of(jobs.KIND))
    r("POST", V + "/backupJobs/{jobName}/cancel", p.cancel_job, api=api_of(jobs.KIND))
    r(
        "POST",
        SUB + NS + "/locations/{location}/backupStatus",
        p.backup_status,
        api=_api("locations/backupStatus"),
    )
