"""Scale-set, autoscale and CPU-load rules, driven without HTTP. Tables: add a row to extend them."""

from __future__ import annotations

import pytest

from azemu.clock.clock import Clock
from azemu.domain import autoscale, vmss_model
from azemu.domain.emulator import Emulator, Rules
from azemu.domain.errors import AzureError, InvalidParameter, OperationNotAllowed
from azemu.domain.kinds import Write
from azemu.domain.tenancy import Defaults
from azemu.domain.vmss_instances import Instances, info
from azemu.guest import cpuload
from azemu.guest.linux import base_guest
from azemu.state.records import ResourceRecord
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
BASE = f"/subscriptions/{SUB}/resourceGroups/rg/providers"
UBUNTU = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q me@x"


@pytest.mark.parametrize(
    ("capacity", "error"),
    [
        (0, None),
        (1000, None),
        (1001, "out of range"),
        (-1, "out of range"),
        ("x", "is not valid"),
        (None, "missing"),
    ],
)
def test_capacity(capacity, error):
    if error is None:
        assert vmss_model.capacity_of({"capacity": capacity}) == capacity
    else:
        with pytest.raises(InvalidParameter, match=error):
            vmss_model.capacity_of({"capacity": capacity})


@pytest.mark.parametrize(
    ("prefix", "os_type", "ok"),
    [
        ("web", "Windows", True),
        ("webfarm01", "Windows", True),
        ("webfarm012", "Windows", False),
        ("123", "Windows", False),
        ("a" * 58, "Linux", True),
        ("a" * 59, "Linux", False),
        ("", "Linux", True),
    ],
)
def test_computer_name_prefix(prefix, os_type, ok):
    profile = {"computerNamePrefix": prefix} if prefix else {}
    if ok:
        assert vmss_model.computer_name_prefix(profile, os_type, "ss") == (prefix or "ss")
    else:
        with pytest.raises(InvalidParameter, match="Computer name prefix"):
            vmss_model.computer_name_prefix(profile, os_type, "ss")


@pytest.mark.parametrize(
    ("n", "name"), [(0, "web000000"), (35, "web00000Z"), (36, "web000010"), (1295, "web0000ZZ")]
)
def test_uniform_computer_names_are_the_instance_id_in_base_36(n, name):
    assert vmss_model.uniform_computer_name("web", n) == name


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        (UBUNTU, {**UBUNTU, "version": "22.04.202411190"}, True),
        (
            {"id": "/s/x/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"},
            {"id": "/s/x/providers/Microsoft.Compute/galleries/g/images/d/versions/1.1.0"},
            True,
        ),
        (UBUNTU, {"id": "/s/x/providers/Microsoft.Compute/images/img"}, False),
        ({"id": "/s/x/providers/Microsoft.Compute/images/img"}, UBUNTU, False),
    ],
)
def test_the_image_type_of_a_scale_set_may_not_change(old, new, allowed):
    if allowed:
        vmss_model.check_image_change(old, new)
    else:
        with pytest.raises(OperationNotAllowed, match="may not be changed"):
            vmss_model.check_image_change(old, new)


def _members(created: list[float], protected: tuple[int, ...] = ()) -> list[ResourceRecord]:
    out = []
    for i, at in enumerate(created):
        rec = ResourceRecord(
            f"/x/virtualMachines/{i}", "t", str(i), SUB, "rg", "eastus", "running", {}, "", at, at
        )
        info(rec).update(instanceId=str(i), created=at)
        if i in protected:
            info(rec)["protection"] = {"protectFromScaleIn": True}
        out.append(rec)
    return out


@pytest.mark.parametrize(
    ("rule", "protected", "removed"),
    [
        ("NewestVM", (), ["3", "2"]),
        ("OldestVM", (), ["0", "1"]),
        ("Default", (), ["3", "2"]),
        ("NewestVM", (3,), ["2", "1"]),
        ("OldestVM", (0, 1), ["2", "3"]),
    ],
)
def test_scale_in_policy(rule, protected, removed):
    chosen = Instances.choose_for_scale_in(_members([10, 20, 30, 40], protected), 2, {"rules": [rule]})
    assert [info(m)["instanceId"] for m in chosen] == removed


@pytest.mark.parametrize(
    ("action", "value", "current", "direction", "expected"),
    [
        ("ChangeCount", 2, 3, "Increase", 5),
        ("ChangeCount", 2, 9, "Increase", 10),
        ("ChangeCount", 1, 2, "Decrease", 2),
        ("PercentChangeCount", 50, 4, "Increase", 6),
        ("PercentChangeCount", 10, 4, "Increase", 5),
        ("ExactCount", 7, 3, "Increase", 7),
        ("ChangeCount", 1, 4, "Decrease", 3),
    ],
)
def test_scale_action_counts(action, value, current, direction, expected):
    rule = autoscale.Rule(
        "Percentage CPU", "", 60, "Average", 300, "Average", "GreaterThan", 70, direction, action, value, 300
    )
    assert autoscale.target_count(current, rule, 2, 10) == expected


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "met"),
    [
        (71, "GreaterThan", 70, True),
        (70, "GreaterThan", 70, False),
        (70, "GreaterThanOrEqual", 70, True),
        (29, "LessThan", 30, True),
        (30, "LessThanOrEqual", 30, True),
        (5, "NotEquals", 5, False),
    ],
)
def test_rule_operators(value, operator, threshold, met):
    assert autoscale.compare(value, operator, threshold) is met


def test_busy_processes_make_the_cpu_percentage_and_end_on_the_clock():
    guest = base_guest("ubuntu-22.04", 0.0)
    cpuload.start(guest, "stress-ng", 2.0, 100.0, 300.0)
    cpuload.start(guest, "yes", 1.0, 400.0, None)
    procs = cpuload.processes(guest)
    assert cpuload.percent(procs, 2, 100, 160) == 100.0  # capped
    assert cpuload.percent(procs, 4, 100, 160) == pytest.approx(51.2)
    assert cpuload.percent(procs, 2, 400, 460) == pytest.approx(51.2)
    assert cpuload.percent(procs, 2, 40, 100) == pytest.approx(cpuload.IDLE_PERCENT)
    assert cpuload.stop(guest, 500.0, name="yes") == 1
    assert cpuload.percent(cpuload.processes(guest), 2, 500, 560) == pytest.approx(cpuload.IDLE_PERCENT)
    cpuload.start(guest, "yes", 1.0, 600.0, None)
    cpuload.stop_all(guest, 630.0)  # a boot
    assert cpuload.running(guest, 631.0) == []


@pytest.fixture(params=["azure", "textbook"])
def emu(request) -> Emulator:
    e = Emulator(SqliteStore(None), Clock(), DEFAULTS, rules=Rules(request.param))
    e.resource_groups.create_or_update(SUB, "rg", "eastus", None, None)
    e.kinds.put(
        Write(
            f"{BASE}/Microsoft.Network/virtualNetworks/vn",
            {
                "location": "eastus",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.0.0/24"}}],
                },
            },
            None,
        )
    )
    return e


def _vmss_body(capacity: int, os_profile: dict | None, image: dict) -> dict:
    profile: dict = {
        "storageProfile": {"imageReference": image},
        "networkProfile": {
            "networkInterfaceConfigurations": [
                {
                    "name": "nic",
                    "properties": {
                        "primary": True,
                        "ipConfigurations": [
                            {
                                "name": "ip",
                                "properties": {
                                    "subnet": {"id": f"{BASE}/Microsoft.Network/virtualNetworks/vn/subnets/s"}
                                },
                            }
                        ],
                    },
                }
            ]
        },
    }
    if os_profile is not None:
        profile["osProfile"] = os_profile
    return {
        "location": "eastus",
        "sku": {"name": "Standard_D2s_v5", "capacity": capacity},
        "properties": {
            "orchestrationMode": "Flexible",
            "platformFaultDomainCount": 1,
            "virtualMachineProfile": profile,
        },
    }


LINUX_PROFILE = {
    "adminUsername": "azureuser",
    "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": KEY}]},
    },
}


def test_flexible_needs_a_fault_domain_count_and_a_generalized_image_an_os_profile(emu):
    body = _vmss_body(1, LINUX_PROFILE, UBUNTU)
    del body["properties"]["platformFaultDomainCount"]
    with pytest.raises(InvalidParameter, match="'platformFaultDomainCount' is missing"):
        emu.kinds.put(Write(f"{BASE}/Microsoft.Compute/virtualMachineScaleSets/a", body, None))
    with pytest.raises(InvalidParameter, match="'osProfile' is missing"):
        emu.kinds.put(
            Write(f"{BASE}/Microsoft.Compute/virtualMachineScaleSets/b", _vmss_body(1, None, UBUNTU), None)
        )


def test_a_specialized_source_refuses_an_os_profile_and_textbook_refuses_the_scale_set(emu):
    vm_body = {
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"imageReference": UBUNTU},
            "osProfile": {**LINUX_PROFILE, "computerName": "gold"},
            "networkProfile": {
                "networkInterfaces": [{"id": f"{BASE}/Microsoft.Network/networkInterfaces/n"}]
            },
        },
    }
    emu.kinds.put(
        Write(
            f"{BASE}/Microsoft.Network/networkInterfaces/n",
            {
                "location": "eastus",
                "properties": {
                    "ipConfigurations": [
                        {
                            "name": "ip",
                            "properties": {
                                "subnet": {"id": f"{BASE}/Microsoft.Network/virtualNetworks/vn/subnets/s"}
                            },
                        }
                    ]
                },
            },
            None,
        )
    )
    vm = emu.kinds.put(Write(f"{BASE}/Microsoft.Compute/virtualMachines/gold", vm_body, None)).record
    emu.kinds.put(Write(f"{BASE}/Microsoft.Compute/galleries/g", {"location": "eastus"}, None))
    emu.kinds.put(
        Write(
            f"{BASE}/Microsoft.Compute/galleries/g/images/d",
            {
                "location": "eastus",
                "properties": {
                    "osType": "Linux",
                    "osState": "Specialized",
                    "hyperVGeneration": "V2",
                    "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                },
            },
            None,
        )
    )
    version = emu.kinds.put(
        Write(
            f"{BASE}/Microsoft.Compute/galleries/g/images/d/versions/1.0.0",
            {"location": "eastus", "properties": {"storageProfile": {"source": {"virtualMachineId": vm.id}}}},
            None,
        )
    ).record
    rid = f"{BASE}/Microsoft.Compute/virtualMachineScaleSets/spec"
    with pytest.raises(InvalidParameter, match=r"Parameter 'osProfile' is not allowed\."):
        emu.kinds.put(Write(rid, _vmss_body(2, LINUX_PROFILE, {"id": version.id}), DEFAULTS.tenant_id))
    if emu.rules.textbook:
        with pytest.raises(OperationNotAllowed, match="textbook"):
            emu.kinds.put(Write(rid, _vmss_body(2, None, {"id": version.id}), DEFAULTS.tenant_id))
        return
    emu.kinds.put(Write(rid, _vmss_body(2, None, {"id": version.id}), DEFAULTS.tenant_id))
    kinds = {g["kind"] for g in emu.vms.identity_conflicts([SUB])}
    assert {"computerName", "machineId", "sshHostKey"} <= kinds


def test_scale_out_and_in_through_a_put_of_sku_only(emu):
    rid = f"{BASE}/Microsoft.Compute/virtualMachineScaleSets/web"
    emu.kinds.put(Write(rid, _vmss_body(2, LINUX_PROFILE, UBUNTU), None))
    emu.kinds.put(Write(rid, {"location": "eastus", "sku": {"name": "Standard_D2s_v5", "capacity": 4}}, None))
    _, members = emu.scale_sets.members(rid)
    assert len(members) == 4 and len({m.internal["identity"]["machineId"] for m in members}) == 4
    emu.kinds.put(Write(rid, {"location": "eastus", "sku": {"capacity": 1}}, None))
    _, members = emu.scale_sets.members(rid)
    assert len(members) == 1
    with pytest.raises(AzureError, match=r"Changing property 'orchestrationMode' is not allowed\."):
        emu.kinds.put(
            Write(rid, {"location": "eastus", "properties": {"orchestrationMode": "Uniform"}}, None)
        )
