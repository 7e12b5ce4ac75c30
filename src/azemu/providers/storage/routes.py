"""Routes of Microsoft.Storage: storage accounts (create, show, list, keys, delete). Thin."""

from __future__ import annotations

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import storage_accounts
from azemu.providers.base import ProviderContext, api_of, listed, resource_id, write_of

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage"
SA = RG + "/storageAccounts/{accountName}"


class StorageProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request) -> str:
        return resource_id(req, storage_accounts.KIND, "accountName")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return Response(200, self.emu.storage_accounts.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.emu.storage_accounts.document(self.emu.storage_accounts.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.storage_accounts.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName")
        )
        return listed([self.emu.storage_accounts.document(r) for r in recs])

    def keys(self, req: Request) -> Response:
        return Response(200, self.emu.storage_accounts.keys(self._id(req)))

    def check_name(self, req: Request) -> Response:
        return Response(200, self.emu.storage_accounts.check_name(str(req.json_object().get("name") or "")))

    def delete(self, req: Request) -> Response:
        self.emu.kinds.begin_delete(self._id(req), req.tenant_id)
        return Response(200, None)


def register(router: Router, ctx: ProviderContext) -> None:
    p = StorageProvider(ctx)
    api = api_of(storage_accounts.KIND)
    router.add(
        "GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts", p.list, api=api
    )
    router.add("GET", RG + "/storageAccounts", p.list, api=api)
    router.add("PUT", SA, p.put, api=api)
    router.add("GET", SA, p.get, api=api)
    router.add("DELETE", SA, p.delete, api=api)
    router.add("POST", SA + "/listKeys", p.keys, api=api)
    router.add(
        "POST",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/checkNameAvailability",
        p.check_name,
        api=api,
    )
