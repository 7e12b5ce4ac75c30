"""Template deployments (``Microsoft.Resources/deployments``) at resource-group and subscription scope.

A deployment is a resource of its own and a long-running operation that deploys its template's resources
in dependency order: each wave's resources are written through the resource-kind registry - exactly the
code a direct PUT runs - and the next wave starts when their own operations have ended (at once under
``instant`` latency; on azemu's clock otherwise). In incremental mode what was deployed stays when a
resource fails; in complete mode what the group holds beyond the template is deleted. Nested deployments
are deployments too. Template language: ``azemu.templates``, reached through ``deployment_engine``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import apiversions, deployment_engine, ids, whatif
from azemu.domain import deployment_views as views
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, Conflict
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import Refusals, State, StateTable
from azemu.domain.operations import Fail, Operations, Reschedule
from azemu.domain.resourcegroups import ResourceGroups
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn
from azemu.templates import NotYetDeployed

TYPE = "Microsoft.Resources/deployments"
FAMILY = "deployments"
HISTORY_LIMIT = 800  # deployments per scope ...
GROOM_ABOVE, GROOM_TO = (
    700,
    600,
)  # ... kept under it as ARM does since 2020: above 700, the oldest go until 600


class DeploymentActive(AzureError):
    code, status = "DeploymentActive", 409


class DeploymentNotFound(AzureError):
    code, status = "DeploymentNotFound", 404


REFUSALS = Refusals(
    error=DeploymentActive,
    default="Operation '{action}' is not allowed on deployment '{name}' in state '{state}'.",
    by_state={
        "Accepted": "Unable to edit or replace deployment '{name}': previous deployment from '{since}' is still "
        "active (expiration time is '{expires}'). Please see https://aka.ms/arm-deploy for usage details.",
        "Running": "Unable to edit or replace deployment '{name}': previous deployment from '{since}' is still "
        "active (expiration time is '{expires}'). Please see https://aka.ms/arm-deploy for usage details.",
    },
)
_ENDED = {"redeploy": "Accepted", "delete": "Deleting"}
LIFECYCLE = StateTable(
    kind="deployment",
    initial="Accepted",
    transitions={
        "Accepted": {"run": "Running", "succeed": "Succeeded", "fail": "Failed", "cancel": "Canceled"},
        "Running": {"succeed": "Succeeded", "fail": "Failed", "cancel": "Canceled"},
        "Succeeded": dict(_ENDED),
        "Failed": dict(_ENDED),
        "Canceled": dict(_ENDED),
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Accepted": REFUSALS, "Running": REFUSALS},
    states_info={
        "Accepted": State(provisioning="Accepted", settles_to="Succeeded"),
        "Running": State(provisioning="Running", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Canceled": State(provisioning="Canceled"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)

KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape={"location": str, "tags": dict, "properties": {"mode": str, "template": dict, "parameters": dict}},
    operations={"create": 0.0, "delete": 1.0, "whatIf": 1.0},
    description="ARM template deployments at resource-group and subscription scope: validate, what-if, "
    "export, operations, nested deployments (the template language of azemu.templates).",
)


def _when(ts: float) -> str:
    """ARM's US-style date in the DeploymentActive text (``4/4/2020 2:17:07 AM``)."""
    t = time.gmtime(ts)
    hour = t.tm_hour % 12 or 12
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"


def scope_of(rid: str) -> tuple[str, str | None]:
    """(subscription, resource group or None) of a deployment id."""
    p = ids.parse(rid)
    assert p is not None
    return p.subscription, p.resource_group


class Deployments:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        *,
        loose: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.groups = groups
        self.operations = operations
        self.registry = registry
        self.loose = loose
        self.environment: dict[str, Any] = {}  # the cloud's endpoints, for environment() (set by the server)
        # reads a templateLink naming content azemu serves (set by the emulator: storage accounts' blobs)
        self.linked: Callable[[str], dict[str, Any] | None] | None = None
        operations.register(KIND.op("create"), self._complete_run, on_failure=self._run_failed)
        operations.register(KIND.op("delete"), self._complete_delete)
        operations.register(KIND.op("whatIf"), self._complete_what_if)
        registry.register(KIND, self)

    # reads -------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self._require(tx, rid)

    def _require(self, tx: Txn, rid: str) -> ResourceRecord:
        rec = tx.get_resource(ids.key_of(rid))
        if rec is None or rec.type.lower() != TYPE.lower():
            sub, rg = scope_of(rid)
            if rg is not None:
                self.groups.require(tx, sub, rg)
            raise DeploymentNotFound(f"Deployment '{_name(rid)}' could not be found.")
        return rec

    def history(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.groups.require(tx, subscription_id, resource_group)
                found = tx.list_resources(
                    subscription_id=subscription_id, resource_group=resource_group, type=TYPE
                )
            else:
                found = [
                    r
                    for r in tx.list_resources(subscription_id=subscription_id, type=TYPE)
                    if r.resource_group is None
                ]
        return sorted(found, key=lambda r: r.created_at)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = dict(rec.body["properties"])
        props["provisioningState"] = LIFECYCLE.provisioning_state(rec.state)
        doc = envelope(rec, props, tags=bool(rec.body.get("tags")))
        if rec.resource_group is None:
            doc["location"] = rec.location
        else:
            doc.pop("location", None)
        return doc

    def operations_of(self, rid: str) -> list[dict[str, Any]]:
        """Newest first, as ARM lists them: a client deleting what a deployment made in this order (Packer's
        ``build_resource_group_name`` clean-up) removes users before what they use."""
        rec = self.get(rid)
        return [views.operation_view(rec.id, r) for r in reversed(rec.internal.get("results", []))]

    def export(self, rid: str) -> dict[str, Any]:
        return {"template": self.get(rid).internal["template"]}

    # validate ----------------------------------------------------------------------------------------
    def validate(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, correlation: str
    ) -> dict[str, Any]:
        """Preflight: the template and its parameters, every resource's kind and api-version. Returns the
        validate result; raises InvalidTemplate / InvalidTemplateDeployment (400) as ARM does."""
        sub, rg = scope_of(rid)
        with self.store.read() as tx:
            if rg is not None:
                self.groups.require(tx, sub, rg)
        request = deployment_engine.Request.of(rid, body, self.linked)
        plan = deployment_engine.prepare(request, self._context(rid, request, tenant_id))
        self._preflight(rid, plan, correlation or str(uuid.uuid4()))
        now = self.clock.now()
        props = self._static_properties(plan, request, correlation or str(uuid.uuid4()), now)
        props.update(
            provisioningState="Succeeded",
            duration=views.duration(0),
            validatedResources=[{"id": i.resource_id} for i in plan.deployable],
        )
        doc: dict[str, Any] = {"id": rid, "name": _name(rid), "type": TYPE}
        if rg is None:
            doc["location"] = request.location
        doc["properties"] = props
        return doc

    def _preflight(self, rid: str, plan: deployment_engine.Plan, correlation: str) -> None:
        """What ARM asks the resource providers before it deploys: is each type served, its api-version
        known? Problems come back together, wrapped as ``InvalidTemplateDeployment``."""
        problems: list[dict[str, Any]] = []
        for inst in plan.deployable:
            if inst.is_deployment:
                continue
            try:
                kind = self.registry.require(inst.type)
                apiversions.check(
                    kind.spec.namespace,
                    kind.spec.api_type or kind.spec.short,
                    inst.api_version or None,
                    loose=self.loose,
                )
            except AzureError as err:
                problems.append({**err.to_body()["error"], "target": inst.resource_id})
        if problems:
            raise AzureError(
                f"The template deployment '{_name(rid)}' is not valid according to the validation procedure. The "
                f"tracking id is '{correlation}'. See inner errors for details.",
                code="InvalidTemplateDeployment",
                status=400,
                details=problems,
            )
        self._policy_preflight(plan)

    def _policy_preflight(self, plan: deployment_engine.Plan) -> None:
        """Azure Policy's deny, asked of every resource as rendered before anything is deployed (a resource
        whose body needs ``reference()`` of one not yet deployed is judged when it is deployed)."""
        violations: list[dict[str, Any]] = []
        for inst in plan.deployable:
            if inst.is_deployment:
                continue
            try:
                body = deployment_engine.render(plan, inst)
            except (AzureError, NotYetDeployed):
                continue
            try:
                self.registry.admit(
                    Write(rid=inst.resource_id, body=body, tenant_id=None, api_version=inst.api_version or "")
                )
            except AzureError as err:
                if err.code != "RequestDisallowedByPolicy":
                    continue
                violations.append(err.to_body()["error"])
        if violations:
            raise AzureError(
                "The template deployment failed because of policy violation. Please see details for more information.",
                code="InvalidTemplateDeployment",
                status=400,
                details=violations,
            )

    def _static_properties(
        self, plan: deployment_engine.Plan, request: deployment_engine.Request, correlation: str, now: float
    ) -> dict[str, Any]:
        deployable = plan.deployable
        return {
            "templateHash": views.template_hash(request.template),
            "parameters": plan.parameters_for_response(),
            "mode": request.mode,
            "timestamp": views.timestamp(now),
            "correlationId": correlation,
            "providers": views.providers_view([i.resource_id for i in deployable], request.location),
            "dependencies": views.dependencies_view(
                {i.resource_id: [d.resource_id for d in i.depends_on if d.deployable] for i in deployable}
            ),
        }

    # create / redeploy -------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        return self.create_or_update(w.rid, w.body, w.tenant_id, w.correlation_id)

    def create_or_update(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, correlation: str = ""
    ) -> Written:
        correlation = correlation or str(uuid.uuid4())
        sub, rg = scope_of(rid)
        request = deployment_engine.Request.of(rid, body, self.linked)
        with self.store.read() as tx:
            if rg is not None:
                self.groups.require_usable(tx, sub, rg)
            self._check_replaceable(tx.get_resource(ids.key_of(rid)))
        ctx = self._context(rid, request, tenant_id)
        plan = deployment_engine.prepare(request, ctx)
        self._preflight(rid, plan, correlation)
        with self.store.transaction() as tx:
            existing = tx.get_resource(ids.key_of(rid))
            self._check_replaceable(existing)
            record = self._new_record(rid, request, plan, tenant_id, correlation, existing)
            tx.put_resource(record)
            self._groom(tx, sub, rg)
            op = self.operations.start(
                tx,
                kind=KIND.op("create"),
                family=FAMILY,
                subscription_id=sub,
                location=request.location or "",
                resource_id=rid,
                tenant_id=tenant_id,
                duration=0.0,
            )
            final = tx.get_resource(record.key)
            assert final is not None
            return Written(final, existing is None, op)

    @staticmethod
    def _check_replaceable(existing: ResourceRecord | None) -> None:
        if existing is not None:
            LIFECYCLE.next(
                existing.state,
                "redeploy",
                name=existing.name,
                since=_when(existing.created_at),
                expires=_when(existing.created_at + 7 * 86400),
            )

    def _new_record(
        self,
        rid: str,
        request: deployment_engine.Request,
        plan: deployment_engine.Plan,
        tenant_id: str | None,
        correlation: str,
        existing: ResourceRecord | None,
        parent: str | None = None,
    ) -> ResourceRecord:
        now = self.clock.now()
        sub, rg = scope_of(rid)
        props = self._static_properties(plan, request, correlation, now)
        props["duration"] = views.duration(0)
        internal: dict[str, Any] = {
            "template": request.template,
            # every parameter's value as bound (defaults such as newGuid() evaluated once): a re-run of the
            # plan after a restart sees the same values; dropped when the run ends (secure ones among them)
            "parameterValues": {k: {"value": v} for k, v in plan.parameters.items()},
            "mode": request.mode,
            "location": request.location,
            "options": request.options,
            "tenant": tenant_id,
            "started": now,
            "results": [],
            "pending": {},
            "parent": parent,
        }
        return ResourceRecord(
            id=rid,
            type=TYPE,
            name=_name(rid),
            subscription_id=sub,
            resource_group=rg,
            location=request.location,
            state=LIFECYCLE.initial if existing is None else LIFECYCLE.next(existing.state, "redeploy"),
            body={"tags": {}, "properties": props},
            etag=f'"{uuid.uuid4()}"',
            created_at=now,
            changed_at=now,
            internal=internal,
        )

    def _groom(self, tx: Txn, sub: str, rg: str | None) -> None:
        """Deployment history: above 700 in a scope, the oldest finished ones go until 600 remain."""
        found = [
            r
            for r in tx.list_resources(subscription_id=sub, resource_group=rg, type=TYPE)
            if (r.resource_group is None) == (rg is None)
        ]
        if len(found) <= GROOM_ABOVE:
            return
        ended = sorted((r for r in found if not LIFECYCLE.transitional(r.state)), key=lambda r: r.created_at)
        for old in ended[: len(found) - GROOM_TO]:
            tx.delete_resource(old.key)

    # the run ----------------------------------------------------------------------------------------
    def _request_of(self, rec: ResourceRecord) -> deployment_engine.Request:
        internal = rec.internal
        return deployment_engine.Request(
            template=internal["template"],
            parameters=internal["parameterValues"],
            mode=internal["mode"],
            location=internal.get("location"),
            options=internal.get("options") or {},
        )

    def _complete_run(self, tx: Txn, op: OperationRecord) -> Any:
        """The deployment's operation: deploy what is ready, wait on azemu's clock for what is being written,
        end when nothing is left (a restart re-plans from the stored template and bound parameters)."""
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or not LIFECYCLE.transitional(rec.state):
            return None
        ctx = self._context(rec.id, self._request_of(rec), rec.internal.get("tenant"))
        plan = deployment_engine.prepare(self._request_of(rec), ctx)
        waiting = self._step(tx, rec, plan)
        if waiting is not None:
            tx.put_resource(rec)
            raise Reschedule(waiting)
        error = self._finish(tx, rec, plan)
        if error is not None:
            raise Fail(error)
        return None

    def _step(self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan) -> float | None:
        """Deploy every instance whose dependencies have succeeded, wave after wave, as far as the clock
        allows; the seconds until something being written may be done (None: nothing left to do)."""
        if rec.state == "Accepted":
            rec.state = LIFECYCLE.next(rec.state, "run")
        results: list[dict[str, Any]] = rec.internal["results"]
        by_id = {r["resourceId"].lower(): r for r in results}
        while True:
            waiting = self._settle(tx, rec, plan, by_id)
            if waiting is not None:
                return waiting
            started = False
            for wave in plan.waves:
                for inst in wave:
                    key = inst.resource_id.lower()
                    if not inst.deployable or key in by_id:
                        continue
                    deps = [by_id.get(d.resource_id.lower()) for d in inst.depends_on if d.deployable]
                    if any(d is None or d["provisioningState"] != "Succeeded" for d in deps):
                        continue  # not yet deployed, or failed: ARM does not start what depends on it
                    if inst.is_deployment:
                        result = self._start_nested(tx, rec, plan, inst)
                    else:
                        result = self._deploy_one(tx, rec, plan, inst)
                    results.append(result)
                    by_id[key] = result
                    started = True
            if not started and not any(r["provisioningState"] == "Running" for r in results):
                return None

    def _result(self, rec: ResourceRecord, resource_id: str, operation: str = "Create") -> dict[str, Any]:
        return {
            "operationId": views.operation_id(rec.id, resource_id),
            "resourceId": resource_id,
            "provisioningOperation": operation,
            "started": self.clock.now(),
            "trackingId": str(uuid.uuid4()),
            "serviceRequestId": str(uuid.uuid4()),
        }

    def _failed(self, result: dict[str, Any], err: AzureError) -> dict[str, Any]:
        result.update(
            provisioningState="Failed",
            statusCode=err.status,
            error=err.to_body()["error"],
            finished=self.clock.now(),
        )
        return result

    def _deploy_one(
        self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan, inst: deployment_engine.Instance
    ) -> dict[str, Any]:
        """One resource, written through the registry exactly as a direct PUT."""
        result = self._result(rec, inst.resource_id)
        try:
            with tx.savepoint():
                body = deployment_engine.render(plan, inst)
                before = tx.get_resource(ids.key_of(inst.resource_id))
                written = self.registry.put(
                    Write(
                        rid=inst.resource_id,
                        body=body,
                        tenant_id=rec.internal.get("tenant"),
                        api_version=inst.api_version or "",
                        correlation_id=str(rec.body["properties"].get("correlationId", "")),
                    )
                )
        except AzureError as err:
            return self._failed(result, err)
        result["statusCode"] = 201 if before is None else 200
        op = written.operation
        if op is None or op.done:
            self._close(result, op)
        else:
            result.update(provisioningState="Running", opId=op.id)
        return result

    def _start_nested(
        self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan, inst: deployment_engine.Instance
    ) -> dict[str, Any]:
        """A nested deployment: a deployment record of its own, run by its parent's operation."""
        result = self._result(rec, inst.resource_id)
        try:
            child, child_plan = self._child(plan, inst, rec.internal.get("tenant"))
            correlation = str(rec.body["properties"].get("correlationId", ""))
            self._preflight(inst.resource_id, child_plan, correlation)
            existing = tx.get_resource(ids.key_of(inst.resource_id))
            self._check_replaceable(existing)
            sub, rg = scope_of(inst.resource_id)
            if rg is not None:
                self.groups.require_usable(tx, sub, rg)
            record = self._new_record(
                inst.resource_id, child, child_plan, rec.internal.get("tenant"), correlation, existing, rec.id
            )
            tx.put_resource(record)
        except AzureError as err:
            return self._failed(result, err)
        result.update(provisioningState="Running", nested=True, statusCode=201 if existing is None else 200)
        return result

    def _child(
        self, plan: deployment_engine.Plan, inst: deployment_engine.Instance, tenant_id: str | None
    ) -> tuple[deployment_engine.Request, deployment_engine.Plan]:
        nested = deployment_engine.nested(plan, inst)
        request = deployment_engine.Request(
            template=nested.template,
            parameters=nested.parameters,
            mode=nested.mode,
            location=nested.location,
            options={"expressionEvaluationOptions": {"scope": nested.scope}},
        )
        ctx = self._context(nested.resource_id, request, tenant_id)
        return request, deployment_engine.prepare_nested(nested, ctx)

    def _close(self, result: dict[str, Any], op: OperationRecord | None) -> None:
        result["finished"] = self.clock.now()
        if op is not None and op.status != "Succeeded":
            error = op.error or {"code": "Canceled", "message": "The operation was canceled."}
            result.update(
                provisioningState="Failed",
                statusCode=409,
                error={
                    "code": "ResourceDeploymentFailure",
                    "target": result["resourceId"],
                    "message": "The resource write operation failed to complete successfully, because it "
                    f"reached terminal provisioning state '{op.status}'.",
                    "details": [error],
                },
            )
        else:
            result["provisioningState"] = "Succeeded"

    def _settle(
        self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan, by_id: dict[str, dict[str, Any]]
    ) -> float | None:
        """Close the results whose resource operations (or nested deployments) have ended; the seconds until
        the next one may be done (None when nothing is running)."""
        soonest: float | None = None
        for result in by_id.values():
            if result["provisioningState"] != "Running":
                continue
            if result.get("nested"):
                wait = self._step_nested(tx, rec, plan, result)
            else:
                wait = self._settle_op(tx, result)
            if wait is not None:
                soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def _settle_op(self, tx: Txn, result: dict[str, Any]) -> float | None:
        op = tx.get_operation(result["opId"])
        if op is not None and not op.done and op.due_at <= self.clock.now():
            self.operations.finish_due(op.id)
            op = tx.get_operation(op.id)
        if op is None or op.done:
            self._close(result, op)
            return None
        return max(0.0, op.due_at - self.clock.now())

    def _step_nested(
        self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan, result: dict[str, Any]
    ) -> float | None:
        child_rec = tx.get_resource(ids.key_of(result["resourceId"]))
        if child_rec is None or child_rec.state == "Canceled":
            self._failed(
                result,
                AzureError("The nested deployment was canceled.", code="DeploymentCanceled", status=409),
            )
            return None
        try:
            _, child_plan = self._child(plan, plan.instance(result["resourceId"]), rec.internal.get("tenant"))
        except AzureError as err:
            self._failed(result, err)
            return None
        wait = self._step(tx, child_rec, child_plan)
        if wait is not None:
            tx.put_resource(child_rec)
            return wait
        error = self._finish(tx, child_rec, child_plan)
        result["finished"] = self.clock.now()
        if error is None:
            result["provisioningState"] = "Succeeded"
        else:
            result.update(provisioningState="Failed", statusCode=409, error=error.to_body()["error"])
        return None

    def _finish(self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan) -> AzureError | None:
        """The run has nothing left to do: outputs, the record's end state; the error if it failed."""
        results: list[dict[str, Any]] = rec.internal["results"]
        props = rec.body["properties"]
        failed = [r for r in results if r["provisioningState"] == "Failed"]
        if not failed and rec.internal["mode"].lower() == "complete" and rec.resource_group is not None:
            failed.extend(self._delete_extras(tx, rec, plan, results))
        outputs_error: AzureError | None = None
        if not failed:
            try:
                props["outputs"] = deployment_engine.outputs(plan)
            except AzureError as err:
                outputs_error = err
        now = self.clock.now()
        props["outputResources"] = views.output_resources(
            [r["resourceId"] for r in results if r["provisioningState"] == "Succeeded"]
        )
        props["duration"] = views.duration(now - rec.internal["started"])
        rec.internal["parameterValues"] = {}  # secure values are not kept once the run has ended
        error: AzureError | None = None
        if failed:
            error = AzureError(
                "At least one resource deployment operation failed. Please list deployment operations for "
                "details. Please see https://aka.ms/arm-deployment-operations for usage details.",
                code="DeploymentFailed",
                status=400,
                target=rec.id,
                details=[r["error"] for r in failed],
            )
        elif outputs_error is not None:
            error = outputs_error
        if error is not None:
            props["error"] = error.to_body()["error"]
            rec.state = LIFECYCLE.next(rec.state, "fail")
        else:
            props.pop("error", None)
            rec.state = LIFECYCLE.next(rec.state, "succeed")
        tx.put_resource(rec)
        return error

    def _delete_extras(
        self, tx: Txn, rec: ResourceRecord, plan: deployment_engine.Plan, results: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Complete mode: what the group holds beyond the template is deleted, through each kind's delete."""
        wanted = {i.resource_id.lower() for i in plan.instances if i.condition}
        rank = {k.spec.type.lower(): n for n, k in enumerate(self.registry.delete_order())}
        extras = sorted(
            (
                r
                for r in tx.list_resources(
                    subscription_id=rec.subscription_id, resource_group=rec.resource_group
                )
                if r.key not in wanted and _deletable_extra(self.registry, r)
            ),
            key=lambda r: rank.get(r.type.lower(), 0),
        )
        failed = []
        for extra in extras:
            if tx.get_resource(extra.key) is None:
                continue
            result = self._result(rec, extra.id, "Delete")
            try:
                with tx.savepoint():
                    op = self.registry.require(extra.type).service.begin_delete(
                        extra.id, rec.internal.get("tenant")
                    )
                result["statusCode"] = 202 if op is not None else 204
                self._close(result, op if op is not None and op.done else None)
            except AzureError as err:
                failed.append(self._failed(result, err))
            results.append(result)
        return failed

    def _run_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and LIFECYCLE.transitional(rec.state):
            rec.state = LIFECYCLE.next(rec.state, "fail")
            rec.body["properties"]["error"] = op.error
            rec.internal["parameterValues"] = {}
            tx.put_resource(rec)

    # cancel / delete ---------------------------------------------------------------------------------
    def cancel(self, rid: str) -> None:
        with self.store.transaction() as tx:
            rec = self._require(tx, rid)
            if not LIFECYCLE.allows(rec.state, "cancel"):
                raise Conflict(
                    f"The deployment '{rec.name}' cannot be cancelled because it is not in a running state. You can "
                    "cancel a deployment only if its provisioningState is Accepted or Running.",
                    code="DeploymentCannotBeCancelled",
                )
            rec.state = LIFECYCLE.next(rec.state, "cancel")
            rec.internal["parameterValues"] = {}
            rec.body["properties"]["duration"] = views.duration(self.clock.now() - rec.internal["started"])
            tx.put_resource(rec)
            for op in tx.list_operations(unfinished_only=True):
                if op.resource_id and op.resource_id.lower() == rec.key and op.kind == KIND.op("create"):
                    self.operations.cancel(tx, op.id)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(rid))
            if rec is None:
                return None
            if LIFECYCLE.transitional(rec.state):
                raise DeploymentActive(
                    f"The deployment '{rec.name}' cannot be deleted because it is still active. Cancel it first or "
                    "wait for it to finish."
                )
            rec.state = LIFECYCLE.next(rec.state, "delete")
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family="Microsoft.Resources", tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    # what-if -----------------------------------------------------------------------------------------
    def begin_what_if(self, rid: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        sub, rg = scope_of(rid)
        deployment_engine.Request.of(
            rid, body, self.linked
        )  # a malformed request is refused now, not in the result
        with self.store.transaction() as tx:
            if rg is not None:
                self.groups.require(tx, sub, rg)
            return self.operations.start(
                tx,
                kind=KIND.op("whatIf"),
                family="Microsoft.Resources",
                subscription_id=sub,
                location=str(body.get("location") or ""),
                resource_id=rid,
                tenant_id=tenant_id,
                payload={"body": body},
            )

    def _complete_what_if(self, tx: Txn, op: OperationRecord) -> dict[str, Any]:
        assert op.resource_id is not None
        request = deployment_engine.Request.of(op.resource_id, op.payload["body"], self.linked)
        ctx = self._context(op.resource_id, request, op.tenant_id, what_if=True)
        try:
            plan = deployment_engine.prepare(request, ctx)
            self._policy_preflight(plan)
            changes = self._changes(op.resource_id, request, plan, op.tenant_id)
        except AzureError as err:
            return {"status": "Failed", "error": err.to_body()["error"]}
        return {"status": "Succeeded", "properties": {"changes": changes}}

    def _changes(
        self,
        rid: str,
        request: deployment_engine.Request,
        plan: deployment_engine.Plan,
        tenant_id: str | None,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for inst, rendered in deployment_engine.what_if(plan):
            if inst.is_deployment:
                try:
                    child_request, child_plan = self._child_what_if(plan, inst, tenant_id)
                    out.extend(self._changes(inst.resource_id, child_request, child_plan, tenant_id))
                except AzureError as err:
                    out.append(
                        {
                            "resourceId": inst.resource_id,
                            "changeType": "Unsupported",
                            "unsupportedReason": err.message,
                        }
                    )
                continue
            with self.store.read() as tx:
                rec = tx.get_resource(ids.key_of(inst.resource_id))
            before = None if rec is None else {**self.registry.document(rec), "apiVersion": inst.api_version}
            request_body = {k: v for k, v in rendered.items() if k.lower() not in _NOT_PROPERTIES}
            after = whatif.predict(before, request_body)
            after.update(id=inst.resource_id, name=inst.name, type=inst.type, apiVersion=inst.api_version)
            out.append(whatif.change(inst.resource_id, before, after))
        sub, rg = scope_of(rid)
        if rg is not None:
            wanted = {i.resource_id.lower() for i in plan.instances}
            with self.store.read() as tx:
                held = [
                    r
                    for r in tx.list_resources(subscription_id=sub, resource_group=rg)
                    if r.key not in wanted and _deletable_extra(self.registry, r)
                ]
            complete = request.mode.lower() == "complete"
            for r in held:
                doc = self.registry.document(r)
                out.append(
                    whatif.change(r.id, doc, None)
                    if complete
                    else {"resourceId": r.id, "changeType": "Ignore", "before": doc}
                )
        return sorted(out, key=lambda c: str(c["resourceId"]).lower())

    def _child_what_if(
        self, plan: deployment_engine.Plan, inst: deployment_engine.Instance, tenant_id: str | None
    ) -> tuple[deployment_engine.Request, deployment_engine.Plan]:
        nested = deployment_engine.nested(plan, inst)
        request = deployment_engine.Request(
            template=nested.template, parameters=nested.parameters, mode=nested.mode, location=nested.location
        )
        ctx = self._context(nested.resource_id, request, tenant_id, what_if=True)
        return request, deployment_engine.prepare_nested(nested, ctx)

    # the template's view of the world ----------------------------------------------------------------
    def _context(
        self, rid: str, request: deployment_engine.Request, tenant_id: str | None, *, what_if: bool = False
    ) -> deployment_engine.Context:
        return deployment_engine.Context(self, rid, request, tenant_id, what_if=what_if)


# top-level keys of a template resource that are not part of the resource's request body
_NOT_PROPERTIES = frozenset(
    {"apiversion", "dependson", "copy", "condition", "comments", "resources", "scope"}
)


def _name(rid: str) -> str:
    p = ids.parse(rid)
    return p.name if p is not None else rid


def _deletable_extra(registry: Registry, rec: ResourceRecord) -> bool:
    """What complete mode deletes (and what-if reports) when a template does not hold it: a top-level
    resource of a kind azemu serves - never the group's deployment history."""
    p = ids.parse(rec.id)
    return (
        p is not None
        and len(p.names) == 1
        and registry.get(rec.type) is not None
        and rec.type.lower() != TYPE.lower()
    )
