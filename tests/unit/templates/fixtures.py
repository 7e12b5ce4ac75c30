"""Shared fixtures of the template tests: small templates and a context with a few deployed resources."""

from __future__ import annotations

from typing import Any

from azemu.templates.testing import SUBSCRIPTION, FakeContext

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SUB_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
RG_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/myRG"


def template(**sections: Any) -> dict[str, Any]:
    """A template with the given sections (``resources`` defaults to an empty array)."""
    out: dict[str, Any] = {"$schema": SCHEMA, "contentVersion": "1.0.0.0"}
    out.update(sections)
    out.setdefault("resources", [])
    return out


def rid(rtype: str, *names: str) -> str:
    """A resource id in the fixture resource group."""
    types = rtype.split("/")
    parts = [types[0]]
    for t, n in zip(types[1:], names, strict=True):
        parts += [t, n]
    return f"{RG_ID}/providers/{'/'.join(parts)}"


def context() -> FakeContext:
    ctx = FakeContext()
    ctx.put(
        rid("Microsoft.Storage/storageAccounts", "existingsa"),
        {
            "location": "eastus",
            "properties": {
                "provisioningState": "Succeeded",
                "primaryEndpoints": {"blob": "https://existingsa.blob.core.windows.net/"},
            },
        },
    )
    ctx.providers["microsoft.compute"] = {
        "namespace": "Microsoft.Compute",
        "resourceTypes": [
            {
                "resourceType": "virtualMachines",
                "locations": ["West US 2", "North Central US"],
                "apiVersions": ["2024-07-01"],
                "zoneMappings": [
                    {"location": "West US 2", "zones": ["2", "1", "3"]},
                    {"location": "North Central US", "zones": []},
                ],
            }
        ],
    }
    return ctx
