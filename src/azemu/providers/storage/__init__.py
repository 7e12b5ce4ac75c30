"""Microsoft.Storage: storage accounts (the ARM face and the blobs a backup restore writes)."""

from azemu.providers.storage.routes import register

__all__ = ["register"]
