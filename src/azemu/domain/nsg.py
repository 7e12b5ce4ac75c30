"""Network security groups as Azure evaluates them for traffic coming in to a network interface: the subnet's
group first, then the NIC's, each by its rules in priority order (its own rules, then Azure's defaults) - the
first rule that matches decides, and both groups must allow. No group on either means allowed.

azemu asks this for the one inbound flow it serves: a client on this machine opening TCP 22 (SSH) to a VM's
address. A public IP is reached from the ``Internet`` (the client is 127.0.0.1); a private address in a virtual
network is reached from inside the ``VirtualNetwork``."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CLIENT = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True)
class Flow:
    """One inbound connection: where it comes from, where it goes (the NIC's private IP and the address the
    client used), which port and protocol."""

    from_internet: bool
    private_ip: str
    address: str
    port: int = 22
    protocol: str = "Tcp"


def allowed(groups: Sequence[dict[str, Any] | None], flow: Flow) -> bool:
    """Does every network security group on the path (subnet's, NIC's; ``None`` for none) let ``flow`` in?"""
    return all(group is None or _verdict(group, flow) for group in groups)


def _verdict(group: dict[str, Any], flow: Flow) -> bool:
    props = group.get("properties") or {}
    rules = [
        r.get("properties") or {}
        for r in [*(props.get("securityRules") or []), *(props.get("defaultSecurityRules") or [])]
    ]
    inbound = sorted(
        (r for r in rules if str(r.get("direction", "")).lower() == "inbound"),
        key=lambda r: int(r.get("priority") or 65535),
    )
    for rule in inbound:
        if _matches(rule, flow):
            return str(rule.get("access", "")).lower() == "allow"
    return False


def _matches(rule: dict[str, Any], flow: Flow) -> bool:
    protocol = str(rule.get("protocol") or "*").lower()
    if protocol not in ("*", flow.protocol.lower()):
        return False
    if not any(_port_in(p, flow.port) for p in _many(rule, "destinationPortRange")):
        return False
    if not any(_source_in(p, flow) for p in _many(rule, "sourceAddressPrefix")):
        return False
    return any(_destination_in(p, flow) for p in _many(rule, "destinationAddressPrefix"))


def _many(rule: dict[str, Any], key: str) -> Iterable[str]:
    """A rule's ``…Prefix``/``…Range`` and its plural list form, whichever it uses."""
    one = rule.get(key)
    several = rule.get(key + ("es" if key.endswith("Prefix") else "s")) or []
    return [str(v) for v in ([one] if one not in (None, "") else []) + list(several)]


def _port_in(spec: str, port: int) -> bool:
    spec = spec.strip()
    if spec == "*":
        return True
    low, _, high = spec.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _in_cidr(prefix: str, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False


def _source_in(prefix: str, flow: Flow) -> bool:
    tag = prefix.strip().lower()
    if tag in ("*", "any"):
        return True
    if tag == "internet":
        return flow.from_internet
    if tag == "virtualnetwork":
        return not flow.from_internet
    return _in_cidr(prefix, CLIENT)


def _destination_in(prefix: str, flow: Flow) -> bool:
    tag = prefix.strip().lower()
    if tag in ("*", "any", "virtualnetwork"):
        return True
    return any(_in_cidr(prefix, a) for a in (flow.private_ip, flow.address) if a)
