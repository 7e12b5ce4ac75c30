"""The records the store keeps. Plain data: the domain decides what they mean."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TenantRecord:
    id: str
    display_name: str
    default_domain: str
    created_at: float


@dataclass
class SubscriptionRecord:
    id: str
    tenant_id: str
    display_name: str
    state: str = "Enabled"
    registrations: dict[str, str] = field(default_factory=dict)  # namespace (lower) -> state
    created_at: float = 0.0


@dataclass
class ServicePrincipalRecord:
    client_id: str
    tenant_id: str
    object_id: str
    display_name: str
    secret_sha256: str | None = None  # None: any secret accepted (the permissive default)


@dataclass
class ResourceRecord:
    """One ARM resource. ``key`` is the lower-cased id; ``id`` keeps the case of creation.

    ``body`` is the resource's ARM document as azemu keeps it (``tags``, ``properties``, ``sku`` ...: only
    what a client may see); ``internal`` holds what the platform knows and never shows (a VM's guest
    identity and agent state, an image's content source, a version's replication plan ...), typed per
    kind in the domain.
    """

    id: str
    type: str
    name: str
    subscription_id: str
    resource_group: str | None
    location: str | None
    state: str
    body: dict[str, Any]
    etag: str
    created_at: float
    changed_at: float
    parent_key: str | None = None
    internal: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass
class OperationRecord:
    """A long-running operation: persisted so that a restart can resume or end it."""

    id: str
    subscription_id: str
    kind: str
    family: str
    location: str
    status: str
    started_at: float
    due_at: float
    resource_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    error: dict[str, Any] | None = None
    finished_at: float | None = None
    tenant_id: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("Succeeded", "Failed", "Canceled")
