"""Backup jobs (``vaults/backupJobs``): what ``az backup job list|show|wait`` read.

A job is a record with Azure's operation name (``ConfigureBackup``, ``Backup``, ``Restore``,
``DisableBackup``, ``DeleteBackupData``, ``Undelete``), its tasks (``Take Snapshot``, ``Transfer data to
vault`` ...) and its status (``InProgress`` -> ``Completed`` | ``Failed`` | ``Cancelled``). An operation on
azemu's clock drives it one task at a time: each task lasts what it takes in Azure (scaled by the latency
profile; under ``instant`` the job has ended before the request that started it is answered), the work of a
task is done when it ends, and whatever a task raises ends the job ``Failed`` with the error - a job
always ends.

The request that starts a job is itself a short ARM operation (``backupOperations/{id}``, whose
``properties.jobId`` names the job), as az's ``track_backup_job`` expects.
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
from azemu.domain.recoveryservices.common import Children, child_id, document, duration, iso_z, parse_time
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

TYPE = "Microsoft.RecoveryServices/vaults/backupJobs"
FAMILY = "backup"
LIFECYCLE = StateTable(
    kind="backupJob",
    initial="InProgress",
    transitions={
        "InProgress": {
            "complete": "Completed",
            "fail": "Failed",
            "cancel": "Cancelling",
            "warn": "CompletedWithWarnings",
        },
        "Cancelling": {
            "complete": "Cancelled",
            "fail": "Failed",
            "cancel": "Cancelling",
            "warn": "Cancelled",
        },
    },
    terminal=frozenset({"Completed", "Failed", "Cancelled", "CompletedWithWarnings"}),
    states_info={
        "InProgress": State(settles_to="Completed"),
        "Cancelling": State(settles_to="Cancelled"),
    },
)
KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=None,
    operations={"run": 0.0, "accept": 2.0},
    description="Backup jobs (read-only): ConfigureBackup, Backup, Restore, DisableBackup, DeleteBackupData, "
    "Undelete, with their tasks, on azemu's clock.",
    parent="Microsoft.RecoveryServices/vaults",
    api_type="vaults/backupJobs",
)

Work = Callable[[Txn, ResourceRecord, int], None]  # (tx, job, index of the task that just ended)
Task = tuple[str, float]  # (Azure's task name, seconds real Azure takes)


def in_progress(rec: ResourceRecord) -> bool:
    return rec.state in ("InProgress", "Cancelling")


class Jobs:
    def __init__(self, clock: Clock, operations: Operations, children: Children) -> None:
        self.clock = clock
        self.operations = operations
        self.children = children
        self.work: dict[str, Work] = {}
        self.failed: dict[str, Callable[[Txn, ResourceRecord], None]] = {}
        operations.register(KIND.op("run"), self._run, on_failure=self._failed)
        operations.register(KIND.op("accept"), self._accepted)

    # starting ----------------------------------------------------------------------------------------
    def start(
        self,
        tx: Txn,
        vault: ResourceRecord,
        *,
        operation: str,
        entity: str,
        tasks: list[Task],
        work: str,
        params: dict[str, Any] | None = None,
        bag: dict[str, str] | None = None,
        tenant_id: str | None = None,
        cancellable: bool = False,
    ) -> tuple[ResourceRecord, OperationRecord]:
        """A job in its first task, and the short ARM operation that answers the request that started it."""
        name = str(uuid.uuid4())
        now = self.clock.now()
        props: dict[str, Any] = {
            "jobType": "AzureIaaSVMJob",
            "entityFriendlyName": entity,
            "backupManagementType": "AzureIaasVM",
            "operation": operation,
            "status": "InProgress",
            "startTime": iso_z(now),
            "activityId": str(uuid.uuid4()),
            "virtualMachineVersion": "Compute",
            "actionsInfo": ["Cancellable"] if cancellable else [],
            "errorDetails": [],
            "extendedInfo": {
                "tasksList": [
                    {"taskId": t, "status": "InProgress" if i == 0 else "NotStarted", "duration": "PT0S"}
                    | ({"startTime": iso_z(now)} if i == 0 else {})
                    for i, (t, _s) in enumerate(tasks)
                ],
                "propertyBag": dict(bag or {}),
                "progressPercentage": 0.0,
            },
        }
        job = self.children.new(
            tx,
            vault,
            child_id(vault.id, "backupJobs", name),
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
        self.operations.start_for(
            tx,
            job,
            kind=KIND.op("run"),
            family=FAMILY,
            tenant_id=tenant_id,
            duration=self.clock.profile.scale(tasks[0][1]),
        )
        accept = self.operations.start_for(
            tx, job, kind=KIND.op("accept"), family=FAMILY, tenant_id=tenant_id, payload={"jobId": name}
        )
        fresh = tx.get_resource(job.key)
        assert fresh is not None
        return fresh, accept

    def _accepted(self, tx: Txn, op: OperationRecord) -> None:
        return None

    # running -----------------------------------------------------------------------------------------
    def _run(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        job = tx.get_resource(ids.key_of(op.resource_id))
        if job is None or not in_progress(job):
            return
        i = int(job.internal["task"])
        tasks = job.internal["tasks"]
        now = self.clock.now() + float(op.payload.get("simulatedWaitSeconds") or 0.0)
        self.work[job.internal["work"]](tx, job, i)
        job = tx.get_resource(job.key) or job
        task = job.body["properties"]["extendedInfo"]["tasksList"][i]
        self._end_task(task, "Completed", now)
        if i + 1 < len(tasks):
            job.internal["task"] = i + 1
            nxt = job.body["properties"]["extendedInfo"]["tasksList"][i + 1]
            nxt["status"], nxt["startTime"] = "InProgress", iso_z(now)
            job.body["properties"]["extendedInfo"]["progressPercentage"] = round(
                100.0 * (i + 1) / len(tasks), 2
            )
            self.children.save(tx, job)
            raise Reschedule(float(tasks[i + 1][1]), simulated=True)
        self.finish(tx, job, "complete", now)

    def finish(self, tx: Txn, job: ResourceRecord, action: str, at: float | None = None) -> None:
        at = self.clock.now() if at is None else at
        job.state = LIFECYCLE.next(job.state, action)
        props = job.body["properties"]
        props["status"] = job.state
        props["endTime"] = iso_z(at)
        props["actionsInfo"] = []
        props["extendedInfo"]["progressPercentage"] = (
            100.0 if job.state == "Completed" else props["extendedInfo"].get("progressPercentage", 0.0)
        )
        props["duration"] = duration(at - parse_time(props["startTime"]))
        for task in props["extendedInfo"]["tasksList"]:
            if task["status"] in ("InProgress", "NotStarted"):
                self._end_task(
                    task,
                    "Cancelled"
                    if job.state == "Cancelled"
                    else "Failed"
                    if job.state == "Failed"
                    else "Completed",
                    at,
                )
        self.children.save(tx, job)

    @staticmethod
    def _end_task(task: dict[str, Any], status: str, at: float) -> None:
        task["status"] = status
        task["endTime"] = iso_z(at)
        if "startTime" in task:
            task["duration"] = duration(at - parse_time(task["startTime"]))

    def _failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        job = tx.get_resource(ids.key_of(op.resource_id))
        if job is None or not in_progress(job):
            return
        err = op.error or {}
        job.body["properties"]["errorDetails"] = [
            {
                "errorCode": err.get("code", "InternalError"),
                "errorString": err.get("message", ""),
                "recommendations": [],
            }
        ]
        hook = self.failed.get(job.internal["work"])
        if hook is not None:
            hook(tx, job)
        self.finish(tx, job, "fail")

    def cancel(self, tx: Txn, job: ResourceRecord) -> None:
        """``az backup job stop``: a cancellable job ends Cancelled now (what it did so far stays)."""
        if not in_progress(job):
            return
        self.finish(tx, job, "cancel")
        self.finish(tx, job, "complete")

    # reading -----------------------------------------------------------------------------------------
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = dict(rec.body["properties"])
        if in_progress(rec):
            props["duration"] = duration(self.clock.now() - parse_time(props["startTime"]))
        return document(rec, props)
