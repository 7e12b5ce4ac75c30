"""Nothing a client sends is silently dropped: for every property a client may send to every served kind
(the spec artifact's writable leaves, ``shapes.writable_leaves``), a PUT that sets it either stores it and
returns it, or is refused with an error - never accepted and lost.

Generated from the shapes: a property added to the specs is covered without a new line. What is not a
plain round trip is a line in a table with its reason: a value azemu checks (``SAMPLES`` gives a valid one,
``VALIDATED`` says why any sample is refused), a property that is never shown (``SECRET``), one the
platform computes over what was sent (``COMPUTED``). ``docs/azure-differences.md`` lists what is stored and
returned without azemu acting on it; test_accepted_and_ignored_list_is_current checks that list.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from azemu.clock.clock import Clock
from azemu.domain import honoured, shapes
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError
from azemu.domain.kinds import Write
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
CP = f"{RG}/providers/Microsoft.Compute"
NP = f"{RG}/providers/Microsoft.Network"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "azure-differences.md"

NIC = f"{NP}/networkInterfaces/nic"
VNET = f"{NP}/virtualNetworks/vnet"
LINUX = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}


def vm_body(name: str) -> dict[str, Any]:
    return {
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
            "storageProfile": {"imageReference": dict(LINUX), "osDisk": {"createOption": "FromImage"}},
            "osProfile": {
                "computerName": "vm",
                "adminUsername": "azureuser",
                "adminPassword": "Az3mu!Passw0rd",
            },
            "networkProfile": {"networkInterfaces": [{"id": f"{NIC}-{name}"}]},
        },
    }


# kind -> (id of the resource each case PUTs, a valid body without the property under test)
BASES: dict[str, tuple[str, Any]] = {
    "Microsoft.Compute/virtualMachines": (f"{CP}/virtualMachines/vm", vm_body),
    "Microsoft.Compute/disks": (
        f"{CP}/disks/d",
        lambda n: {
            "location": "eastus",
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8},
        },
    ),
    "Microsoft.Compute/snapshots": (
        f"{CP}/snapshots/s",
        lambda n: {
            "location": "eastus",
            "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": f"{CP}/disks/source"}
            },
        },
    ),
    "Microsoft.Compute/images": (
        f"{CP}/images/i",
        lambda n: {
            "location": "eastus",
            "properties": {
                "storageProfile": {
                    "osDisk": {
                        "osType": "Linux",
                        "osState": "Generalized",
                        "managedDisk": {"id": f"{CP}/disks/source"},
                    }
                }
            },
        },
    ),
    "Microsoft.Compute/availabilitySets": (f"{CP}/availabilitySets/a", lambda n: {"location": "eastus"}),
    "Microsoft.Compute/galleries": (f"{CP}/galleries/g", lambda n: {"location": "eastus"}),
    "Microsoft.Compute/galleries/images": (
        f"{CP}/galleries/base/images/d",
        lambda n: {
            "location": "eastus",
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "hyperVGeneration": "V1",
                "identifier": {"publisher": "p", "offer": f"o{n}", "sku": "s"},
            },
        },
    ),
    "Microsoft.Compute/galleries/images/versions": (
        f"{CP}/galleries/base/images/linux/versions/1.0.0",
        lambda n: {
            "location": "eastus",
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": "eastus"}]},
                "storageProfile": {"osDiskImage": {"source": {"id": f"{CP}/snapshots/source"}}},
            },
        },
    ),
    "Microsoft.Compute/virtualMachines/extensions": (
        f"{CP}/virtualMachines/host/extensions/e",
        lambda n: {
            "location": "eastus",
            "properties": {
                "publisher": "Microsoft.Azure.Extensions",
                "type": "CustomScript",
                "typeHandlerVersion": "2.1",
            },
        },
    ),
    "Microsoft.Network/networkSecurityGroups": (
        f"{NP}/networkSecurityGroups/n",
        lambda n: {"location": "eastus", "properties": {"securityRules": [{"name": "rule"}]}},
    ),
    "Microsoft.Network/publicIPAddresses": (f"{NP}/publicIPAddresses/p", lambda n: {"location": "eastus"}),
    "Microsoft.Compute/virtualMachineScaleSets": (
        f"{CP}/virtualMachineScaleSets/ss",
        lambda n: {
            "location": "eastus",
            "sku": {"name": "Standard_D2s_v3", "capacity": 1},
            "properties": {
                "orchestrationMode": "Uniform",
                "upgradePolicy": {"mode": "Manual"},
                "virtualMachineProfile": {
                    "storageProfile": {
                        "imageReference": dict(LINUX),
                        "osDisk": {"createOption": "FromImage"},
                    },
                    "osProfile": {
                        "computerNamePrefix": "ss",
                        "adminUsername": "azureuser",
                        "adminPassword": "Az3mu!Passw0rd",
                    },
                    "networkProfile": {
                        "networkInterfaceConfigurations": [
                            {
                                "name": "nic",
                                "properties": {
                                    "primary": True,
                                    "ipConfigurations": [
                                        {"name": "ip", "properties": {"subnet": {"id": f"{VNET}/subnets/s"}}}
                                    ],
                                },
                            }
                        ]
                    },
                },
            },
        },
    ),
}

# a value azemu accepts, where it checks what it is given (path -> value)
SAMPLES: dict[str, Any] = {
    "location": "eastus",
    "properties.hardwareProfile.vmSize": "Standard_D4s_v3",
    "properties.osProfile.computerName": "samplevm",
    "properties.osProfile.adminUsername": "sampleuser",
    "properties.osProfile.linuxConfiguration.ssh.publicKeys[].keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVGpHjNg5tgrhtC0AbpvFxeN8gpEyl5pvHWuDs5Hc8p me",
    "properties.osProfile.linuxConfiguration.ssh.publicKeys[].path": "/home/azureuser/.ssh/authorized_keys",
    "properties.userData": "aGVsbG8=",
    "properties.osProfile.customData": "aGVsbG8=",
    "properties.storageProfile.osDisk.diskSizeGB": 64,
    "properties.storageProfile.osDisk.name": "sample-osdisk",
    "properties.diskSizeGB": 16,
    "properties.platformFaultDomainCount": 2,
    "properties.platformUpdateDomainCount": 3,
    "properties.typeHandlerVersion": "2.1",
    "properties.publisher": "Microsoft.Azure.Extensions",
    "properties.type": "CustomScript",
    "properties.publishingProfile.replicaCount": 1,
    "properties.publishingProfile.targetRegions[].name": "East US",
    "properties.publishingProfile.targetRegions[].regionalReplicaCount": 1,
    "properties.publishingProfile.endOfLifeDate": "2099-01-01T00:00:00+00:00",
    "properties.identifier.publisher": "p",
    "properties.identifier.offer": "sampleoffer",
    "properties.identifier.sku": "s",
    "properties.osType": "Linux",
    "properties.osState": "Generalized",
    "properties.hyperVGeneration": "V1",
    "properties.architecture": "x64",
    # a scale set's model
    "properties.virtualMachineProfile.osProfile.adminPassword": "Az3mu!Sample1",
    "properties.virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys[].keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVGpHjNg5tgrhtC0AbpvFxeN8gpEyl5pvHWuDs5Hc8p me",
    "properties.virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys[].path": "/home/azureuser/.ssh/authorized_keys",
    "properties.virtualMachineProfile.osProfile.customData": "aGVsbG8=",
}

# refused for any made-up sample, because azemu checks it (path prefix -> why)
VALIDATED: dict[str, str] = {
    "properties.availabilitySet": "must name an existing availability set",
    "properties.proximityPlacementGroup": "must name an existing proximity placement group (not served)",
    "properties.host": "must name an existing dedicated host (not served)",
    "properties.hostGroup": "must name an existing dedicated host group (not served)",
    "properties.virtualMachineScaleSet": "must name an existing scale set (not served on this branch)",
    "properties.capacityReservation.capacityReservationGroup": "must name an existing capacity reservation group",
    "properties.storageProfile.osDisk.vhd": "blob-based (unmanaged) disks are not served",
    "properties.storageProfile.osDisk.image": "blob-based (unmanaged) disks are not served",
    "properties.storageProfile.dataDisks[]": "a data disk is made from its createOption, lun and source",
    "properties.storageProfile.imageReference": "must name an image that exists",
    "properties.storageProfile.osDisk.createOption": "FromImage and Attach are served; the sample is Empty",
    "properties.networkProfile.networkInterfaces[].id": "must name an existing network interface",
    "properties.networkProfile.networkApiVersion": "NIC configurations (VM-made NICs) are not served",
    "properties.networkProfile.networkInterfaceConfigurations": "NIC configurations are not served",
    "properties.osProfile.adminPassword": "checked for Azure's complexity rules",
    "properties.osProfile.windowsConfiguration": "the sample VM is Linux: Windows settings are refused",
    "properties.creationData": "a disk is made from its creation data, which must name a real source",
    "properties.encryption.diskEncryptionSetId": "disk encryption sets are not served",
    "properties.publishingProfile.targetRegions[].encryption": "disk encryption sets are not served",
    "properties.storageProfile": "a version is made from its source",
    "properties.sourceVirtualMachine": "must name a generalized VM",
    "properties.diskAccessId": "disk accesses are not served",
    "properties.securityProfile.secureVMDiskEncryptionSetId": "disk encryption sets are not served",
    "properties.osProfile.linuxConfiguration.disablePasswordAuthentication": "true needs an SSH public key",
    "properties.osProfile.linuxConfiguration.ssh.publicKeys[].path": "a key needs its keyData",
    # a scale set (the sample base is a Uniform set from a platform image)
    "properties.orchestrationMode": "Flexible needs platformFaultDomainCount; the sample base is Uniform",
    "properties.virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication": "true needs an SSH public key",
    "properties.virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys[].path": "a key needs its keyData",
    "properties.virtualMachineProfile.storageProfile.imageReference": "must name an image that exists",
    "properties.virtualMachineProfile.storageProfile.osDisk.image": "blob-based (unmanaged) disks are not served",
    "properties.virtualMachineProfile.storageProfile.osDisk.createOption": "FromImage is served; the sample is Restore",
}

# never shown in a GET, as Azure (path -> where it shows instead)
SECRET: dict[str, str] = {
    "properties.osProfile.customData": "never shown",
    "properties.userData": "only with $expand=userData",
    "properties.protectedSettings": "never shown",
    "properties.virtualMachineProfile.osProfile.adminPassword": "never shown",
    "properties.virtualMachineProfile.osProfile.customData": "never shown",
}

# the platform's value is shown, not what was sent (path -> why)
COMPUTED: dict[str, str] = {
    "properties.storageProfile.osDisk.osType": "the image's OS type",
    "properties.diskSizeBytes": "from diskSizeGB",
    "properties.publishingProfile.targetRegions[].name": "shown as the region's display name",
    "properties.virtualMachines": "the VMs in a set are those whose availabilitySet names it",
    "properties.storageProfile.osDisk.managedDisk.id": "with FromImage, the VM makes its own OS disk",
    "id": "a resource's id is its URL (the Network specs let a body carry one; ARM ignores it)",
    "properties.ipAddress": "the platform allocates addresses",
    "properties.securityRules[].id": "a rule's id is its URL",
}


def _sample(path: str, prop: shapes.Prop) -> Any:
    if path in SAMPLES:
        return SAMPLES[path]
    t = prop.type
    while t[0] in "[{" and t != "{string}":
        t = t[1:-1]
    if t.startswith("E:"):
        return list(shapes.models().enums[t[2:]].values())[-1]
    return {
        "string": "azemu-sample",
        "int": 2,
        "float": 2.5,
        "bool": True,
        "any": {"sample": "value"},
        "{string}": {"sample": "value"},
        "date-time": "2099-01-01T00:00:00+00:00",
        "duration": "PT45M",
        "date": "2099-01-01",
        "byte": "aGVsbG8=",
    }.get(t, "azemu-sample")


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    steps = path.replace("[]", ".[]").replace(".*", ".*").split(".")
    node: Any = body
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        nxt = steps[i + 1] if not last else None
        if step == "[]":
            if not node:
                node.append({} if nxt not in (None, "[]") else None)
            if last:
                node[0] = value
                return
            if node[0] is None:
                node[0] = {}
            node = node[0]
            continue
        if step == "*":
            node = node.setdefault("sample", {})
            continue
        if last:
            node[step] = value
            return
        if not isinstance(node.get(step), dict | list):
            node[step] = [] if nxt == "[]" else {}
        node = node[step]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for step in path.replace("[]", ".[]").split("."):
        if step == "[]":
            if not isinstance(node, list) or not node:
                return _MISSING
            node = node[0]
        elif step == "*":
            if not isinstance(node, dict) or "sample" not in node:
                return _MISSING
            node = node["sample"]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node


_MISSING = object()


def _prefixed(path: str, table: dict[str, str]) -> str | None:
    return next((k for k in table if path == k or path.startswith(k + ".") or path.startswith(k + "[")), None)


def cases() -> list[tuple[str, str]]:
    out = []
    for kind in BASES:
        for path, _prop in shapes.writable_leaves(shapes.kind_shape(kind)):
            out.append((kind, path))
    return out


@pytest.fixture(scope="module")
def emu() -> Emulator:
    e = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    e.resource_groups.create_or_update(SUB, "rg", "eastus", None, None)
    put = e.kinds.put
    put(
        Write(
            VNET,
            {
                "location": "eastus",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.0.0/20"}}],
                },
            },
            None,
        )
    )
    put(
        Write(
            f"{CP}/disks/source",
            {
                "location": "eastus",
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8, "osType": "Linux"},
            },
            None,
        )
    )
    put(
        Write(
            f"{CP}/snapshots/source",
            {
                "location": "eastus",
                "properties": {
                    "creationData": {"createOption": "Copy", "sourceResourceId": f"{CP}/disks/source"}
                },
            },
            None,
        )
    )
    put(Write(f"{CP}/galleries/base", {"location": "eastus"}, None))
    put(
        Write(
            f"{CP}/galleries/base/images/linux",
            {
                "location": "eastus",
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "hyperVGeneration": "V1",
                    "identifier": {"publisher": "p", "offer": "linux", "sku": "s"},
                },
            },
            None,
        )
    )
    e.kinds.put(Write(f"{NIC}-host", _nic(), None))
    put(Write(f"{CP}/virtualMachines/host", vm_body("host"), None))
    return e


def _nic() -> dict[str, Any]:
    return {
        "location": "eastus",
        "properties": {
            "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": f"{VNET}/subnets/s"}}}]
        },
    }


COUNTER = iter(range(1_000_000))


@pytest.mark.parametrize(("kind", "path"), cases(), ids=lambda v: v)
def test_every_property_is_kept_or_refused(emu, kind, path):
    rid, make = BASES[kind]
    n = next(COUNTER)
    rid = f"{rid}{n}"
    if kind == "Microsoft.Compute/virtualMachines":
        emu.kinds.put(Write(f"{NIC}-{n}", _nic(), None))
    body = copy.deepcopy(make(n))
    prop = dict(shapes.writable_leaves(shapes.kind_shape(kind)))[path]
    value = _sample(path, prop)
    _set(body, path, value)
    if kind == "Microsoft.Compute/galleries/images/versions":
        rid = rid.replace("/versions/1.0.0", "/versions/1.0.") + str(n)
    try:
        written = emu.kinds.put(
            Write(rid, body, DEFAULTS.tenant_id, api_version=shapes.kind_shape(kind).spec_version)
        )
    except AzureError as err:
        assert 400 <= err.status < 500, f"{path}: {err.status} {err.message}"
        assert _prefixed(path, VALIDATED), (
            f"{kind} {path} = {value!r} was refused ({err.code}: {err.message}); give a valid value in SAMPLES, "
            "or say in VALIDATED why azemu refuses any made-up one"
        )
        return
    doc = emu.kinds.document(written.record)
    shown = _get(doc, path)
    if _prefixed(path, SECRET):
        assert shown is _MISSING, f"{path} must never be shown"
        return
    if _prefixed(path, COMPUTED):
        return
    assert shown is not _MISSING, f"{kind}: {path} = {value!r} was accepted and dropped"
    assert shown == value or (isinstance(value, str) and str(shown).lower() == value.lower()), (
        f"{kind}: {path} = {value!r} came back as {shown!r}"
    )


# the list of what is accepted and stored without effect ---------------------------------------------------
START, END = "<!-- accepted-and-ignored:start -->", "<!-- accepted-and-ignored:end -->"


def accepted_and_ignored() -> str:
    """The docs section: per served kind, the spec properties azemu stores and returns but does not act on
    (the writable leaves that are neither honoured (domain/honoured.py) nor refused), grouped."""
    lines = []
    for kind in BASES:
        leaves = [p for p, _ in shapes.writable_leaves(shapes.kind_shape(kind))]
        ignored = [p for p in leaves if not honoured.acts_on(kind, p) and not _prefixed(p, VALIDATED)]
        groups: dict[str, int] = {}
        for p in ignored:
            parts = re.split(r"\.(?![^\[]*\])", p)
            key = ".".join(parts[:3]) if len(parts) > 3 else p
            groups[key] = groups.get(key, 0) + 1
        shown = ", ".join(f"`{k}`" + (f" ({v})" if v > 1 else "") for k, v in sorted(groups.items()))
        lines.append(f"- **{kind}**: {shown}")
    return "\n".join(lines)


def test_accepted_and_ignored_list_is_current():
    text = DOCS.read_text()
    assert START in text and END in text, f"{DOCS} needs the {START} … {END} section"
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    expected = accepted_and_ignored()
    assert current == expected, (
        "docs/azure-differences.md's accepted-and-ignored list is out of date; run "
        "`python -m tests.unit.test_roundtrip` to rewrite it"
    )


if __name__ == "__main__":  # rewrite the docs section
    text = DOCS.read_text()
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    DOCS.write_text(f"{before}{START}\n{accepted_and_ignored()}\n{END}{after}")
    print(f"rewrote the accepted-and-ignored list in {DOCS}")
