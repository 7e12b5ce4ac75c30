"""Routes and handlers of Microsoft.Compute: virtual machines, disks and the platform image catalog."""

from __future__ import annotations

from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.lro import accepted_headers
from azemu.arm.router import Router
from azemu.domain import catalog, ids, regions
from azemu.domain.disks import SNAPSHOT
from azemu.domain.disks import TYPE as DISK_TYPE
from azemu.domain.errors import NotFound, OperationNotAllowed
from azemu.providers import shapes
from azemu.providers.base import ProviderContext, body_of, parse_tags
from azemu.providers.compute import views

CP = "Microsoft.Compute"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute"
VM = RG + "/virtualMachines/{vmName}"
IMG = SUB + "/locations/{location}/publishers"


class ComputeProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _vm_id(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(
            p["subscriptionId"], p["resourceGroupName"], CP, ["virtualMachines"], [p["vmName"]]
        )

    def _conflicts(self, req: Request) -> Any:
        subs = [s.id for s in self.emu.tenancy.subscriptions_of(req.tenant_id)]
        return self.emu.vms.identity_conflicts(subs)

    # virtual machines --------------------------------------------------------------------------------
    def put_vm(self, req: Request) -> Response:
        rec, created, op = self.emu.vms.create_or_update(
            self._vm_id(req),
            body_of(req, shapes.VM),
            req.tenant_id,
            if_match=req.header("if-match"),
            if_none_match=req.header("if-none-match"),
            client={
                "appid": str((req.claims or {}).get("appid", "")),
                "oid": str((req.claims or {}).get("oid", "")),
            },
        )
        headers = {} if op is None else accepted_headers(req, op, self.emu.clock, location=False)
        return Response(201 if created else 200, views.vm(rec), headers=headers)

    def patch_vm(self, req: Request) -> Response:
        rec = self.emu.vms.update(self._vm_id(req), body_of(req, shapes.VM), if_match=req.header("if-match"))
        return Response(200, views.vm(rec))

    def get_vm(self, req: Request) -> Response:
        rec = self.emu.vms.get(self._vm_id(req))
        expand = (req.query.get("$expand") or "").lower()
        iv = views.instance_view(rec, self._conflicts(req)) if expand == "instanceview" else None
        return Response(200, views.vm(rec, iv))

    def instance_view(self, req: Request) -> Response:
        rec = self.emu.vms.get(self._vm_id(req))
        return Response(200, views.instance_view(rec, self._conflicts(req)))

    def list_vms(self, req: Request) -> Response:
        recs = self.emu.vms.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return Response(200, {"value": [views.vm(r) for r in recs]})

    def delete_vm(self, req: Request) -> Response:
        op = self.emu.vms.begin_delete(self._vm_id(req), req.tenant_id)
        if op is None:
            return Response(204, None)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    def _power(self, action: str) -> object:
        def handler(req: Request) -> Response:
            op = self.emu.vms.begin_power(self._vm_id(req), action, req.tenant_id)
            return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

        return handler

    def generalize(self, req: Request) -> Response:
        self.emu.vms.generalize(self._vm_id(req))
        return Response(200, None)

    def run_command(self, req: Request) -> Response:
        op = self.emu.vms.begin_run_command(self._vm_id(req), body_of(req, shapes.RUN_COMMAND), req.tenant_id)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    def capture(self, req: Request) -> Response:
        self.emu.vms.get(self._vm_id(req))
        raise OperationNotAllowed(
            "The Capture action is only supported on a Virtual Machine with blob based disks. Please use the 'Image' "
            "resource APIs to create an Image from a managed Virtual Machine."
        )

    # images ------------------------------------------------------------------------------------------
    def _image_id(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(p["subscriptionId"], p["resourceGroupName"], CP, ["images"], [p["imageName"]])

    def put_image(self, req: Request) -> Response:
        body = body_of(req, shapes.IMAGE)
        body["tags"] = parse_tags(body.get("tags"))
        rec, created, op = self.emu.images.create_or_update(self._image_id(req), body, req.tenant_id)
        headers = {} if op is None else accepted_headers(req, op, self.emu.clock, location=False)
        return Response(201 if created else 200, views.image(rec), headers=headers)

    def patch_image(self, req: Request) -> Response:
        body = body_of(req, shapes.IMAGE)
        body["tags"] = parse_tags(body.get("tags"))
        rec, _, _ = self.emu.images.create_or_update(self._image_id(req), body, req.tenant_id)
        return Response(200, views.image(rec))

    def get_image(self, req: Request) -> Response:
        return Response(200, views.image(self.emu.images.get(self._image_id(req))))

    def list_images(self, req: Request) -> Response:
        recs = self.emu.images.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return Response(200, {"value": [views.image(r) for r in recs]})

    def delete_image(self, req: Request) -> Response:
        op = self.emu.images.begin_delete(self._image_id(req), req.tenant_id)
        if op is None:
            return Response(204, None)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    # platform images ---------------------------------------------------------------------------------
    @staticmethod
    def _not_found() -> NotFound:
        return NotFound("Artifact: VMImage was not found.")

    def _loc(self, req: Request) -> str:
        return regions.require(req.params["location"])

    def publishers(self, req: Request) -> Response:
        loc, sub = self._loc(req), req.params["subscriptionId"]
        return Response(200, [views.named(sub, loc, p, p) for p in catalog.publishers()])

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
        img = catalog.find(p["publisher"], p["offer"], p["sku"])
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
        img = catalog.find(p["publisher"], p["offer"], p["sku"])
        if img is None or p["version"] not in img.versions:
            raise self._not_found()
        return Response(
            200, views.image_version(p["subscriptionId"], self._loc(req), img, p["version"], full=True)
        )


class DiskRpProvider:
    """``disks`` and ``snapshots``: one handler set over the shared DiskRP service."""

    def __init__(self, ctx: ProviderContext, segment: str, full_type: str) -> None:
        self.emu = ctx.emulator
        self.segment = segment
        self.full_type = full_type

    def _id(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(p["subscriptionId"], p["resourceGroupName"], CP, [self.segment], [p["name"]])

    def put(self, req: Request) -> Response:
        body = body_of(req, shapes.DISK)
        body["tags"] = parse_tags(body.get("tags"))
        rec, op = self.emu.disks.create(self._id(req), body, req.tenant_id, self.full_type)
        view = views.disk(rec)
        if not op.done:
            view["properties"]["provisioningState"] = "Updating"
        return Response(202, view, headers=accepted_headers(req, op, self.emu.clock))

    def patch(self, req: Request) -> Response:
        body = body_of(req, shapes.DISK)
        body["tags"] = parse_tags(body.get("tags"))
        return Response(200, views.disk(self.emu.disks.update(self._id(req), body)))

    def get(self, req: Request) -> Response:
        return Response(200, views.disk(self.emu.disks.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.disks.list(
            req.params["subscriptionId"], req.params.get("resourceGroupName"), self.full_type
        )
        return Response(200, {"value": [views.disk(r) for r in recs]})

    def delete(self, req: Request) -> Response:
        op = self.emu.disks.begin_delete(self._id(req), req.tenant_id)
        if op is None:
            return Response(204, None)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    def grant(self, req: Request) -> Response:
        op = self.emu.disks.begin_grant(
            self._id(req), body_of(req, shapes.GRANT), req.tenant_id, req.scheme_host
        )
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))

    def revoke(self, req: Request) -> Response:
        op = self.emu.disks.begin_revoke(self._id(req), req.tenant_id)
        return Response(202, None, headers=accepted_headers(req, op, self.emu.clock))


def register(router: Router, ctx: ProviderContext) -> None:
    c = ComputeProvider(ctx)
    vm_api = (CP, "virtualMachines")
    r = router.add
    r("GET", RG + "/virtualMachines", c.list_vms, api=vm_api)
    r("GET", SUB + "/virtualMachines", c.list_vms, api=vm_api)
    r("PUT", VM, c.put_vm, api=vm_api)
    r("GET", VM, c.get_vm, api=vm_api)
    r("PATCH", VM, c.patch_vm, api=vm_api)
    r("DELETE", VM, c.delete_vm, api=vm_api)
    r("GET", VM + "/instanceView", c.instance_view, api=vm_api)
    for action in ("start", "powerOff", "deallocate", "restart"):
        r("POST", f"{VM}/{action}", c._power(action), api=vm_api)  # type: ignore[arg-type]
    r("POST", VM + "/generalize", c.generalize, api=vm_api)
    r("POST", VM + "/runCommand", c.run_command, api=vm_api)
    r("POST", VM + "/capture", c.capture, api=vm_api)
    for segment, full_type in (("disks", DISK_TYPE), ("snapshots", SNAPSHOT)):
        d = DiskRpProvider(ctx, segment, full_type)
        api = (CP, segment)
        base = f"{RG}/{segment}"
        r("GET", base, d.list, api=api)
        r("GET", f"{SUB}/{segment}", d.list, api=api)
        r("PUT", base + "/{name}", d.put, api=api)
        r("PATCH", base + "/{name}", d.patch, api=api)
        r("GET", base + "/{name}", d.get, api=api)
        r("DELETE", base + "/{name}", d.delete, api=api)
        r("POST", base + "/{name}/beginGetAccess", d.grant, api=api)
        r("POST", base + "/{name}/endGetAccess", d.revoke, api=api)
    img_api = (CP, "images")
    r("GET", RG + "/images", c.list_images, api=img_api)
    r("GET", SUB + "/images", c.list_images, api=img_api)
    r("PUT", RG + "/images/{imageName}", c.put_image, api=img_api)
    r("PATCH", RG + "/images/{imageName}", c.patch_image, api=img_api)
    r("GET", RG + "/images/{imageName}", c.get_image, api=img_api)
    r("DELETE", RG + "/images/{imageName}", c.delete_image, api=img_api)
    pub_api = (CP, "locations/publishers")
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
