"""Tenants, subscriptions and service principals are data; a token only reaches its own tenant's subscriptions."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from azemu.clock.clock import Clock
from azemu.domain.errors import AzureError, InvalidAuthenticationTokenTenant, subscription_not_found
from azemu.domain.naming import is_guid
from azemu.state.records import ServicePrincipalRecord, SubscriptionRecord, TenantRecord
from azemu.state.store import Store, Txn

_OID_NAMESPACE = uuid.UUID("6f1d4c36-61c5-4b39-9f0a-2a6f6a7d0e51")


@dataclass(frozen=True)
class Defaults:
    """The identity a fresh data directory starts with (kept in ``identity.json``)."""

    tenant_id: str
    subscription_id: str
    client_id: str
    client_secret: str


class AadError(Exception):
    """An Entra ID (AAD) token-endpoint error, in AAD's own OAuth error format."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Tenancy:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._owner: dict[str, str] = {}  # subscription id -> tenant id (read on every ARM request)

    def forget_cache(self) -> None:
        self._owner.clear()

    def check_access(self, tenant_id: str, subscription_id: str) -> None:
        """Raise unless the caller's tenant owns the subscription (cached: this runs on every request)."""
        owner = self._owner.get(subscription_id.lower())
        if owner is None:
            owner = self.subscription_for(tenant_id, subscription_id).tenant_id.lower()
            self._owner[subscription_id.lower()] = owner
        if owner != tenant_id.lower():
            self.subscription_for(tenant_id, subscription_id)

    # set-up ----------------------------------------------------------------------------------------
    def ensure_defaults(self, d: Defaults) -> None:
        with self.store.transaction() as tx:
            if tx.get_tenant(d.tenant_id) is None:
                self._put_tenant(tx, d.tenant_id, "Default Directory", "azemu.onmicrosoft.com")
            if tx.get_subscription(d.subscription_id) is None:
                tx.put_subscription(
                    SubscriptionRecord(
                        d.subscription_id, d.tenant_id, "Azure subscription 1", created_at=self.clock.now()
                    )
                )

    def _put_tenant(self, tx: Txn, tenant_id: str, display_name: str, domain: str) -> TenantRecord:
        rec = TenantRecord(tenant_id, display_name, domain, self.clock.now())
        tx.put_tenant(rec)
        return rec

    def create_tenant(
        self, display_name: str, domain: str | None = None, tenant_id: str | None = None
    ) -> TenantRecord:
        tid = tenant_id or str(uuid.uuid4())
        if not is_guid(tid):
            raise AzureError("The tenant id must be a GUID.", code="InvalidTenantId", status=400)
        dom = domain or f"tenant{tid[:8]}.onmicrosoft.com"
        with self.store.transaction() as tx:
            for t in tx.list_tenants():
                if t.id.lower() == tid.lower() or t.default_domain.lower() == dom.lower():
                    raise AzureError(f"Tenant '{tid}' ({dom}) already exists.", code="Conflict", status=409)
            return self._put_tenant(tx, tid, display_name, dom)

    def create_subscription(
        self, tenant_id: str, display_name: str, subscription_id: str | None = None
    ) -> SubscriptionRecord:
        sid = subscription_id or str(uuid.uuid4())
        if not is_guid(sid):
            raise AzureError("The subscription id must be a GUID.", code="InvalidSubscriptionId", status=400)
        with self.store.transaction() as tx:
            if tx.get_tenant(tenant_id) is None:
                raise AzureError(f"Tenant '{tenant_id}' not found.", code="TenantNotFound", status=404)
            if tx.get_subscription(sid) is not None:
                raise AzureError(f"Subscription '{sid}' already exists.", code="Conflict", status=409)
            rec = SubscriptionRecord(sid, tenant_id.lower(), display_name, created_at=self.clock.now())
            tx.put_subscription(rec)
            return rec

    def add_service_principal(
        self, tenant_id: str, client_id: str, secret: str | None, display_name: str = ""
    ) -> ServicePrincipalRecord:
        with self.store.transaction() as tx:
            if tx.get_tenant(tenant_id) is None:
                raise AzureError(f"Tenant '{tenant_id}' not found.", code="TenantNotFound", status=404)
            rec = ServicePrincipalRecord(
                client_id=client_id,
                tenant_id=tenant_id.lower(),
                object_id=self.object_id(tenant_id, client_id),
                display_name=display_name or client_id,
                secret_sha256=_sha256(secret) if secret is not None else None,
            )
            tx.put_service_principal(rec)
            return rec

    # look-ups --------------------------------------------------------------------------------------
    @staticmethod
    def object_id(tenant_id: str, client_id: str) -> str:
        return str(uuid.uuid5(_OID_NAMESPACE, f"{tenant_id.lower()}/{client_id.lower()}"))

    def resolve_tenant(self, segment: str, default_tenant: str) -> TenantRecord:
        """A tenant named in an authority path: its id or one of its domains."""
        seg = segment.lower()
        with self.store.read() as tx:
            if seg in ("common", "organizations", "consumers"):
                found = tx.get_tenant(default_tenant)
            elif is_guid(seg):
                found = tx.get_tenant(seg)
            else:
                found = next((t for t in tx.list_tenants() if t.default_domain.lower() == seg), None)
        if found is None:
            raise AadError(
                400,
                "invalid_request",
                90002,
                f"AADSTS90002: Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        return found

    def authenticate_client(
        self, tenant: TenantRecord, client_id: str, secret: str
    ) -> ServicePrincipalRecord:
        """Client credentials: with no principal configured for the tenant any secret is accepted."""
        with self.store.read() as tx:
            configured = tx.list_service_principals(tenant.id)
            sp = next((p for p in configured if p.client_id.lower() == client_id.lower()), None)
        strict = any(p.secret_sha256 is not None for p in configured)
        if sp is None:
            if strict:
                raise AadError(
                    400,
                    "unauthorized_client",
                    700016,
                    f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                    f"'{tenant.default_domain}'.",
                )
            return ServicePrincipalRecord(
                client_id, tenant.id, self.object_id(tenant.id, client_id), client_id
            )
        if sp.secret_sha256 is not None and not hmac.compare_digest(sp.secret_sha256, _sha256(secret)):
            raise AadError(
                401,
                "invalid_client",
                7000215,
                f"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        return sp

    def owner_of(self, subscription_id: str) -> str | None:
        """The tenant a subscription belongs to (for ARM's 401 challenge, which names it), if it exists."""
        with self.store.read() as tx:
            sub = tx.get_subscription(subscription_id)
        return sub.tenant_id if sub is not None else None

    def service_principals(self, tenant_id: str) -> list[ServicePrincipalRecord]:
        with self.store.read() as tx:
            return tx.list_service_principals(tenant_id.lower())

    def strict(self, tenant_id: str) -> bool:
        """A tenant with principals configured with secrets accepts only those principals and secrets."""
        return any(p.secret_sha256 is not None for p in self.service_principals(tenant_id))

    def authenticate_certificate(self, tenant: TenantRecord, client_id: str) -> ServicePrincipalRecord:
        """A client certificate (JWT assertion) whose claims the token endpoint checked. azemu keeps no
        certificates: in a tenant whose principals are configured with secrets, no certificate is registered,
        and the assertion is refused as Entra ID refuses an unregistered certificate."""
        if self.strict(tenant.id):
            raise AadError(
                401,
                "invalid_client",
                700027,
                "AADSTS700027: The certificate with identifier used to sign the client assertion is not "
                f"registered on application '{client_id}'. (azemu's principals in this tenant authenticate "
                "with secrets.)",
            )
        return ServicePrincipalRecord(client_id, tenant.id, self.object_id(tenant.id, client_id), client_id)

    def tenants(self) -> list[TenantRecord]:
        with self.store.read() as tx:
            return tx.list_tenants()

    def subscriptions_of(self, tenant_id: str) -> list[SubscriptionRecord]:
        with self.store.read() as tx:
            return tx.list_subscriptions(tenant_id)

    def subscription_for(self, tenant_id: str, subscription_id: str) -> SubscriptionRecord:
        """The subscription, when the caller's tenant owns it; Azure's errors otherwise."""
        with self.store.read() as tx:
            sub = tx.get_subscription(subscription_id)
        if sub is None:
            raise subscription_not_found(subscription_id)
        if sub.tenant_id.lower() != tenant_id.lower():
            raise InvalidAuthenticationTokenTenant(
                f"The access token is from the wrong issuer 'https://sts.windows.net/{tenant_id}/'. It must match "
                f"the tenant 'https://sts.windows.net/{sub.tenant_id}/' associated with this subscription. Please "
                f"use the authority (URL) 'https://login.windows.net/{sub.tenant_id}' to get the token. Note, if "
                "the subscription is transferred to another tenant there is no impact to the services, but "
                "information about new tenant could take time to propagate (up to an hour). If you just "
                "transferred your subscription and see this error message, please try back later."
            )
        return sub

    def set_registration(self, subscription_id: str, namespace: str, state: str) -> SubscriptionRecord:
        with self.store.transaction() as tx:
            sub = tx.get_subscription(subscription_id)
            if sub is None:
                raise subscription_not_found(subscription_id)
            sub.registrations[namespace.lower()] = state
            tx.put_subscription(sub)
            return sub
