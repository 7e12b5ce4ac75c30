"""Response shapes for Microsoft.Compute, as the Compute RP returns them."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from azemu.domain import conflicts, regions
from azemu.domain.catalog import PlatformImage
from azemu.domain.disks import document as disk_document
from azemu.domain.vm_lifecycle import power_code
from azemu.state.records import ResourceRecord

_AGENT_VERSION = {"Linux": "2.7.41491.1102", "Windows": "2.7.41491.1131"}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def provisioning_state(rec: ResourceRecord) -> str:
    emu = rec.body["_emu"]
    if rec.state == "creating":
        return "Creating"
    if rec.state == "deleting":
        return "Deleting"
    if emu.get("provisioning") == "Failed":
        return "Failed"
    if rec.state in ("starting", "stopping", "deallocating", "restarting", "deallocating-generalized"):
        return "Updating"
    return "Succeeded"


def vm(rec: ResourceRecord, instance_view: dict[str, Any] | None = None) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = provisioning_state(rec)
    if instance_view is not None:
        props["instanceView"] = instance_view
    body: dict[str, Any] = {
        "name": rec.name,
        "id": rec.id,
        "type": rec.type,
        "location": rec.location,
        "tags": rec.body.get("tags") or {},
        "etag": rec.etag,
        "properties": props,
    }
    if rec.body.get("zones"):
        body["zones"] = rec.body["zones"]
    return body


def instance_view(rec: ResourceRecord, conflict_groups: list[dict[str, Any]]) -> dict[str, Any]:
    emu = rec.body["_emu"]
    props = rec.body["properties"]
    os_type = props["storageProfile"]["osDisk"]["osType"]
    statuses: list[dict[str, Any]] = []
    if emu.get("osState") in ("generalized", "specialized"):
        statuses.append(
            {"code": f"OSState/{emu['osState']}", "level": "Info", "displayStatus": f"VM {emu['osState']}"}
        )
    prov = provisioning_state(rec)
    if prov == "Failed":
        statuses.append(
            {
                "code": "ProvisioningState/failed/OSProvisioningTimedOut",
                "level": "Error",
                "displayStatus": "Provisioning failed",
                "message": next(iter(emu["agent"].get("messages") or []), ""),
                "time": _now(),
            }
        )
    else:
        statuses.append(
            {
                "code": f"ProvisioningState/{prov.lower()}",
                "level": "Info",
                "displayStatus": "Provisioning succeeded" if prov == "Succeeded" else prov,
                "time": _now(),
            }
        )
    code, display = power_code(rec.state)
    statuses.append({"code": code, "level": "Info", "displayStatus": display})
    statuses.extend(conflicts.statuses_for(rec.id, conflict_groups))
    for warning in emu.get("warnings") or []:
        statuses.append(
            {
                "code": "AzEmu/ImageEndOfLife",
                "level": "Warning",
                "displayStatus": "Image end of life",
                "message": warning,
            }
        )

    ready = bool(emu["agent"].get("ready")) and rec.state == "running"
    agent_status = (
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Ready",
            "message": "Guest Agent is running",
            "time": _now(),
        }
        if ready
        else {
            "code": "ProvisioningState/Unavailable",
            "level": "Warning",
            "displayStatus": "Not Ready",
            "message": "VM status blob is found but not yet populated.",
            "time": _now(),
        }
    )
    view: dict[str, Any] = {
        "vmAgent": {
            "vmAgentVersion": _AGENT_VERSION[os_type] if ready else "Unknown",
            "statuses": [agent_status],
        },
        "disks": [
            {
                "name": props["storageProfile"]["osDisk"]["name"],
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                        "time": _now(),
                    }
                ],
            }
        ],
        "hyperVGeneration": props.get("hyperVGeneration", "V1"),
        "statuses": statuses,
    }
    ident = emu.get("identity") or {}
    if ready and ident.get("computerName"):
        view = {
            "computerName": ident["computerName"],
            "osName": os_name(emu),
            "osVersion": os_version(emu),
            **view,
        }
    if emu.get("oobe"):
        view["bootDiagnostics"] = {
            "status": {
                "code": "AzEmu/Console/OOBE",
                "level": "Warning",
                "displayStatus": "Waiting at the Windows out-of-box experience screen",
            }
        }
    return view


def os_name(emu: dict[str, Any]) -> str:
    guest = str(emu.get("imageGuest") or "")
    return {
        "ubuntu-22.04": "ubuntu",
        "ubuntu-24.04": "ubuntu",
        "debian-12": "debian",
        "rhel-9": "redhat",
        "windows-2019": "Windows Server 2019 Datacenter",
        "windows-2022": "Windows Server 2022 Datacenter",
        "windows-2025": "Windows Server 2025 Datacenter",
    }.get(guest, "")


def os_version(emu: dict[str, Any]) -> str:
    guest = str(emu.get("imageGuest") or "")
    return {
        "ubuntu-22.04": "22.04",
        "ubuntu-24.04": "24.04",
        "debian-12": "12",
        "rhel-9": "9.4",
        "windows-2019": "10.0.17763.6532",
        "windows-2022": "10.0.20348.2849",
        "windows-2025": "10.0.26100.2314",
    }.get(guest, "")


def disk(rec: ResourceRecord) -> dict[str, Any]:
    return disk_document(rec)


def image_version(sub: str, location: str, img: PlatformImage, version: str, *, full: bool) -> dict[str, Any]:
    rid = (
        f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{regions.canonical(location) or location}/"
        f"Publishers/{img.publisher}/ArtifactTypes/VMImage/Offers/{img.offer}/Skus/{img.sku}/Versions/{version}"
    )
    body: dict[str, Any] = {"location": regions.canonical(location) or location, "name": version, "id": rid}
    if full:
        body["properties"] = {
            "hyperVGeneration": img.hyper_v_generation,
            "architecture": img.architecture,
            "replicaType": "Managed",
            "disallowed": {"vmDiskType": "None"},
            "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
            "imageDeprecationStatus": {"imageState": "Active"},
            "features": [
                {"name": "IsAcceleratedNetworkSupported", "value": "True"},
                {"name": "DiskControllerTypes", "value": "SCSI, NVMe"},
                {
                    "name": "SecurityType",
                    "value": "TrustedLaunchSupported" if img.hyper_v_generation == "V2" else "Standard",
                },
            ],
            "osDiskImage": {"operatingSystem": img.os_type, "sizeInGb": img.disk_size_gb},
            "dataDiskImages": [],
        }
    return body


def named(sub: str, location: str, path: str, name: str) -> dict[str, Any]:
    loc = regions.canonical(location) or location
    return {
        "location": loc,
        "name": name,
        "id": f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{loc}/Publishers/{path}",
    }


def image(rec: ResourceRecord) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = (
        rec.state if rec.state in ("Creating", "Succeeded", "Failed", "Deleting") else "Succeeded"
    )
    return {
        "name": rec.name,
        "id": rec.id,
        "type": rec.type,
        "location": rec.location,
        "tags": rec.body.get("tags") or {},
        "properties": props,
    }
