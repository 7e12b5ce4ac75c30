"""Routes of ``Microsoft.ManagedIdentity/userAssignedIdentities``."""

from __future__ import annotations

import dataclasses

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import identities
from azemu.providers.base import ProviderContext, api_of, listed, resource_id, write_of

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.ManagedIdentity"


class IdentityProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request) -> str:
        return resource_id(req, identities.KIND, "name")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return Response(201 if written.created else 200, identities.document(written.record))

    def patch(self, req: Request) -> Response:
        rec = self.emu.identities.get(self._id(req))
        body = req.json_object()
        merged = {
            "location": rec.location,
            "tags": body.get("tags", rec.body.get("tags")),
            "properties": {**rec.body["properties"], **(body.get("properties") or {})},
        }
        written = self.emu.kinds.put(dataclasses.replace(write_of(req, self._id(req)), body=merged))
        return Response(200, identities.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, identities.document(self.emu.identities.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.identities.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([identities.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        rid = self._id(req)
        with self.emu.store.read() as tx:
            found = self.emu.identities.find(tx, rid)
        self.emu.kinds.begin_delete(rid, req.tenant_id)
        return Response(200 if found is not None else 204, None)


def register(router: Router, ctx: ProviderContext) -> None:
    p = IdentityProvider(ctx)
    api = api_of(identities.KIND)
    base = RG + "/userAssignedIdentities"
    router.add("GET", base, p.list, api=api)
    router.add("GET", SUB + "/userAssignedIdentities", p.list, api=api)
    router.add("PUT", base + "/{name}", p.put, api=api)
    router.add("PATCH", base + "/{name}", p.patch, api=api)
    router.add("GET", base + "/{name}", p.get, api=api)
    router.add("DELETE", base + "/{name}", p.delete, api=api)
