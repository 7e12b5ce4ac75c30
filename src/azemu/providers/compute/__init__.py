"""Microsoft.Compute: virtual machines, disks, platform images."""

from azemu.providers.compute.routes import register

__all__ = ["register"]
