"""Long-running operations: one shared mechanism for every resource family.

An operation is a persisted record with a due time on azemu's clock. Its *completer* (registered per
operation kind by the resource family that owns it) runs when it falls due: inline under ``instant``
latency (so the client's first poll already sees the end), from the job runner otherwise, or lazily when
a client polls after the due time. After a restart, unfinished operations are resumed; one whose kind has
no completer ends ``Failed`` with an error that says why - never left hanging.
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


class Reschedule(Exception):
    """Raised by a completer whose work is not finished: the operation stays InProgress for ``seconds`` more
    on azemu's clock (e.g. an in-guest command that hangs), with ``payload`` merged into its record."""

    def __init__(self, seconds: float, payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"rescheduled by {seconds}s")
        self.seconds = seconds
        self.payload = payload or {}


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
        self._scheduler: Scheduler | None = None

    def register(self, kind: str, completer: Completer, on_failure: FailureHook | None = None) -> None:
        """``completer`` does the work when the operation falls due; ``on_failure`` undoes what starting it
        changed (e.g. a transitional state) when it ends Failed."""
        self._completers[kind] = completer
        if on_failure is not None:
            self._on_failure[kind] = on_failure

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
        """Start an operation; ``duration`` (seconds on azemu's clock, already scaled) overrides the profile."""
        now = self.clock.now()
        duration = self.clock.profile.duration(kind) if duration is None else duration
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
        """Complete an operation whose time has come (idempotent)."""
        with self.store.transaction() as tx:
            op = tx.get_operation(op_id)
            if op is None or op.done or op.due_at > self.clock.now():
                return
            self._finish(tx, op)

    def _finish(self, tx: Txn, op: OperationRecord) -> None:
        fault = op.payload.get("_fault")
        completer = self._completers.get(op.kind)
        if fault is not None:
            op.status, op.error = "Failed", dict(fault)
        elif completer is None:
            op.status = "Failed"
            op.error = {
                "code": "OperationInterrupted",
                "message": f"The operation '{op.kind}' was interrupted by a restart of azemu and cannot be resumed.",
            }
        else:
            try:
                op.output = completer(tx, op)
                op.status = "Succeeded"
            except Reschedule as again:
                op.due_at = self.clock.now() + again.seconds
                op.payload.update(again.payload)
                tx.put_operation(op)
                if self._scheduler is not None:
                    self._scheduler(op.id, op.due_at)
                return
            except AzureError as err:
                op.status, op.error = "Failed", err.to_body()["error"]
        op.finished_at = self.clock.now()
        tx.put_operation(op)
        if op.status == "Failed":
            hook = self._on_failure.get(op.kind)
            if hook is not None:
                hook(tx, op)
            log.info("operation %s (%s) failed: %s", op.id, op.kind, op.error)

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
