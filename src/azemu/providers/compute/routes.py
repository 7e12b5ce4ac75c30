"""Routes and handlers of Microsoft.Compute: virtual machines, images, disks, snapshots and the platform
image catalog. Thin: each handler turns the request into a domain call and the result into Azure's answer."""

from __future__ import annotations

from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import availability_sets, catalog, disks, images, regions, shapes, sizes, vm, vm_extensions
from azemu.domain.errors import NotFound
from azemu.domain.kinds import KindSpec
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
from azemu.providers.compute import views

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute"
VM = RG + "/virtualMachines/{vmName}"
IMG = SUB + "/locations/{location}/publishers"


class ComputeProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _vm_id(self, req: Request) -> str:
        return resource_id(req, vm.KIND, "vmName")

    def _subscriptions(self, req: Request) -> list[str]:
        return [s.id for s in self.emu.tenancy.subscriptions_of(req.tenant_id)]

    # virtual machines --------------------------------------------------------------------------------
    def put_vm(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._vm_id(req)))
        return put_response(req, self.emu, written, self.emu.vms.document(written.record))

    def patch_vm(self, req: Request) -> Response:
        rec = self.emu.vms.update(
            self._vm_id(req), body_of(req, shapes.VM_UPDATE), if_match=req.header("if-match")
        )
        return Response(200, self.emu.vms.document(rec))

    def get_vm(self, req: Request) -> Response:
        rec = self.emu.vms.get(self._vm_id(req))
        expand = (req.query.get("$expand") or "").lower()
        iv = self.emu.vms.instance_view(rec, self._subscriptions(req)) if expand == "instanceview" else None
        return Response(200, self.emu.vms.document(rec, iv, user_data=expand == "userdata"))

    def instance_view(self, req: Request) -> Response:
        rec = self.emu.vms.get(self._vm_id(req))
        return Response(200, self.emu.vms.instance_view(rec, self._subscriptions(req)))

    def list_vms(self, req: Request) -> Response:
        recs = self.emu.vms.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.emu.vms.document(r) for r in recs])

    def delete_vm(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._vm_id(req), req.tenant_id))

    def power(self, action: str) -> Any:
        def handler(req: Request) -> Response:
            hibernate = action == "deallocate" and (req.query.get("hibernate") or "").lower() == "true"
            op = self.emu.vms.begin_power(self._vm_id(req), action, req.tenant_id, hibernate=hibernate)
            return accepted(req, self.emu, op)

        return handler

    def generalize(self, req: Request) -> Response:
        self.emu.vms.generalize(self._vm_id(req))
        return Response(200, None)

    def run_command(self, req: Request) -> Response:
        body = body_of(req, shapes.RUN_COMMAND)
        return accepted(req, self.emu, self.emu.vms.begin_run_command(self._vm_id(req), body, req.tenant_id))

    def capture(self, req: Request) -> Response:
        self.emu.vms.capture(self._vm_id(req))
        return Response(200, None)

    # VM extensions -----------------------------------------------------------------------------------
    def _ext_id(self, req: Request) -> str:
        return resource_id(req, vm_extensions.KIND, "vmName", "extName")

    def put_extension(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._ext_id(req)))
        return put_response(req, self.emu, written, vm_extensions.document(written.record))

    def get_extension(self, req: Request) -> Response:
        expand = (req.query.get("$expand") or "").lower() == "instanceview"
        return Response(200, vm_extensions.document(self.emu.vm_extensions.get(self._ext_id(req)), expand))

    def list_extensions(self, req: Request) -> Response:
        expand = (req.query.get("$expand") or "").lower() == "instanceview"
        recs = self.emu.vm_extensions.list(self._vm_id(req))
        return listed([vm_extensions.document(r, expand) for r in recs])

    def delete_extension(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._ext_id(req), req.tenant_id))

    # availability sets -------------------------------------------------------------------------------
    def _avset_id(self, req: Request) -> str:
        return resource_id(req, availability_sets.KIND, "setName")

    def put_avset(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._avset_id(req)))
        return Response(200, availability_sets.document(written.record))

    def get_avset(self, req: Request) -> Response:
        return Response(200, availability_sets.document(self.emu.availability_sets.get(self._avset_id(req))))

    def list_avsets(self, req: Request) -> Response:
        recs = self.emu.availability_sets.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName")
        )
        return listed([availability_sets.document(r) for r in recs])

    def delete_avset(self, req: Request) -> Response:
        op = self.emu.kinds.begin_delete(self._avset_id(req), req.tenant_id)
        return Response(200, None) if op is None else deleted(req, self.emu, op)

    # images ------------------------------------------------------------------------------------------
    def _image_id(self, req: Request) -> str:
        return resource_id(req, images.KIND, "imageName")

    def put_image(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._image_id(req)))
        return put_response(req, self.emu, written, images.document(written.record))

    def patch_image(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._image_id(req)))
        return Response(200, images.document(written.record))

    def get_image(self, req: Request) -> Response:
        return Response(200, images.document(self.emu.images.get(self._image_id(req))))

    def list_images(self, req: Request) -> Response:
        recs = self.emu.images.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([images.document(r) for r in recs])

    def delete_image(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._image_id(req), req.tenant_id))

    # sizes -------------------------------------------------------------------------------------------
    def vm_sizes(self, req: Request) -> Response:
        self._loc(req)
        return listed([sizes.vm_size_view(s) for s in sizes.sizes()])

    def resource_skus(self, req: Request) -> Response:
        return listed(sizes.resource_skus())

    # platform images ---------------------------------------------------------------------------------
    @staticmethod
    def _not_found() -> NotFound:
        return NotFound("Artifact: VMImage was not found.")

    def _loc(self, req: Request) -> str:
        return regions.require(req.params["location"])

    def publishers(self, req: Request) -> Response:
        loc, sub = self._loc(req), req.params["subscriptionId"]
        names = sorted({*catalog.publishers(), *vm_extensions.publishers()}, key=str.lower)
        return Response(200, [views.named(sub, loc, p, p) for p in names])

    def extension_types(self, req: Request) -> Response:
        loc, sub, pub = self._loc(req), req.params["subscriptionId"], req.params["publisher"]
        found = vm_extensions.types_of(pub)
        if not found:
            raise NotFound("Artifact: VMExtension was not found.")
        return Response(
            200,
            [
                views.named(sub, loc, f"{h.publisher}/ArtifactTypes/VMExtension/Types/{h.type}", h.type)
                for h in found
            ],
        )

    def extension_versions(self, req: Request) -> Response:
        loc, sub, p = self._loc(req), req.params["subscriptionId"], req.params
        h = vm_extensions.handler_of(p["publisher"], p["type"])
        if h is None:
            raise NotFound("Artifact: VMExtension was not found.")
        path = f"{h.publisher}/ArtifactTypes/VMExtension/Types/{h.type}/Versions"
        wanted = p.get("version")
        if wanted is not None:
            if wanted not in h.versions:
                raise NotFound("Artifact: VMExtension was not found.")
            return Response(200, views.extension_version(sub, loc, h, wanted))
        return Response(200, [views.named(sub, loc, f"{path}/{v}", v) for v in h.versions])

    def offers(self, req: Request) -> Response:
        loc, sub, pub = self._loc(req), req.params["subscriptionId"], req.params["publisher"]
        names = catalog.offers(pub)
        if not names:
            raise self._not_found()
        return Response(
            200, [views.named(sub, loc, f"{pub}/ArtifactTypes/VMImage/Offers/{o}", o) for o in names]
        )

    def skus(self, req: Request) -> Response:
        loc, sub, pub, offer = (
            self._loc(req),
            req.params["subscriptionId"],
            req.params["publisher"],
            req.params["offer"],
        )
        found = catalog.skus(pub, offer)
        if not found:
            raise self._not_found()
        return Response(
            200,
            [
                views.named(
                    sub, loc, f"{i.publisher}/ArtifactTypes/VMImage/Offers/{i.offer}/Skus/{i.sku}", i.sku
                )
                for i in found
            ],
        )

    def versions(self, req: Request) -> Response:
        p = req.params
        img = self.emu.catalog.find(p["publisher"], p["offer"], p["sku"])
        if img is None:
            raise self._not_found()
        versions = list(img.versions)
        if "desc" in (req.query.get("$orderby") or "").lower():
            versions.reverse()
        top = req.query.get("$top")
        if top and top.isdigit():
            versions = versions[: int(top)]
        return Response(
            200,
            [views.image_version(p["subscriptionId"], self._loc(req), img, v, full=False) for v in versions],
        )

    def version(self, req: Request) -> Response:
        p = req.params
        img = self.emu.catalog.find(p["publisher"], p["offer"], p["sku"])
        if img is None or p["version"] not in img.versions:
            raise self._not_found()
        return Response(
            200, views.image_version(p["subscriptionId"], self._loc(req), img, p["version"], full=True)
        )


class DiskRpProvider:
    """``disks`` and ``snapshots``: one handler set over the shared DiskRP service."""

    def __init__(self, ctx: ProviderContext, spec: KindSpec) -> None:
        self.emu = ctx.emulator
        self.spec = spec

    def _id(self, req: Request) -> str:
        return resource_id(req, self.spec, "name")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        view = disks.document(written.record)
        op = written.operation
        assert op is not None
        if not op.done:
            view["properties"]["provisioningState"] = "Updating"
        return Response(202, view, headers=accepted(req, self.emu, op).headers)

    def patch(self, req: Request) -> Response:
        return Response(
            200,
            disks.document(
                self.emu.disks.update(
                    self._id(req),
                    body_of(
                        req, shapes.DISK_UPDATE if self.spec is disks.DISK_KIND else shapes.SNAPSHOT_UPDATE
                    ),
                )
            ),
        )

    def get(self, req: Request) -> Response:
        return Response(200, disks.document(self.emu.disks.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.disks.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName"), self.spec.type
        )
        return listed([disks.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    def grant(self, req: Request) -> Response:
        body = body_of(req, shapes.GRANT)
        return accepted(
            req, self.emu, self.emu.disks.begin_grant(self._id(req), body, req.tenant_id, req.scheme_host)
        )

    def revoke(self, req: Request) -> Response:
        return accepted(req, self.emu, self.emu.disks.begin_revoke(self._id(req), req.tenant_id))


def register(router: Router, ctx: ProviderContext) -> None:
    c = ComputeProvider(ctx)
    vm_api = api_of(vm.KIND)
    r = router.add
    r("GET", RG + "/virtualMachines", c.list_vms, api=vm_api)
    r("GET", SUB + "/virtualMachines", c.list_vms, api=vm_api)
    r("PUT", VM, c.put_vm, api=vm_api)
    r("GET", VM, c.get_vm, api=vm_api)
    r("PATCH", VM, c.patch_vm, api=vm_api)
    r("DELETE", VM, c.delete_vm, api=vm_api)
    r("GET", VM + "/instanceView", c.instance_view, api=vm_api)
    for action in vm.POWER_ACTIONS:
        r("POST", f"{VM}/{action}", c.power(action), api=vm_api)
    r("POST", VM + "/generalize", c.generalize, api=vm_api)
    r("POST", VM + "/runCommand", c.run_command, api=vm_api)
    r("POST", VM + "/capture", c.capture, api=vm_api)
    for spec in (disks.DISK_KIND, disks.SNAPSHOT_KIND):
        d = DiskRpProvider(ctx, spec)
        api = api_of(spec)
        base = f"{RG}/{spec.short}"
        r("GET", base, d.list, api=api)
        r("GET", f"{SUB}/{spec.short}", d.list, api=api)
        r("PUT", base + "/{name}", d.put, api=api)
        r("PATCH", base + "/{name}", d.patch, api=api)
        r("GET", base + "/{name}", d.get, api=api)
        r("DELETE", base + "/{name}", d.delete, api=api)
        r("POST", base + "/{name}/beginGetAccess", d.grant, api=api)
        r("POST", base + "/{name}/endGetAccess", d.revoke, api=api)
    ext_api = api_of(vm_extensions.KIND)
    ext = VM + "/extensions"
    r("GET", ext, c.list_extensions, api=ext_api)
    r("PUT", ext + "/{extName}", c.put_extension, api=ext_api)
    r("PATCH", ext + "/{extName}", c.put_extension, api=ext_api)
    r("GET", ext + "/{extName}", c.get_extension, api=ext_api)
    r("DELETE", ext + "/{extName}", c.delete_extension, api=ext_api)
    av_api = api_of(availability_sets.KIND)
    r("GET", RG + "/availabilitySets", c.list_avsets, api=av_api)
    r("GET", SUB + "/availabilitySets", c.list_avsets, api=av_api)
    r("PUT", RG + "/availabilitySets/{setName}", c.put_avset, api=av_api)
    r("GET", RG + "/availabilitySets/{setName}", c.get_avset, api=av_api)
    r("DELETE", RG + "/availabilitySets/{setName}", c.delete_avset, api=av_api)
    img_api = api_of(images.KIND)
    r("GET", RG + "/images", c.list_images, api=img_api)
    r("GET", SUB + "/images", c.list_images, api=img_api)
    r("PUT", RG + "/images/{imageName}", c.put_image, api=img_api)
    r("PATCH", RG + "/images/{imageName}", c.patch_image, api=img_api)
    r("GET", RG + "/images/{imageName}", c.get_image, api=img_api)
    r("DELETE", RG + "/images/{imageName}", c.delete_image, api=img_api)
    r(
        "GET",
        SUB + "/locations/{location}/vmSizes",
        c.vm_sizes,
        api=("Microsoft.Compute", "locations/vmSizes"),
    )
    r("GET", SUB + "/skus", c.resource_skus, api=("Microsoft.Compute", "skus"))
    pub_api = ("Microsoft.Compute", "locations/publishers")
    r("GET", IMG, c.publishers, api=pub_api)
    r("GET", IMG + "/{publisher}/artifacttypes/vmimage/offers", c.offers, api=pub_api)
    r("GET", IMG + "/{publisher}/artifacttypes/vmimage/offers/{offer}/skus", c.skus, api=pub_api)
    r(
        "GET",
        IMG + "/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions",
        c.versions,
        api=pub_api,
    )
    r(
        "GET",
        IMG + "/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions/{version}",
        c.version,
        api=pub_api,
    )
    vmext = IMG + "/{publisher}/artifacttypes/vmextension/types"
    r("GET", vmext, c.extension_types, api=pub_api)
    r("GET", vmext + "/{type}/versions", c.extension_versions, api=pub_api)
    r("GET", vmext + "/{type}/versions/{version}", c.extension_versions, api=pub_api)
