"""Microsoft.RecoveryServices: vaults, Azure Backup (routes.py) and Azure Site Recovery (asr_routes.py)."""

from azemu.arm.router import Router
from azemu.providers.base import ProviderContext
from azemu.providers.recoveryservices import asr_routes, routes


def register(router: Router, ctx: ProviderContext) -> None:
    routes.register(router, ctx)
    asr_routes.register(router, ctx)


__all__ = ["register"]
