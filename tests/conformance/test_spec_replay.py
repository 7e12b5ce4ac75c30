"""Every Compute, Disk and Gallery example of Microsoft's REST API specs (../shared/azure-specs), replayed
against azemu with its prerequisites created first (tests/conformance/replay.py).

For each example: its request is sent as written (placeholders filled in, each example in a resource group
of its own); the status must be one the example documents; every key of the example's answer must be in
azemu's with the same JSON type. A GET example's resource is first made by PUTting the example's own answer
(azemu ignores its read-only properties, as ARM does), so what is checked is that everything a client can
set comes back, and that every read-only property is computed.

What is not checked is listed, each with its reason: references to resource types azemu deliberately does
not serve (``replay.UNSERVED``: storage accounts and blob-based disks, proximity placement groups, ...),
whose paths are taken out of the request and the answer, and whole examples that are about such a type
(``REFUSED``: azemu answers them with its documented refusal). A new example file without a line in
``CASES`` fails: add the line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import replay
from tests.conformance.specs import RP, compare, needs_specs

pytestmark = needs_specs

# example -> (method, what follows the resource's path: an action, or a collection for a list)
CASES: dict[str, tuple[str, str]] = {
    "Image_CreateFromABlob": ("PUT", ""),
    "Image_CreateFromAManagedDisk": ("PUT", ""),
    "Image_CreateFromASnapshot": ("PUT", ""),
    "Image_CreateFromAVM": ("PUT", ""),
    "Image_Create_DataDiskFromASnapshotIncluded": ("PUT", ""),
    "Image_Get": ("GET", ""),
    "Image_ListByResourceGroup": ("LIST", "images"),
    "Image_Update": ("PATCH", ""),
    "Images_Delete_MinimumSet_Gen": ("DELETE", ""),
    "VirtualMachineRunCommand": ("POST", "/runCommand"),
    "VirtualMachine_Capture_MinimumSet_Gen": ("POST", "/capture"),
    "VirtualMachine_Create_FromACustomImage": ("PUT", ""),
    "VirtualMachine_Create_FromAGeneralizedSharedImage": ("PUT", ""),
    "VirtualMachine_Create_FromASpecializedSharedImage": ("PUT", ""),
    "VirtualMachine_Deallocate_MaximumSet_Gen": ("POST", "/deallocate"),
    "VirtualMachine_Deallocate_MinimumSet_Gen": ("POST", "/deallocate"),
    "VirtualMachine_Generalize": ("POST", "/generalize"),
    "VirtualMachine_Get": ("GET", ""),
    "VirtualMachine_Get_InstanceView": ("GET", "/instanceView"),
    "VirtualMachine_PowerOff_MaximumSet_Gen": ("POST", "/powerOff"),
    "VirtualMachine_Start_MinimumSet_Gen": ("POST", "/start"),
    "VirtualMachineScaleSet_Create_FromACustomImage": ("PUT", ""),
    "Disk_Create_ByCopyingASnapshot": ("PUT", ""),
    "Disk_Create_Empty": ("PUT", ""),
    "Disk_Create_FromAnAzureComputeGalleryImage": ("PUT", ""),
    "Disk_Create_FromAnExistingManagedDisk": ("PUT", ""),
    "Disk_Delete": ("DELETE", ""),
    "Disk_Get": ("GET", ""),
    "Snapshot_Create_ByImportingAnUnmanagedBlobFromTheSameSubscription": ("PUT", ""),
    "Snapshot_Create_FromAnExistingSnapshot": ("PUT", ""),
    "Snapshot_Delete": ("DELETE", ""),
    "Snapshot_Get": ("GET", ""),
    "GalleryImageVersion_Create": ("PUT", ""),
    "GalleryImageVersion_Create_WithVmAsSource": ("PUT", ""),
    "GalleryImageVersion_Delete": ("DELETE", ""),
    "GalleryImageVersion_Get": ("GET", ""),
    "GalleryImageVersion_Get_WithReplicationStatus": ("GET", ""),
    "GalleryImage_Create": ("PUT", ""),
    "GalleryImage_Delete": ("DELETE", ""),
    "GalleryImage_Get": ("GET", ""),
    "Gallery_Create": ("PUT", ""),
    "Gallery_Delete": ("DELETE", ""),
    "Gallery_Get": ("GET", ""),
}

# examples about something azemu deliberately does not serve: azemu refuses them (a 4xx), for this reason
REFUSED = {
    "Image_CreateFromABlob": replay.BLOB_REASON,
    "Snapshot_Create_ByImportingAnUnmanagedBlobFromTheSameSubscription": replay.BLOB_REASON,
    "VirtualMachine_Capture_MinimumSet_Gen": "the legacy capture action serves only blob-based (unmanaged) "
    "VMs, which azemu does not serve; Azure refuses it for a managed-disk VM with the same error",
}

# refused here because another branch serves the type: once it is served, the example is checked like any other
SERVED_ELSEWHERE: set[str] = set()

# answer keys an example holds only because of what happened to its resource in Azure before (not
# something a client sets, and not something azemu's fresh resource can have), each with why
HISTORY = {
    "bootDiagnostics": "the example's VM writes boot diagnostics (screenshot, serial log) to a storage account; "
    "azemu serves none",
}

# keys of one example's answer that describe that example's own scenario, not a resource a client makes
SCENARIO: dict[str, dict[str, str]] = {
    "Image_Update": {
        "properties.storageProfile.osDisk.snapshot": "the example's image names every source kind at once",
        "properties.storageProfile.dataDisks[].snapshot": "the example's image names every source kind at once",
    },
    "VirtualMachine_Get_InstanceView": {
        "patchStatus.availablePatchSummary": "the example's VM has had a patch assessment; azemu runs none",
        "patchStatus.lastPatchInstallationSummary": "the example's VM has had patches installed; azemu "
        "installs none",
    },
    **{
        case: {
            "properties.safetyProfile.policyViolations": "only on a version Azure reported for a policy violation"
        }
        for case in (
            "GalleryImageVersion_Create",
            "GalleryImageVersion_Get",
            "GalleryImageVersion_Get_WithReplicationStatus",
            "GalleryImageVersion_Create_WithVmAsSource",
        )
    },
    "Image_ListByResourceGroup": {
        "value[].properties.storageProfile.osDisk.snapshot": "the example's image names every source kind "
        "at once; a real image has one (azemu's is captured from a VM: sourceVirtualMachine, managedDisk)",
        "value[].properties.storageProfile.dataDisks": "the example's data disks are blob-based",
    },
}

SPEC_ROOT = RP


def example_files() -> list[Path]:
    if not SPEC_ROOT.is_dir():
        return []
    return sorted(SPEC_ROOT.rglob("examples/**/*.json"))


def test_every_example_has_a_case():
    missing = sorted(p.stem for p in example_files() if p.stem not in CASES)
    assert not missing, f"add a line to CASES for: {missing}"


@pytest.fixture
def world(azemu, request):
    """Each example in a subscription of its own: its names and ids stay as Microsoft wrote them."""
    tenant = azemu.tenant_id
    made = azemu.admin("POST", f"/tenants/{tenant}/subscriptions", {"displayName": request.node.name[:60]})
    return replay.World(azemu, made["subscriptionId"])


def _params(example: dict[str, Any], sub: str) -> dict[str, Any]:
    params: dict[str, Any] = replay.concrete(example["parameters"], sub)
    return params


def _path(params: dict[str, Any], sub: str, suffix: str, method: str) -> str:
    base = f"/subscriptions/{sub}/resourceGroups/{params['resourceGroupName']}/providers/Microsoft.Compute"
    if method == "LIST":
        return f"{base}/{suffix}"
    p = params
    if "galleryImageVersionName" in p:
        rest = f"galleries/{p['galleryName']}/images/{p['galleryImageName']}/versions/{p['galleryImageVersionName']}"
    elif "galleryImageName" in p:
        rest = f"galleries/{p['galleryName']}/images/{p['galleryImageName']}"
    elif "galleryName" in p:
        rest = f"galleries/{p['galleryName']}"
    elif "vmScaleSetName" in p:
        rest = f"virtualMachineScaleSets/{p['vmScaleSetName']}"
    elif "vmName" in p:
        rest = f"virtualMachines/{p['vmName']}"
    elif "imageName" in p:
        rest = f"images/{p['imageName']}"
    elif "diskName" in p:
        rest = f"disks/{p['diskName']}"
    else:
        rest = f"snapshots/{p['snapshotName']}"
    return f"{base}/{rest}{suffix}"


def _api(params: dict[str, Any]) -> str:
    return str(params.get("api-version") or params.get("version"))


_BODY_PARAMS = ("parameters", "disk", "snapshot", "gallery", "galleryImage", "galleryImageVersion")


def _hints(body: Any, path: str) -> dict[str, Any]:
    """What a prerequisite must be like for the example's request to make sense."""
    props = (body or {}).get("properties") or {}
    hints: dict[str, Any] = {}
    os_profile = props.get("osProfile")
    if props.get("osType"):
        hints["osType"] = props["osType"]
    elif isinstance(os_profile, dict) and os_profile.get("windowsConfiguration"):
        hints["osType"] = "Windows"
    if props.get("hyperVGeneration"):
        hints["hyperVGeneration"] = props["hyperVGeneration"]
    if path.endswith("imageReference.id"):
        hints["osState"] = "Generalized" if os_profile else "Specialized"
        hints["withVersion"] = True
    if path.endswith("source.virtualMachineId") or (
        not path and ((props.get("storageProfile") or {}).get("source") or {}).get("virtualMachineId")
    ):
        hints["osState"] = "Specialized"
    if path.endswith("sourceVirtualMachine.id"):
        hints["generalized"] = True
    source_vm = (props.get("sourceVirtualMachine") or {}).get("id")
    if source_vm and not path:
        hints["sourceVm"] = source_vm
    return hints


def _prepare(world: replay.World, rid: str, body: Any, extra: dict[str, Any] | None = None) -> None:
    """Make what the request names; the parents of a nested resource too."""
    extra = extra or {}
    parts = [p for p in rid.split("/") if p]
    if len(parts) > 8:  # a child resource: its parent first
        world.ensure("/" + "/".join(parts[:-2]), {**_hints(body, ""), **extra})
    for where, ref in replay.references(body):
        if (
            where in ("id", "managedBy")
            or ref.lower() == rid.lower()
            or "/resourcegroups/" not in ref.lower()
        ):
            continue  # itself, or a platform image (no group: nothing to make)
        vm = "/virtualmachines/" in rid.lower()
        if vm and ("osDisk.managedDisk" in where or ("dataDisks" in where and "managedDisk" in where)):
            continue  # the VM's own disks: made by the VM (Attach disks are made below)
        if replay.type_of(ref) in ("microsoft.compute/virtualmachines/extensions",):
            continue
        world.ensure(ref, {**_hints(body, where), **extra})
    for d in ((body or {}).get("properties") or {}).get("storageProfile", {}).get("dataDisks") or []:
        if str(d.get("createOption", "")).lower() == "attach" and (d.get("managedDisk") or {}).get("id"):
            world.ensure(d["managedDisk"]["id"])


def _data_disks(responses: dict[str, Any]) -> dict[str, Any]:
    """The example's gallery version shows data disk images: its source needs data disks at those luns."""
    for answer in responses.values():
        storage = (((answer or {}).get("body") or {}).get("properties") or {}).get("storageProfile") or {}
        luns = [d["lun"] for d in storage.get("dataDiskImages") or [] if "lun" in d]
        if luns:
            return {"dataDisks": [{"lun": lun, "createOption": "Empty", "diskSizeGB": 16} for lun in luns]}
    return {}


def _settle(world: replay.World, rid: str, api: str) -> None:
    for _ in range(20):
        status, got, _ = world.call("GET", rid, api=api)
        state = ((got or {}).get("properties") or {}).get("provisioningState")
        if status != 200 or state not in ("Creating", "Updating"):
            return
        time.sleep(0.05)


def _disk_body_from_get(doc: dict[str, Any], sub: str) -> dict[str, Any]:
    """A disk Get example's document as a PUT: its made-up marketplace test image is replaced by one that
    exists (the example's image is not in Azure's marketplace either)."""
    body = json.loads(json.dumps(doc))
    creation = body["properties"].get("creationData") or {}
    ref = (creation.get("imageReference") or {}).get("id", "")
    if "/publishers/" in ref.lower():
        creation["imageReference"]["id"] = (
            f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/westus/Publishers/Canonical/ArtifactTypes/"
            "VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2/Versions/22.04.202410020"
        )
    return body


def _vm_body_from_get(doc: dict[str, Any]) -> dict[str, Any]:
    """A VM Get example's document as a PUT: its own disks left to the VM to make, a password added."""
    body = json.loads(json.dumps(doc))
    storage = body["properties"]["storageProfile"]
    storage["osDisk"].get("managedDisk", {}).pop("id", None)
    for d in storage.get("dataDisks") or []:
        if str(d.get("createOption")).lower() != "attach":
            d.get("managedDisk", {}).pop("id", None)
    profile = body["properties"].get("osProfile")
    if isinstance(profile, dict):
        profile.setdefault("adminPassword", replay.PASSWORD)
        if profile.get("adminUsername") == "admin":  # the example's name is one Azure refuses on create
            profile["adminUsername"] = "azureuser"
    return body


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example(world, path):
    name = path.stem
    method, suffix = CASES[name]
    example = json.loads(path.read_text())
    sub = world.sub
    params = _params(example, sub)
    api = _api(params)
    world.ensure(f"/subscriptions/{sub}/resourceGroups/{params['resourceGroupName']}")
    rid = _path(params, sub, "", method)
    target = _path(params, sub, suffix, method)
    body = next((params[k] for k in _BODY_PARAMS if k in params), None)
    body, removed = replay.strip_unserved(body)
    responses = example["responses"]
    query = "".join(
        f"&{k}={str(v).lower() if isinstance(v, bool) else v}"
        for k, v in params.items()
        if k in ("$expand", "hibernate", "skipShutdown")
    )

    if method == "GET":
        doc = replay.concrete(responses["200"]["body"], sub)
        if suffix == "/instanceView":
            windows = "Windows" in json.dumps(doc)
            world.ensure(rid, {"osType": "Windows" if windows else "Linux"})
            for ext in doc.get("extensions") or []:  # the example's VM has extensions: give it one
                publisher, _, ext_type = str(ext["type"]).rpartition(".")
                world.ensure(
                    f"{rid}/extensions/{ext['name']}",
                    {
                        "body": {
                            "location": "westus",
                            "properties": {
                                "publisher": publisher,
                                "type": ext_type,
                                "typeHandlerVersion": ext.get("typeHandlerVersion", "2.1"),
                                "settings": {"commandToExecute": "echo hello"},
                            },
                        }
                    },
                )
        else:
            put_body, strip = replay.strip_unserved(doc)
            removed.update(strip)
            if "/virtualMachines/" in rid:
                put_body = _vm_body_from_get(put_body)
            if "/disks/" in rid or "/snapshots/" in rid:
                put_body = _disk_body_from_get(put_body, sub)
            _prepare(world, rid, put_body, _data_disks(responses))
            status, got, _ = world.call("PUT", rid, put_body, api=api)
            assert status < 300, f"making the example's resource: {status} {got}"
            _settle(world, rid, api)
            for ext in put_body.get("resources") or []:
                world.ensure(ext["id"], {"body": ext})
            if doc.get("managedBy") and "/disks/" in rid:
                world.ensure(
                    doc["managedBy"],
                    {"dataDisks": [{"lun": 3, "createOption": "Attach", "managedDisk": {"id": rid}}]},
                )
    elif method in ("DELETE", "POST", "PATCH"):
        hints = _hints(body, "")
        if params.get("hibernate"):
            hints["hibernate"] = True
        if (body or {}).get("commandId") == "RunPowerShellScript":
            hints["osType"] = "Windows"
        shown = ((responses.get("200") or {}).get("body") or {}).get("properties") or {}
        if (shown.get("storageProfile") or {}).get("dataDisks"):  # the example's image has data disks
            hints["dataDisks"] = [{"lun": 0, "createOption": "Empty", "diskSizeGB": 16}]
        world.ensure(rid, hints)
        if suffix == "/generalize":
            world.ok("POST", rid + "/powerOff")
        if body is not None:
            _prepare(world, rid, body)
    elif method == "PUT":
        _prepare(world, rid, body, _data_disks(responses))
    elif method == "LIST":
        for item in replay.concrete(responses["200"]["body"]["value"], sub):
            world.ensure(item["id"])

    send = {"GET": "GET", "LIST": "GET", "PATCH": "PATCH"}.get(method, method)
    status, got, _headers = world.call(
        send, target, body if send in ("PUT", "PATCH", "POST") else None, api=api, query=query
    )

    if name in REFUSED and not (status < 300 and name in SERVED_ELSEWHERE):
        assert 400 <= status < 500, f"{name}: expected azemu's documented refusal, got {status} {got}"
        return
    assert str(status) in responses, (
        f"{name}: status {status} is not one Azure documents ({sorted(responses)}): {got}"
    )
    if method in ("PUT", "PATCH"):
        _settle(world, rid, api)
    theirs = (responses.get(str(status)) or {}).get("body")
    if theirs is None or got is None:
        return
    theirs, more = replay.strip_unserved(replay.concrete(theirs, sub))
    theirs = replay.without(theirs, set(removed) | set(more) | set(HISTORY) | set(SCENARIO.get(name, {})))
    if method == "LIST":
        theirs = {"value": theirs["value"][:1]}
        got = {"value": got["value"][:1]}
    problems = compare(got, theirs)
    assert not problems, f"{name}: azemu's answer differs from Azure's example:\n  " + "\n  ".join(problems)
