"""Long-running operation headers and status endpoints, per resource family, as Azure serves them.

Families: ``Microsoft.Resources`` (resource-group delete, what-if: ``Location`` polled for 202/200),
``deployments`` (``{deployment}/operationStatuses/{id}``, status ``Running`` while it runs, as ARM answers),
``Microsoft.Compute`` (``operations``), ``gallery`` (``capsOperations``), ``disk`` (``DiskOperations``),
``Microsoft.Network`` (``operations``). Each status body is ``{name, status, startTime, endTime?, error?}``.

Polling pitfall handled here: clients sleep ``Retry-After`` seconds per InProgress answer and treat a
missing or ``0`` value as 30 s, so under ``instant`` latency every operation has already finished when the
first poll arrives, and under scaled latency a sub-second wait is sent as ``retry-after-ms``.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.clock.clock import Clock
from azemu.domain import timefmt
from azemu.domain.emulator import Emulator
from azemu.domain.errors import NotFound
from azemu.domain.recoveryservices.common import vault_id_of
from azemu.state.records import OperationRecord

# family -> (path segment under locations/{loc}, Azure's usual Retry-After)
_FAMILIES: dict[str, tuple[str, int]] = {
    "Microsoft.Compute": ("operations", 30),
    "gallery": ("capsOperations", 30),
    "disk": ("DiskOperations", 10),
    "Microsoft.Network": ("operations", 10),
    "Microsoft.VirtualMachineImages": ("operations", 15),
    "Microsoft.DevTestLab": ("operations", 10),
}
_NAMESPACE = {
    "Microsoft.Compute": "Microsoft.Compute",
    "gallery": "Microsoft.Compute",
    "disk": "Microsoft.Compute",
    "Microsoft.Network": "Microsoft.Network",
    "Microsoft.VirtualMachineImages": "Microsoft.VirtualMachineImages",
    "Microsoft.DevTestLab": "Microsoft.DevTestLab",
}


def iso(ts: float | None) -> str | None:
    return None if ts is None else timefmt.iso(ts)


def retry_headers(op: OperationRecord, clock: Clock, azure_default: int) -> dict[str, str]:
    if op.done:
        # Finished before the answer went out (``instant``): nothing to wait for. Go's autorest sleeps the
        # first answer's ``Retry-After`` before its first poll, whatever the state; Python's azure-core
        # reads ``retry-after-ms`` first - so only the latter is sent, and neither client waits.
        return {"retry-after-ms": "10"}
    remaining = op.due_at - clock.now()
    if remaining >= 1:
        return {"Retry-After": str(max(1, min(azure_default, math.ceil(remaining))))}
    # a sub-second wait: Python reads the milliseconds; Go's autorest reads only Retry-After (and polls
    # every 60 s without it), so it gets the smallest whole second beside them
    return {"retry-after-ms": str(max(10, math.ceil(remaining * 1000))), "Retry-After": "1"}


# Recovery Services answers under the vault: family -> (status segment, result segment, Retry-After)
VAULT_FAMILIES: dict[str, tuple[str, str | None, int]] = {
    "recoveryServicesVault": ("operationStatus", None, 10),
    "backup": ("backupOperations", "backupOperationResults", 60),
}


def status_url(req: Request, op: OperationRecord) -> str:
    api = req.api_version or ""
    if op.family in VAULT_FAMILIES:
        assert op.resource_id is not None
        segment = VAULT_FAMILIES[op.family][0]
        return f"{req.scheme_host}{vault_id_of(op.resource_id)}/{segment}/{op.id}?api-version={api}"
    if op.family == "siteRecovery":  # ASR answers with the job's results under the resource it acts on
        return f"{req.scheme_host}{op.payload['target']}/operationresults/{op.id}?api-version={api}"
    if op.family == "deployments":
        return f"{req.scheme_host}{op.resource_id}/operationStatuses/{op.id}?api-version={api}"
    if op.family == "Microsoft.Resources":
        return (
            f"{req.scheme_host}/subscriptions/{op.subscription_id}/operationresults/{op.id}?api-version={api}"
        )
    segment, _ = _FAMILIES[op.family]
    ns = _NAMESPACE[op.family]
    return (
        f"{req.scheme_host}/subscriptions/{op.subscription_id}/providers/{ns}/locations/{op.location}/"
        f"{segment}/{op.id}?p={uuid.uuid4()}&api-version={api}"
    )


def accepted_headers(
    req: Request, op: OperationRecord, clock: Clock, *, location: bool = True
) -> dict[str, str]:
    """Headers for the first answer of a long-running request."""
    if op.family == "deployments":
        return {"Azure-AsyncOperation": status_url(req, op), **retry_headers(op, clock, 15)}
    if op.family == "Microsoft.Resources":
        return {"Location": status_url(req, op), **retry_headers(op, clock, 15)}
    if op.family == "siteRecovery":
        return {"Location": status_url(req, op), **retry_headers(op, clock, 30)}
    if op.family in VAULT_FAMILIES:
        segment, result, default = VAULT_FAMILIES[op.family]
        url = status_url(req, op)
        headers = {"Azure-AsyncOperation": url, **retry_headers(op, clock, default)}
        if result is not None:
            headers["Location"] = url.replace(f"/{segment}/", f"/{result}/", 1)
        return headers
    url = status_url(req, op)
    headers = {"Azure-AsyncOperation": url, **retry_headers(op, clock, _FAMILIES[op.family][1])}
    if location:
        headers["Location"] = url + "&monitor=true"
    if op.family == "Microsoft.Compute":
        headers["Azure-AsyncNotification"] = "Enabled"
    return headers


def status_body(op: OperationRecord) -> dict[str, Any]:
    status = "Running" if op.family == "deployments" and not op.done else op.status
    body: dict[str, Any] = {"name": op.id, "status": status, "startTime": iso(op.started_at)}
    if op.done:
        body["endTime"] = iso(op.finished_at)
    if op.status == "Failed" and op.error:
        body["error"] = op.error
    if op.status == "Succeeded" and op.output is not None:
        body["properties"] = {"output": op.output}
    return body


class OperationEndpoints:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def register(self, router: Router) -> None:
        router.add(
            "GET",
            "/subscriptions/{subscriptionId}/operationresults/{operationId}",
            self.resources_result,
            api=("Microsoft.Resources", "operationresults"),
        )
        for scope in (
            "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
            "/subscriptions/{subscriptionId}",
        ):
            router.add(
                "GET",
                scope
                + "/providers/Microsoft.Resources/deployments/{deploymentName}/operationStatuses/{operationId}",
                self.status,
                api=("Microsoft.Resources", "deployments"),
            )
        for ns, segment, api in (
            ("Microsoft.Compute", "operations", "locations/operations"),
            ("Microsoft.Compute", "capsOperations", "locations/capsOperations"),
            ("Microsoft.Compute", "DiskOperations", "locations/DiskOperations"),
            ("Microsoft.Network", "operations", "locations/operations"),
            ("Microsoft.VirtualMachineImages", "operations", "locations/operations"),
            ("Microsoft.DevTestLab", "operations", "locations/operations"),
        ):
            router.add(
                "GET",
                f"/subscriptions/{{subscriptionId}}/providers/{ns}/locations/{{location}}/{segment}/{{operationId}}",
                self.status,
                api=(ns, api),
            )

    def _get(self, req: Request) -> OperationRecord:
        op = self.emulator.operations.get(req.params["operationId"])
        if op is None or op.subscription_id.lower() != req.params["subscriptionId"].lower():
            raise NotFound("The entity was not found in this Azure location.")
        return op

    def status(self, req: Request) -> Response:
        op = self._get(req)
        if req.query.get("monitor", "").lower() == "true":
            return self._result(op)
        _, default = _FAMILIES.get(op.family, ("operations", 15))
        headers = {} if op.done else retry_headers(op, self.emulator.clock, default)
        return Response(200, status_body(op), headers=headers)

    def resources_result(self, req: Request) -> Response:
        return self._result(self._get(req))

    def _result(self, op: OperationRecord) -> Response:
        """The ``Location`` URL: 202 while running, then the outcome (200 with output, or the error)."""
        if not op.done:
            return Response(202, None, headers=retry_headers(op, self.emulator.clock, 15))
        if op.status == "Failed":
            return Response(_error_status(op), {"error": op.error})
        if op.output is None:
            return Response(200, None)
        return Response(200, op.output)


def _error_status(op: OperationRecord) -> int:
    code = (op.error or {}).get("code", "")
    return {"NotFound": 404, "ResourceNotFound": 404, "Conflict": 409, "OperationNotAllowed": 409}.get(
        code, 400
    )
