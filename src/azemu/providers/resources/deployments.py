"""Routes and handlers of ``Microsoft.Resources/deployments`` at resource-group and subscription scope."""

from __future__ import annotations

from typing import Any

import json5

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import deployment_views, deployments, ids
from azemu.domain.errors import InvalidRequestContent
from azemu.providers.base import ProviderContext, accepted, deleted, listed, put_response

API = ("Microsoft.Resources", "deployments")
SCOPES = {
    "group": "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
    "subscription": "/subscriptions/{subscriptionId}",
}


def deployment_body(req: Request) -> dict[str, Any]:
    """The request's JSON object. ``az deployment … --template-file`` splices the file in verbatim, so the
    body may carry comments, trailing commas and an unquoted ``template`` key (JSONC): read as ARM does."""
    try:
        return req.json_object()
    except InvalidRequestContent:
        try:
            value = json5.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'Unexpected character "
                "encountered while parsing value.'."
            ) from None
        if not isinstance(value, dict):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'Error converting value to "
                "type 'Deployment'. Path '', line 1, position 1.'."
            ) from None
        return value


class DeploymentsProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request) -> str:
        p = req.params
        if "resourceGroupName" in p:
            return ids.resource_id(
                p["subscriptionId"],
                p["resourceGroupName"],
                "Microsoft.Resources",
                ["deployments"],
                [p["name"]],
            )
        return ids.subscription_resource_id(
            p["subscriptionId"], "Microsoft.Resources", ["deployments"], [p["name"]]
        )

    def put(self, req: Request) -> Response:
        written = self.emu.deployments.create_or_update(
            self._id(req), deployment_body(req), req.tenant_id, req.correlation_id
        )
        return put_response(req, self.emu, written, self.emu.deployments.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.emu.deployments.document(self.emu.deployments.get(self._id(req))))

    def head(self, req: Request) -> Response:
        """``check_existence``: 204 when the deployment exists, 404 otherwise (no body, as ARM answers HEAD)."""
        try:
            self.emu.deployments.get(self._id(req))
        except deployments.DeploymentNotFound:
            return Response(404, None)
        return Response(204, None)

    def template_hash(self, req: Request) -> Response:
        template = deployment_body(req)
        return Response(
            200, {"minifiedTemplate": template, "templateHash": deployment_views.template_hash(template)}
        )

    def list(self, req: Request) -> Response:
        recs = self.emu.deployments.history(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.emu.deployments.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    def validate(self, req: Request) -> Response:
        result = self.emu.deployments.validate(
            self._id(req), deployment_body(req), req.tenant_id, req.correlation_id
        )
        return Response(200, result)

    def what_if(self, req: Request) -> Response:
        op = self.emu.deployments.begin_what_if(self._id(req), deployment_body(req), req.tenant_id)
        return accepted(req, self.emu, op)

    def cancel(self, req: Request) -> Response:
        self.emu.deployments.cancel(self._id(req))
        return Response(204, None)

    def export(self, req: Request) -> Response:
        return Response(200, self.emu.deployments.export(self._id(req)))

    def operations(self, req: Request) -> Response:
        return listed(self.emu.deployments.operations_of(self._id(req)))

    def operation(self, req: Request) -> Response:
        wanted = req.params["operationId"].lower()
        for op in self.emu.deployments.operations_of(self._id(req)):
            if op["operationId"].lower() == wanted:
                return Response(200, op)
        raise deployments.DeploymentNotFound(
            f"Deployment operation '{req.params['operationId']}' could not be found."
        )


def register(router: Router, ctx: ProviderContext) -> None:
    d = DeploymentsProvider(ctx)
    r = router.add
    for scope in SCOPES.values():
        base = scope + "/providers/Microsoft.Resources/deployments"
        one = base + "/{name}"
        r("GET", base, d.list, api=API)
        r("PUT", one, d.put, api=API)
        r("GET", one, d.get, api=API)
        r("HEAD", one, d.head, api=API)
        r("DELETE", one, d.delete, api=API)
        r("POST", one + "/validate", d.validate, api=API)
        r("POST", one + "/whatIf", d.what_if, api=API)
        r("POST", one + "/cancel", d.cancel, api=API)
        r("POST", one + "/exportTemplate", d.export, api=API)
        r("GET", one + "/operations", d.operations, api=API)
        r("GET", one + "/operations/{operationId}", d.operation, api=API)
    r("POST", "/providers/Microsoft.Resources/calculateTemplateHash", d.template_hash, api=API)
    legacy = SCOPES["group"] + "/deployments/{name}/operations"  # az's path: no providers/Microsoft.Resources
    r("GET", legacy, d.operations, api=API)
    r("GET", legacy + "/{operationId}", d.operation, api=API)
