"""Routes and handlers of Microsoft.Network (the part virtual machines need)."""

from __future__ import annotations

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.arm.router import Router
from azemu.domain import shapes
from azemu.domain.kinds import KindSpec
from azemu.domain.network import KINDS, NSG, VNET, document
from azemu.providers.base import (
    ProviderContext,
    api_of,
    body_of,
    deleted,
    listed,
    put_response,
    resource_id,
    write_of,
)

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Network"


class NetworkProvider:
    def __init__(self, ctx: ProviderContext, spec: KindSpec) -> None:
        self.emu = ctx.emulator
        self.spec = spec

    def _id(self, req: Request) -> str:
        return resource_id(req, self.spec, "name")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return put_response(req, self.emu, written, document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, document(self.emu.network.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.network.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName"), self.spec.type
        )
        return listed([document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    # subnets (children of a virtual network) ---------------------------------------------------------
    def get_subnet(self, req: Request) -> Response:
        return Response(200, self.emu.network.subnet(self._id(req), req.params["subnet"])[1])

    def list_subnets(self, req: Request) -> Response:
        return listed(document(self.emu.network.get(self._id(req)))["properties"]["subnets"])

    def put_subnet(self, req: Request) -> Response:
        body = body_of(req, shapes.SUBNET)
        subnet, op = self.emu.network.put_subnet(
            self._id(req), req.params["subnet"], body.get("properties") or {}, req.tenant_id
        )
        return Response(200, subnet, headers=accepted_headers(req, op, self.emu.clock, location=False))

    # security rules (children of a network security group) -------------------------------------------
    def get_rule(self, req: Request) -> Response:
        return Response(200, self.emu.network.security_rule(self._id(req), req.params["rule"]))

    def list_rules(self, req: Request) -> Response:
        return listed(self.emu.network.security_rules(self._id(req)))

    def put_rule(self, req: Request) -> Response:
        body = body_of(req, shapes.SECURITY_RULE)
        rule, created, op = self.emu.network.put_security_rule(
            self._id(req),
            req.params["rule"],
            body.get("properties") or {},
            req.tenant_id,
            req.api_version or "",
        )
        headers = accepted_headers(req, op, self.emu.clock, location=False) if op is not None else {}
        return Response(201 if created else 200, rule, headers=headers)

    def delete_rule(self, req: Request) -> Response:
        gone = self.emu.network.delete_security_rule(
            self._id(req), req.params["rule"], req.tenant_id, req.api_version or ""
        )
        return Response(200 if gone else 204, None)


def register(router: Router, ctx: ProviderContext) -> None:
    for spec in KINDS.values():
        p = NetworkProvider(ctx, spec)
        api = api_of(spec)
        base = f"{RG}/{spec.short}"
        router.add("GET", base, p.list, api=api)
        router.add("GET", f"{SUB}/{spec.short}", p.list, api=api)
        router.add("PUT", base + "/{name}", p.put, api=api)
        router.add("GET", base + "/{name}", p.get, api=api)
        router.add("DELETE", base + "/{name}", p.delete, api=api)
        if spec.type == VNET:
            sub_api = ("Microsoft.Network", "virtualNetworks/subnets")
            router.add("GET", base + "/{name}/subnets", p.list_subnets, api=sub_api)
            router.add("GET", base + "/{name}/subnets/{subnet}", p.get_subnet, api=sub_api)
            router.add("PUT", base + "/{name}/subnets/{subnet}", p.put_subnet, api=sub_api)
        if spec.type == NSG:
            rule_api = ("Microsoft.Network", "networkSecurityGroups/securityRules")
            router.add("GET", base + "/{name}/securityRules", p.list_rules, api=rule_api)
            router.add("GET", base + "/{name}/securityRules/{rule}", p.get_rule, api=rule_api)
            router.add("PUT", base + "/{name}/securityRules/{rule}", p.put_rule, api=rule_api)
            router.add("DELETE", base + "/{name}/securityRules/{rule}", p.delete_rule, api=rule_api)
