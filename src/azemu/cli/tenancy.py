"""Tenants, subscriptions and service principals of the emulated Entra ID."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import RenderableType

from azemu.cli.common import Client, DataDirOpt, PortOpt, reported
from azemu.cli.output import Output, OutputOpt, emit, rows

tenant_app = typer.Typer(no_args_is_help=True, help="Tenants of azemu's emulated Entra ID.")
subscription_app = typer.Typer(no_args_is_help=True, help="Subscriptions, each owned by one tenant.")
principal_app = typer.Typer(
    no_args_is_help=True,
    help="Service principals: until one with a secret is configured for a tenant, any client id and secret "
    "is accepted there.",
)

TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Tenant id (default: the data directory's default tenant).")
]


def _one_or_many(columns: list[tuple[str, str]], empty: str) -> Any:
    def table(data: Any) -> RenderableType:
        return rows(data if isinstance(data, list) else [data], columns, empty=empty)

    return table


TENANTS = _one_or_many(
    [
        ("tenantId", "tenant"),
        ("displayName", "name"),
        ("defaultDomain", "domain"),
        ("subscriptions", "subscriptions"),
    ],
    "(no tenants)",
)
SUBSCRIPTIONS = _one_or_many(
    [("subscriptionId", "subscription"), ("displayName", "name"), ("tenantId", "tenant")],
    "(no subscriptions)",
)
PRINCIPALS = _one_or_many(
    [
        ("clientId", "client id"),
        ("displayName", "name"),
        ("objectId", "object id"),
        ("tenantId", "tenant"),
        ("hasSecret", "secret"),
    ],
    "(none configured: any client id and secret is accepted)",
)


def _tenant(client: Client, tenant: str | None) -> str:
    return tenant or client.data.defaults.tenant_id


@tenant_app.command("list")
def tenant_list(output: OutputOpt = Output.table, data_dir: DataDirOpt = None, port: PortOpt = 8443) -> None:
    """List tenants and their subscriptions."""
    with reported():
        emit(Client(data_dir, port).admin("GET", "/tenants")["value"], output, TENANTS)


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    domain: Annotated[
        str | None, typer.Option("--domain", help="Default domain (x.onmicrosoft.com).")
    ] = None,
    tenant_id: Annotated[
        str | None, typer.Option("--tenant-id", help="A GUID (random if not given).")
    ] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Create a tenant."""
    body: dict[str, Any] = {"displayName": name}
    if domain:
        body["domain"] = domain
    if tenant_id:
        body["tenantId"] = tenant_id
    with reported():
        emit(Client(data_dir, port).admin("POST", "/tenants", body), output, TENANTS)


@subscription_app.command("list")
def subscription_list(
    tenant: TenantOpt = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """List a tenant's subscriptions."""
    with reported():
        client = Client(data_dir, port)
        emit(
            client.admin("GET", f"/tenants/{_tenant(client, tenant)}/subscriptions")["value"],
            output,
            SUBSCRIPTIONS,
        )


@subscription_app.command("create")
def subscription_create(
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    tenant: TenantOpt = None,
    subscription_id: Annotated[
        str | None, typer.Option("--subscription-id", help="A GUID (random if not given).")
    ] = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Create a subscription in a tenant."""
    body: dict[str, Any] = {"displayName": name}
    if subscription_id:
        body["subscriptionId"] = subscription_id
    with reported():
        client = Client(data_dir, port)
        emit(
            client.admin("POST", f"/tenants/{_tenant(client, tenant)}/subscriptions", body),
            output,
            SUBSCRIPTIONS,
        )


@principal_app.command("list")
def principal_list(
    tenant: TenantOpt = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """List the service principals configured for a tenant."""
    with reported():
        client = Client(data_dir, port)
        emit(
            client.admin("GET", f"/tenants/{_tenant(client, tenant)}/servicePrincipals")["value"],
            output,
            PRINCIPALS,
        )


@principal_app.command("create")
def principal_create(
    client_id: Annotated[str, typer.Option("--client-id", help="The application (client) id.")],
    secret: Annotated[
        str | None, typer.Option("--secret", help="Its secret; without one, any is accepted.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    tenant: TenantOpt = None,
    output: OutputOpt = Output.table,
    data_dir: DataDirOpt = None,
    port: PortOpt = 8443,
) -> None:
    """Configure a service principal (from then on, unknown clients and wrong secrets are refused there)."""
    body: dict[str, Any] = {"clientId": client_id}
    if secret is not None:
        body["secret"] = secret
    if name:
        body["displayName"] = name
    with reported():
        client = Client(data_dir, port)
        created = client.admin("POST", f"/tenants/{_tenant(client, tenant)}/servicePrincipals", body)
        emit(created, output, PRINCIPALS)


def register(app: typer.Typer) -> None:
    app.add_typer(tenant_app, name="tenant")
    app.add_typer(subscription_app, name="subscription")
    app.add_typer(principal_app, name="principal")
