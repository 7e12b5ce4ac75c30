"""Microsoft.Network: virtual networks, network security groups, public IPs, network interfaces."""

from azemu.providers.network.routes import register

__all__ = ["register"]
