"""Azure DevTest Labs as data: the kinds (a lab and what lives in it), their shapes, Azure's texts."""

from __future__ import annotations

import uuid
from typing import Any

from azemu.domain import ids, shapes
from azemu.domain.errors import AzureError
from azemu.domain.identities import TYPE as IDENTITY
from azemu.domain.kinds import KindSpec
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.shapes import Choice
from azemu.domain.tracked import SIMPLE_LIFECYCLE
from azemu.domain.vm import TYPE as COMPUTE_VM

NS = "Microsoft.DevTestLab"
LAB = f"{NS}/labs"
VNET = f"{LAB}/virtualnetworks"
CUSTOM_IMAGE = f"{LAB}/customimages"
VM = f"{LAB}/virtualmachines"
FORMULA = f"{LAB}/formulas"
ARTIFACT_SOURCE = f"{LAB}/artifactsources"
ARTIFACT = f"{LAB}/artifactsources/artifacts"
POLICY = f"{LAB}/policysets/policies"
SCHEDULE = f"{LAB}/schedules"
VM_SCHEDULE = f"{LAB}/virtualmachines/schedules"
SHARED_GALLERY = f"{LAB}/sharedgalleries"
SHARED_IMAGE = f"{LAB}/sharedgalleries/sharedimages"
FAMILY = NS
PUBLIC_REPO = "public repo"
DEFAULT_SIZE = "Standard_DS1_v2"

# the preview api-version (2018-10-15-preview) that serves shared galleries has no SDK: small hand-written shapes
SHARED_GALLERY_SHAPE: dict[str, Any] = {
    "tags": dict,
    "properties": {"galleryId": str, "allowAllImages": Choice("Enabled", "Disabled")},
}
SHARED_IMAGE_SHAPE: dict[str, Any] = {
    "tags": dict,
    "properties": {"enableState": Choice("Enabled", "Disabled"), "displayName": str},
}
APPLY_ARTIFACTS = shapes.body_shape("DTL.ApplyArtifactsRequest")
CREATION_PARAMETER = shapes.kind_shape(VM)  # createEnvironment's body: the same properties as a lab VM's


def _vm_refusal(action: str, ctx: Any) -> AzureError:
    return AzureError(
        f"The operation '{action}' is not allowed on virtual machine '{ctx.get('name')}' while it is "
        f"{str(ctx.get('state')).lower()}.",
        code="Conflict",
        status=409,
    )


# a lab VM: provisioning x the compute VM's power (what lastKnownPowerState shows)
VM_LIFECYCLE = StateTable(
    kind="labVirtualMachine",
    initial="Creating",
    transitions={
        "Creating": {"created": "Running", "failed": "Failed", "delete": "Deleting"},
        "Running": {
            "stop": "Stopping",
            "restart": "Running",
            "update": "Running",
            "artifacts": "Running",
            "delete": "Deleting",
            "claim": "Running",
            "capture": "Running",
        },
        "Stopping": {"settle": "Stopped", "delete": "Deleting"},
        "Stopped": {
            "start": "Starting",
            "stop": "Stopped",
            "update": "Stopped",
            "delete": "Deleting",
            "claim": "Stopped",
            "capture": "Stopped",
        },
        "Starting": {"settle": "Running", "delete": "Deleting"},
        "Failed": {"delete": "Deleting", "update": "Failed", "start": "Starting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={
        s: _vm_refusal
        for s in ("Creating", "Stopping", "Starting", "Deleting", "Running", "Stopped", "Failed")
    },
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Running", facts={"power": "Starting"}),
        "Running": State(facts={"power": "Running"}),
        "Stopping": State(provisioning="Succeeded", settles_to="Stopped", facts={"power": "Stopping"}),
        "Stopped": State(facts={"power": "Stopped"}),
        "Starting": State(provisioning="Succeeded", settles_to="Running", facts={"power": "Starting"}),
        "Failed": State(provisioning="Failed", facts={"power": "Stopped"}),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted", facts={"power": "Stopping"}),
    },
)

ASYNC_LIFECYCLE = StateTable(
    kind="devTestLabResource",
    initial="Creating",
    transitions={
        "Creating": {"created": "Succeeded", "failed": "Failed", "delete": "Deleting"},
        "Succeeded": {"update": "Succeeded", "delete": "Deleting", "use": "Succeeded"},
        "Failed": {"update": "Failed", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)


def _spec(
    full_type: str, description: str, *, lifecycle: StateTable = SIMPLE_LIFECYCLE, **kw: Any
) -> KindSpec:
    shape = kw.pop("shape", None)
    if shape is None:
        shape = shapes.kind_shape(full_type)
    return KindSpec(
        type=full_type,
        lro_family=FAMILY,
        lifecycle=lifecycle,
        shape=shape,
        operations=kw.pop("operations", {}),
        description=description,
        **kw,
    )


LAB_KIND = _spec(
    LAB,
    "DevTest Labs: a lab with its virtual network, policies, schedules, artifact sources and costs (zero).",
    lifecycle=ASYNC_LIFECYCLE,
    operations={"create": 120.0, "delete": 300.0},
    uses=(IDENTITY,),
)
VNET_KIND = _spec(VNET, "A lab's virtual networks (the Azure virtual network they name).", parent=LAB)
CUSTOM_IMAGE_KIND = _spec(
    CUSTOM_IMAGE,
    "Lab custom images: from a lab VM (deprovisioned or sysprepped by the lab when asked), a VHD or a managed image.",
    lifecycle=ASYNC_LIFECYCLE,
    operations={"create": 300.0, "delete": 60.0},
    parent=LAB,
)
VM_KIND = _spec(
    VM,
    "Lab virtual machines: from marketplace images, custom images, shared gallery images or formulas; artifacts, "
    "claim, policies, auto-shutdown and auto-start.",
    lifecycle=VM_LIFECYCLE,
    operations={
        "create": 240.0,
        "start": 60.0,
        "stop": 90.0,
        "restart": 90.0,
        "delete": 180.0,
        "applyArtifacts": 120.0,
    },
    parent=LAB,
    uses=(COMPUTE_VM,),
)
FORMULA_KIND = _spec(FORMULA, "Lab formulas: reusable lab VM creation parameters.", parent=LAB)
ARTIFACT_SOURCE_KIND = _spec(
    ARTIFACT_SOURCE,
    "Lab artifact sources: folders of artifacts (a local folder or a repository in the data directory, offline).",
    parent=LAB,
)
POLICY_KIND = _spec(
    POLICY,
    "Lab policies: allowed VM sizes and images, VMs per user and per lab.",
    parent=LAB,
)
SCHEDULE_KIND = _spec(
    SCHEDULE,
    "Lab schedules: auto-shutdown (LabVmsShutdown) and auto-start (LabVmAutoStart) on azemu's clock.",
    parent=LAB,
    operations={"tick": 86400.0},
)
VM_SCHEDULE_KIND = _spec(
    VM_SCHEDULE, "A lab VM's own auto-shutdown schedule.", parent=VM, operations={"tick": 86400.0}
)
SHARED_GALLERY_KIND = _spec(
    SHARED_GALLERY,
    "An Azure Compute Gallery attached to a lab (one per lab).",
    parent=LAB,
    shape=SHARED_GALLERY_SHAPE,
)
SHARED_IMAGE_KIND = _spec(
    SHARED_IMAGE,
    "The attached gallery's image definitions, each enabled or disabled for the lab's VMs.",
    parent=SHARED_GALLERY,
    shape=SHARED_IMAGE_SHAPE,
)


class DtlError(AzureError):
    code, status = "BadRequest", 400


def not_found(kind: str, rid: str) -> AzureError:
    p = ids.parse(rid)
    name = p.names[-1] if p is not None else rid
    return AzureError(f"The {kind} '{name}' was not found.", code="NotFound", status=404)


def unique() -> str:
    return str(uuid.uuid4())


def lab_of(rid: str) -> str:
    """The lab a child's id names."""
    low = rid.lower()
    i = low.index("/providers/microsoft.devtestlab/labs/") + len("/providers/microsoft.devtestlab/labs/")
    rest = rid[i:].split("/")
    return rid[:i] + rest[0]
