"""How ARM shows a deployment: its properties, its operations, its validate result - the wire shapes.

Facts followed (recorded real traffic and the 2024-11-01 spec): timestamps carry seven fractional digits
and ``Z``; ``duration`` is an ISO 8601 duration (``PT36.7284236S``, ``PT1M34.03S``); ``outputResources`` is
sorted by id. (Parameters and outputs are shaped by the template engine.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from azemu.domain import ids


def timestamp(ts: float) -> str:
    """``2023-12-19T09:42:47.6403346Z``."""
    when = dt.datetime.fromtimestamp(ts, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


def duration(seconds: float) -> str:
    """``PT36.7284236S``, ``PT1M34.0335143S``, ``PT2H0M1.5S``."""
    seconds = max(0.0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{int(hours)}H"
    if hours or minutes:
        text += f"{int(minutes)}M"
    return text + f"{secs:.7f}".rstrip("0").rstrip(".") + "S"


def template_hash(template: Any) -> str:
    """A decimal uint64 string, stable for the same template (ARM's own hash is not documented)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return str(int.from_bytes(digest[:8], "big"))


def providers_view(resource_ids: list[str], location: str | None) -> list[dict[str, Any]]:
    """``providers``: the namespaces and types a deployment touches, grouped by namespace."""
    grouped: dict[str, dict[str, None]] = {}
    for rid in resource_ids:
        p = ids.parse(rid)
        if p is None or p.namespace is None:
            continue
        grouped.setdefault(p.namespace, {})["/".join(p.types)] = None
    locs = [location] if location else []
    return [
        {"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": locs} for t in types]}
        for ns, types in grouped.items()
    ]


def _ref(rid: str) -> dict[str, Any]:
    p = ids.parse(rid)
    if p is None or p.namespace is None:
        return {"id": rid}
    return {"id": rid, "resourceType": p.full_type, "resourceName": "/".join(p.names)}


def dependencies_view(depends: dict[str, list[str]]) -> list[dict[str, Any]]:
    """``dependencies``: one entry per resource that has ``dependsOn``."""
    return [{"dependsOn": [_ref(d) for d in deps], **_ref(rid)} for rid, deps in depends.items() if deps]


def output_resources(resource_ids: list[str]) -> list[dict[str, str]]:
    return [{"id": rid} for rid in sorted(set(resource_ids), key=str.lower)]


def operation_id(deployment_id: str, resource_id: str) -> str:
    """A deployment operation's id: 16 upper-case hex digits, stable per (deployment, resource)."""
    return hashlib.sha256(f"{deployment_id.lower()}|{resource_id.lower()}".encode()).hexdigest()[:16].upper()


STATUS_NAMES = {200: "OK", 201: "Created", 202: "Accepted", 204: "NoContent", 400: "BadRequest", 403: "Forbidden",
                404: "NotFound", 409: "Conflict", 412: "PreconditionFailed", 500: "InternalServerError"}  # fmt: skip


def operation_view(deployment_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """One deployment operation (``GET …/deployments/{n}/operations``)."""
    op_id = result["operationId"]
    props: dict[str, Any] = {
        "provisioningOperation": result.get("provisioningOperation", "Create"),
        "provisioningState": result["provisioningState"],
        "timestamp": timestamp(result.get("finished") or result["started"]),
        "duration": duration((result.get("finished") or result["started"]) - result["started"]),
        "trackingId": result.get("trackingId", ""),
        "serviceRequestId": result.get("serviceRequestId", ""),
        "statusCode": STATUS_NAMES.get(int(result.get("statusCode", 200)), str(result.get("statusCode"))),
    }
    if result.get("error"):
        props["statusMessage"] = {"status": "Failed", "error": result["error"]}
    if result.get("resourceId"):
        props["targetResource"] = _ref(result["resourceId"])
    return {"id": f"{deployment_id}/operations/{op_id}", "operationId": op_id, "properties": props}
