"""Routes and handlers of the Azure Compute Gallery (GalleryRP): galleries, image definitions, image versions,
sharing, and the shared / community gallery read paths."""

from __future__ import annotations

from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Handler, Router
from azemu.domain import gallery_versions, regions, shapes
from azemu.domain.errors import NotFound
from azemu.domain.gallery import DEFINITION, DEFINITION_KIND, GALLERY, GALLERY_KIND, VERSION, document
from azemu.domain.kinds import KindSpec, Written
from azemu.providers.base import (
    ProviderContext,
    accepted,
    api_of,
    body_of,
    deleted,
    listed,
    put_response,
    resource_id,
    write_of,
)
from azemu.state.records import ResourceRecord

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute"
G = RG + "/galleries/{gallery}"
D = G + "/images/{image}"
V = D + "/versions/{version}"
_NAMES = ("gallery", "image", "version")
_KINDS = (GALLERY_KIND, DEFINITION_KIND, gallery_versions.KIND)


class GalleryProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request, depth: int) -> str:
        spec: KindSpec = _KINDS[depth - 1]
        return resource_id(req, spec, *_NAMES[:depth])

    def _put(self, depth: int) -> Handler:
        def handler(req: Request) -> Response:
            written = self.emu.kinds.put(write_of(req, self._id(req, depth)))
            return put_response(req, self.emu, written, document(written.record))

        return handler

    # galleries ---------------------------------------------------------------------------------------
    def get_gallery(self, req: Request) -> Response:
        return Response(200, document(self.emu.galleries.get(self._id(req, 1))))

    def list_galleries(self, req: Request) -> Response:
        recs = self.emu.galleries.list_galleries(
            req.params["subscriptionId"], req.params.get("resourceGroupName")
        )
        return listed([document(r) for r in recs])

    def delete_gallery(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req, 1), req.tenant_id))

    def share(self, req: Request) -> Response:
        op = self.emu.galleries.share(self._id(req, 1), body_of(req, shapes.SHARE), req.tenant_id)
        return accepted(req, self.emu, op)

    # definitions -------------------------------------------------------------------------------------
    def patch_definition(self, req: Request) -> Response:
        body = body_of(req, shapes.DEFINITION_UPDATE)
        rec, _, op = self.emu.galleries.patch_definition(
            self._id(req, 2), body, req.tenant_id, req.api_version or ""
        )
        return put_response(req, self.emu, _updated(rec, op), document(rec))

    def get_definition(self, req: Request) -> Response:
        return Response(200, document(self.emu.galleries.get(self._id(req, 2))))

    def list_definitions(self, req: Request) -> Response:
        recs = self.emu.galleries.list_children(self._id(req, 1), DEFINITION)
        return listed([document(r) for r in recs])

    def delete_definition(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req, 2), req.tenant_id))

    # versions ----------------------------------------------------------------------------------------
    def _version_doc(self, rec: ResourceRecord, expand: bool) -> dict[str, Any]:
        extra = {"replicationStatus": self.emu.gallery_versions.replication_status(rec)} if expand else None
        return document(rec, extra)

    def patch_version(self, req: Request) -> Response:
        body = body_of(req, shapes.VERSION_UPDATE)
        rec, _, op = self.emu.gallery_versions.patch(self._id(req, 3), body, req.tenant_id)
        return put_response(req, self.emu, _updated(rec, op), document(rec))

    def get_version(self, req: Request) -> Response:
        expand = (req.query.get("$expand") or "").lower() == "replicationstatus"
        return Response(200, self._version_doc(self.emu.gallery_versions.get(self._id(req, 3)), expand))

    def list_versions(self, req: Request) -> Response:
        recs = self.emu.galleries.list_children(self._id(req, 2), VERSION)
        return listed([document(r) for r in recs])

    def delete_version(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req, 3), req.tenant_id))

    # shared and community galleries (read paths) -----------------------------------------------------
    def _shared(self, req: Request) -> ResourceRecord:
        name = req.params["gallery"]
        found = self.emu.galleries.shared_gallery(name, req.params["subscriptionId"], req.tenant_id)
        if found is None:
            raise NotFound(f"The shared gallery '{name}' was not found.", code="ResourceNotFound")
        return found

    def _community(self, req: Request) -> ResourceRecord:
        name = req.params["gallery"]
        found = self.emu.galleries.community_gallery(name)
        if found is None:
            raise NotFound(f"The community gallery '{name}' was not found.", code="ResourceNotFound")
        return found

    def _pub(self, kind: str, loc: str, root: str, rec: ResourceRecord, uid: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": rec.name if rec.type != GALLERY else root.rsplit("/", 1)[-1],
            "location": loc,
            "identifier": {"uniqueId": uid},
        }
        props = rec.body["properties"]
        if rec.type == DEFINITION:
            out["properties"] = {
                k: props[k]
                for k in (
                    "osType",
                    "osState",
                    "hyperVGeneration",
                    "identifier",
                    "architecture",
                    "features",
                    "endOfLifeDate",
                    "eula",
                )
                if k in props
            }
        elif rec.type == VERSION:
            pub = props["publishingProfile"]
            out["properties"] = {
                "publishedDate": pub.get("publishedDate"),
                "endOfLifeDate": pub.get("endOfLifeDate"),
                "excludeFromLatest": pub.get("excludeFromLatest", False),
                "storageProfile": {
                    "osDiskImage": {
                        "diskSizeGB": props["storageProfile"]["osDiskImage"].get("sizeInGB"),
                        "hostCaching": props["storageProfile"]["osDiskImage"].get("hostCaching"),
                    }
                },
            }
        if kind == "community":
            out["type"] = "Microsoft.Compute/Locations/CommunityGallery" + (
                "/Images" if rec.type == DEFINITION else "/Images/Versions" if rec.type == VERSION else ""
            )
        return out

    def _read(self, kind: str, depth: int, listing: bool) -> Any:
        def handler(req: Request) -> Response:
            loc = regions.require(req.params["location"])
            gallery = self._shared(req) if kind == "shared" else self._community(req)
            root = (
                f"/{'SharedGalleries' if kind == 'shared' else 'CommunityGalleries'}/{req.params['gallery']}"
            )
            if depth == 0:
                return Response(200, self._pub(kind, loc, root, gallery, root))
            defs = self.emu.galleries.list_children(gallery.id, DEFINITION)
            if depth == 1 and listing:
                return Response(
                    200, {"value": [self._pub(kind, loc, root, d, f"{root}/Images/{d.name}") for d in defs]}
                )
            definition = next((d for d in defs if d.name.lower() == req.params["image"].lower()), None)
            if definition is None:
                raise NotFound(
                    f"The gallery image '{req.params['image']}' was not found.", code="ResourceNotFound"
                )
            droot = f"{root}/Images/{definition.name}"
            if depth == 1:
                return Response(200, self._pub(kind, loc, root, definition, droot))
            versions = self.emu.galleries.list_children(definition.id, VERSION)
            if listing:
                return Response(
                    200,
                    {
                        "value": [
                            self._pub(kind, loc, root, v, f"{droot}/Versions/{v.name}") for v in versions
                        ]
                    },
                )
            version = next((v for v in versions if v.name == req.params["version"]), None)
            if version is None:
                raise NotFound(
                    f"The gallery image version '{req.params['version']}' was not found.",
                    code="ResourceNotFound",
                )
            return Response(200, self._pub(kind, loc, root, version, f"{droot}/Versions/{version.name}"))

        return handler

    def list_shared(self, req: Request) -> Response:
        loc = regions.require(req.params["location"])
        found = self.emu.galleries.shared_galleries(req.params["subscriptionId"], req.tenant_id)
        items = []
        for g in found:
            unique = g.body["properties"]["identifier"]["uniqueName"]
            items.append(
                {"name": unique, "location": loc, "identifier": {"uniqueId": f"/SharedGalleries/{unique}"}}
            )
        return Response(200, {"value": items})


def register(router: Router, ctx: ProviderContext) -> None:
    c = GalleryProvider(ctx)
    r = router.add
    ga, da, va = (api_of(k) for k in _KINDS)
    r("GET", RG + "/galleries", c.list_galleries, api=ga)
    r("GET", SUB + "/galleries", c.list_galleries, api=ga)
    r("PUT", G, c._put(1), api=ga)
    r("PATCH", G, c._put(1), api=ga)
    r("GET", G, c.get_gallery, api=ga)
    r("DELETE", G, c.delete_gallery, api=ga)
    r("POST", G + "/share", c.share, api=ga)
    r("GET", G + "/images", c.list_definitions, api=da)
    r("PUT", D, c._put(2), api=da)
    r("PATCH", D, c.patch_definition, api=da)
    r("GET", D, c.get_definition, api=da)
    r("DELETE", D, c.delete_definition, api=da)
    r("GET", D + "/versions", c.list_versions, api=va)
    r("PUT", V, c._put(3), api=va)
    r("PATCH", V, c.patch_version, api=va)
    r("GET", V, c.get_version, api=va)
    r("DELETE", V, c.delete_version, api=va)
    sg, cg = (
        ("Microsoft.Compute", "locations/sharedGalleries"),
        ("Microsoft.Compute", "locations/communityGalleries"),
    )
    base_s = SUB + "/locations/{location}/sharedGalleries"
    base_c = SUB + "/locations/{location}/communityGalleries"
    r("GET", base_s, c.list_shared, api=sg)
    for base, kind, api in ((base_s, "shared", sg), (base_c, "community", cg)):
        r("GET", base + "/{gallery}", c._read(kind, 0, False), api=api)
        r("GET", base + "/{gallery}/images", c._read(kind, 1, True), api=api)
        r("GET", base + "/{gallery}/images/{image}", c._read(kind, 1, False), api=api)
        r("GET", base + "/{gallery}/images/{image}/versions", c._read(kind, 2, True), api=api)
        r("GET", base + "/{gallery}/images/{image}/versions/{version}", c._read(kind, 2, False), api=api)


def _updated(rec: ResourceRecord, op: Any) -> Written:
    return Written(rec, False, op)
