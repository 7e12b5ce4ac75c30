"""Helpers for gallery tests: a generalized managed image, definitions and versions through the SDK."""

from __future__ import annotations

from typing import Any

from azure.mgmt.compute.models import (
    Gallery,
    GalleryArtifactVersionFullSource,
    GalleryImage,
    GalleryImageIdentifier,
    GalleryImageVersion,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    Image,
    SubResource,
    TargetRegion,
)

from tests import vmkit


def generalized_image(c: vmkit.Clients, rg: str, name: str) -> Any:
    vm = vmkit.linux_vm(c, rg, f"{name}-src", vmkit.DEBIAN12)
    vmkit.run(c, rg, f"{name}-src", "waagent -deprovision+user -force", "cloud-init clean --machine-id")
    c.compute.virtual_machines.begin_deallocate(rg, f"{name}-src").result()
    c.compute.virtual_machines.generalize(rg, f"{name}-src")
    return c.compute.images.begin_create_or_update(
        rg,
        name,
        Image(location="eastus", source_virtual_machine=SubResource(id=vm.id), hyper_v_generation="V2"),
    ).result()


def gallery(c: vmkit.Clients, rg: str, name: str) -> Any:
    return c.compute.galleries.begin_create_or_update(rg, name, Gallery(location="eastus")).result()


def definition(
    c: vmkit.Clients, rg: str, gal: str, name: str, state: str = "Generalized", sku: str | None = None
) -> Any:
    return c.compute.gallery_images.begin_create_or_update(
        rg,
        gal,
        name,
        GalleryImage(
            location="eastus",
            os_type="Linux",
            os_state=state,
            hyper_v_generation="V2",
            identifier=GalleryImageIdentifier(publisher="azemu", offer="tests", sku=sku or name),
        ),
    ).result()


def version(
    c: vmkit.Clients,
    rg: str,
    gal: str,
    definition_name: str,
    name: str,
    *,
    image_id: str | None = None,
    vm_id: str | None = None,
    regions: list[tuple[str, int]] | None = None,
    exclude: bool = False,
    exclude_regions: set[str] | None = None,
) -> Any:
    source = (
        GalleryArtifactVersionFullSource(id=image_id)
        if image_id
        else GalleryArtifactVersionFullSource(virtual_machine_id=vm_id)
    )
    targets = [
        TargetRegion(name=r, regional_replica_count=n, exclude_from_latest=r in (exclude_regions or set()))
        for r, n in (regions or [("eastus", 1)])
    ]
    return c.compute.gallery_image_versions.begin_create_or_update(
        rg,
        gal,
        definition_name,
        name,
        GalleryImageVersion(
            location="eastus",
            publishing_profile=GalleryImageVersionPublishingProfile(
                target_regions=targets, exclude_from_latest=exclude
            ),
            storage_profile=GalleryImageVersionStorageProfile(source=source),
        ),
    ).result()
