"""Lab schedules on azemu's clock: auto-shutdown (``LabVmsShutdown``, task ``LabVmsShutdownTask``) and
auto-start (``LabVmAutoStart``, task ``LabVmsStartupTask``).

Each enabled schedule keeps one ``tick`` operation due at its next occurrence (``dailyRecurrence.time`` every
day, ``weeklyRecurrence.time`` on its weekdays, ``hourlyRecurrence.minute`` every hour) in its
``timeZoneId`` (a Windows time zone name, as Azure takes it). At a tick the lab stops (deallocates) its running
VMs - a VM's own ``LabVmsShutdown`` schedule replaces the lab's for that VM - or starts the stopped VMs that
opted in to auto-start (the tag ``AutoStartOn: true``, as Azure's DevTest Labs keeps it), then arms the next
tick. Advancing azemu's clock (``azemu clock advance``) runs them.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from tzlocal.windows_tz import win_tz

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.devtestlabs import model
from azemu.domain.devtestlabs.vms import LabVms
from azemu.domain.errors import AzureError
from azemu.domain.operations import Operations
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

log = logging.getLogger("azemu.devtestlabs")
SHUTDOWN, STARTUP = "LabVmsShutdownTask", "LabVmsStartupTask"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone(tz_id: str) -> dt.tzinfo:
    """A Windows time zone name (``Pacific Standard Time``) or an IANA one; UTC when unknown."""
    name = win_tz.get(tz_id) or tz_id or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _hhmm(text: Any) -> tuple[int, int] | None:
    s = str(text or "").replace(":", "")
    if len(s) != 4 or not s.isdigit() or int(s[:2]) > 23 or int(s[2:]) > 59:
        return None
    return int(s[:2]), int(s[2:])


def next_occurrence(props: dict[str, Any], after: float) -> float | None:
    """The first time strictly after ``after`` (Unix seconds) the schedule fires; None if it never does."""
    tz = zone(str(props.get("timeZoneId") or "UTC"))
    now = dt.datetime.fromtimestamp(after, tz)
    hourly = props.get("hourlyRecurrence") or {}
    if hourly.get("minute") is not None:
        minute = int(hourly["minute"]) % 60
        at = now.replace(minute=minute, second=0, microsecond=0)
        if at.timestamp() <= after:
            at += dt.timedelta(hours=1)
        return at.timestamp()
    weekly = props.get("weeklyRecurrence") or {}
    daily = props.get("dailyRecurrence") or {}
    hm = _hhmm(weekly.get("time") if weekly else daily.get("time"))
    if hm is None:
        return None
    days = {d.lower() for d in weekly.get("weekdays") or []} if weekly else {d.lower() for d in DAYS}
    for offset in range(8):
        day = (now + dt.timedelta(days=offset)).date()
        at = dt.datetime(day.year, day.month, day.day, hm[0], hm[1], tzinfo=tz)
        if at.timestamp() > after and DAYS[at.weekday()].lower() in days:
            return at.timestamp()
    return None


class Schedules:
    """The ticking of lab and lab-VM schedules."""

    def __init__(self, clock: Clock, operations: Operations, lab_vms: LabVms) -> None:
        self.clock = clock
        self.operations = operations
        self.lab_vms = lab_vms
        operations.register(model.SCHEDULE_KIND.op("tick"), self._tick)
        operations.register(model.VM_SCHEDULE_KIND.op("tick"), self._tick)

    def arm(self, tx: Txn, rec: ResourceRecord) -> None:
        """(Re)arm a schedule after it is written: its next tick, or none when it is disabled."""
        props = rec.body["properties"]
        rec.internal["tick"] = None
        when = (
            next_occurrence(props, self.clock.now()) if props.get("status", "Enabled") == "Enabled" else None
        )
        if when is not None:
            spec = (
                model.VM_SCHEDULE_KIND
                if rec.type.lower() == model.VM_SCHEDULE.lower()
                else model.SCHEDULE_KIND
            )
            op = self.operations.start_for(
                tx,
                rec,
                kind=spec.op("tick"),
                family=model.FAMILY,
                tenant_id=None,
                duration=max(0.001, when - self.clock.now()),
            )
            rec.internal.update(tick=op.id, next=when)
        tx.put_resource(rec)

    def _tick(self, tx: Txn, op: OperationRecord) -> dict[str, Any]:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.internal.get("tick") != op.id:
            return {"skipped": True}  # the schedule went, or was rewritten
        props = rec.body["properties"]
        task = str(props.get("taskType") or "")
        self.arm(tx, rec)  # the next tick first: whatever happens to one VM, the schedule keeps ticking
        acted: list[str] = []
        action = "stop" if task == SHUTDOWN else "start"
        for vm in self._targets(tx, rec, task):
            if vm.state not in ("Running", "Stopped") or not vm.body["properties"].get("computeId"):
                continue
            if vm.state == ("Stopped" if action == "stop" else "Running"):
                continue
            try:
                with tx.savepoint():
                    self.lab_vms.power(tx, vm, action, None)
                acted.append(vm.name)
            except AzureError as err:
                log.warning("schedule %s could not %s %s: %s", rec.id, action, vm.id, err.message)
        return {"task": task, "virtualMachines": acted}

    def _targets(self, tx: Txn, rec: ResourceRecord, task: str) -> list[ResourceRecord]:
        if rec.type.lower() == model.VM_SCHEDULE.lower():
            vm = tx.get_resource(rec.parent_key or "")
            return [vm] if vm is not None else []
        lab = tx.get_resource(rec.parent_key or "")
        if lab is None:
            return []
        vms = [v for v in tx.list_resources(parent_key=lab.key) if v.type.lower() == model.VM.lower()]
        if task == STARTUP:
            return [
                v for v in vms if str((v.body.get("tags") or {}).get("AutoStartOn", "")).lower() == "true"
            ]
        if task != SHUTDOWN:
            return []
        # a VM with a shutdown schedule of its own follows that one
        return [
            v
            for v in vms
            if not any(
                s.type.lower() == model.VM_SCHEDULE.lower()
                and s.body["properties"].get("taskType") == SHUTDOWN
                for s in tx.list_resources(parent_key=v.key)
            )
        ]
