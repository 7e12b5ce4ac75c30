"""What azemu acts on, per served kind: the request properties its rules read.

Every property the spec lets a client send is stored and returned (shapes.keep) or refused with an error;
the ones listed here also change what azemu does. The rest are *accepted and ignored* - stored and shown,
with no effect - and docs/azure-differences.md lists them (tests/unit/test_roundtrip.py keeps that list
current). A rule that starts reading a property adds its path here.

Paths are property paths as ``shapes.writable_leaves`` spells them (``properties.osProfile.computerName``,
arrays as ``[]``); a path covers everything below it.
"""

from __future__ import annotations

from collections.abc import Mapping

_COMMON = ("location", "tags")
_VM_DISK = (
    "lun",
    "name",
    "createOption",
    "caching",
    "diskSizeGB",
    "deleteOption",
    "managedDisk.id",
    "managedDisk.storageAccountType",
    "toBeDetached",
)

HONOURED: Mapping[str, tuple[str, ...]] = {
    "Microsoft.Compute/virtualMachines": (
        *_COMMON,
        "properties.hardwareProfile.vmSize",
        "properties.storageProfile.imageReference",
        *(f"properties.storageProfile.osDisk.{p}" for p in (*_VM_DISK, "osType", "vhd", "image")),
        *(f"properties.storageProfile.dataDisks[].{p}" for p in _VM_DISK),
        "properties.osProfile.computerName",
        "properties.osProfile.adminUsername",
        "properties.osProfile.adminPassword",
        "properties.osProfile.customData",
        "properties.osProfile.linuxConfiguration.disablePasswordAuthentication",
        "properties.osProfile.linuxConfiguration.ssh",
        "properties.networkProfile.networkInterfaces[].id",
        "properties.networkProfile.networkInterfaces[].properties.deleteOption",
        "properties.userData",
        "properties.additionalCapabilities.hibernationEnabled",
        "properties.availabilitySet",
        "properties.proximityPlacementGroup",
        "properties.host",
        "properties.hostGroup",
        "properties.virtualMachineScaleSet",
        "properties.capacityReservation",
    ),
    "Microsoft.Compute/virtualMachines/extensions": (
        *_COMMON,
        "properties.publisher",
        "properties.type",
        "properties.typeHandlerVersion",
        "properties.settings",
        "properties.protectedSettings",
    ),
    "Microsoft.Compute/availabilitySets": (
        *_COMMON,
        "properties.platformFaultDomainCount",
        "properties.platformUpdateDomainCount",
    ),
    "Microsoft.Compute/disks": (
        *_COMMON,
        "sku.name",
        "properties.creationData",
        "properties.diskSizeGB",
        "properties.osType",
        "properties.hyperVGeneration",
        "properties.supportsHibernation",
        "properties.securityProfile",
        "properties.supportedCapabilities",
    ),
    "Microsoft.Compute/snapshots": (
        *_COMMON,
        "sku.name",
        "properties.creationData",
        "properties.diskSizeGB",
        "properties.osType",
        "properties.hyperVGeneration",
        "properties.incremental",
        "properties.supportsHibernation",
        "properties.securityProfile",
        "properties.supportedCapabilities",
    ),
    "Microsoft.Compute/images": (
        *_COMMON,
        "properties.sourceVirtualMachine",
        "properties.hyperVGeneration",
        "properties.storageProfile.osDisk",
        "properties.storageProfile.dataDisks",
        "properties.storageProfile.zoneResilient",
    ),
    "Microsoft.Compute/galleries": (
        *_COMMON,
        "properties.description",
        "properties.sharingProfile",
    ),
    "Microsoft.Compute/galleries/images": (
        *_COMMON,
        "properties.osType",
        "properties.osState",
        "properties.hyperVGeneration",
        "properties.architecture",
        "properties.identifier",
        "properties.features",
        "properties.endOfLifeDate",
        "properties.description",
        "properties.recommended",
    ),
    "Microsoft.Compute/galleries/images/versions": (
        *_COMMON,
        "properties.publishingProfile.targetRegions[].name",
        "properties.publishingProfile.targetRegions[].regionalReplicaCount",
        "properties.publishingProfile.targetRegions[].storageAccountType",
        "properties.publishingProfile.targetRegions[].excludeFromLatest",
        "properties.publishingProfile.targetRegions[].encryption",
        "properties.publishingProfile.replicaCount",
        "properties.publishingProfile.excludeFromLatest",
        "properties.publishingProfile.endOfLifeDate",
        "properties.publishingProfile.storageAccountType",
        "properties.publishingProfile.replicationMode",
        "properties.storageProfile",
        "properties.safetyProfile.allowDeletionOfReplicatedLocations",
        "properties.safetyProfile.blockDeletionBeforeEndOfLife",
    ),
    "Microsoft.Network/networkSecurityGroups": (*_COMMON, "properties.securityRules"),
    "Microsoft.Network/publicIPAddresses": (*_COMMON, "sku", "properties.publicIPAllocationMethod"),
}


def acts_on(kind: str, path: str) -> bool:
    """Whether azemu's rules for ``kind`` read the property at ``path`` (or one around or below it)."""
    for prefix in HONOURED.get(kind, ()):
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return True
    return False
