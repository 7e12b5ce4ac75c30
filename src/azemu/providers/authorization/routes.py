"""Routes of Azure Policy's resources. Assignments and exemptions are extension resources: the same routes
serve them at subscription, resource-group and resource scope (``{scope}/providers/Microsoft.Authorization/...``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain.errors import InvalidRequestContent
from azemu.domain.policy import model
from azemu.domain.policy.service import KINDS
from azemu.providers.base import ProviderContext, api_of, listed, write_of

AUTH = "/providers/Microsoft.Authorization"
SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
# the scopes an assignment or exemption may sit at (resources up to three levels deep)
SCOPES = (
    SUB,
    RG,
    RG + "/providers/{ns}/{t1}/{n1}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}/{t3}/{n3}",
)
_SPEC = {s.short: s for s in KINDS}
_ALWAYS_201 = frozenset({model.DEFINITIONS.lower(), model.ASSIGNMENTS.lower()})
_FILTER_DEF = re.compile(r"policyDefinitionId\s+eq\s+'([^']*)'", re.IGNORECASE)
_FILTER_TYPE = re.compile(r"policyType\s+eq\s+'([^']*)'", re.IGNORECASE)


def _path_id(req: Request) -> str:
    return unquote(req.path).rstrip("/")


class AuthorizationProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator
        self.policies = ctx.emulator.policies

    # every policy resource -----------------------------------------------------------------------------
    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, _path_id(req)))
        # definitions and assignments answer 201 to every PUT (their specs list no 200); initiatives and
        # exemptions 201 when created, 200 when replaced
        always_created = written.record.type.lower() in _ALWAYS_201
        status = 201 if written.created or always_created else 200
        return Response(status, self.policies.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.policies.show(_path_id(req)))

    def delete(self, req: Request) -> Response:
        rid = _path_id(req)
        if rid.lower().startswith("/providers/"):
            raise InvalidRequestContent("Built-in policy definitions cannot be deleted.")
        doc = self.policies.delete(rid)
        if doc is None:
            return Response(204, None)
        lowered = rid.lower()
        show = "/policyassignments/" in lowered or "/policyexemptions/" in lowered
        return Response(200, doc if show else None)

    # lists ------------------------------------------------------------------------------------------
    def list_definitions(self, req: Request) -> Response:
        short = "policySetDefinitions" if "/policysetdefinitions" in req.path.lower() else "policyDefinitions"
        sub = req.params.get("subscriptionId")
        items = self.policies.listing(_SPEC[short].type, sub)
        wanted = _FILTER_TYPE.search(req.query.get("$filter") or "")
        if wanted:
            items = [
                i
                for i in items
                if str(i["properties"].get("policyType", "")).lower() == wanted.group(1).lower()
            ]
        return listed(items)

    def list_scoped(self, req: Request) -> Response:
        """Assignments or exemptions of a subscription or resource group, with ARM's scope filters."""
        lowered = req.path.lower()
        full = model.EXEMPTIONS if "/policyexemptions" in lowered else model.ASSIGNMENTS
        scope = _path_id(req).rsplit("/providers/", 1)[0]
        scope_key = model.key(scope)
        flt = (req.query.get("$filter") or "").strip()
        docs = self.policies.listing(full, req.params["subscriptionId"], builtin=False)
        out = []
        for doc in docs:
            at = model.key(model.scope_of(doc["id"]))
            above = model.in_scope(scope_key, at)
            below = model.in_scope(at, scope_key)
            f = flt.lower()
            if f.startswith("atexactscope()"):
                keep = at == scope_key
            elif f.startswith("atscope()"):
                keep = above
            elif f.startswith("atscopeandbelow()"):
                keep = above or below
            else:
                keep = above or below
            m = _FILTER_DEF.search(flt)
            if m and model.key(str(doc["properties"].get("policyDefinitionId", ""))) != model.key(m.group(1)):
                keep = False
            if keep:
                out.append(doc)
        return listed(out)


def register(router: Router, ctx: ProviderContext) -> None:
    p = AuthorizationProvider(ctx)
    for short in ("policyDefinitions", "policySetDefinitions"):
        api = api_of(_SPEC[short])
        router.add("GET", f"{AUTH}/{short}", p.list_definitions, api=api)
        router.add("GET", f"{AUTH}/{short}/{{name}}", p.get, api=api)
        router.add("GET", f"{SUB}{AUTH}/{short}", p.list_definitions, api=api)
        for method, handler in (("PUT", p.put), ("GET", p.get), ("DELETE", p.delete)):
            router.add(method, f"{SUB}{AUTH}/{short}/{{name}}", handler, api=api)
    for short in ("policyAssignments", "policyExemptions"):
        api = api_of(_SPEC[short])
        router.add("GET", f"{SUB}{AUTH}/{short}", p.list_scoped, api=api)
        router.add("GET", f"{RG}{AUTH}/{short}", p.list_scoped, api=api)
        for scope in SCOPES:
            for method, handler in (("PUT", p.put), ("GET", p.get), ("DELETE", p.delete)):
                router.add(method, f"{scope}{AUTH}/{short}/{{name}}", handler, api=api)
