"""Azure VM Image Builder as data: the kinds, the template's lifecycle (provisioning x run state) with the
refusals Azure words, the run states, the template's checks at submission, and Azure's texts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azemu.domain import ids, regions, shapes
from azemu.domain.errors import AzureError, OperationNotAllowed
from azemu.domain.identities import TYPE as IDENTITY
from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import Refusals, State, StateTable

NS = "Microsoft.VirtualMachineImages"
TYPE = f"{NS}/imageTemplates"
TRIGGER = f"{NS}/imageTemplates/triggers"
RUN_OUTPUT = f"{NS}/imageTemplates/runOutputs"
FAMILY = NS

TEMPLATE_REF = "http://aka.ms/azvmimagebuildertmplref"
TSHOOT = "https://aka.ms/azvmimagebuilderts"
DEFAULT_TIMEOUT_MINUTES = 240
MIN_TIMEOUT_MINUTES = 6
MAX_TIMEOUT_MINUTES = 960
BUILD_USER = "packer"  # the account Image Builder's Packer provisions and customizes as
GEN1_SIZE, GEN2_SIZE = "Standard_D1_v2", "Standard_D2ds_v4"  # Image Builder's default build VM sizes
LINUX_DEPROVISION_PATH = "/tmp/DeprovisioningScript.sh"
WINDOWS_DEPROVISION_PATH = r"C:\DeprovisioningScript.ps1"

# Image Builder's own deprovisioning scripts (learn.microsoft.com/azure/virtual-machines/linux/image-builder-json
# "Default Sysprep command" / "Default Linux deprovision command"): written into the build VM before the
# customizers run, so that a customizer may override them, and run by a hidden last customizer.
LINUX_DEPROVISION = """WAAGENT=/usr/sbin/waagent
waagent -version 1> /dev/null 2>&1
if [ $? -eq 0 ]; then
  WAAGENT=waagent
fi
$WAAGENT -force -deprovision+user && export HISTSIZE=0 && sync
"""
WINDOWS_DEPROVISION = r"""Write-Output '>>> Waiting for GA Service (RdAgent) to start ...'
while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }
Write-Output '>>> Waiting for GA Service (WindowsAzureTelemetryService) to start ...'
while ((Get-Service WindowsAzureTelemetryService) -and ((Get-Service WindowsAzureTelemetryService).Status -ne 'Running')) { Start-Sleep -s 5 }
Write-Output '>>> Waiting for GA Service (WindowsAzureGuestAgent) to start ...'
while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }
if( Test-Path $Env:SystemRoot\system32\Sysprep\unattend.xml ) {
  Write-Output '>>> Removing Sysprep\unattend.xml ...'
  Remove-Item $Env:SystemRoot\system32\Sysprep\unattend.xml -Force
}
if (Test-Path $Env:SystemRoot\Panther\unattend.xml) {
  Write-Output '>>> Removing Panther\unattend.xml ...'
  Remove-Item $Env:SystemRoot\Panther\unattend.xml -Force
}
Write-Output '>>> Sysprepping VM ...'
& $Env:SystemRoot\System32\Sysprep\Sysprep.exe /oobe /generalize /quiet /quit
while($true) {
  $imageState = (Get-ItemProperty HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State).ImageState
  Write-Output $imageState
  if ($imageState -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }
  Start-Sleep -s 5
}
Write-Output '>>> Sysprep complete ...'
"""

# How long real Azure takes, per step of a build (seconds; the latency profile scales them): recorded builds
# take 15-25 minutes for Linux, 45+ for Windows; a gallery distribution waits for the version's replication.
SECONDS = {
    "create": 60.0,  # submission: the staging group and its storage account
    "queue": 30.0,
    "deploy": 240.0,  # the build VM and its network, through a template deployment
    "connect": 30.0,  # SSH / WinRM up
    "customizer": 20.0,  # each customizer's own overhead, beside what its scripts take
    "restart": 120.0,  # WindowsRestart
    "update": 900.0,  # WindowsUpdate
    "deprovision-linux": 30.0,
    "deprovision-windows": 300.0,
    "capture": 120.0,
    "validate": 240.0,  # a validation VM from the built image
    "distribute-image": 180.0,
    "distribute-vhd": 300.0,
    "cleanup": 120.0,
    "delete": 120.0,
}


class ValidationFailed(AzureError):
    code, status = "ValidationFailed", 400


def field_error(where: str, text: str) -> ValidationFailed:
    return ValidationFailed(
        f"Validation failed: '{where}': {text}. Please review  {TEMPLATE_REF}  for details on fields requirements in "
        "the Image Builder Template."
    )


def bad_value(where: str, field: str, value: Any) -> ValidationFailed:
    return field_error(where, f"Field '{field}' has a bad value: '{value}'")


def missing(where: str, field: str) -> ValidationFailed:
    return field_error(where, f"Missing field '{field}'")


def not_authorized(resource: str) -> str:
    return (
        f"Not authorized to access the resource: {resource}. Please check the user assigned identity has the correct "
        f"permissions. For more details, go to {TSHOOT}."
    )


def update_not_supported() -> AzureError:
    return AzureError(
        "Update/Upgrade of image templates is currently not supported", code="Conflict", status=409
    )


# the template's lifecycle: provisioning state x run state --------------------------------------------
_ACTION_NAMES = {
    "run": "run/action",
    "cancel": "cancel/action",
    "delete": "delete",
    "update": "write",
}
REFUSALS = Refusals(
    error=OperationNotAllowed,
    default=f"Operation {TYPE}/{{op}} is not allowed in provisioning state: {{provisioned}} or run state: "
    "{run}.",
    action_names=_ACTION_NAMES,
)
LIFECYCLE = StateTable(
    kind="imageTemplate",
    initial="Creating",
    transitions={
        "Creating": {"created": "Ready", "create_failed": "Failed", "delete": "Deleting"},
        "Failed": {"delete": "Deleting", "update": "Failed"},
        "Ready": {"run": "Running", "delete": "Deleting", "update": "Ready", "use": "Ready"},
        "Running": {"cancel": "Canceling", "ended": "Ready", "use": "Running"},
        "Canceling": {"ended": "Ready", "use": "Canceling"},
        "Deleting": {"purge": "Deleted", "delete_failed": "Ready"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={s: REFUSALS for s in ("Creating", "Failed", "Ready", "Running", "Canceling", "Deleting")},
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Ready", facts={"provisioned": "creating"}),
        "Failed": State(provisioning="Failed", facts={"provisioned": "failed"}),
        "Ready": State(provisioning="Succeeded", facts={"provisioned": "provisioned"}),
        "Running": State(provisioning="Succeeded", settles_to="Ready", facts={"provisioned": "provisioned"}),
        "Canceling": State(
            provisioning="Succeeded", settles_to="Ready", facts={"provisioned": "provisioned"}
        ),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted", facts={"provisioned": "deleting"}),
    },
)
TRIGGER_LIFECYCLE = StateTable(
    kind="imageTemplateTrigger",
    initial="Succeeded",
    transitions={
        "Succeeded": {"update": "Succeeded", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    states_info={"Deleting": State(provisioning="Deleting", settles_to="Deleted")},
)

KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.kind_shape(TYPE),
    operations={
        "create": SECONDS["create"],
        "run": SECONDS["queue"],
        "delete": SECONDS["delete"],
        "cancel": 30.0,
    },
    description="Azure VM Image Builder templates: builds in a real build VM on azemu's clock (Shell, PowerShell, "
    "File, WindowsRestart, WindowsUpdate customizers; validators; managed image, gallery and VHD distribution).",
    uses=(IDENTITY,),
)
TRIGGER_KIND = KindSpec(
    type=TRIGGER,
    lro_family=FAMILY,
    lifecycle=TRIGGER_LIFECYCLE,
    shape=shapes.kind_shape(TRIGGER),
    operations={"watch": 3600.0},
    description="Image Builder triggers (SourceImage): a new build when a new version of the source image "
    "appears (the platform catalog's, or the gallery's).",
    parent=TYPE,
)
UPDATE_SHAPE = shapes.body_shape("VMI.ImageTemplateUpdateParameters")


# run states ---------------------------------------------------------------------------------------------
RUNNING, CANCELING, SUCCEEDED, PARTIAL, FAILED, CANCELED = (
    "Running",
    "Canceling",
    "Succeeded",
    "PartiallySucceeded",
    "Failed",
    "Canceled",
)
QUEUED, BUILDING, CUSTOMIZING, VALIDATING, DISTRIBUTING = (
    "Queued",
    "Building",
    "Customizing",
    "Validating",
    "Distributing",
)


# the template's checks at submission (synchronous: ARM's 400) ------------------------------------------
@dataclass(frozen=True)
class Checked:
    location: str
    identity_id: str
    timeout_minutes: int


def _ci(obj: Mapping[str, Any], key: str) -> Any:
    return next((v for k, v in obj.items() if k.lower() == key.lower()), None)


def check_submission(body: dict[str, Any]) -> Checked:
    """What Image Builder refuses at once (``ValidationFailed``): the required fields, one user-assigned identity,
    well-formed customizers, validators and distributors, a sane timeout."""
    if not body.get("location"):
        raise missing("ImageTemplate", "location")
    loc = regions.canonical(str(body["location"]))
    if loc is None:
        raise bad_value("ImageTemplate", "location", body["location"])
    identity = body.get("identity") or {}
    users = identity.get("userAssignedIdentities") or {}
    if not identity or str(identity.get("type") or "").lower() != "userassigned" or not users:
        raise ValidationFailed(
            "Validation failed: 'ImageTemplate': Missing field 'identity'. Please review "
            f"{TEMPLATE_REF} for details on fields required in the Image Builder Template."
        )
    if len(users) != 1:
        raise field_error(
            "ImageTemplate.identity",
            f"Only one user assigned identity is supported, but {len(users)} were given",
        )
    identity_id = ids.canonical(next(iter(users)))
    p = ids.parse(identity_id)
    if p is None or p.full_type.lower() != IDENTITY.lower():
        raise bad_value("ImageTemplate.identity", "userAssignedIdentities", identity_id)
    props = body.get("properties") or {}
    source = props.get("source")
    if not source:
        raise missing("ImageTemplate.properties", "source")
    kind = str(source.get("type") or "")
    needed = {
        "PlatformImage": ("publisher", "offer", "sku", "version"),
        "ManagedImage": ("imageId",),
        "SharedImageVersion": ("imageVersionId",),
    }.get(kind)
    if needed is None:
        raise bad_value("ImageTemplate.properties.source", "type", kind)
    for field in needed:
        if not source.get(field):
            raise missing("ImageTemplate.properties.source", field)
    for i, c in enumerate(props.get("customize") or []):
        _check_step(c, f"ImageTemplate.properties.customize[{i}]")
    validate = props.get("validate") or {}
    for i, v in enumerate(validate.get("inVMValidations") or []):
        _check_step(v, f"ImageTemplate.properties.validate.inVMValidations[{i}]")
    distribute = props.get("distribute")
    if not distribute and not validate.get("sourceValidationOnly"):
        raise missing("ImageTemplate.properties", "distribute")
    names: set[str] = set()
    for i, d in enumerate(distribute or []):
        where = f"ImageTemplate.properties.distribute[{i}]"
        dtype = str(d.get("type") or "")
        if not d.get("runOutputName"):
            raise missing(where, "runOutputName")
        if str(d["runOutputName"]).lower() in names:
            raise bad_value(where, "runOutputName", d["runOutputName"])
        names.add(str(d["runOutputName"]).lower())
        if dtype == "ManagedImage":
            for field in ("imageId", "location"):
                if not d.get(field):
                    raise missing(where, field)
            if regions.canonical(str(d["location"])) is None:
                raise bad_value(where, "location", d["location"])
        elif dtype == "SharedImage":
            if not d.get("galleryImageId"):
                raise missing(where, "galleryImageId")
            for r in d.get("targetRegions") or []:
                if regions.canonical(str(r.get("name") or "")) is None:
                    raise bad_value(where, "targetRegions", r.get("name"))
            for r in d.get("replicationRegions") or []:
                if regions.canonical(str(r)) is None:
                    raise bad_value(where, "replicationRegions", r)
        elif dtype != "VHD":
            raise bad_value(where, "type", dtype)
    timeout = props.get("buildTimeoutInMinutes")
    minutes = DEFAULT_TIMEOUT_MINUTES if not timeout else int(timeout)
    if not MIN_TIMEOUT_MINUTES <= minutes <= MAX_TIMEOUT_MINUTES:
        raise bad_value("ImageTemplate.properties", "buildTimeoutInMinutes", timeout)
    size = (props.get("vmProfile") or {}).get("osDiskSizeGB")
    if size is not None and int(size) < 0:
        raise bad_value("ImageTemplate.properties.vmProfile", "osDiskSizeGB", size)
    return Checked(loc, identity_id, minutes)


def _check_step(step: dict[str, Any], where: str) -> None:
    kind = str(step.get("type") or "")
    if kind in ("Shell", "PowerShell"):
        if not step.get("inline") and not step.get("scriptUri"):
            raise field_error(where, "Must provide exactly one of 'scriptUri' or 'inline'")
        if step.get("inline") and step.get("scriptUri"):
            raise field_error(where, "Must provide exactly one of 'scriptUri' or 'inline'")
    elif kind == "File":
        for field in ("sourceUri", "destination"):
            if not step.get(field):
                raise missing(where, field)
    elif kind not in ("WindowsRestart", "WindowsUpdate"):
        raise bad_value(where, "type", kind)


def staging_group_name(resource_group: str, template: str, guid: str) -> str:
    """``IT_<resource group>_<template>_<guid>``, as Image Builder names its staging group (at most 90
    characters: the group and template names are shortened to fit)."""
    room = 90 - len("IT___") - len(guid)
    rg, name = resource_group, template
    while len(rg) + len(name) > room:
        if len(rg) >= len(name):
            rg = rg[:-1]
        else:
            name = name[:-1]
    return f"IT_{rg}_{name}_{guid}"


def next_version(existing: list[str], versioning: Mapping[str, Any], source_version: str) -> str:
    """The gallery image version a distribution publishes when ``galleryImageId`` names none (``versioning``):

    * ``Source`` - the source image's version, its first three parts (``22.04.202507150`` -> ``22.4.202507150``);
    * ``Latest`` - one patch above the highest version (under ``major`` when given: ``major.0.0`` if none yet);
      ``0.0.1`` for a definition without versions.
    """
    scheme = str(versioning.get("scheme") or "Latest")
    if scheme == "Source":
        parts = source_version.split(".")
        if len(parts) < 3 or not all(x.isdigit() for x in parts[:3]):
            raise AzureError(
                f"The version '{source_version or '(none)'}' of the source image cannot name a gallery image version "
                "(versioning scheme 'Source' needs a Major.Minor.Patch source version).",
                code="BadSharedImageDistribute",
                status=400,
            )
        return ".".join(str(int(x)) for x in parts[:3])
    keys = sorted(_version_key(v) for v in existing)
    major = versioning.get("major")
    if major is not None and int(major) >= 0:
        under = [v for v in keys if v[0] == int(major)]
        if not under:
            return f"{int(major)}.0.0"
        top = under[-1]
    elif keys:
        top = keys[-1]
    else:
        return "0.0.1"
    return f"{top[0]}.{top[1]}.{top[2] + 1}"


def _version_key(name: str) -> tuple[int, int, int]:
    a, b, c = [*[int(x) if x.isdigit() else 0 for x in name.split(".")[:3]], 0, 0, 0][:3]
    return a, b, c
