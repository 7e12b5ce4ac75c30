"""ASR jobs (``vaults/replicationJobs``): one per request that changes something - create a fabric or a
mapping, enable replication, test failover, failover, commit, re-protect ... -, each with its tasks and
Azure's states (``NotStarted``, ``InProgress``, ``Succeeded``, ``Failed``, ``Cancelled``).

The job is driven by one operation on azemu's clock whose ``Location`` (``{resource}/operationresults/{id}``)
answers 202 while it runs and, once it ends, the resource it acted on (what the SDK's poller returns) or its
error. A task's work is done when the task ends; whatever it raises ends the job ``Failed`` - jobs end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Operations, Reschedule
from azemu.domain.recoveryservices.common import Children, child_id, document, iso_z
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

TYPE = "Microsoft.RecoveryServices/vaults/replicationJobs"
FAMILY = "siteRecovery"
LIFECYCLE = StateTable(
    kind="asrJob",
    initial="InProgress",
    transitions={"InProgress": {"succeed": "Succeeded", "fail": "Failed", "cancel": "Cancelled"}},
    terminal=frozenset({"Succeeded", "Failed", "Cancelled"}),
    states_info={"InProgress": State(settles_to="Succeeded")},
)
KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=None,
    operations={"run": 0.0},
    description="Site Recovery jobs (read-only): every ASR change as a job with its tasks, on azemu's clock.",
    parent="Microsoft.RecoveryServices/vaults",
    api_type="vaults/replicationJobs",
)

Work = Callable[[Txn, ResourceRecord, int], None]
Task = tuple[str, str, float]  # (task name, friendly name, seconds real Azure takes)


class AsrJobs:
    def __init__(self, clock: Clock, operations: Operations, children: Children) -> None:
        self.clock = clock
        self.operations = operations
        self.children = children
        self.work: dict[str, Work] = {}
        self.failed: dict[str, Callable[[Txn, ResourceRecord], None]] = {}
        operations.register(KIND.op("run"), self._run, on_failure=self._failed)

    def start(
        self,
        tx: Txn,
        vault: ResourceRecord,
        *,
        scenario: str,
        friendly: str,
        target_id: str,
        target_name: str,
        target_type: str,
        tasks: list[Task],
        work: str,
        params: dict[str, Any] | None = None,
        tenant_id: str | None = None,
    ) -> OperationRecord:
        name = str(uuid.uuid4())
        now = self.clock.now()
        props: dict[str, Any] = {
            "activityId": f"{uuid.uuid4()} ActivityId: {uuid.uuid4()}",
            "scenarioName": scenario,
            "friendlyName": friendly,
            "state": "InProgress",
            "stateDescription": "InProgress",
            "tasks": [
                {
                    "taskId": str(uuid.uuid4()),
                    "name": t,
                    "friendlyName": f,
                    "state": "InProgress" if i == 0 else "NotStarted",
                    "stateDescription": "InProgress" if i == 0 else "NotStarted",
                    "taskType": "TaskTypeDetails",
                    "allowedActions": [],
                    "errors": [],
                    **({"startTime": iso_z(now)} if i == 0 else {}),
                }
                for i, (t, f, _s) in enumerate(tasks)
            ],
            "errors": [],
            "startTime": iso_z(now),
            "allowedActions": ["Cancel"],
            "targetObjectId": target_id,
            "targetObjectName": target_name,
            "targetInstanceType": target_type,
            "customDetails": {"instanceType": "AsrJobDetails", "affectedObjectDetails": {}},
        }
        job = self.children.new(
            tx,
            vault,
            child_id(vault.id, "replicationJobs", name),
            TYPE,
            props,
            state="InProgress",
            internal={
                "work": work,
                "params": dict(params or {}),
                "tasks": [list(t) for t in tasks],
                "task": 0,
            },
        )
        return self.operations.start_for(
            tx,
            job,
            kind=KIND.op("run"),
            family=FAMILY,
            tenant_id=tenant_id,
            duration=self.clock.profile.scale(tasks[0][2]),
            payload={"target": target_id, "job": job.id},
        )

    def _run(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        job = tx.get_resource(ids.key_of(op.resource_id))
        if job is None or job.state != "InProgress":
            return
        i = int(job.internal["task"])
        tasks = job.internal["tasks"]
        self.work[job.internal["work"]](tx, job, i)
        job = tx.get_resource(job.key) or job
        now = self.clock.now()
        entries = job.body["properties"]["tasks"]
        entries[i].update(state="Succeeded", stateDescription="Completed", endTime=iso_z(now))
        if i + 1 < len(tasks):
            job.internal["task"] = i + 1
            entries[i + 1].update(state="InProgress", stateDescription="InProgress", startTime=iso_z(now))
            self.children.save(tx, job)
            raise Reschedule(float(tasks[i + 1][2]), simulated=True)
        self._finish(tx, job, "succeed")

    def _finish(self, tx: Txn, job: ResourceRecord, action: str) -> None:
        job.state = LIFECYCLE.next(job.state, action)
        props = job.body["properties"]
        props["state"] = job.state
        props["stateDescription"] = "Completed" if job.state == "Succeeded" else job.state
        props["endTime"] = iso_z(self.clock.now())
        props["allowedActions"] = ["Restart"] if job.state == "Failed" else []
        for task in props["tasks"]:
            if task["state"] in ("InProgress", "NotStarted"):
                task["state"] = "Failed" if job.state == "Failed" else "Cancelled"
                task["stateDescription"] = task["state"]
        self.children.save(tx, job)

    def _failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        job = tx.get_resource(ids.key_of(op.resource_id))
        if job is None or job.state != "InProgress":
            return
        err = op.error or {}
        job.body["properties"]["errors"] = [
            {
                "serviceErrorDetails": {
                    "code": err.get("code", "InternalError"),
                    "message": err.get("message", ""),
                    "possibleCauses": "",
                    "recommendedAction": "",
                },
                "providerErrorDetails": {},
                "errorLevel": "Error",
                "creationTime": iso_z(self.clock.now()),
                "taskId": "",
            }
        ]
        hook = self.failed.get(job.internal["work"])
        if hook is not None:
            hook(tx, job)
        self._finish(tx, job, "fail")

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        doc = document(rec, dict(rec.body["properties"]))
        doc["location"] = rec.location
        return doc
