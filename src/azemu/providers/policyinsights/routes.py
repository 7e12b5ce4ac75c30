"""Routes of Microsoft.PolicyInsights' policy states: ``queryResults`` and ``summarize`` at subscription,
resource-group, resource, assignment and definition scope, and ``triggerEvaluation`` (a long-running scan)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.arm.router import Router
from azemu.domain.policy import compliance, model
from azemu.providers.base import ProviderContext

PI = "/providers/Microsoft.PolicyInsights/policyStates"
API = ("Microsoft.PolicyInsights", "policyStates")
SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
SCOPES = (
    SUB,
    RG,
    RG + "/providers/{ns}/{t1}/{n1}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}/{t3}/{n3}",
    SUB + "/providers/{authNs}/{policyKind}/{policyName}",
    RG + "/providers/{authNs}/{policyKind}/{policyName}",
)
_EQ = re.compile(r"(\w+)\s+eq\s+'([^']*)'", re.IGNORECASE)


class PolicyInsightsProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _keep(self, req: Request) -> Callable[[compliance.State], bool]:
        scope = unquote(req.path).split("/providers/Microsoft.PolicyInsights", 1)[0]
        low = scope.lower()
        flt = req.query.get("$filter") or ""
        clauses = [(k.lower(), v.lower()) for k, v in _EQ.findall(flt)]
        by_policy = None
        if "/providers/microsoft.authorization/" in low:
            by_policy = model.key(scope)
            sub = req.params["subscriptionId"]
            rg = req.params.get("resourceGroupName")
            scope_key = model.key(f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else ""))
        else:
            scope_key = model.key(scope)

        def keep(s: compliance.State) -> bool:
            if not model.in_scope(s.resource_id.lower(), scope_key):
                return False
            if by_policy is not None:
                if "/policyassignments/" in by_policy and s.assignment["id"].lower() != by_policy:
                    return False
                if "/policydefinitions/" in by_policy and not by_policy.endswith(
                    "/" + s.definition["name"].lower()
                ):
                    return False
                if "/policysetdefinitions/" in by_policy and (
                    s.set_definition is None or not by_policy.endswith("/" + s.set_definition["name"].lower())
                ):
                    return False
            view = None
            for field, value in clauses:
                if view is None:
                    view = {k.lower(): v for k, v in s.view(False).items()}
                if str(view.get(field, "")).lower() != value:
                    return False
            return True

        return keep

    def query(self, req: Request) -> Response:
        states = self.emu.policy.states(self._keep(req))
        top = req.query.get("$top")
        if top and top.isdigit():
            states = states[: int(top)]
        expand = "policyevaluationdetails" in (req.query.get("$expand") or "").lower()
        items = [s.view(expand) for s in states]
        return Response(
            200,
            {
                "@odata.context": "https://management.azure.com/providers/Microsoft.PolicyInsights/policyStates/$metadata#latest",
                "@odata.count": len(items),
                "value": items,
            },
        )

    def summarize(self, req: Request) -> Response:
        states = self.emu.policy.states(self._keep(req))
        top = req.query.get("$top")
        summary = compliance.summarize(states, int(top) if top and top.isdigit() else None)
        return Response(
            200,
            {
                "@odata.context": "https://management.azure.com/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary",
                "@odata.count": 1,
                "value": [summary],
            },
        )

    def trigger(self, req: Request) -> Response:
        sub = req.params["subscriptionId"]
        op = self.emu.policy.begin_scan(sub, req.params.get("resourceGroupName"), req.tenant_id)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))


def register(router: Router, ctx: ProviderContext) -> None:
    p = PolicyInsightsProvider(ctx)
    for scope in SCOPES:
        router.add("POST", f"{scope}{PI}/{{which}}/queryResults", p.query, api=API)
        router.add("POST", f"{scope}{PI}/{{which}}/summarize", p.summarize, api=API)
    router.add("POST", f"{SUB}{PI}/latest/triggerEvaluation", p.trigger, api=API)
    router.add("POST", f"{RG}{PI}/latest/triggerEvaluation", p.trigger, api=API)
