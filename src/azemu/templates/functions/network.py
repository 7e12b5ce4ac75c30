"""CIDR functions: ``parseCidr``, ``cidrSubnet``, ``cidrHost`` (ARM docs, "CIDR functions").

``parseCidr('10.144.0.0/20')`` gives network, netmask, broadcast (IPv4 only), firstUsable, lastUsable and cidr;
``cidrSubnet('10.144.0.0/20', 24, 3)`` the fourth /24 inside; ``cidrHost('10.144.3.0/24', 0)`` the first address
after the network address (``10.144.3.1``; the docs show the same for IPv6).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from ..errors import ExpressionError, see
from .table import Invocation, fn, want_int, want_str

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(name: str, text: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        # azemu wording
        raise ExpressionError(
            f"The template language function '{name}' expects its first parameter to be a network in CIDR notation. The "
            f"provided value '{text}' is not valid. {see()}"
        ) from None


@fn("parseCidr", 1, 1)
def parse_cidr(inv: Invocation, args: Sequence[Any]) -> Any:
    net = _network("parseCidr", want_str("parseCidr", args, 0))
    out: dict[str, Any] = {"network": str(net.network_address), "netmask": str(net.netmask)}
    if net.version == 4:
        out["broadcast"] = str(net.broadcast_address)
        small = net.prefixlen >= 31
        out["firstUsable"] = str(net.network_address if small else net.network_address + 1)
        out["lastUsable"] = str(net.broadcast_address if small else net.broadcast_address - 1)
    else:
        out["firstUsable"] = str(net.network_address)
        out["lastUsable"] = str(net.broadcast_address)
    out["cidr"] = net.prefixlen
    return out


@fn("cidrSubnet", 3, 3)
def cidr_subnet(inv: Invocation, args: Sequence[Any]) -> Any:
    net = _network("cidrSubnet", want_str("cidrSubnet", args, 0))
    new_prefix, index = want_int("cidrSubnet", args, 1), want_int("cidrSubnet", args, 2)
    count = 2 ** (new_prefix - net.prefixlen) if new_prefix >= net.prefixlen else 0
    if new_prefix > net.max_prefixlen or not 0 <= index < count:
        # azemu wording
        raise ExpressionError(
            f"The template language function 'cidrSubnet' cannot make subnet '{index}' of size '/{new_prefix}' inside "
            f"'{net}'. {see()}"
        )
    size = 2 ** (net.max_prefixlen - new_prefix)
    first = ipaddress.ip_address(int(net.network_address) + index * size)
    return f"{first}/{new_prefix}"


@fn("cidrHost", 2, 2)
def cidr_host(inv: Invocation, args: Sequence[Any]) -> Any:
    net = _network("cidrHost", want_str("cidrHost", args, 0))
    index = want_int("cidrHost", args, 1)
    address = int(net.network_address) + 1 + index
    if index < 0 or address > int(net.broadcast_address) - (1 if net.version == 4 else 0):
        # azemu wording
        raise ExpressionError(
            f"The template language function 'cidrHost' has no host '{index}' in '{net}'. {see()}"
        )
    return str(ipaddress.ip_address(address))


SPECS = [parse_cidr, cidr_subnet, cidr_host]
