"""What the template engine asks of the world: the :class:`DeploymentContext` protocol the domain implements.

The engine never reaches into azemu's state. Everything outside the template comes through a context:
the tenant, subscription and resource group the deployment targets (``resourceGroup()``, ``subscription()``,
``tenant()``, ids built by ``resourceId()``), the deployment itself (``deployment()``), the cloud's endpoints
(``environment()``), deployed resources (``reference()``, ``list*()``), resource providers (``providers()``,
``pickZones()``), and the clock and GUID source (``utcNow()``, ``newGuid()``) so tests are deterministic.

``reference`` and ``list_action`` may raise :class:`~azemu.templates.errors.NotYetDeployed` for a resource the
deployment will create but has not yet (what-if); any other exception they raise (the domain's own "not found")
propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SubscriptionInfo:
    """``subscription()``: ``{"id", "subscriptionId", "tenantId", "displayName"}``."""

    subscription_id: str
    tenant_id: str
    display_name: str = ""

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.display_name,
        }


@dataclass(frozen=True)
class ResourceGroupInfo:
    """``resourceGroup()``: id, name, type, location, managedBy (only when set), tags, provisioning state."""

    subscription_id: str
    name: str
    location: str
    tags: Mapping[str, str] = field(default_factory=dict)
    managed_by: str | None = None

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.name}"

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
        }
        if self.managed_by:
            out["managedBy"] = self.managed_by
        out["tags"] = dict(self.tags)
        out["properties"] = {"provisioningState": "Succeeded"}
        return out


@dataclass(frozen=True)
class DeploymentInfo:
    """The deployment being run: ``deployment()`` returns ``{"name", "properties", "location"?}``.

    ``properties`` is merged over what the engine fills in itself (``template`` with its ``$schema``,
    ``contentVersion`` and ``metadata``, ``templateHash``, ``parameters``, ``mode``, ``provisioningState``);
    put ``templateLink`` there for a deployment made from a link.
    """

    name: str
    location: str | None = None
    mode: str = "Incremental"
    properties: Mapping[str, Any] = field(default_factory=dict)


class DeploymentContext(Protocol):
    """The world a deployment runs in; implemented by the domain (and by :class:`FakeContext` in tests)."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def subscription(self) -> SubscriptionInfo | None:
        """The target subscription; ``None`` for a tenant-scope deployment."""
        ...

    @property
    def resource_group(self) -> ResourceGroupInfo | None:
        """The target resource group; ``None`` for a subscription-scope deployment."""
        ...

    @property
    def deployment(self) -> DeploymentInfo: ...

    def environment(self) -> Mapping[str, Any]:
        """``environment()``: the cloud's name and endpoints (azemu's own)."""
        ...

    def reference(self, resource_id: str, api_version: str | None, full: bool) -> Any:
        """``reference()``: the resource's ``properties`` (``full=False``) or its whole GET body (``full=True``)."""
        ...

    def list_action(self, resource_id: str, action: str, api_version: str | None, body: Any) -> Any:
        """``listKeys()`` and every other ``list*()``: POST ``{resource_id}/{action}``."""
        ...

    def provider(self, namespace: str, resource_type: str | None) -> Mapping[str, Any]:
        """``providers()``: the provider (``{"namespace", "resourceTypes": [...]}``) or one of its resource types
        (``{"resourceType", "locations", "apiVersions", "zoneMappings"?}``)."""
        ...

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        ...

    def new_guid(self) -> str: ...
