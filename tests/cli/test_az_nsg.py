"""Network security groups with the real az CLI: `az vm create --nsg-rule NONE` makes a group that lets no SSH
in (nothing answers on the VM's address), `az network nsg rule create` opens port 22, `az network nsg rule delete`
closes it again; the rules read back as Azure shapes them."""

from __future__ import annotations

import pytest

from tests.conftest import requires_az
from tests.tools.toolkit import wait_port

pytestmark = [requires_az, pytest.mark.az]
RG = "nsgRG"


@pytest.fixture(scope="module")
def vm(azemu):
    if not azemu.ssh_port:
        pytest.skip("azemu serves no SSH here")
    azemu.az("group", "create", "-n", RG, "-l", "eastus", "-o", "none", check=True)
    azemu.az(
        "vm", "create", "-g", RG, "-n", "web", "--image", "Ubuntu2204", "--admin-username", "azureuser",
        "--admin-password", "Az3mu!Passw0rd", "--nsg-rule", "NONE", "-o", "none", check=True,
    )  # fmt: skip
    ip = azemu.az_json("vm", "show", "-d", "-g", RG, "-n", "web", "--query", "publicIps")
    return azemu, ip


def test_ssh_opens_and_closes_with_a_rule(vm):
    emu, ip = vm
    assert ip.startswith("127.")
    assert emu.az_json("network", "nsg", "rule", "list", "-g", RG, "--nsg-name", "webNSG") == []
    assert wait_port(ip, emu.ssh_port, closed=True, timeout=5), "SSH answers behind a group without port 22"

    rule = emu.az_json(
        "network", "nsg", "rule", "create", "-g", RG, "--nsg-name", "webNSG", "-n", "allow-ssh", "--priority",
        "1000", "--access", "Allow", "--protocol", "Tcp", "--direction", "Inbound", "--destination-port-ranges", "22",
    )  # fmt: skip
    assert rule["name"] == "allow-ssh" and rule["provisioningState"] == "Succeeded"
    assert rule["destinationPortRange"] == "22" and rule["access"] == "Allow"
    assert rule["id"].endswith("/networkSecurityGroups/webNSG/securityRules/allow-ssh")
    assert wait_port(ip, emu.ssh_port), "SSH stays closed although a rule allows port 22"
    shown = emu.az_json("network", "nsg", "rule", "show", "-g", RG, "--nsg-name", "webNSG", "-n", "allow-ssh")
    assert shown["priority"] == 1000
    # the group itself lists it beside Azure's default rules
    nsg = emu.az_json("network", "nsg", "show", "-g", RG, "-n", "webNSG")
    assert [r["name"] for r in nsg["securityRules"]] == ["allow-ssh"]
    assert "DenyAllInBound" in [r["name"] for r in nsg["defaultSecurityRules"]]

    # a rule with a lower priority number that denies port 22 wins
    emu.az_json(
        "network", "nsg", "rule", "create", "-g", RG, "--nsg-name", "webNSG", "-n", "deny-ssh", "--priority", "900",
        "--access", "Deny", "--protocol", "*", "--destination-port-ranges", "22",
    )  # fmt: skip
    assert wait_port(ip, emu.ssh_port, closed=True, timeout=5)
    emu.az("network", "nsg", "rule", "delete", "-g", RG, "--nsg-name", "webNSG", "-n", "deny-ssh", check=True)
    assert wait_port(ip, emu.ssh_port)
    missing = emu.az("network", "nsg", "rule", "show", "-g", RG, "--nsg-name", "webNSG", "-n", "deny-ssh")
    assert missing.returncode != 0 and "ResourceNotFound" in missing.stderr, missing.stderr
