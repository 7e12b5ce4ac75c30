"""Routes and handlers of Microsoft.Network (the part virtual machines need)."""

from __future__ import annotations

import copy
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.arm.router import Router
from azemu.domain import ids
from azemu.domain.errors import resource_not_found
from azemu.domain.network import TYPES, VNET
from azemu.providers import shapes
from azemu.providers.base import ProviderContext, body_of, parse_tags
from azemu.state.records import ResourceRecord

NET = "Microsoft.Network"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Network"
SEGMENTS = {
    "virtualnetworks": "virtualNetworks",
    "networksecuritygroups": "networkSecurityGroups",
    "publicipaddresses": "publicIPAddresses",
    "networkinterfaces": "networkInterfaces",
}


def _etag(rec: ResourceRecord) -> str:
    return "W/" + rec.etag


def view(rec: ResourceRecord) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = {"Updating": "Updating", "Deleting": "Deleting"}.get(rec.state, "Succeeded")
    for child_key in ("subnets", "ipConfigurations", "securityRules", "defaultSecurityRules"):
        for child in props.get(child_key) or []:
            child["etag"] = _etag(rec)
    body: dict[str, Any] = {
        "name": rec.name,
        "id": rec.id,
        "etag": _etag(rec),
        "type": rec.type,
        "location": rec.location,
        "tags": rec.body.get("tags") or {},
        "properties": props,
    }
    if "sku" in rec.body:
        body["sku"] = rec.body["sku"]
    return body


class NetworkProvider:
    def __init__(self, ctx: ProviderContext, segment: str) -> None:
        self.emu = ctx.emulator
        self.segment = SEGMENTS[segment]
        self.full_type = TYPES[segment]

    def _id(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(p["subscriptionId"], p["resourceGroupName"], NET, [self.segment], [p["name"]])

    def put(self, req: Request) -> Response:
        body = body_of(req, shapes.NETWORK)
        body["tags"] = parse_tags(body.get("tags"))
        rec, created, op = self.emu.network.put(
            self._id(req),
            self.full_type,
            body,
            req.tenant_id,
            if_match=req.header("if-match"),
            if_none_match=req.header("if-none-match"),
        )
        headers = accepted_headers(req, op, self.emu.clock, location=False)
        return Response(201 if created else 200, view(rec), headers=headers)

    def get(self, req: Request) -> Response:
        return Response(200, view(self.emu.network.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.network.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName"), self.full_type
        )
        return Response(200, {"value": [view(r) for r in recs]})

    def delete(self, req: Request) -> Response:
        op = self.emu.network.begin_delete(self._id(req), req.tenant_id)
        if op is None:
            return Response(204, None)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    # subnets (children of a virtual network) ---------------------------------------------------------
    def _subnet(self, req: Request) -> tuple[ResourceRecord, dict[str, Any]]:
        vnet = self.emu.network.get(self._id(req))
        for sn in view(vnet)["properties"]["subnets"]:
            if sn["name"].lower() == req.params["subnet"].lower():
                return vnet, sn
        raise resource_not_found(
            f"{VNET}/{vnet.name}/subnets/{req.params['subnet']}", vnet.resource_group or ""
        )

    def get_subnet(self, req: Request) -> Response:
        return Response(200, self._subnet(req)[1])

    def list_subnets(self, req: Request) -> Response:
        vnet = self.emu.network.get(self._id(req))
        return Response(200, {"value": view(vnet)["properties"]["subnets"]})

    def put_subnet(self, req: Request) -> Response:
        vnet = self.emu.network.get(self._id(req))
        body = body_of(req, {"properties": {"addressPrefix": str, "networkSecurityGroup": shapes.SUB}})
        current = view(vnet)
        subnets = [
            s for s in current["properties"]["subnets"] if s["name"].lower() != req.params["subnet"].lower()
        ]
        subnets.append({"name": req.params["subnet"], "properties": body.get("properties") or {}})
        doc = {
            "location": vnet.location,
            "tags": vnet.body.get("tags"),
            "properties": {**current["properties"], "subnets": subnets},
        }
        rec, _, op = self.emu.network.put(vnet.id, VNET, doc, req.tenant_id)
        sub = next(s for s in view(rec)["properties"]["subnets"] if s["name"] == req.params["subnet"])
        return Response(200, sub, headers=accepted_headers(req, op, self.emu.clock, location=False))


def register(router: Router, ctx: ProviderContext) -> None:
    for segment in SEGMENTS:
        p = NetworkProvider(ctx, segment)
        api = (NET, SEGMENTS[segment])
        base = f"{RG}/{SEGMENTS[segment]}"
        router.add("GET", base, p.list, api=api)
        router.add("GET", f"{SUB}/{SEGMENTS[segment]}", p.list, api=api)
        router.add("PUT", base + "/{name}", p.put, api=api)
        router.add("GET", base + "/{name}", p.get, api=api)
        router.add("DELETE", base + "/{name}", p.delete, api=api)
        if segment == "virtualnetworks":
            sub_api = (NET, "virtualNetworks/subnets")
            router.add("GET", base + "/{name}/subnets", p.list_subnets, api=sub_api)
            router.add("GET", base + "/{name}/subnets/{subnet}", p.get_subnet, api=sub_api)
            router.add("PUT", base + "/{name}/subnets/{subnet}", p.put_subnet, api=sub_api)
