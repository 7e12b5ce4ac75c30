"""Replaying Microsoft's REST API examples against azemu, each with its prerequisites created first.

An example names resources (the NIC a VM uses, the image it boots from, the snapshot a disk copies, the
availability set it joins ...). ``World.ensure`` creates whatever an id names, as a user would, before the
example's own request is sent: a generalized VM and its capture for an image, a gallery, definition and
version for a gallery image, a VM with the disk attached for a disk whose example shows ``managedBy`` ...

References to resource types azemu deliberately does not serve cannot be created: they are taken out of
the request (``strip_unserved``) and the paths that go with them are reported, each with its reason
(``UNSERVED``), so that the test can check the answer for everything else.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from tests import vmkit

PASSWORD = vmkit.WIN_PASSWORD
API = {
    "compute": "2025-04-01",
    "disk": "2025-01-02",
    "gallery": "2025-03-03",
    "network": "2024-05-01",
    "resources": "2024-11-01",
}

# resource types (lower case, below providers/) azemu does not serve, and why
UNSERVED = {
    "microsoft.storage/storageaccounts": "azemu serves no storage accounts (blob-based disks, boot "
    "diagnostics storage and VHD imports need one)",
    "microsoft.compute/proximityplacementgroups": "proximity placement groups are not served (no physical "
    "placement to model)",
    "microsoft.compute/diskencryptionsets": "disk encryption sets are not served (no customer-managed keys)",
    # (one example spells the type in the singular)
    "microsoft.compute/diskencryptionset": "disk encryption sets are not served (no customer-managed keys)",
    "microsoft.compute/galleries/applications/versions": "gallery applications are not served",
    "microsoft.compute/hostgroups": "dedicated hosts are not served",
    "microsoft.compute/hostgroups/hosts": "dedicated hosts are not served",
    "microsoft.compute/capacityreservationgroups": "capacity reservations are not served",
    "microsoft.keyvault/vaults": "Key Vault is not served",
    "microsoft.managedidentity/userassignedidentities": "managed identities are not served",
    "microsoft.compute/virtualmachinescalesets": "scale sets are served on the scale-set branch, not this one",
    "microsoft.network/applicationsecuritygroups": "application security groups are not served",
}
BLOB = "blob.core.windows.net"
BLOB_REASON = UNSERVED["microsoft.storage/storageaccounts"]

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SPECIAL = {
    "subscription-id": None,  # filled in
    "subscriptionId": None,
    "your-password": PASSWORD,
    "your-username": "azureuser",
}


def concrete(value: Any, sub: str) -> Any:
    """The example with its ``{placeholders}`` filled in: the subscription, a password, or the name the
    placeholder spells (``{existing-nic-name}`` -> ``existing-nic-name``)."""
    if isinstance(value, dict):
        return {k: concrete(v, sub) for k, v in value.items()}
    if isinstance(value, list):
        return [concrete(v, sub) for v in value]
    if isinstance(value, str):

        def fill(m: re.Match[str]) -> str:
            token = m.group(1)
            if token in ("subscription-id", "subscriptionId"):
                return sub
            special = _SPECIAL.get(token)
            return special if special else re.sub(r"[^A-Za-z0-9-]", "", token)

        value = _PLACEHOLDER.sub(fill, value)
        # an id in another (made-up) subscription names one in this one
        return re.sub(r"(?i)^(/?subscriptions/)[^/]+", lambda m: m.group(1) + sub, value)
    return value


def type_of(rid: str) -> str:
    """``microsoft.compute/galleries/images`` from an id (lower case)."""
    parts = [p for p in rid.split("/") if p]
    low = [p.lower() for p in parts]
    if "providers" not in low:
        return "resourcegroups" if len(parts) == 4 else ""
    i = len(low) - 1 - low[::-1].index("providers")
    rest = parts[i + 1 :]
    return "/".join([rest[0], *rest[1::2]]).lower()


_SPELLING = {
    w.lower(): w
    for w in [
        "subscriptions",
        "resourceGroups",
        "providers",
        "galleries",
        "images",
        "versions",
        "virtualMachines",
        "disks",
        "snapshots",
        "networkInterfaces",
        "virtualNetworks",
        "subnets",
        "availabilitySets",
        "extensions",
    ]
}


def spelled(rid: str) -> str:
    """An id with its fixed words (``Providers``, ``Galleries`` ...) spelled one way, names as given."""
    parts = [p for p in rid.split("/") if p]
    out = []
    for i, p in enumerate(parts):
        keyword = i in (0, 2, 4) or (i > 5 and i % 2 == 0)
        out.append(_SPELLING.get(p.lower(), p) if keyword else p)
    return "/" + "/".join(out)


def parent(rid: str) -> str:
    """The id of a child resource's parent."""
    return "/" + "/".join([p for p in rid.split("/") if p][:-2])


def strip_unserved(body: Any, path: str = "") -> tuple[Any, dict[str, str]]:
    """(the body without references to what azemu does not serve, {path: reason})."""
    removed: dict[str, str] = {}

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                here = f"{where}.{k}" if where else k
                reason = _unserved_reason(k, v)
                if reason:
                    removed[here] = reason
                    continue
                out[k] = walk(v, here)
            return out
        if isinstance(value, list):
            return [walk(v, f"{where}[]") for v in value]
        return value

    return walk(body, path), removed


def _unserved_reason(key: str, value: Any) -> str | None:
    if isinstance(value, str):
        if BLOB in value.lower():
            return BLOB_REASON
        if value.lower().startswith("/subscriptions/") and type_of(value) in UNSERVED:
            return UNSERVED[type_of(value)]
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and type_of(value["id"]) in UNSERVED:
        return UNSERVED[type_of(value["id"])]
    if key in ("vhd", "image") and isinstance(value, dict) and "uri" in value:
        return BLOB_REASON
    return None


@dataclass
class World:
    """The prerequisites made so far, in one subscription of one azemu."""

    azemu: Any
    sub: str
    made: set[str] = field(default_factory=set)

    def call(
        self, method: str, path: str, body: Any = None, api: str = API["compute"], query: str = ""
    ) -> Any:
        sep = "&" if "?" in path else "?"
        return self.azemu.request(method, f"{path}{sep}api-version={api}{query}", body)

    def ok(self, method: str, path: str, body: Any = None, api: str = API["compute"]) -> Any:
        status, got, _ = self.call(method, path, body, api)
        assert status < 300, f"prerequisite {method} {path} -> {status}: {got}"
        return got

    # ------------------------------------------------------------------------------------------------
    def ensure(self, rid: str, hints: dict[str, Any] | None = None) -> None:
        """Make the resource ``rid`` names (and what it needs) unless it exists."""
        hints = hints or {}
        rid = spelled(rid)
        key = rid.lower()
        if key in self.made:
            return
        rtype = type_of(rid)
        parts = [p for p in rid.split("/") if p]
        group = "/".join(parts[:4])
        if rtype != "resourcegroups":
            self.ensure("/" + group)
        maker = getattr(self, "_make_" + rtype.replace("microsoft.", "").replace("/", "_"), None)
        assert maker is not None, f"no recipe to make a {rtype}: add one to tests/conformance/replay.py"
        status, _, _ = self.call("GET", rid, api=self._api(rtype))
        if status == 404 or rtype == "resourcegroups":
            maker(rid, hints)
        self.made.add(key)

    @staticmethod
    def _api(rtype: str) -> str:
        if rtype.startswith("microsoft.network"):
            return API["network"]
        if rtype in ("microsoft.compute/disks", "microsoft.compute/snapshots"):
            return API["disk"]
        if rtype.startswith("microsoft.compute/galleries"):
            return API["gallery"]
        if rtype == "resourcegroups":
            return API["resources"]
        return API["compute"]

    def _make_resourcegroups(self, rid: str, hints: dict[str, Any]) -> None:
        self.ok("PUT", rid, {"location": "westus"}, API["resources"])

    def _make_network_virtualnetworks(self, rid: str, hints: dict[str, Any]) -> None:
        body = {
            "location": "westus",
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}],
            },
        }
        self.ok("PUT", rid, body, API["network"])

    def _make_network_networkinterfaces(self, rid: str, hints: dict[str, Any]) -> None:
        vnet = rid.rsplit("/providers/", 1)[0] + "/providers/Microsoft.Network/virtualNetworks/replayVnet"
        self.ensure(vnet)
        body = {
            "location": "westus",
            "properties": {
                "ipConfigurations": [
                    {"name": "ipconfig1", "properties": {"subnet": {"id": vnet + "/subnets/default"}}}
                ]
            },
        }
        self.ok("PUT", rid, body, API["network"])

    def new_nic(self, vm_id: str) -> str:
        nic = (
            vm_id.rsplit("/providers/", 1)[0]
            + f"/providers/Microsoft.Network/networkInterfaces/{vm_id.rsplit('/', 1)[1]}-nic"
        )
        self.ensure(nic)
        return nic

    def vm_body(self, vm_id: str, hints: dict[str, Any]) -> dict[str, Any]:
        windows = hints.get("osType") == "Windows"
        gen1 = hints.get("hyperVGeneration") == "V1"
        if windows:
            image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "version": "latest"}
            image["sku"] = "2019-datacenter" if gen1 else "2022-datacenter-g2"
            profile: dict[str, Any] = {
                "computerName": "replayvm",
                "adminUsername": "azureuser",
                "adminPassword": PASSWORD,
            }
        else:
            image = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "version": "latest"}
            image["sku"] = "22_04-lts" if gen1 else "22_04-lts-gen2"
            profile = {"computerName": "replayvm", "adminUsername": "azureuser", "adminPassword": PASSWORD}
        props: dict[str, Any] = {
            "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
            "storageProfile": {"imageReference": image, "osDisk": {"createOption": "FromImage"}},
            "osProfile": profile,
            "networkProfile": {"networkInterfaces": [{"id": self.new_nic(vm_id)}]},
        }
        if hints.get("hibernate"):
            props["additionalCapabilities"] = {"hibernationEnabled": True}
        if hints.get("dataDisks"):
            props["storageProfile"]["dataDisks"] = hints["dataDisks"]
        return {"location": "westus", "properties": props}

    def _make_compute_virtualmachines(self, rid: str, hints: dict[str, Any]) -> None:
        self.ok("PUT", rid, self.vm_body(rid, hints))
        if hints.get("generalized"):
            self.ok("POST", rid + "/deallocate")
            self.ok("POST", rid + "/generalize")

    def _make_compute_availabilitysets(self, rid: str, hints: dict[str, Any]) -> None:
        self.ok("PUT", rid, {"location": "westus", "sku": {"name": "Aligned"}, "properties": {}})

    def _make_compute_disks(self, rid: str, hints: dict[str, Any]) -> None:
        body = {
            "location": "westus",
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32},
        }
        if hints.get("osType"):
            body["properties"]["osType"] = hints["osType"]
        self.ok("PUT", rid, body, API["disk"])
        if hints.get("managedBy"):  # the example's disk is attached to a VM: attach it
            self.ensure(
                hints["managedBy"],
                {"dataDisks": [{"lun": 3, "createOption": "Attach", "managedDisk": {"id": rid}}]},
            )

    def _make_compute_snapshots(self, rid: str, hints: dict[str, Any]) -> None:
        disk = rid.replace("/snapshots/", "/disks/") + "-source"
        self.ensure(disk, {"osType": hints.get("osType", "Linux")})
        body = {
            "location": "westus",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk}},
        }
        self.ok("PUT", rid, body, API["disk"])

    def _make_compute_images(self, rid: str, hints: dict[str, Any]) -> None:
        vm = hints.get("sourceVm") or rid.replace("/images/", "/virtualMachines/") + "-source"
        self.ensure(vm, {**hints, "generalized": True})
        self.ok("PUT", rid, {"location": "westus", "properties": {"sourceVirtualMachine": {"id": vm}}})

    def _make_compute_galleries(self, rid: str, hints: dict[str, Any]) -> None:
        self.ok("PUT", rid, {"location": "westus", "properties": {"description": "replay"}}, API["gallery"])

    def _make_compute_galleries_images(self, rid: str, hints: dict[str, Any]) -> None:
        self.ensure(parent(rid))
        name = rid.rsplit("/", 1)[1]
        body = {
            "location": "westus",
            "properties": {
                "osType": hints.get("osType", "Linux"),
                "osState": hints.get("osState", "Generalized"),
                "hyperVGeneration": hints.get("hyperVGeneration", "V2"),
                "identifier": {"publisher": "replay", "offer": name, "sku": name},
            },
        }
        self.ok("PUT", rid, body, API["gallery"])
        if hints.get("withVersion"):
            self.ensure(rid + "/versions/1.0.0", hints)

    def _make_compute_galleries_images_versions(self, rid: str, hints: dict[str, Any]) -> None:
        definition = parent(rid)
        self.ensure(definition, hints)
        d = self.ok("GET", definition, api=API["gallery"])["properties"]
        dhints = {"osType": d["osType"], "hyperVGeneration": d["hyperVGeneration"]}
        group = definition.split("/providers/")[0]
        name = definition.rsplit("/", 1)[1]
        if hints.get("dataDisks"):
            dhints["dataDisks"] = hints["dataDisks"]
        if d["osState"] == "Specialized":
            source_vm = f"{group}/providers/Microsoft.Compute/virtualMachines/{name}-src"
            self.ensure(source_vm, dhints)
            source: dict[str, Any] = {"virtualMachineId": source_vm}
        else:
            image = f"{group}/providers/Microsoft.Compute/images/{name}-img"
            self.ensure(image, dhints)
            source = {"id": image}
        body = {
            "location": "westus",
            "properties": {
                "publishingProfile": {"targetRegions": [{"name": "westus"}]},
                "storageProfile": {"source": source},
            },
        }
        self.ok("PUT", rid, body, API["gallery"])

    def _make_network_virtualnetworks_subnets(self, rid: str, hints: dict[str, Any]) -> None:
        vnet = parent(rid)
        self.ensure(vnet)
        self.ok("PUT", rid, {"properties": {"addressPrefix": "10.0.1.0/24"}}, API["network"])

    def _make_compute_virtualmachines_extensions(self, rid: str, hints: dict[str, Any]) -> None:
        windows = hints["body"]["properties"]["publisher"].lower() == "microsoft.compute"
        self.ensure(parent(rid), {"osType": "Windows" if windows else "Linux"})
        self.ok("PUT", rid, hints["body"])


def references(body: Any) -> list[tuple[str, str]]:
    """(path, id) of every resource id a request body names."""
    out: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                here = f"{where}.{k}" if where else k
                if (
                    isinstance(v, str)
                    and v.lower().lstrip("/").startswith("subscriptions/")
                    and "/providers/" in v.lower()
                ):
                    out.append(
                        (here, "/" + v.lstrip("/"))
                    )  # Microsoft's examples write some without the slash
                else:
                    walk(v, here)
        elif isinstance(value, list):
            for v in value:
                walk(v, where + "[]")

    walk(body, "")
    return out


def without(value: Any, paths: set[str]) -> Any:
    """A copy of a document without the given paths (``a.b``, ``a[].b``)."""
    doc = copy.deepcopy(value)
    for path in paths:
        _drop(doc, path.replace("[]", ".[]").split("."))
    return doc


def _drop(value: Any, steps: list[str]) -> None:
    if not steps:
        return
    head, rest = steps[0], steps[1:]
    if head == "[]":
        for item in value if isinstance(value, list) else []:
            _drop(item, rest)
        return
    if not isinstance(value, dict) or head not in value:
        return
    if rest:
        _drop(value[head], rest)
    else:
        value.pop(head)
