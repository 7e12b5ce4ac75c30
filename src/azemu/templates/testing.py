"""An in-memory :class:`~azemu.templates.context.DeploymentContext` for tests and benchmarks.

It stands in for the domain: resources "deployed" with :meth:`FakeContext.put` are what ``reference()`` returns,
``list*()`` answers come from :attr:`FakeContext.list_results`, providers from :attr:`FakeContext.providers`, and
the clock and GUIDs are fixed so results are reproducible. Resources this deployment will create can be declared
``pending`` to make ``reference()`` raise :class:`NotYetDeployed` (what-if).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .context import DeploymentInfo, ResourceGroupInfo, SubscriptionInfo
from .errors import NotYetDeployed

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def azemu_environment(host: str = "localhost:8443") -> dict[str, Any]:
    """``environment()`` as azemu answers it: AzureCloud's shape with azemu's own endpoints."""
    base = f"https://{host}"
    return {
        "name": "AzureCloud",
        "gallery": f"{base}/",
        "graph": f"{base}/",
        "portal": f"{base}/",
        "graphAudience": f"{base}/",
        "activeDirectoryDataLake": f"{base}/",
        "batch": f"{base}/",
        "media": f"{base}/",
        "sqlManagement": f"{base}/",
        "vmImageAliasDoc": f"{base}/aliases.json",
        "resourceManager": f"{base}/",
        "authentication": {
            "loginEndpoint": f"{base}/",
            "audiences": [f"{base}/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "azureDatalakeStoreFileSystem": "azuredatalakestore.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net",
        },
    }


@dataclass
class FakeContext:
    """A deterministic deployment context."""

    subscription: SubscriptionInfo | None = field(
        default_factory=lambda: SubscriptionInfo(SUBSCRIPTION, TENANT, "Azemu")
    )
    resource_group: ResourceGroupInfo | None = field(
        default_factory=lambda: ResourceGroupInfo(SUBSCRIPTION, "myRG", "eastus", {"env": "test"})
    )
    deployment: DeploymentInfo = field(default_factory=lambda: DeploymentInfo("deployment1"))
    tenant_id: str = TENANT
    clock: datetime = field(default_factory=lambda: datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Deployed resources by lower-case id: their full GET bodies."""
    pending: set[str] = field(default_factory=set)
    """Lower-case ids this deployment will create: ``reference()`` raises :class:`NotYetDeployed` for them."""
    list_results: dict[str, Any] = field(default_factory=dict)
    """``list*()`` answers by ``"<lower-case id>/<action lower-case>"``."""
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``providers()`` answers by lower-case namespace."""
    calls: list[tuple[str, str]] = field(default_factory=list)
    _guids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- helpers for tests ------------------------------------------------------------------------------------

    def put(self, resource_id: str, body: Mapping[str, Any]) -> None:
        """Record a deployed resource (its GET body)."""
        stored = dict(body)
        stored.setdefault("id", resource_id)
        self.resources[resource_id.lower()] = stored
        self.pending.discard(resource_id.lower())

    # --- DeploymentContext ------------------------------------------------------------------------------------

    def environment(self) -> Mapping[str, Any]:
        return azemu_environment()

    def reference(self, resource_id: str, api_version: str | None, full: bool) -> Any:
        self.calls.append(("reference", resource_id))
        key = resource_id.lower()
        if key in self.pending:
            raise NotYetDeployed(resource_id)
        if key not in self.resources:
            raise LookupError(f"The Resource '{resource_id}' was not found.")
        body = self.resources[key]
        return dict(body) if full else body.get("properties", {})

    def list_action(self, resource_id: str, action: str, api_version: str | None, body: Any) -> Any:
        self.calls.append((action, resource_id))
        key = resource_id.lower()
        if key in self.pending:
            raise NotYetDeployed(resource_id)
        return self.list_results.get(
            f"{key}/{action.lower()}", {"keys": [{"keyName": "key1", "value": "secret"}]}
        )

    def provider(self, namespace: str, resource_type: str | None) -> Mapping[str, Any]:
        info = self.providers.get(namespace.lower(), {"namespace": namespace, "resourceTypes": []})
        if resource_type is None:
            return dict(info)
        for rt in info.get("resourceTypes", []):
            if str(rt.get("resourceType", "")).lower() == resource_type.lower():
                return dict(rt)
        return {"resourceType": resource_type, "locations": [], "apiVersions": []}

    def now(self) -> datetime:
        return self.clock

    def new_guid(self) -> str:
        return str(uuid.UUID(int=next(self._guids)))
