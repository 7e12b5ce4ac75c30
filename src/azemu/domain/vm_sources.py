"""Where a new VM's OS disk comes from: a platform image, a managed image or a gallery image version.

Each resolver answers the same questions (an :class:`OsSource`), so creating the VM is one path whatever
the image: OS type and generation, the disk's default size, whether the source is generalized (then
``osProfile`` is required) or specialized (then it is refused), what the VM shows as its
``imageReference``, and where the disk's content comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azemu.domain import catalog
from azemu.domain.content import data_key
from azemu.domain.errors import InvalidParameter
from azemu.guest import api as guest_api
from azemu.guest.machine import Guest
from azemu.state.store import Txn

# (lun, size in GiB, caching, storage account type or None, content key)
DataSpec = tuple[int, int, str, str | None, str]


@dataclass
class OsSource:
    os_type: str
    hyper_v: str
    architecture: str
    size_gb: int
    generalized: bool
    image_out: dict[str, Any]  # imageReference as the VM shows it
    creation: dict[str, Any]  # creationData of the OS disk
    guest: Guest | None = None  # a new guest (platform images) ...
    source_key: str | None = None  # ... or the content it is a copy-on-write clone of
    image_guest: str | None = None
    data_specs: list[DataSpec] = field(default_factory=list)
    data_creation: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def platform(
    image_ref: dict[str, Any],
    loc: str,
    subscription: str,
    now: float,
    published: catalog.Published | None = None,
) -> OsSource:
    image, version = catalog.resolve(image_ref, loc, published)
    urn_id = (
        f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{loc}/Publishers/"
        f"{image.publisher}/ArtifactTypes/VMImage/Offers/{image.offer}/Skus/{image.sku}/Versions/{version}"
    )
    return OsSource(
        os_type=image.os_type,
        hyper_v=image.hyper_v_generation,
        architecture=image.architecture,
        size_gb=image.disk_size_gb,
        generalized=True,
        image_out={
            "publisher": image.publisher,
            "offer": image.offer,
            "sku": image.sku,
            "version": image_ref.get("version") or "latest",
            "exactVersion": version,
        },
        creation={"createOption": "FromImage", "imageReference": {"id": urn_id}},
        guest=guest_api.base_guest(image.guest, now),
        image_guest=image.guest,
    )


def managed_image(tx: Txn, images: Any, image_id: str, vm_id: str) -> OsSource:
    img = images.require_ready(tx, image_id, user=vm_id)
    os_disk = img.body["properties"]["storageProfile"]["osDisk"]
    return OsSource(
        os_type=os_disk["osType"],
        hyper_v=img.body["properties"].get("hyperVGeneration", "V1"),
        architecture="x64",
        size_gb=int(os_disk.get("diskSizeGB") or 30),
        generalized=True,
        image_out={"id": img.id},
        creation={"createOption": "FromImage", "imageReference": {"id": img.id}},
        source_key=img.key,
        data_specs=[
            (
                d["lun"],
                int(d["diskSizeGB"]),
                d.get("caching", "None"),
                d.get("storageAccountType"),
                data_key(img.id, d["lun"]),
            )
            for d in img.body["properties"]["storageProfile"].get("dataDisks", [])
        ],
        data_creation={"imageReference": {"id": img.id}},
    )


def gallery_version(
    tx: Txn,
    gallery: Any,
    image_ref: dict[str, Any],
    loc: str,
    tenant_id: str,
    subscription: str,
    client: dict[str, str],
) -> OsSource:
    version, definition, image_out = gallery.resolve_for_vm(
        tx, image_ref, loc, tenant_id, subscription, client
    )
    dprops = definition.body["properties"]
    images = {
        str(d["lun"]): d for d in version.body["properties"]["storageProfile"].get("dataDiskImages", [])
    }
    specs: list[DataSpec] = [
        (
            int(lun),
            int(images[str(lun)]["sizeInGB"]),
            images[str(lun)].get("hostCaching", "None"),
            None,
            data_key(version.id, lun),
        )
        for lun in version.internal.get("dataLuns", [])
        if str(lun) in images
    ]
    warnings = (
        [f"The gallery image version {version.id} has passed its end-of-life date."]
        if gallery.end_of_life(version)
        else []
    )
    return OsSource(
        os_type=dprops["osType"],
        hyper_v=dprops.get("hyperVGeneration", "V1"),
        architecture=dprops.get("architecture", "x64"),
        size_gb=int(version.internal["sizeGB"]),
        generalized=dprops["osState"] == "Generalized",
        image_out=image_out,
        creation={
            "createOption": "FromImage",
            "galleryImageReference": {k: v for k, v in image_out.items() if k != "exactVersion"},
        },
        source_key=version.key,
        data_specs=specs,
        data_creation={"galleryImageReference": {"id": version.id}},
        warnings=warnings,
    )


def resolve(
    tx: Txn,
    image_ref: dict[str, Any] | None,
    *,
    loc: str,
    subscription: str,
    vm_id: str,
    now: float,
    images: Any,
    gallery: Any,
    tenant_id: str,
    client: dict[str, str],
) -> OsSource:
    """The OS source an ``imageReference`` names."""
    if not image_ref:
        raise InvalidParameter(
            "Required parameter 'imageReference' is missing (null).", target="imageReference"
        )
    ref_id = str(image_ref.get("id") or "")
    if "/providers/microsoft.compute/images/" in ref_id.lower() and images is not None:
        return managed_image(tx, images, ref_id, vm_id)
    if gallery is not None and (
        "/galleries/" in ref_id.lower()
        or image_ref.get("sharedGalleryImageId")
        or image_ref.get("communityGalleryImageId")
    ):
        return gallery_version(
            tx, gallery, image_ref, loc, tenant_id, subscription, {**client, "scope": vm_id}
        )
    if ref_id or image_ref.get("sharedGalleryImageId") or image_ref.get("communityGalleryImageId"):
        raise InvalidParameter(f"The image reference '{image_ref}' is not valid.", target="imageReference")
    return platform(image_ref, loc, subscription, now, catalog.published_at(tx, now))
