"""Long-running operations: one shared mechanism for every resource kind.

An operation is a persisted record with a due time on azemu's clock. Its *completer* (registered per
operation kind by the resource kind that owns it, with the kind's realistic duration) runs when it falls
due: inline under ``instant`` latency (so the client's first poll already sees the end), from the job
runner otherwise, or lazily when a client polls after the due time.

**Every operation ends.** Whatever a completer raises - an Azure error, a bug in a guest command, anything -
the operation ends ``Failed`` in Azure's shape, the completer's partial writes are undone (a savepoint) and
the kind's failure hook runs to undo what starting the operation changed. After a restart, unfinished
operations are resumed; one whose kind has no completer ends ``Failed`` with an error that says why.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.clock.faults import FaultRegistry
from azemu.domain.errors import AzureError
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

log = logging.getLogger("azemu.operations")

DEFAULT_SECONDS = 5.0  # a kind that declares no duration for an operation
MAX_SIMULATED_WAITS = 16  # a completer that keeps waiting under ``instant`` is a bug, not a hang

INTERNAL_ERROR = {
    "code": "InternalExecutionError",
    "message": "An internal execution error occurred. Please retry later.",
}


class Reschedule(Exception):
    """Raised by a completer whose work is not finished yet: the operation stays InProgress.

    ``simulated=True``: a wait *inside the simulated system* lasting ``seconds`` of real Azure time (Sysprep
    waiting for its 30-minute limit ...). It is scaled by the latency profile like an operation's duration,
    and under ``instant`` it is skipped: the completer runs again at once and the operation ends with the
    timestamps of the simulated wait - no client ever waits on azemu's clock.
    ``simulated=False``: wait ``seconds`` on azemu's clock for real state to change (e.g. a replication
    slowed down by an injected delay fault); honoured under every profile.
    ``payload`` is merged into the operation's record before the next run.
    """

    def __init__(
        self, seconds: float, payload: dict[str, Any] | None = None, *, simulated: bool = False
    ) -> None:
        super().__init__(f"rescheduled by {seconds}s")
        self.seconds = seconds
        self.payload = payload or {}
        self.simulated = simulated


class Fail(Exception):
    """Raised by a completer whose operation ends Failed *keeping* what it wrote (a deployment whose
    resources partly succeeded: in incremental mode what was deployed stays)."""

    def __init__(self, error: AzureError) -> None:
        super().__init__(error.message)
        self.error = error


Completer = Callable[[Txn, OperationRecord], Any]
FailureHook = Callable[[Txn, OperationRecord], None]
Scheduler = Callable[[str, float], None]


class Operations:
    def __init__(self, store: Store, clock: Clock, faults: FaultRegistry) -> None:
        self.store = store
        self.clock = clock
        self.faults = faults
        self._completers: dict[str, Completer] = {}
        self._on_failure: dict[str, FailureHook] = {}
        self._seconds: dict[str, float] = {}
        self._scheduler: Scheduler | None = None
        self.failure_listeners = []

    failure_listeners: list[FailureHook]

    def register(self, kind: str, completer: Completer, on_failure: FailureHook | None = None) -> None:
        """``completer`` does the work when the operation falls due; ``on_failure`` undoes what starting it
        changed (e.g. a transitional state) when it ends Failed."""
        self._completers[kind] = completer
        if on_failure is not None:
            self._on_failure[kind] = on_failure

    def declare(self, kind: str, realistic_seconds: float) -> None:
        """How long real Azure takes for operations of ``kind`` (the resource-kind registry declares it)."""
        self._seconds[kind] = realistic_seconds

    def realistic_seconds(self, kind: str) -> float:
        return self._seconds.get(kind, DEFAULT_SECONDS)

    def kinds(self) -> dict[str, float]:
        return dict(self._seconds)

    def attach_scheduler(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def start(
        self,
        tx: Txn,
        *,
        kind: str,
        family: str,
        subscription_id: str,
        location: str,
        resource_id: str | None = None,
        payload: dict[str, Any] | None = None,
        tenant_id: str | None = None,
        duration: float | None = None,
    ) -> OperationRecord:
        """Start an operation; ``duration`` (seconds on azemu's clock, already scaled) overrides the kind's."""
        now = self.clock.now()
        duration = self.clock.profile.scale(self.realistic_seconds(kind)) if duration is None else duration
        body = dict(payload or {})
        for rule in self.faults.take(kind, resource_id):
            if rule.action == "delay":
                duration += rule.delay_seconds
            else:
                body["_fault"] = {"code": rule.error_code, "message": rule.error_message}
        op = OperationRecord(
            id=str(uuid.uuid4()),
            subscription_id=subscription_id,
            kind=kind,
            family=family,
            location=location,
            status="InProgress",
            started_at=now,
            due_at=now + duration,
            resource_id=resource_id,
            payload=body,
            tenant_id=tenant_id,
        )
        if duration <= 0:
            self._finish(tx, op)
        else:
            tx.put_operation(op)
            if self._scheduler is not None:
                self._scheduler(op.id, op.due_at)
        return op

    def start_for(
        self,
        tx: Txn,
        rec: ResourceRecord,
        *,
        kind: str,
        family: str,
        tenant_id: str | None,
        payload: dict[str, Any] | None = None,
        duration: float | None = None,
    ) -> OperationRecord:
        """Start an operation on an existing resource (its subscription, location and id)."""
        return self.start(
            tx,
            kind=kind,
            family=family,
            subscription_id=rec.subscription_id,
            location=rec.location or "",
            resource_id=rec.id,
            payload=payload,
            tenant_id=tenant_id,
            duration=duration,
        )

    def get(self, op_id: str) -> OperationRecord | None:
        with self.store.read() as tx:
            op = tx.get_operation(op_id)
        if op is not None and not op.done and op.due_at <= self.clock.now():
            self.finish_due(op_id)
            with self.store.read() as tx:
                op = tx.get_operation(op_id)
        return op

    def finish_due(self, op_id: str) -> None:
        """Complete an operation whose time has come (idempotent). If even recording the outcome fails (the
        store refused the transaction), a second transaction ends the operation Failed."""
        try:
            with self.store.transaction() as tx:
                op = tx.get_operation(op_id)
                if op is None or op.done or op.due_at > self.clock.now():
                    return
                self._finish(tx, op)
        except Exception:
            log.exception("finishing operation %s failed; it ends Failed", op_id)
            with self.store.transaction() as tx:
                op = tx.get_operation(op_id)
                if op is not None and not op.done:
                    self._end(tx, op, "Failed", error=dict(INTERNAL_ERROR))

    # the end of every operation ----------------------------------------------------------------------
    def _finish(self, tx: Txn, op: OperationRecord) -> None:
        fault = op.payload.get("_fault")
        completer = self._completers.get(op.kind)
        if fault is not None:
            self._end(tx, op, "Failed", error=dict(fault))
            return
        if completer is None:
            self._end(
                tx,
                op,
                "Failed",
                error={
                    "code": "OperationInterrupted",
                    "message": f"The operation '{op.kind}' was interrupted by a restart of azemu and cannot be "
                    "resumed.",
                },
            )
            return
        simulated = 0.0
        for _ in range(MAX_SIMULATED_WAITS):
            again: Reschedule | None = None
            kept: Fail | None = None
            try:
                with tx.savepoint():
                    try:
                        output = completer(tx, op)
                    except Reschedule as waiting:  # what it did so far stays written
                        again = waiting
                    except Fail as failed:  # so does what it did before failing
                        kept = failed
            except AzureError as err:
                self._end(tx, op, "Failed", error=err.to_body()["error"], simulated=simulated)
                return
            except Exception:
                log.exception("operation %s (%s) raised; it ends Failed", op.id, op.kind)
                self._end(tx, op, "Failed", error=dict(INTERNAL_ERROR), simulated=simulated)
                return
            if kept is not None:
                self._end(tx, op, "Failed", error=kept.error.to_body()["error"], simulated=simulated)
                return
            if again is not None:
                op.payload.update(again.payload)
                if again.simulated and self.clock.profile.instant:
                    simulated += again.seconds  # skipped: run again now, as if the wait had passed
                    continue
                wait = self.clock.profile.scale(again.seconds) if again.simulated else again.seconds
                op.due_at = self.clock.now() + wait
                tx.put_operation(op)
                if self._scheduler is not None:
                    self._scheduler(op.id, op.due_at)
                return
            op.output = output
            self._end(tx, op, "Succeeded", simulated=simulated)
            return
        log.error("operation %s (%s) kept waiting under instant latency", op.id, op.kind)
        self._end(tx, op, "Failed", error=dict(INTERNAL_ERROR), simulated=simulated)

    def _end(
        self,
        tx: Txn,
        op: OperationRecord,
        status: str,
        *,
        error: dict[str, Any] | None = None,
        simulated: float = 0.0,
    ) -> None:
        op.status, op.error = status, error
        op.finished_at = self.clock.now() + simulated
        if simulated:
            op.payload["simulatedWaitSeconds"] = simulated
        tx.put_operation(op)
        if status != "Failed":
            return
        log.info("operation %s (%s) failed: %s", op.id, op.kind, op.error)
        for listener in self.failure_listeners:  # e.g. the activity log, which records every failure
            try:
                with tx.savepoint():
                    listener(tx, op)
            except Exception:
                log.exception("a failure listener of operation %s (%s) raised", op.id, op.kind)
        hook = self._on_failure.get(op.kind)
        if hook is None:
            return
        try:
            with tx.savepoint():
                hook(tx, op)
        except Exception:
            log.exception("the failure hook of operation %s (%s) raised", op.id, op.kind)

    def cancel(self, tx: Txn, op_id: str) -> OperationRecord | None:
        """End an unfinished operation ``Canceled`` (what it already did stays); None if it had ended."""
        op = tx.get_operation(op_id)
        if op is None or op.done:
            return None
        self._end(tx, op, "Canceled")
        return op

    def resume(self) -> int:
        """After a restart: reschedule unfinished operations, or end those nothing can finish."""
        with self.store.read() as tx:
            pending = tx.list_operations(unfinished_only=True)
        for op in pending:
            if op.kind in self._completers and self._scheduler is not None:
                self._scheduler(op.id, op.due_at)
            else:
                with self.store.transaction() as tx:
                    self._finish(tx, op)
        return len(pending)
