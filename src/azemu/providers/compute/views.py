"""Response shapes of the platform image catalog, as the Compute RP returns them."""

from __future__ import annotations

from typing import Any

from azemu.domain import regions
from azemu.domain.catalog import PlatformImage
from azemu.domain.vm_extensions import Handler


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


def extension_version(sub: str, location: str, h: Handler, version: str) -> dict[str, Any]:
    loc = regions.canonical(location) or location
    path = f"{h.publisher}/ArtifactTypes/VMExtension/Types/{h.type}/Versions/{version}"
    return {
        **named(sub, loc, path, version),
        "properties": {
            "operatingSystem": h.os_type,
            "computeRole": "IaaS",
            "handlerSchema": "",
            "vmScaleSetEnabled": True,
            "supportsMultipleExtensions": False,
        },
    }
