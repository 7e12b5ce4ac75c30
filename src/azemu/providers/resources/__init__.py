"""Microsoft.Resources: metadata, tenants, subscriptions, locations, providers, resource groups, resources."""

from azemu.providers.resources.routes import register

__all__ = ["register"]
