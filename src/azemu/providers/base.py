"""What every provider shares: the context handlers run in, and the standard ARM request/response steps
(a resource's id from its route, a write from a request, the answers to PUT, DELETE and list)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.domain import ids, shapes
from azemu.domain.emulator import Emulator
from azemu.domain.kinds import KindSpec, Write, Written
from azemu.settings import Settings
from azemu.state.records import OperationRecord


@dataclass
class ProviderContext:
    emulator: Emulator
    settings: Settings


def api_of(spec: KindSpec) -> tuple[str, str]:
    """The (namespace, type) whose api-versions a route of ``spec`` checks."""
    return spec.namespace, spec.api_type or spec.short


def body_of(req: Request, shape: Any, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object in the shape's spelling, checked against it (domain/shapes.py); a spec
    shape also leaves out what the RP ignores at the request's api-version."""
    raw = req.json_object(required=required)
    if isinstance(shape, shapes.SpecShape):
        return shape.request(raw, req.api_version or "")
    body: dict[str, Any] = shapes.normalize(raw, shape)
    shapes.check(body, shape)
    return body


def resource_id(req: Request, spec: KindSpec, *name_params: str) -> str:
    """The id a route names: Azure's spelling of namespace and types, the client's spelling of names."""
    p = req.params
    return ids.resource_id(
        p["subscriptionId"],
        p["resourceGroupName"],
        spec.namespace,
        spec.short.split("/"),
        [p[n] for n in name_params],
    )


def client_of(req: Request) -> dict[str, str]:
    claims = req.claims or {}
    return {"appid": str(claims.get("appid", "")), "oid": str(claims.get("oid", ""))}


def write_of(req: Request, rid: str) -> Write:
    """A PUT request as the domain's :class:`Write` (the registry checks its shape)."""
    return Write(
        rid=rid,
        body=req.json_object(),
        tenant_id=req.tenant_id,
        api_version=req.api_version or "",
        if_match=req.header("if-match"),
        if_none_match=req.header("if-none-match"),
        client=client_of(req),
        correlation_id=req.correlation_id,
    )


def put_response(
    req: Request, emu: Emulator, written: Written, doc: dict[str, Any], *, location: bool = False
) -> Response:
    """201 (created) or 200, with the operation's headers while it runs."""
    op = written.operation
    headers = {} if op is None else accepted_headers(req, op, emu.clock, location=location)
    return Response(201 if written.created else 200, doc, headers=headers)


def accepted(req: Request, emu: Emulator, op: OperationRecord) -> Response:
    """202 for an action or a delete that runs as a long-running operation."""
    return Response(202, None, headers=accepted_headers(req, op, emu.clock))


def deleted(req: Request, emu: Emulator, op: OperationRecord | None) -> Response:
    """ARM's DELETE: 204 when there was nothing to delete, else 202 and the operation."""
    return Response(204, None) if op is None else accepted(req, emu, op)


def listed(items: list[dict[str, Any]]) -> Response:
    return Response(200, {"value": items})
