"""VM sizes (data/vm_sizes.json): what ``locations/{loc}/vmSizes`` and ``Microsoft.Compute/skus`` answer, and
the size check a VM create makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from azemu.domain import regions

# regions with availability zones (the rest answer an empty zone list, as Azure does)
ZONED = frozenset(
    {
        "eastus", "eastus2", "westus2", "westus3", "centralus", "southcentralus", "canadacentral",
        "brazilsouth", "northeurope", "westeurope", "francecentral", "germanywestcentral", "uksouth",
        "swedencentral", "switzerlandnorth", "norwayeast", "polandcentral", "italynorth", "southeastasia",
        "eastasia", "australiaeast", "japaneast", "koreacentral", "centralindia", "southafricanorth",
        "uaenorth", "qatarcentral", "israelcentral", "mexicocentral", "spaincentral", "newzealandnorth",
    }
)  # fmt: skip


@dataclass(frozen=True)
class VmSize:
    name: str
    cores: int
    memory_mb: int
    max_data_disks: int
    resource_disk_mb: int
    os_disk_mb: int
    family: str
    premium_io: bool
    accelerated_networking: bool
    hyper_v_generations: str


@cache
def sizes() -> tuple[VmSize, ...]:
    raw: dict[str, Any] = json.loads(
        resources.files("azemu.data").joinpath("vm_sizes.json").read_text(encoding="utf-8")
    )
    return tuple(
        VmSize(
            s["name"],
            int(s["numberOfCores"]),
            int(s["memoryInMB"]),
            int(s["maxDataDiskCount"]),
            int(s["resourceDiskSizeInMB"]),
            int(s["osDiskSizeInMB"]),
            s["family"],
            bool(s["premiumIO"]),
            bool(s["acceleratedNetworking"]),
            s["hyperVGenerations"],
        )
        for s in raw["sizes"]
    )


def find(name: str) -> VmSize | None:
    return next((s for s in sizes() if s.name.lower() == name.lower()), None)


def vm_size_view(s: VmSize) -> dict[str, Any]:
    """One entry of ``GET …/locations/{loc}/vmSizes``."""
    return {
        "name": s.name,
        "numberOfCores": s.cores,
        "osDiskSizeInMB": s.os_disk_mb,
        "resourceDiskSizeInMB": s.resource_disk_mb,
        "memoryInMB": s.memory_mb,
        "maxDataDiskCount": s.max_data_disks,
    }


def resource_sku(s: VmSize, location: str) -> dict[str, Any]:
    """One entry of ``GET /subscriptions/{s}/providers/Microsoft.Compute/skus`` (a size in a location)."""
    zones = ["1", "2", "3"] if location in ZONED else []
    caps = [
        ("MaxResourceVolumeMB", str(s.resource_disk_mb)),
        ("OSVhdSizeMB", str(s.os_disk_mb)),
        ("vCPUs", str(s.cores)),
        ("MemoryGB", f"{s.memory_mb / 1024:g}"),
        ("MaxDataDiskCount", str(s.max_data_disks)),
        ("HyperVGenerations", s.hyper_v_generations),
        ("PremiumIO", str(s.premium_io)),
        ("AcceleratedNetworkingEnabled", str(s.accelerated_networking)),
        ("vCPUsAvailable", str(s.cores)),
        ("CpuArchitectureType", "x64"),
    ]
    return {
        "resourceType": "virtualMachines",
        "name": s.name,
        "tier": "Standard",
        "size": s.name.split("_", 1)[1],
        "family": s.family,
        "locations": [location],
        "locationInfo": [{"location": location, "zones": zones, "zoneDetails": []}],
        "capabilities": [{"name": n, "value": v} for n, v in caps],
        "restrictions": [],
    }


def resource_skus(location: str | None = None) -> list[dict[str, Any]]:
    locs = [location] if location else [r["name"] for r in regions.all_regions()]
    return [resource_sku(s, loc) for loc in locs for s in sizes()]
