"""Microsoft.ManagedIdentity: user-assigned managed identities."""

from azemu.providers.managedidentity.routes import register

__all__ = ["register"]
