"""Response shapes for Microsoft.Resources, as Azure returns them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from azemu.domain import apiversions, regions
from azemu.state.records import SubscriptionRecord, TenantRecord

DEFAULT_REGISTERED = frozenset(
    {"microsoft.resources", "microsoft.compute", "microsoft.network", "microsoft.authorization"}
)


def subscription(sub: SubscriptionRecord) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub.id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.id,
        "tenantId": sub.tenant_id,
        "displayName": sub.display_name,
        "state": sub.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def tenant(t: TenantRecord) -> dict[str, Any]:
    return {
        "id": f"/tenants/{t.id}",
        "tenantId": t.id,
        "countryCode": "US",
        "displayName": t.display_name,
        "domains": [t.default_domain],
        "tenantCategory": "Home",
        "defaultDomain": t.default_domain,
        "tenantType": "AAD",
    }


def location(sub_id: str, region: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        k: region[k]
        for k in (
            "regionType",
            "regionCategory",
            "geography",
            "geographyGroup",
            "longitude",
            "latitude",
            "physicalLocation",
        )
        if k in region
    }
    meta["pairedRegion"] = [
        {"name": p, "id": f"/subscriptions/{sub_id}/locations/{p}"} for p in region.get("pairedRegion", [])
    ]
    return {
        "id": f"/subscriptions/{sub_id}/locations/{region['name']}",
        "name": region["name"],
        "type": "Region",
        "displayName": region["displayName"],
        "regionalDisplayName": region.get("regionalDisplayName", region["displayName"]),
        "metadata": meta,
    }


# Resource provider namespaces that exist in Azure (beside those azemu serves): ARM answers a request for
# one of them, when the subscription is not registered for it, with MissingSubscriptionRegistration; any
# other namespace is InvalidResourceNamespace. (Well-known namespaces; extend the list as users meet more.)
AZURE_NAMESPACES = frozenset(
    n.lower()
    for n in [
        "Microsoft.AAD",
        "Microsoft.Advisor",
        "Microsoft.AlertsManagement",
        "Microsoft.ApiManagement",
        "Microsoft.App",
        "Microsoft.AppConfiguration",
        "Microsoft.Attestation",
        "Microsoft.Automation",
        "Microsoft.AVS",
        "Microsoft.Batch",
        "Microsoft.Billing",
        "Microsoft.BotService",
        "Microsoft.Cache",
        "Microsoft.Cdn",
        "Microsoft.CognitiveServices",
        "Microsoft.Consumption",
        "Microsoft.ContainerInstance",
        "Microsoft.ContainerRegistry",
        "Microsoft.ContainerService",
        "Microsoft.CostManagement",
        "Microsoft.Databricks",
        "Microsoft.DataFactory",
        "Microsoft.DataLakeStore",
        "Microsoft.DataProtection",
        "Microsoft.DBforMariaDB",
        "Microsoft.DBforMySQL",
        "Microsoft.DBforPostgreSQL",
        "Microsoft.DesktopVirtualization",
        "Microsoft.DevCenter",
        "Microsoft.DevTestLab",
        "Microsoft.Devices",
        "Microsoft.DocumentDB",
        "Microsoft.EventGrid",
        "Microsoft.EventHub",
        "Microsoft.ExtendedLocation",
        "Microsoft.Features",
        "Microsoft.GuestConfiguration",
        "Microsoft.HybridCompute",
        "Microsoft.Insights",
        "Microsoft.KeyVault",
        "Microsoft.Kusto",
        "Microsoft.Logic",
        "Microsoft.MachineLearningServices",
        "Microsoft.Maintenance",
        "Microsoft.ManagedIdentity",
        "Microsoft.ManagedServices",
        "Microsoft.Management",
        "Microsoft.Maps",
        "Microsoft.Marketplace",
        "Microsoft.Monitor",
        "Microsoft.NetApp",
        "Microsoft.Notebooks",
        "Microsoft.OperationalInsights",
        "Microsoft.OperationsManagement",
        "Microsoft.Portal",
        "Microsoft.PolicyInsights",
        "Microsoft.RecoveryServices",
        "Microsoft.RedHatOpenShift",
        "Microsoft.Relay",
        "Microsoft.ResourceGraph",
        "Microsoft.ResourceHealth",
        "Microsoft.Search",
        "Microsoft.Security",
        "Microsoft.SecurityInsights",
        "Microsoft.ServiceBus",
        "Microsoft.ServiceFabric",
        "Microsoft.SignalRService",
        "Microsoft.Sql",
        "Microsoft.SqlVirtualMachine",
        "Microsoft.Storage",
        "Microsoft.StorageSync",
        "Microsoft.StreamAnalytics",
        "Microsoft.Synapse",
        "Microsoft.VirtualMachineImages",
        "Microsoft.Web",
    ]
)


def namespaces() -> dict[str, str]:
    """lower-case namespace -> its canonical spelling, for every namespace azemu serves."""
    names = {key[0]: spelled[0] for key, spelled in apiversions.spellings().items()}
    names["microsoft.authorization"] = "Microsoft.Authorization"
    return names


def alias_view(aliases: Mapping[str, str]) -> list[dict[str, Any]]:
    """A type's policy aliases as ``$expand=resourceTypes/aliases`` shows them."""
    return [
        {"name": name, "paths": [], "type": "NotSpecified", "defaultPath": path}
        for name, path in sorted(aliases.items(), key=lambda kv: kv[0].lower())
    ]


def provider(
    namespace: str, sub: SubscriptionRecord | None, aliases: Callable[[str], Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """The provider document; ``aliases`` (type -> its policy aliases) when the client expands them."""
    ns_lower = namespace.lower()
    ns = namespaces()[ns_lower]
    display = [r["displayName"] for r in regions.all_regions()]
    types = []
    raw = apiversions.table()
    for (tns, rtype), versions in sorted(raw.items()):
        if tns != ns_lower:
            continue
        spelled = apiversions.spellings()[(tns, rtype)][1]
        types.append(
            {
                "resourceType": spelled,
                "locations": [] if spelled.startswith("locations") else display,
                "apiVersions": list(versions),
                "defaultApiVersion": versions[0],
                "capabilities": "None",
            }
        )
        if aliases is not None:
            types[-1]["aliases"] = alias_view(aliases(f"{ns}/{spelled}"))
    body: dict[str, Any] = {"namespace": ns, "resourceTypes": types}
    if sub is None:
        body["id"] = f"/providers/{ns}"
    else:
        body["id"] = f"/subscriptions/{sub.id}/providers/{ns}"
        default = "Registered" if ns_lower in DEFAULT_REGISTERED else "NotRegistered"
        body["registrationState"] = sub.registrations.get(ns_lower, default)
        body["registrationPolicy"] = "RegistrationRequired"
    return body
