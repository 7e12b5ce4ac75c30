"""Routes and handlers of Microsoft.Resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.arm.router import Router
from azemu.domain import ids, regions
from azemu.domain.errors import AzureError, InvalidResourceNamespace, resource_group_not_found
from azemu.domain.resourcegroups import document as group_document
from azemu.domain.resources import Resources, parse_filter, parse_tags
from azemu.providers.base import ProviderContext, body_of, write_of
from azemu.providers.resources import views

RES = "Microsoft.Resources"


class ResourcesProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx
        self.emu = ctx.emulator

    # metadata / tenancy ------------------------------------------------------------------------------
    def metadata_endpoints(self, req: Request) -> Response:
        """The cloud's endpoints: one object, or (api-version 2019-05-01, as Azure) the list of clouds."""
        cloud = self._cloud(req.scheme_host)
        if req.query.get("api-version") == "2019-05-01":
            return Response(200, [cloud])
        return Response(200, cloud)

    @staticmethod
    def _cloud(ep: str) -> dict[str, Any]:
        return {
            "name": "AzEmu",
            "portal": f"{ep}/_azemu/portal",
            "galleryEndpoint": f"{ep}/",
            "graph": f"{ep}/",
            "microsoftGraphResourceId": f"{ep}/",
            "resourceManager": f"{ep}/",
            "authentication": {
                "loginEndpoint": ep,
                "audiences": [
                    f"{ep}/",
                    "https://management.azure.com/",
                    "https://management.core.windows.net/",
                ],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "graphAudience": f"{ep}/",
            "media": f"{ep}/",
            "batch": f"{ep}/",
            "sqlManagement": f"{ep}/",
            "activeDirectoryDataLake": f"{ep}/",
            "suffixes": {
                "acrLoginServer": "azurecr.io",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "storageSyncEndpointSuffix": "afs.azure.net",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            },
        }

    def list_tenants(self, req: Request) -> Response:
        tenants = [t for t in self.emu.tenancy.tenants() if t.id.lower() == req.tenant_id.lower()]
        return Response(200, {"value": [views.tenant(t) for t in tenants]})

    def list_subscriptions(self, req: Request) -> Response:
        subs = self.emu.tenancy.subscriptions_of(req.tenant_id)
        return Response(
            200,
            {"value": [views.subscription(s) for s in subs], "count": {"type": "Total", "value": len(subs)}},
        )

    def get_subscription(self, req: Request) -> Response:
        sub = self.emu.tenancy.subscription_for(req.tenant_id, req.params["subscriptionId"])
        return Response(200, views.subscription(sub))

    def list_locations(self, req: Request) -> Response:
        sub = req.params["subscriptionId"]
        return Response(200, {"value": [views.location(sub, r) for r in regions.all_regions()]})

    # providers ---------------------------------------------------------------------------------------
    def _namespace(self, req: Request) -> str:
        ns = req.params["namespace"]
        if ns.lower() not in views.namespaces():
            raise InvalidResourceNamespace(f"The resource namespace '{ns}' is invalid.")
        return ns

    def _aliases(self, req: Request) -> Callable[[str], Mapping[str, str]] | None:
        """The kinds' policy aliases, when the request expands ``resourceTypes/aliases``."""
        if "aliases" not in (req.query.get("$expand") or "").lower():
            return None

        def of(full_type: str) -> Mapping[str, str]:
            kind = self.emu.kinds.get(full_type)
            return kind.spec.aliases if kind is not None else {}

        return of

    def list_providers_tenant(self, req: Request) -> Response:
        al = self._aliases(req)
        return Response(200, {"value": [views.provider(ns, None, al) for ns in sorted(views.namespaces())]})

    def get_provider_tenant(self, req: Request) -> Response:
        return Response(200, views.provider(self._namespace(req), None, self._aliases(req)))

    def list_providers(self, req: Request) -> Response:
        sub = self.emu.tenancy.subscription_for(req.tenant_id, req.params["subscriptionId"])
        al = self._aliases(req)
        return Response(200, {"value": [views.provider(ns, sub, al) for ns in sorted(views.namespaces())]})

    def get_provider(self, req: Request) -> Response:
        ns = self._namespace(req)
        sub = self.emu.tenancy.subscription_for(req.tenant_id, req.params["subscriptionId"])
        return Response(200, views.provider(ns, sub, self._aliases(req)))

    def register_provider(self, req: Request) -> Response:
        ns = self._namespace(req)
        sub = self.emu.tenancy.set_registration(req.params["subscriptionId"], ns, "Registered")
        return Response(200, views.provider(ns, sub))

    def unregister_provider(self, req: Request) -> Response:
        ns = self._namespace(req)
        sub = self.emu.tenancy.set_registration(req.params["subscriptionId"], ns, "Unregistered")
        return Response(200, views.provider(ns, sub))

    # resource groups ---------------------------------------------------------------------------------
    def put_group(self, req: Request) -> Response:
        # through the registry, like every PUT: Azure Policy evaluates resource groups too (mode All)
        rid = ids.resource_group_id(req.params["subscriptionId"], req.params["resourceGroupName"])
        written = self.emu.kinds.put(write_of(req, rid))
        rec = written.record
        return Response(201 if written.created else 200, group_document(rec), headers={"ETag": rec.etag})

    def get_group(self, req: Request) -> Response:
        rec = self.emu.resource_groups.get_group(
            req.params["subscriptionId"], req.params["resourceGroupName"]
        )
        return Response(200, group_document(rec), headers={"ETag": rec.etag})

    def head_group(self, req: Request) -> Response:
        try:
            self.emu.resource_groups.get_group(req.params["subscriptionId"], req.params["resourceGroupName"])
        except AzureError as err:
            return Response(err.status, None)
        return Response(204, None)

    def patch_group(self, req: Request) -> Response:
        body = body_of(req, {"tags": dict, "managedBy": str})
        patch = dict(body)
        if "tags" in body:
            patch["tags"] = parse_tags(body["tags"])
        rec = self.emu.resource_groups.update(
            req.params["subscriptionId"],
            req.params["resourceGroupName"],
            patch,
            if_match=req.header("if-match"),
        )
        return Response(200, group_document(rec), headers={"ETag": rec.etag})

    def delete_group(self, req: Request) -> Response:
        name = req.params["resourceGroupName"]
        op = self.emu.resource_groups.begin_delete_group(
            req.params["subscriptionId"], name, req.tenant_id, if_match=req.header("if-match")
        )
        if op is None:
            raise resource_group_not_found(name)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    def list_groups(self, req: Request) -> Response:
        clauses = parse_filter(req.query.get("$filter"))
        groups = self.emu.resource_groups.list(req.params["subscriptionId"])
        tag_name = next((c.value.lower() for c in clauses if c.field == "tagName"), None)
        tag_value = next((c.value.lower() for c in clauses if c.field == "tagValue"), None)

        def keep(tags: dict[str, str]) -> bool:
            if tag_name is None:
                return True
            match = {k.lower(): v.lower() for k, v in tags.items()}
            return tag_name in match and (tag_value is None or match[tag_name] == tag_value)

        items = [group_document(g) for g in groups if keep(g.body.get("tags") or {})]
        top = req.query.get("$top")
        if top and top.isdigit():
            items = items[: int(top)]
        return Response(200, {"value": items})

    # generic resources -------------------------------------------------------------------------------
    def list_resources(self, req: Request) -> Response:
        rg = req.params.get("resourceGroupName")
        if rg is not None:
            self.emu.resource_groups.get_group(req.params["subscriptionId"], rg)
        recs = self.emu.resources.list(req.params["subscriptionId"], rg, req.query.get("$filter"))
        items = [Resources.generic_view(r) for r in recs]
        top = req.query.get("$top")
        if top and top.isdigit():
            items = items[: int(top)]
        return Response(200, {"value": items})


def register(router: Router, ctx: ProviderContext) -> None:
    p = ResourcesProvider(ctx)
    sub = "/subscriptions/{subscriptionId}"
    rg = sub + "/resourcegroups/{resourceGroupName}"
    router.add("GET", "/metadata/endpoints", p.metadata_endpoints, api=None, auth=False)
    router.add("GET", "/tenants", p.list_tenants, api=(RES, "tenants"))
    router.add("GET", "/subscriptions", p.list_subscriptions, api=(RES, "subscriptions"))
    router.add("GET", sub, p.get_subscription, api=(RES, "subscriptions"))
    router.add("GET", sub + "/locations", p.list_locations, api=(RES, "locations"))
    router.add("GET", "/providers", p.list_providers_tenant, api=(RES, "providers"))
    router.add("GET", "/providers/{namespace}", p.get_provider_tenant, api=(RES, "providers"))
    router.add("GET", sub + "/providers", p.list_providers, api=(RES, "providers"))
    router.add("GET", sub + "/providers/{namespace}", p.get_provider, api=(RES, "providers"))
    router.add("POST", sub + "/providers/{namespace}/register", p.register_provider, api=(RES, "providers"))
    router.add(
        "POST", sub + "/providers/{namespace}/unregister", p.unregister_provider, api=(RES, "providers")
    )
    router.add("GET", sub + "/resourcegroups", p.list_groups, api=(RES, "resourceGroups"))
    router.add("PUT", rg, p.put_group, api=(RES, "resourceGroups"))
    router.add("GET", rg, p.get_group, api=(RES, "resourceGroups"))
    router.add("HEAD", rg, p.head_group, api=(RES, "resourceGroups"))
    router.add("PATCH", rg, p.patch_group, api=(RES, "resourceGroups"))
    router.add("DELETE", rg, p.delete_group, api=(RES, "resourceGroups"))
    router.add("GET", rg + "/resources", p.list_resources, api=(RES, "resources"))
    router.add("GET", sub + "/resources", p.list_resources, api=(RES, "resources"))
