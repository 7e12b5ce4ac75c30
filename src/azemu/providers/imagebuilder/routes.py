"""Routes of Azure VM Image Builder: ``imageTemplates`` (with ``run``, ``cancel``, ``runOutputs``) and their
``triggers``. Thin: each handler turns the request into a domain call (domain/imagebuilder)."""

from __future__ import annotations

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain.imagebuilder import model
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

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.VirtualMachineImages"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.VirtualMachineImages"
IT = RG + "/imageTemplates/{name}"


class ImageBuilderProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator
        self.templates = ctx.emulator.imagebuilder.templates
        self.triggers = ctx.emulator.imagebuilder.triggers

    def _id(self, req: Request) -> str:
        return resource_id(req, model.KIND, "name")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        self.templates.remember_base(written.record.id, req.scheme_host)
        record = self.templates.get(written.record.id)
        return put_response(req, self.emu, written, self.templates.document(record))

    def patch(self, req: Request) -> Response:
        rec = self.templates.update(self._id(req), body_of(req, model.UPDATE_SHAPE))
        return Response(200, self.templates.document(rec))

    def get(self, req: Request) -> Response:
        return Response(200, self.templates.document(self.templates.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.templates.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.templates.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    def run(self, req: Request) -> Response:
        rid = self._id(req)
        self.templates.remember_base(rid, req.scheme_host)
        return accepted(req, self.emu, self.templates.begin_run(rid, req.tenant_id))

    def cancel(self, req: Request) -> Response:
        return accepted(req, self.emu, self.templates.begin_cancel(self._id(req), req.tenant_id))

    def run_outputs(self, req: Request) -> Response:
        return listed(self.templates.run_outputs(self._id(req)))

    def run_output(self, req: Request) -> Response:
        return Response(200, self.templates.run_output(self._id(req), req.params["output"]))

    # triggers ------------------------------------------------------------------------------------------
    def _trigger_id(self, req: Request) -> str:
        return resource_id(req, model.TRIGGER_KIND, "name", "trigger")

    def put_trigger(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._trigger_id(req)))
        return Response(201 if written.created else 200, self.triggers.document(written.record))

    def get_trigger(self, req: Request) -> Response:
        return Response(200, self.triggers.document(self.triggers.get(self._trigger_id(req))))

    def list_triggers(self, req: Request) -> Response:
        return listed([self.triggers.document(r) for r in self.triggers.list(self._id(req))])

    def delete_trigger(self, req: Request) -> Response:
        rid = self._trigger_id(req)
        with self.emu.store.read() as tx:
            found = tx.get_resource(rid.lower())
        self.emu.kinds.begin_delete(rid, req.tenant_id)
        return Response(200 if found is not None else 204, None)


def register(router: Router, ctx: ProviderContext) -> None:
    p = ImageBuilderProvider(ctx)
    api = api_of(model.KIND)
    r = router.add
    r("GET", SUB + "/imageTemplates", p.list, api=api)
    r("GET", RG + "/imageTemplates", p.list, api=api)
    r("PUT", IT, p.put, api=api)
    r("PATCH", IT, p.patch, api=api)
    r("GET", IT, p.get, api=api)
    r("DELETE", IT, p.delete, api=api)
    r("POST", IT + "/run", p.run, api=api)
    r("POST", IT + "/cancel", p.cancel, api=api)
    out_api = (model.NS, "imageTemplates/runOutputs")
    r("GET", IT + "/runOutputs", p.run_outputs, api=out_api)
    r("GET", IT + "/runOutputs/{output}", p.run_output, api=out_api)
    tr_api = api_of(model.TRIGGER_KIND)
    r("GET", IT + "/triggers", p.list_triggers, api=tr_api)
    r("PUT", IT + "/triggers/{trigger}", p.put_trigger, api=tr_api)
    r("GET", IT + "/triggers/{trigger}", p.get_trigger, api=tr_api)
    r("DELETE", IT + "/triggers/{trigger}", p.delete_trigger, api=tr_api)
