"""Routes of Azure DevTest Labs: labs, their VMs (with start, stop, restart, claim, applyArtifacts), custom
images, formulas, virtual networks, artifact sources and artifacts, policies, schedules, the attached gallery,
marketplace images and costs. Thin: each handler turns the request into a domain call (domain/devtestlabs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import ids
from azemu.domain.devtestlabs import model, odata
from azemu.domain.devtestlabs.labs import Children
from azemu.domain.errors import AzureError
from azemu.domain.kinds import Write
from azemu.providers.base import (
    ProviderContext,
    accepted,
    api_of,
    client_of,
    deleted,
    listed,
    put_response,
    write_of,
)

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab"
LAB = RG + "/labs/{lab}"
VM = LAB + "/virtualmachines/{name}"


def _lab_id(req: Request) -> str:
    p = req.params
    return ids.resource_id(p["subscriptionId"], p["resourceGroupName"], model.NS, ["labs"], [p["lab"]])


def _filtered(req: Request, docs: list[dict[str, Any]]) -> Response:
    docs = odata.apply(docs, req.query.get("$filter"))
    top = req.query.get("$top")
    if top and top.isdigit():
        docs = docs[: int(top)]
    return listed(docs)


class DevTestLabsProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator
        dtl = ctx.emulator.devtestlabs
        self.labs = dtl.labs
        self.vms = dtl.vms
        self.images = dtl.images

    # labs ------------------------------------------------------------------------------------------
    def put_lab(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, _lab_id(req)))
        return put_response(req, self.emu, written, self.labs.document(self.labs.get(written.record.id)))

    def patch_lab(self, req: Request) -> Response:
        rid = _lab_id(req)
        rec = self.labs.get(rid)
        body = req.json_object()
        merged = {
            "location": rec.location,
            "tags": body.get("tags", rec.body.get("tags") or {}),
            "properties": {**rec.body["properties"], **(body.get("properties") or {})},
        }
        self.emu.kinds.put(Write(rid, merged, req.tenant_id, req.api_version or "", client=client_of(req)))
        return Response(200, self.labs.document(self.labs.get(rid)))

    def get_lab(self, req: Request) -> Response:
        return Response(200, self.labs.document(self.labs.get(_lab_id(req))))

    def list_labs(self, req: Request) -> Response:
        recs = self.labs.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return _filtered(req, [self.labs.document(r) for r in recs])

    def delete_lab(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(_lab_id(req), req.tenant_id))

    def create_environment(self, req: Request) -> Response:
        lab_id = _lab_id(req)
        written = self.vms.create_environment(lab_id, req.json_object(), write_of(req, lab_id))
        if written.operation is None:
            return Response(200, None)
        return accepted(req, self.emu, written.operation)

    def claim_any(self, req: Request) -> Response:
        self.vms.claim_any(_lab_id(req), client_of(req))
        return Response(200, None)

    def gallery_images(self, req: Request) -> Response:
        return _filtered(req, self.labs.gallery_images(_lab_id(req)))

    def cost(self, req: Request) -> Response:
        return Response(200, self.labs.cost(_lab_id(req), req.params["cost"]))

    def put_cost(self, req: Request) -> Response:
        doc = self.labs.cost(_lab_id(req), req.params["cost"])
        target = (req.json_object().get("properties") or {}).get("targetCost")
        if isinstance(target, dict):
            doc["properties"]["targetCost"] = {**doc["properties"]["targetCost"], **target}
        return Response(200, doc)

    # lab VMs ---------------------------------------------------------------------------------------
    def _vm_id(self, req: Request) -> str:
        return f"{_lab_id(req)}/virtualmachines/{req.params['name']}"

    def _vm_doc(self, req: Request, rid: str) -> dict[str, Any]:
        return self.vms.document(self.vms.get(rid), req.query.get("$expand") or "")

    def put_vm(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._vm_id(req)))
        return put_response(req, self.emu, written, self._vm_doc(req, written.record.id))

    def patch_vm(self, req: Request) -> Response:
        rid = self._vm_id(req)
        self.emu.kinds.put(write_of(req, rid))
        return Response(200, self._vm_doc(req, rid))

    def get_vm(self, req: Request) -> Response:
        return Response(200, self._vm_doc(req, self._vm_id(req)))

    def list_vms(self, req: Request) -> Response:
        expand = req.query.get("$expand") or ""
        return _filtered(req, [self.vms.document(r, expand) for r in self.vms.list(_lab_id(req))])

    def delete_vm(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._vm_id(req), req.tenant_id))

    def vm_power(self, action: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            return accepted(req, self.emu, self.vms.begin_power(self._vm_id(req), action, req.tenant_id))

        return handler

    def hibernate(self, req: Request) -> Response:
        rec = self.vms.get(self._vm_id(req))
        raise AzureError(
            f"Hibernation is not enabled on the virtual machine '{rec.name}'.",
            code="OperationNotAllowed",
            status=409,
        )

    def claim(self, req: Request) -> Response:
        self.vms.claim(self._vm_id(req), client_of(req))
        return Response(200, None)

    def unclaim(self, req: Request) -> Response:
        self.vms.claim(self._vm_id(req), client_of(req), unclaim=True)
        return Response(200, None)

    def apply_artifacts(self, req: Request) -> Response:
        op = self.vms.begin_apply_artifacts(self._vm_id(req), req.json_object(), req.tenant_id)
        return accepted(req, self.emu, op)

    # custom images ---------------------------------------------------------------------------------
    def _image_id(self, req: Request) -> str:
        return f"{_lab_id(req)}/customimages/{req.params['name']}"

    def put_image(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._image_id(req)))
        return put_response(req, self.emu, written, self.images.document(self.images.get(written.record.id)))

    def get_image(self, req: Request) -> Response:
        return Response(200, self.images.document(self.images.get(self._image_id(req))))

    def list_images(self, req: Request) -> Response:
        return _filtered(req, [self.images.document(r) for r in self.images.list(_lab_id(req))])

    def delete_image(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._image_id(req), req.tenant_id))

    # artifacts -------------------------------------------------------------------------------------
    def _source_id(self, req: Request) -> str:
        return f"{_lab_id(req)}/artifactsources/{req.params['source']}"

    def artifacts(self, req: Request) -> Response:
        return _filtered(req, self.labs.artifacts_of(self._source_id(req)))

    def artifact(self, req: Request) -> Response:
        name = req.params["artifact"].lower()
        found = next(
            (a for a in self.labs.artifacts_of(self._source_id(req)) if a["name"].lower() == name), None
        )
        if found is None:
            raise model.not_found("artifact", f"{self._source_id(req)}/artifacts/{req.params['artifact']}")
        return Response(200, found)

    def shared_images(self, req: Request) -> Response:
        shared = f"{_lab_id(req)}/sharedgalleries/{req.params['gallery']}"
        return _filtered(req, self.labs.shared_image_list(shared))


def _children(
    router: Router,
    p: DevTestLabsProvider,
    service: Children,
    path: str,
    names: list[str],
    *,
    listing_route: bool = True,
) -> None:
    """PUT/GET/DELETE/list for a plain child kind; ``path`` after the lab, with ``{…}`` for ``names``."""
    emu = p.emu
    api = api_of(service.spec)

    def rid(req: Request) -> str:
        return _lab_id(req) + "/" + path.format(**{n: req.params[n] for n in names})

    up = path.split("/")[: -4 if service.spec.type == model.POLICY else -2]

    def parent(req: Request) -> str:
        if not up:
            return _lab_id(req)
        return (
            _lab_id(req) + "/" + "/".join(up).format(**{n: req.params[n] for n in names if n in req.params})
        )

    def put(req: Request) -> Response:
        written = emu.kinds.put(write_of(req, rid(req)))
        return Response(201 if written.created else 200, service.document(service.get(written.record.id)))

    def patch(req: Request) -> Response:
        current = service.get(rid(req))
        body = req.json_object()
        merged = {
            "tags": body.get("tags", current.body.get("tags") or {}),
            "properties": {**current.body["properties"], **(body.get("properties") or {})},
        }
        emu.kinds.put(Write(rid(req), merged, req.tenant_id, req.api_version or "", client=client_of(req)))
        return Response(200, service.document(service.get(rid(req))))

    def get(req: Request) -> Response:
        return Response(200, service.document(service.get(rid(req))))

    def delete(req: Request) -> Response:
        with emu.store.read() as tx:
            found = tx.get_resource(ids.key_of(rid(req)))
        emu.kinds.begin_delete(rid(req), req.tenant_id)
        return Response(200 if found is not None else 204, None)

    def listing(req: Request) -> Response:
        docs = [service.document(r) for r in service.list(parent(req))]
        if service.spec.type == model.POLICY:
            ps = req.params["policyset"].lower()
            docs = [d for d in docs if f"/policysets/{ps}/".lower() in d["id"].lower()]
        return _filtered(req, docs)

    one = LAB + "/" + path
    many = one.rsplit("/", 1)[0]
    router.add("PUT", one, put, api=api)
    router.add("PATCH", one, patch, api=api)
    router.add("GET", one, get, api=api)
    router.add("DELETE", one, delete, api=api)
    if listing_route:
        router.add("GET", many, listing, api=api)


def register(router: Router, ctx: ProviderContext) -> None:
    p = DevTestLabsProvider(ctx)
    r = router.add
    lab_api = api_of(model.LAB_KIND)
    r("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.DevTestLab/labs", p.list_labs, api=lab_api)
    r("GET", RG + "/labs", p.list_labs, api=lab_api)
    r("PUT", LAB, p.put_lab, api=lab_api)
    r("PATCH", LAB, p.patch_lab, api=lab_api)
    r("GET", LAB, p.get_lab, api=lab_api)
    r("DELETE", LAB, p.delete_lab, api=lab_api)
    r("POST", LAB + "/createEnvironment", p.create_environment, api=lab_api)
    r("POST", LAB + "/claimAnyVm", p.claim_any, api=lab_api)
    r("GET", LAB + "/galleryimages", p.gallery_images, api=(model.NS, "labs/galleryimages"))
    r("GET", LAB + "/costs/{cost}", p.cost, api=(model.NS, "labs/costs"))
    r("PUT", LAB + "/costs/{cost}", p.put_cost, api=(model.NS, "labs/costs"))

    vm_api = api_of(model.VM_KIND)
    r("GET", LAB + "/virtualmachines", p.list_vms, api=vm_api)
    r("PUT", VM, p.put_vm, api=vm_api)
    r("PATCH", VM, p.patch_vm, api=vm_api)
    r("GET", VM, p.get_vm, api=vm_api)
    r("DELETE", VM, p.delete_vm, api=vm_api)
    for action in ("start", "stop", "restart"):
        r("POST", f"{VM}/{action}", p.vm_power(action), api=vm_api)
    r("POST", VM + "/hibernate", p.hibernate, api=vm_api)
    r("POST", VM + "/claim", p.claim, api=vm_api)
    r("POST", VM + "/unClaim", p.unclaim, api=vm_api)
    r("POST", VM + "/applyArtifacts", p.apply_artifacts, api=vm_api)

    img_api = api_of(model.CUSTOM_IMAGE_KIND)
    r("GET", LAB + "/customimages", p.list_images, api=img_api)
    r("PUT", LAB + "/customimages/{name}", p.put_image, api=img_api)
    r("GET", LAB + "/customimages/{name}", p.get_image, api=img_api)
    r("DELETE", LAB + "/customimages/{name}", p.delete_image, api=img_api)

    art_api = (model.NS, "labs/artifactsources/artifacts")
    r("GET", LAB + "/artifactsources/{source}/artifacts", p.artifacts, api=art_api)
    r("GET", LAB + "/artifactsources/{source}/artifacts/{artifact}", p.artifact, api=art_api)
    r(
        "GET",
        LAB + "/sharedgalleries/{gallery}/sharedimages",
        p.shared_images,
        api=api_of(model.SHARED_IMAGE_KIND),
    )

    labs = p.labs
    _children(router, p, labs.vnets, "virtualnetworks/{name}", ["name"])
    _children(router, p, labs.formulas, "formulas/{name}", ["name"])
    _children(router, p, labs.sources, "artifactsources/{source}", ["source"])
    _children(router, p, labs.schedules_kind, "schedules/{name}", ["name"])
    _children(
        router, p, labs.vm_schedules, "virtualmachines/{name}/schedules/{schedule}", ["name", "schedule"]
    )
    _children(router, p, labs.galleries, "sharedgalleries/{gallery}", ["gallery"])
    _children(
        router,
        p,
        labs.shared_images,
        "sharedgalleries/{gallery}/sharedimages/{image}",
        ["gallery", "image"],
        listing_route=False,
    )
    _children(router, p, labs.policies, "policysets/{policyset}/policies/{name}", ["policyset", "name"])
