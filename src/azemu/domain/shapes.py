"""Request-body shapes: the JSON type each known path must have, checked before the domain sees a body.

A shape is a dict of key -> ``str`` | ``int`` | ``float`` | ``bool`` | ``dict`` | ``list`` | a nested shape
(an object with those keys) | ``[shape]`` (an array of them) | :class:`Choice` (an enum). Unknown keys pass
through (ARM ignores them); a known key with the wrong JSON type is ARM's ``InvalidRequestContent``.

ARM resource providers read property names and enum values case-insensitively (az's own templates send
``diskSizeGb`` and ``createOption: "fromImage"``): :func:`normalize` gives a body the shape's spelling of
both before any rule reads it.
"""

from __future__ import annotations

import json
from typing import Any

from azemu.domain.errors import InvalidRequestContent

Shape = Any  # a type, a dict of key -> Shape, a one-element list [Shape], or a Choice


class Choice:
    """A string enum: a value matching one of ``values`` case-insensitively is spelled as Azure spells it."""

    def __init__(self, *values: str) -> None:
        self.values = values
        self._by_lower = {v.lower(): v for v in values}

    def canonical(self, value: str) -> str:
        return self._by_lower.get(value.lower(), value)


def normalize(value: Any, shape: Shape) -> Any:
    """``value`` with object keys and enum values spelled as ``shape`` spells them (a new structure)."""
    if isinstance(shape, dict) and isinstance(value, dict):
        spelled = {k.lower(): k for k in shape}
        out = {}
        for key, item in value.items():
            canonical = spelled.get(key.lower(), key) if isinstance(key, str) else key
            out[canonical] = normalize(item, shape[canonical]) if canonical in shape else item
        return out
    if isinstance(shape, list) and isinstance(value, list):
        return [normalize(item, shape[0]) for item in value]
    if isinstance(shape, Choice) and isinstance(value, str):
        return shape.canonical(value)
    return value


OS_TYPE = Choice("Linux", "Windows")
OS_STATE = Choice("Generalized", "Specialized")
CACHING = Choice("None", "ReadOnly", "ReadWrite")
DELETE_OPTION = Choice("Delete", "Detach")
HYPER_V = Choice("V1", "V2")

_NAMES = {
    str: "System.String",
    int: "System.Int32",
    float: "System.Double",
    bool: "System.Boolean",
    dict: "Object",
    list: "Array",
}

RESOURCE = {"location": str, "tags": dict, "properties": dict, "sku": {"name": str}, "zones": list}
SUB = {"id": str}

VM = {
    **RESOURCE,
    "properties": {
        "hardwareProfile": {"vmSize": str},
        "storageProfile": {
            "imageReference": {
                "id": str,
                "publisher": str,
                "offer": str,
                "sku": str,
                "version": str,
                "sharedGalleryImageId": str,
                "communityGalleryImageId": str,
            },
            "osDisk": {
                "name": str,
                "createOption": Choice("FromImage", "Attach", "Empty"),
                "osType": OS_TYPE,
                "caching": CACHING,
                "diskSizeGB": int,
                "deleteOption": DELETE_OPTION,
                "managedDisk": {"id": str, "storageAccountType": str},
            },
            "dataDisks": [
                {
                    "lun": int,
                    "name": str,
                    "createOption": Choice("FromImage", "Attach", "Empty", "Copy", "Restore"),
                    "caching": CACHING,
                    "diskSizeGB": int,
                    "deleteOption": DELETE_OPTION,
                    "managedDisk": {"id": str, "storageAccountType": str},
                }
            ],
        },
        "osProfile": {
            "computerName": str,
            "adminUsername": str,
            "adminPassword": str,
            "customData": str,
            "linuxConfiguration": {
                "disablePasswordAuthentication": bool,
                "ssh": {"publicKeys": [{"path": str, "keyData": str}]},
            },
            "windowsConfiguration": dict,
        },
        "networkProfile": {
            "networkInterfaces": [{"id": str, "properties": {"primary": bool, "deleteOption": DELETE_OPTION}}]
        },
    },
}
DISK = {
    **RESOURCE,
    "properties": {
        "creationData": {
            "createOption": Choice("Empty", "Copy", "Restore", "FromImage", "Import", "Upload"),
            "sourceResourceId": str,
            "imageReference": {"id": str},
        },
        "diskSizeGB": int,
        "osType": OS_TYPE,
        "hyperVGeneration": HYPER_V,
        "incremental": bool,
    },
}
IMAGE = {
    **RESOURCE,
    "properties": {
        "sourceVirtualMachine": SUB,
        "hyperVGeneration": HYPER_V,
        "storageProfile": {
            "osDisk": {
                "osType": OS_TYPE,
                "osState": OS_STATE,
                "snapshot": SUB,
                "managedDisk": SUB,
                "blobUri": str,
                "diskSizeGB": int,
            },
            "dataDisks": list,
            "zoneResilient": bool,
        },
    },
}
GALLERY = {
    **RESOURCE,
    "properties": {"description": str, "sharingProfile": {"permissions": str, "communityGalleryInfo": dict}},
}
DEFINITION = {
    **RESOURCE,
    "properties": {
        "osType": OS_TYPE,
        "osState": OS_STATE,
        "hyperVGeneration": HYPER_V,
        "architecture": Choice("x64", "Arm64"),
        "identifier": {"publisher": str, "offer": str, "sku": str},
        "features": [{"name": str, "value": str}],
        "recommended": dict,
        "disallowed": dict,
        "purchasePlan": dict,
        "description": str,
    },
}
VERSION = {
    **RESOURCE,
    "properties": {
        "publishingProfile": {
            "targetRegions": [
                {
                    "name": str,
                    "regionalReplicaCount": int,
                    "storageAccountType": str,
                    "excludeFromLatest": bool,
                }
            ],
            "replicaCount": int,
            "excludeFromLatest": bool,
            "endOfLifeDate": str,
            "storageAccountType": str,
        },
        "storageProfile": {
            "source": {"id": str, "virtualMachineId": str},
            "osDiskImage": {"source": SUB, "hostCaching": str},
            "dataDiskImages": list,
        },
        "safetyProfile": {"allowDeletionOfReplicatedLocations": bool},
    },
}
SHARE = {"operationType": str, "groups": [{"type": str, "ids": list}]}
RUN_COMMAND = {"commandId": str, "script": list, "parameters": [{"name": str, "value": str}]}
GRANT = {"access": str, "durationInSeconds": int}
NETWORK = {
    **RESOURCE,
    "properties": {
        "addressSpace": {"addressPrefixes": list},
        "subnets": [{"name": str, "properties": {"addressPrefix": str, "networkSecurityGroup": SUB}}],
        "securityRules": [{"name": str, "properties": dict}],
        "publicIPAllocationMethod": str,
        "ipConfigurations": [
            {"name": str, "properties": {"subnet": SUB, "publicIPAddress": SUB, "privateIPAddress": str}}
        ],
        "networkSecurityGroup": SUB,
    },
}


def check(value: Any, shape: Shape, path: str = "") -> None:
    """Raise ARM's InvalidRequestContent where ``value`` does not have ``shape``."""
    if value is None:
        return
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            _fail(value, dict, path)
        for key, sub in shape.items():
            if key in value:
                check(value[key], sub, f"{path}.{key}" if path else key)
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            _fail(value, list, path)
        for i, item in enumerate(value):
            check(item, shape[0], f"{path}[{i}]")
        return
    if isinstance(shape, Choice):
        shape = str
    if shape is float and isinstance(value, int | float) and not isinstance(value, bool):
        return
    if shape is int and isinstance(value, bool):
        _fail(value, int, path)
    if not isinstance(value, shape):
        _fail(value, shape, path)


def _fail(value: Any, expected: type, path: str) -> None:
    shown = json.dumps(value)[:60]
    raise InvalidRequestContent(
        f"The request content was invalid and could not be deserialized: 'Error converting value {shown} to type "
        f"'{_NAMES.get(expected, expected.__name__)}'. Path '{path}'.'."
    )
