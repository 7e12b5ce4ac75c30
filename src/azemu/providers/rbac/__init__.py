"""Microsoft.Authorization's RBAC: role assignments and role definitions (Azure Policy has its own provider)."""

from azemu.providers.rbac.routes import register

__all__ = ["register"]
