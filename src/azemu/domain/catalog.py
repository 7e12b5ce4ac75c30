"""The platform (marketplace) image catalog: publishers, offers, SKUs and versions (data/platform_images.json).

Microsoft publishes new versions of its images every month; azemu's catalog can publish them too, on its
clock (:class:`PlatformCatalog`, ``azemu catalog publish``): a published version is kept in the state store
with the time it appears, and from that time on it is one of the image's versions - listed, resolvable, and
what ``latest`` names. Whoever watches for new versions (Image Builder's source-image triggers) is told.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain.errors import AzureError, BadRequest, Conflict, InvalidParameter
from azemu.domain.timefmt import iso
from azemu.state.store import Store, Txn


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


def resolve(
    ref: dict[str, Any], location: str, published: Published | None = None
) -> tuple[PlatformImage, str]:
    """(image, exact version) for an ``imageReference`` with publisher/offer/sku/version; ``published``: the
    versions azemu's catalog has published so far (:meth:`PlatformCatalog.visible`)."""
    missing = [k for k in ("publisher", "offer", "sku") if not ref.get(k)]
    if missing:
        raise InvalidParameter(
            f"Required parameter 'imageReference.{missing[0]}' is missing (null).",
            target=f"imageReference.{missing[0]}",
        )
    img = find(ref["publisher"], ref["offer"], ref["sku"])
    if img is not None and published:
        img = with_published(img, published)
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


# versions published on azemu's clock ---------------------------------------------------------------------
SETTING = "platformImagePublished"
_VERSION = re.compile(r"^\d+(\.\d+){1,3}$")
# (publisher, offer, sku) lower-case -> the versions published so far
Published = Mapping[tuple[str, str, str], tuple[str, ...]]
Listener = Callable[[Txn, PlatformImage, str, float], None]  # (tx, image, version, when it appears)


def _entries(tx: Txn) -> list[dict[str, Any]]:
    raw = tx.get_setting(SETTING)
    entries: list[dict[str, Any]] = json.loads(raw) if raw else []
    return entries


def published_at(tx: Txn, now: float) -> Published:
    """Every version azemu's catalog has published by ``now``, per image."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for e in _entries(tx):
        if float(e["at"]) <= now:
            out.setdefault((e["publisher"].lower(), e["offer"].lower(), e["sku"].lower()), []).append(
                e["version"]
            )
    return {k: tuple(v) for k, v in out.items()}


def key_of(img: PlatformImage) -> tuple[str, str, str]:
    return img.publisher.lower(), img.offer.lower(), img.sku.lower()


def with_published(img: PlatformImage, published: Published) -> PlatformImage:
    extra = published.get(key_of(img), ())
    if not extra:
        return img
    return dataclasses.replace(img, versions=tuple(sorted({*img.versions, *extra}, key=_vkey)))


class PlatformCatalog:
    """The catalog as it stands on azemu's clock: the shipped versions and those published since."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.listeners: list[Listener] = []  # told (in the publishing transaction) of each new version

    @staticmethod
    def _entries(tx: Txn) -> list[dict[str, Any]]:
        return _entries(tx)

    def visible(self, tx: Txn) -> Published:
        """Every version published by now, per image."""
        return published_at(tx, self.clock.now())

    def image(self, tx: Txn, publisher: str, offer: str, sku: str) -> PlatformImage | None:
        img = find(publisher, offer, sku)
        return with_published(img, self.visible(tx)) if img is not None else None

    def find(self, publisher: str, offer: str, sku: str) -> PlatformImage | None:
        with self.store.read() as tx:
            return self.image(tx, publisher, offer, sku)

    def resolve(self, tx: Txn, ref: dict[str, Any], location: str) -> tuple[PlatformImage, str]:
        return resolve(ref, location, self.visible(tx))

    def published(self) -> list[dict[str, Any]]:
        """What azemu has published (or will publish), in order, with when each version appears."""
        now = self.clock.now()
        with self.store.read() as tx:
            entries = self._entries(tx)
        return [
            {
                "image": f"{e['publisher']}:{e['offer']}:{e['sku']}",
                "version": e["version"],
                "appearsAt": iso(float(e["at"])),
                "visible": float(e["at"]) <= now,
            }
            for e in sorted(entries, key=lambda e: (float(e["at"]), _vkey(e["version"])))
        ]

    def publish(self, urn: str, version: str, at: float | None = None) -> dict[str, Any]:
        """Publish ``version`` of ``publisher:offer:sku`` at ``at`` on azemu's clock (now by default)."""
        parts = urn.split(":")
        if len(parts) not in (3, 4):
            raise BadRequest(f"'{urn}' is not an image: give publisher:offer:sku.")
        img = find(*parts[:3])
        if img is None:
            raise BadRequest(
                f"The platform image '{':'.join(parts[:3])}' is not in azemu's catalog (see az vm image list)."
            )
        if not _VERSION.match(version):
            raise BadRequest(
                f"'{version}' is not a version: give digits separated by dots (22.04.202407010)."
            )
        when = self.clock.now() if at is None else float(at)
        with self.store.transaction() as tx:
            entries = self._entries(tx)
            known = {*img.versions, *(e["version"] for e in entries if _same(e, img))}
            if version in known:
                raise Conflict(
                    f"Version '{version}' of '{img.publisher}:{img.offer}:{img.sku}' already exists."
                )
            entries.append(
                {
                    "publisher": img.publisher,
                    "offer": img.offer,
                    "sku": img.sku,
                    "version": version,
                    "at": when,
                }
            )
            tx.put_setting(SETTING, json.dumps(entries))
            for listener in self.listeners:
                listener(tx, img, version, when)
        return {
            "image": f"{img.publisher}:{img.offer}:{img.sku}",
            "version": version,
            "appearsAt": iso(when),
            "visible": when <= self.clock.now(),
        }


def _same(entry: dict[str, Any], img: PlatformImage) -> bool:
    return (entry["publisher"].lower(), entry["offer"].lower(), entry["sku"].lower()) == key_of(img)
