"""Routes of role assignments and role definitions. Both are extension resources: the same routes serve
them at subscription, resource-group and resource scope (``{scope}/providers/Microsoft.Authorization/...``)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import rbac
from azemu.providers.base import ProviderContext, api_of, listed, write_of

AUTH = "/providers/Microsoft.Authorization"
SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
SCOPES = (
    SUB,
    RG,
    RG + "/providers/{ns}/{t1}/{n1}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}",
    RG + "/providers/{ns}/{t1}/{n1}/{t2}/{n2}/{t3}/{n3}",
)
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']*)'", re.IGNORECASE)
_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']*)'", re.IGNORECASE)


def _path(req: Request) -> str:
    return unquote(req.path).rstrip("/")


def _scope(req: Request, collection: str) -> str:
    path = _path(req)
    return path[: path.lower().rfind(f"{AUTH}/{collection}".lower())]


class RbacProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator
        self.rbac = ctx.emulator.rbac

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, _path(req)))
        return Response(201 if written.created else 200, self.rbac.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.rbac.document(self.rbac.get(_path(req))))

    def delete(self, req: Request) -> Response:
        rid = _path(req)
        try:
            doc = self.rbac.document(self.rbac.get(rid))
        except Exception:
            return Response(204, None)
        self.emu.kinds.begin_delete(rid, req.tenant_id)
        return Response(200, doc)

    def list_assignments(self, req: Request) -> Response:
        flt = req.query.get("$filter") or ""
        m = _PRINCIPAL.search(flt)
        return listed(
            self.rbac.list_assignments(
                _scope(req, "roleAssignments"),
                principal_id=m.group(1) if m else None,
                at_scope="atscope()" in flt.lower(),
            )
        )

    def list_definitions(self, req: Request) -> Response:
        m = _ROLE_NAME.search(req.query.get("$filter") or "")
        return listed(self.rbac.list_definitions(_scope(req, "roleDefinitions"), m.group(1) if m else None))

    def get_definition(self, req: Request) -> Response:
        path = _path(req)
        scope = _scope(req, "roleDefinitions")
        return Response(200, self.rbac.definition(scope or "/", path.rsplit("/", 1)[-1]))


def register(router: Router, ctx: ProviderContext) -> None:
    p = RbacProvider(ctx)
    ra, rd = api_of(rbac.ASSIGNMENT_KIND), api_of(rbac.DEFINITION_KIND)
    for scope in SCOPES:
        base = scope + AUTH + "/roleAssignments"
        router.add("GET", base, p.list_assignments, api=ra)
        router.add("PUT", base + "/{name}", p.put, api=ra)
        router.add("GET", base + "/{name}", p.get, api=ra)
        router.add("DELETE", base + "/{name}", p.delete, api=ra)
        defs = scope + AUTH + "/roleDefinitions"
        router.add("GET", defs, p.list_definitions, api=rd)
        router.add("PUT", defs + "/{name}", p.put, api=rd)
        router.add("GET", defs + "/{name}", p.get_definition, api=rd)
        router.add("DELETE", defs + "/{name}", p.delete, api=rd)
    router.add("GET", AUTH + "/roleDefinitions/{name}", p.get_definition, api=rd)
