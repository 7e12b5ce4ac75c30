"""Routes of ``loadBalancers`` and their ``inboundNatRules`` children."""

from __future__ import annotations

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import loadbalancers as lbs
from azemu.providers.base import ProviderContext, api_of, deleted, listed, put_response, resource_id, write_of

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Network"
LB = RG + "/loadBalancers/{name}"


class LoadBalancerProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request) -> str:
        return resource_id(req, lbs.KIND, "name")

    def _rule_id(self, req: Request) -> str:
        return resource_id(req, lbs.NAT_KIND, "name", "rule")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return put_response(req, self.emu, written, self.emu.load_balancers.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.emu.load_balancers.document(self.emu.load_balancers.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.load_balancers.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.emu.load_balancers.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    def put_rule(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._rule_id(req)))
        return put_response(req, self.emu, written, self.emu.load_balancers.document(written.record))

    def get_rule(self, req: Request) -> Response:
        return Response(
            200, self.emu.load_balancers.document(self.emu.load_balancers.get(self._rule_id(req)))
        )

    def list_rules(self, req: Request) -> Response:
        return listed(
            [self.emu.load_balancers.document(r) for r in self.emu.load_balancers.nat_rules(self._id(req))]
        )

    def delete_rule(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._rule_id(req), req.tenant_id))


def register(router: Router, ctx: ProviderContext) -> None:
    p = LoadBalancerProvider(ctx)
    api, nat_api = api_of(lbs.KIND), api_of(lbs.NAT_KIND)
    r = router.add
    r("GET", RG + "/loadBalancers", p.list, api=api)
    r("GET", SUB + "/loadBalancers", p.list, api=api)
    r("PUT", LB, p.put, api=api)
    r("GET", LB, p.get, api=api)
    r("DELETE", LB, p.delete, api=api)
    r("GET", LB + "/inboundNatRules", p.list_rules, api=nat_api)
    r("PUT", LB + "/inboundNatRules/{rule}", p.put_rule, api=nat_api)
    r("GET", LB + "/inboundNatRules/{rule}", p.get_rule, api=nat_api)
    r("DELETE", LB + "/inboundNatRules/{rule}", p.delete_rule, api=nat_api)
