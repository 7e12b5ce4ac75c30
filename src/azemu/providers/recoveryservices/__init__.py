"""Microsoft.RecoveryServices: vaults, Azure Backup (routes.py) and Azure Site Recovery (asr_routes.py)."""

from azemu.providers.recoveryservices.routes import register

__all__ = ["register"]
