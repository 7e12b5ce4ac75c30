"""The activity log (``Microsoft.Insights/eventtypes/management/values``): what autoscale and scale-set
scaling did, as Azure's events with their operation names.

Events are kept per subscription in the store (the newest ``LIMIT``), in the same transaction as the change
they describe; ``az monitor activity-log list`` filters them by time, resource group, resource id,
correlation id, caller and status.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from azemu.domain import ids
from azemu.domain.timefmt import iso
from azemu.state.records import OperationRecord
from azemu.state.store import Store, Txn

LIMIT = 5000
SCALE_UP = "Microsoft.Insights/AutoscaleSettings/Scaleup/Action"
SCALE_DOWN = "Microsoft.Insights/AutoscaleSettings/Scaledown/Action"
VMSS_WRITE = "Microsoft.Compute/virtualMachineScaleSets/write"
_CLAUSE = re.compile(r"(\w+)\s+(eq|ge|le)\s+('(?:[^']|'')*'|\S+)", re.IGNORECASE)


def _key(subscription_id: str) -> str:
    return f"activityLog:{subscription_id.lower()}"


def _named(value: str) -> dict[str, str]:
    return {"value": value, "localizedValue": value}


class ActivityLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        tx: Txn,
        *,
        subscription_id: str,
        resource_id: str,
        operation: str,
        status: str,
        at: float,
        category: str,
        caller: str,
        description: str,
        properties: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        event_name: str = "",
        level: str = "Informational",
    ) -> dict[str, Any]:
        p = ids.parse(resource_id)
        event_id = str(uuid.uuid4())
        ticks = int(at * 10_000_000) + 621_355_968_000_000_000  # .NET ticks, as the event id carries them
        provider = (
            resource_id.split("/providers/", 1)[1].split("/", 1)[0] if "/providers/" in resource_id else ""
        )
        rtype = p.full_type if p is not None and p.namespace is not None else ""
        event = {
            "authorization": {"action": operation, "scope": resource_id},
            "caller": caller,
            "channels": "Admin, Operation",
            "claims": {},
            "correlationId": correlation_id or str(uuid.uuid4()),
            "description": description,
            "eventDataId": event_id,
            "eventName": _named(
                event_name or ("AutoscaleAction" if category == "Autoscale" else "EndRequest")
            ),
            "category": _named(category),
            "eventTimestamp": iso(at).replace("+00:00", "Z"),
            "id": f"{resource_id}/events/{event_id}/ticks/{ticks}",
            "level": level,
            "operationId": str(uuid.uuid4()),
            "operationName": _named(operation),
            "resourceGroupName": p.resource_group if p is not None else None,
            "resourceProviderName": _named(provider),
            "resourceType": _named(rtype),
            "resourceId": resource_id,
            "status": _named(status),
            "subStatus": _named(""),
            "submissionTimestamp": iso(at).replace("+00:00", "Z"),
            "subscriptionId": subscription_id,
            "tenantId": "",
            "properties": {k: str(v) for k, v in (properties or {}).items()},
        }
        found = tx.get_setting(_key(subscription_id))
        events: list[dict[str, Any]] = json.loads(found) if found else []
        events.append(event)
        tx.put_setting(_key(subscription_id), json.dumps(events[-LIMIT:], separators=(",", ":")))
        return event

    # failures, in Azure's words ---------------------------------------------------------------------------
    def operation_failed(self, tx: Txn, op: OperationRecord) -> None:
        """A long-running operation ended Failed: an Administrative event with its error (a failure
        listener of :class:`~azemu.domain.operations.Operations`)."""
        rid = op.resource_id or f"/subscriptions/{op.subscription_id}"
        verb = op.kind.rsplit(".", 1)[-1]
        self._failure(
            tx,
            subscription_id=op.subscription_id,
            resource_id=rid,
            verb=verb,
            at=op.finished_at or op.started_at,
            caller="",
            error=op.error or {},
            status_code="",
        )

    def request_failed(
        self,
        *,
        subscription_id: str,
        path: str,
        method: str,
        status: int,
        error: dict[str, Any],
        at: float,
        caller: str,
        correlation_id: str,
    ) -> None:
        """A write request ARM refused (a 4xx or 5xx answer): an Administrative event with its error."""
        parts = path.rstrip("/").split("/")
        action = ""
        if method == "POST" and "/providers/" in path and len(parts) % 2 == 0:
            action, parts = parts[-1], parts[:-1]
        verb = {"PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, action or "action")
        with self.store.transaction() as tx:
            self._failure(
                tx,
                subscription_id=subscription_id,
                resource_id="/".join(parts),
                verb=verb,
                at=at,
                caller=caller,
                error=error,
                status_code=str(status),
                correlation_id=correlation_id,
            )

    def _failure(
        self,
        tx: Txn,
        *,
        subscription_id: str,
        resource_id: str,
        verb: str,
        at: float,
        caller: str,
        error: dict[str, Any],
        status_code: str,
        correlation_id: str | None = None,
    ) -> None:
        p = ids.parse(resource_id)
        rtype = (
            p.full_type if p is not None and p.namespace is not None else "Microsoft.Resources/subscriptions"
        )
        if verb in ("create", "update", "write", "createOrUpdate"):
            operation = f"{rtype}/write"
        elif verb == "delete":
            operation = f"{rtype}/delete"
        else:
            operation = f"{rtype}/{verb}/action"
        self.record(
            tx,
            subscription_id=subscription_id,
            resource_id=resource_id,
            operation=operation,
            status="Failed",
            at=at,
            category="Administrative",
            caller=caller,
            description="",
            properties={
                "statusCode": status_code or "Conflict",
                "statusMessage": json.dumps({"error": error}),
                "eventCategory": "Administrative",
            },
            correlation_id=correlation_id,
            level="Error",
        )

    def list(self, subscription_id: str, odata_filter: str | None) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            found = tx.get_setting(_key(subscription_id))
        events: list[dict[str, Any]] = json.loads(found) if found else []
        for field, op, raw in _CLAUSE.findall(odata_filter or ""):
            value = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
            events = [e for e in events if _matches(e, field, op.lower(), value)]
        return sorted(events, key=lambda e: str(e["eventTimestamp"]), reverse=True)


def _matches(event: dict[str, Any], field: str, op: str, value: str) -> bool:
    f = field.lower()
    if f == "eventtimestamp":
        stamp = str(event["eventTimestamp"]).rstrip("Z")
        wanted = value.rstrip("Z").replace("+00:00", "")
        return stamp >= wanted if op == "ge" else stamp <= wanted if op == "le" else stamp == wanted
    fields = {
        "resourcegroupname": str(event.get("resourceGroupName") or ""),
        "resourceid": str(event.get("resourceId") or ""),
        "resourceuri": str(event.get("resourceId") or ""),
        "correlationid": str(event.get("correlationId") or ""),
        "caller": str(event.get("caller") or ""),
        "status": str(event["status"]["value"]),
        "resourceprovider": str(event["resourceProviderName"]["value"]),
    }
    if f not in fields:
        return True
    return fields[f].lower() == value.lower()
