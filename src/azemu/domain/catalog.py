"""The platform (marketplace) image catalog: publishers, offers, SKUs and versions (data/platform_images.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from azemu.domain.errors import AzureError, InvalidParameter


class PlatformImageNotFound(AzureError):
    code, status = "PlatformImageNotFound", 404


@dataclass(frozen=True)
class PlatformImage:
    publisher: str
    offer: str
    sku: str
    versions: tuple[str, ...]
    os_type: str
    hyper_v_generation: str
    architecture: str
    disk_size_gb: int
    guest: str

    @property
    def latest(self) -> str:
        return self.versions[-1]


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("azemu.data").joinpath("platform_images.json").read_text(encoding="utf-8")
    )
    return data


@cache
def images() -> tuple[PlatformImage, ...]:
    return tuple(
        PlatformImage(
            i["publisher"],
            i["offer"],
            i["sku"],
            tuple(sorted(i["versions"], key=_vkey)),
            i["osType"],
            i["hyperVGeneration"],
            i.get("architecture", "x64"),
            int(i.get("osDiskSizeGB", 30)),
            i["guest"],
        )
        for i in _raw()["images"]
    )


def aliases() -> dict[str, str]:
    return dict(_raw()["aliases"])


def publishers() -> list[str]:
    return sorted({i.publisher for i in images()}, key=str.lower)


def offers(publisher: str) -> list[str]:
    return sorted({i.offer for i in images() if i.publisher.lower() == publisher.lower()}, key=str.lower)


def skus(publisher: str, offer: str) -> list[PlatformImage]:
    return [
        i for i in images() if i.publisher.lower() == publisher.lower() and i.offer.lower() == offer.lower()
    ]


def find(publisher: str, offer: str, sku: str) -> PlatformImage | None:
    for i in skus(publisher, offer):
        if i.sku.lower() == sku.lower():
            return i
    return None


def resolve(ref: dict[str, Any], location: str) -> tuple[PlatformImage, str]:
    """(image, exact version) for an ``imageReference`` with publisher/offer/sku/version."""
    missing = [k for k in ("publisher", "offer", "sku") if not ref.get(k)]
    if missing:
        raise InvalidParameter(
            f"Required parameter 'imageReference.{missing[0]}' is missing (null).",
            target=f"imageReference.{missing[0]}",
        )
    img = find(ref["publisher"], ref["offer"], ref["sku"])
    version = str(ref.get("version") or "latest")
    if img is not None and version.lower() == "latest":
        return img, img.latest
    if img is None or version not in img.versions:
        raise PlatformImageNotFound(
            f"The platform image '{ref['publisher']}:{ref['offer']}:{ref['sku']}:{version}' is not available. "
            f"Verify that all fields in the storage profile are correct. For more details about storage profile "
            f"information, please refer to https://aka.ms/storageprofile",
            target="imageReference",
        )
    return img, version
