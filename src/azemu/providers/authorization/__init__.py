"""Microsoft.Authorization: Azure Policy definitions, set definitions, assignments and exemptions."""

from azemu.providers.authorization.routes import register

__all__ = ["register"]
