"""Network security groups as Azure evaluates them for inbound SSH (domain/nsg.py): a table of rule sets and
flows with the verdict; a newcomer adds a line. Rules are written ``priority access source dest port [protocol]``
(``-`` for no group at all)."""

from __future__ import annotations

import pytest

from azemu.domain import nsg
from azemu.domain.network import _default_rules

PUBLIC = nsg.Flow(from_internet=True, private_ip="10.0.0.4", address="127.1.0.5")
PRIVATE = nsg.Flow(from_internet=False, private_ip="127.20.0.4", address="127.20.0.4")


def group(spec: str) -> dict | None:
    if spec == "-":
        return None
    rules = []
    for i, line in enumerate(r for r in spec.split(";") if r.strip()):
        prio, access, src, dst, port, *proto = line.split()
        rules.append({"name": f"r{i}", "properties": {
            "priority": int(prio), "access": access, "direction": "Inbound", "protocol": proto[0] if proto else "Tcp",
            "sourceAddressPrefix": src, "destinationAddressPrefix": dst, "sourcePortRange": "*",
            "destinationPortRange": port,
        }})  # fmt: skip
    return {"properties": {"securityRules": rules, "defaultSecurityRules": _default_rules("/nsg")}}


# (subnet's group, NIC's group, flow, allowed?)
CASES = [
    ("-", "-", PUBLIC, True),  # no group anywhere: everything comes in
    ("-", "", PUBLIC, False),  # a group with no rules: DenyAllInBound
    ("-", "", PRIVATE, True),  # ... but AllowVnetInBound lets the virtual network in
    ("-", "1000 Allow * * 22", PUBLIC, True),  # az vm create's default-allow-ssh
    ("-", "1000 Allow Internet * 22", PUBLIC, True),
    ("-", "1000 Allow VirtualNetwork * 22", PUBLIC, False),
    ("-", "1000 Allow * * 3389", PUBLIC, False),  # the RDP rule does not open SSH
    ("-", "1000 Allow * * 20-30", PUBLIC, True),
    ("-", "1000 Allow * * 22 Udp", PUBLIC, False),
    ("-", "1000 Allow * * 22 *", PUBLIC, True),
    ("-", "1000 Allow 127.0.0.0/8 * 22", PUBLIC, True),  # the client's own address range
    ("-", "1000 Allow 203.0.113.0/24 * 22", PUBLIC, False),
    ("-", "1000 Allow * 10.0.0.4/32 22", PUBLIC, True),  # destination: the NIC's private IP
    ("-", "1000 Allow * 10.9.0.0/16 22", PUBLIC, False),
    ("-", "100 Deny * * 22; 1000 Allow * * 22", PUBLIC, False),  # the lower priority number wins
    ("-", "1000 Deny * * 22; 100 Allow * * 22", PUBLIC, True),
    ("", "1000 Allow * * 22", PUBLIC, False),  # the subnet's group must allow too
    ("1000 Allow * * 22", "", PUBLIC, False),  # ... and the NIC's
    ("1000 Allow * * 22", "-", PUBLIC, True),
    ("1000 Allow * * 22", "1000 Allow * * *", PUBLIC, True),
]


@pytest.mark.parametrize(("subnet", "nic", "flow", "verdict"), CASES)
def test_inbound_verdicts(subnet, nic, flow, verdict):
    assert nsg.allowed([group(subnet), group(nic)], flow) is verdict


def test_plural_forms_are_read():
    g = {"properties": {"securityRules": [{"properties": {
        "priority": 100, "access": "Allow", "direction": "Inbound", "protocol": "Tcp",
        "sourceAddressPrefixes": ["198.51.100.0/24", "127.0.0.1/32"], "destinationAddressPrefix": "*",
        "destinationPortRanges": ["80", "22"],
    }}], "defaultSecurityRules": _default_rules("/nsg")}}  # fmt: skip
    assert nsg.allowed([g], PUBLIC)
