"""Routes of Microsoft.RecoveryServices for Azure Site Recovery (``vaults/replication*``), as the SDK
``azure-mgmt-recoveryservicessiterecovery`` calls them. Thin: each handler is a call on ``emu.site_recovery``;
every change answers 202 with the ``Location`` of its job (``{resource}/operationresults/{id}``)."""

from __future__ import annotations

from collections.abc import Callable

from azemu.arm.http import Request, Response
from azemu.arm.lro import retry_headers
from azemu.arm.router import Router
from azemu.domain import ids
from azemu.domain.errors import NotFound
from azemu.domain.siterecovery import config, plans, replication
from azemu.domain.siterecovery import jobs as asr_jobs
from azemu.domain.siterecovery.service import query_of
from azemu.providers.base import ProviderContext, accepted, api_of, listed, write_of
from azemu.providers.recoveryservices.routes import V

FAB = V + "/replicationFabrics/{fabricName}"
PC = FAB + "/replicationProtectionContainers/{containerName}"
MAP = PC + "/replicationProtectionContainerMappings/{mappingName}"
RPI = PC + "/replicationProtectedItems/{itemName}"
POL = V + "/replicationPolicies/{policyName}"
PLAN = V + "/replicationRecoveryPlans/{planName}"
ITEM_ACTIONS = (
    "testFailover",
    "testFailoverCleanup",
    "unplannedFailover",
    "plannedFailover",
    "failoverCommit",
    "reProtect",
    "remove",
)
PLAN_ACTIONS = (
    "testFailover",
    "testFailoverCleanup",
    "unplannedFailover",
    "plannedFailover",
    "failoverCommit",
    "reProtect",
)


class SiteRecoveryProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _vault(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(
            p["subscriptionId"],
            p["resourceGroupName"],
            "Microsoft.RecoveryServices",
            ["vaults"],
            [p["vaultName"]],
        )

    def _doc(self, rid: str) -> Response:
        with self.emu.store.read() as tx:
            rec = tx.get_resource(ids.key_of(rid))
        if rec is None:
            raise NotFound(f"The resource '{rid.rsplit('/', 1)[1]}' was not found.", code="NotFound")
        return Response(200, self.emu.kinds.document(rec))

    # generic -----------------------------------------------------------------------------------------
    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, ids.canonical(req.path)))
        if written.operation is None:
            return Response(200, self.emu.kinds.document(written.record))
        return accepted(req, self.emu, written.operation)

    def get(self, req: Request) -> Response:
        return self._doc(ids.canonical(req.path))

    def delete(self, req: Request) -> Response:
        rid = ids.canonical(req.path)
        if rid.lower().endswith("/remove"):
            rid = rid[: -len("/remove")]
        op = self.emu.kinds.begin_delete(rid, req.tenant_id)
        return Response(200, None) if op is None else accepted(req, self.emu, op)

    def lister(self, full_type: str, under: Callable[[Request], str | None]) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            recs = self.emu.site_recovery.list(self._vault(req), full_type, under(req))
            return listed([self.emu.kinds.document(r) for r in recs])

        return handler

    def operation_result(self, req: Request) -> Response:
        op = self.emu.operations.get(req.params["operationId"])
        if op is None or op.subscription_id.lower() != req.params["subscriptionId"].lower():
            raise NotFound("The operation was not found.", code="NotFound")
        if not op.done:
            return Response(202, None, headers=retry_headers(op, self.emu.clock, 30))
        if op.status == "Failed":
            return Response(400, {"error": op.error})
        target = str(op.payload.get("target") or "")
        with self.emu.store.read() as tx:
            rec = tx.get_resource(ids.key_of(target)) if target else None
        return Response(204, None) if rec is None else Response(200, self.emu.kinds.document(rec))

    # replicated items --------------------------------------------------------------------------------
    def item_action(self, name: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            rid = ids.canonical(req.path).rsplit("/", 1)[0]
            op = self.emu.site_recovery.action(rid, name, req.json_object(required=False), req.tenant_id)
            return accepted(req, self.emu, op)

        return handler

    def plan_action(self, name: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            rid = ids.canonical(req.path).rsplit("/", 1)[0]
            op = self.emu.site_recovery.plan_action(rid, name, req.json_object(required=False), req.tenant_id)
            return accepted(req, self.emu, op)

        return handler

    def points(self, req: Request) -> Response:
        rid = ids.canonical(req.path).rsplit("/", 1)[0]
        return listed([replication.point_document(r) for r in self.emu.site_recovery.points(rid)])

    def jobs(self, req: Request) -> Response:
        recs = self.emu.site_recovery.job_list(self._vault(req), query_of(req.query.get("$filter")))
        return listed([self.emu.site_recovery.jobs.document(r) for r in recs])


def register(router: Router, ctx: ProviderContext) -> None:
    p = SiteRecoveryProvider(ctx)
    r = router.add
    fab_api = api_of(config.FABRIC_KIND)
    pc_api = api_of(config.CONTAINER_KIND)
    map_api = api_of(config.MAPPING_KIND)
    item_api = api_of(replication.ITEM_KIND)
    pol_api = api_of(config.POLICY_KIND)
    plan_api = api_of(plans.PLAN_KIND)
    job_api = api_of(asr_jobs.KIND)

    def none(req: Request) -> str | None:
        return None

    def parent(req: Request) -> str | None:  # a nested collection: what the resource above it holds
        return ids.canonical(req.path).rsplit("/", 1)[0]

    for pattern, api, full_type in (
        (FAB, fab_api, config.FABRIC),
        (PC, pc_api, config.CONTAINER),
        (MAP, map_api, config.MAPPING),
        (RPI, item_api, replication.ITEM),
        (POL, pol_api, config.POLICY),
        (PLAN, plan_api, plans.PLAN),
    ):
        r("PUT", pattern, p.put, api=api)
        r("GET", pattern, p.get, api=api)
        r("DELETE", pattern, p.delete, api=api)
        r("GET", pattern + "/operationresults/{operationId}", p.operation_result, api=api)
        collection = pattern.rsplit("/", 1)[0]
        r("GET", collection, p.lister(full_type, parent if collection.count("{") > 3 else none), api=api)
    for pattern, api in ((FAB, fab_api), (PC, pc_api), (MAP, map_api)):
        r("POST", pattern + "/remove", p.delete, api=api)
    for name in ITEM_ACTIONS:
        r("POST", RPI + "/" + name, p.item_action(name), api=item_api)
    for name in PLAN_ACTIONS:
        r("POST", PLAN + "/" + name, p.plan_action(name), api=plan_api)
    r("GET", RPI + "/recoveryPoints", p.points, api=api_of(replication.POINT_KIND))
    r("GET", RPI + "/recoveryPoints/{pointName}", p.get, api=api_of(replication.POINT_KIND))
    for kind_type, seg in (
        (replication.ITEM, "replicationProtectedItems"),
        (config.CONTAINER, "replicationProtectionContainers"),
        (config.MAPPING, "replicationProtectionContainerMappings"),
    ):
        r("GET", V + "/" + seg, p.lister(kind_type, none), api=item_api)
    r("GET", V + "/replicationJobs", p.jobs, api=job_api)
    r("GET", V + "/replicationJobs/{jobName}", p.get, api=job_api)
