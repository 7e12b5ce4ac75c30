"""The deployment service's bridge to the template language (``azemu.templates``).

:class:`Request` is a deployment request body read as ARM reads it; :class:`Context` is the world a
template sees (the domain's side of ``DeploymentContext``: the target scope, deployed resources for
``reference()``, providers, azemu's clock); :func:`prepare` runs the engine and turns its
``TemplateError`` into Azure's error envelope.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from azemu import templates
from azemu.clock.clock import Clock
from azemu.domain import apiversions, ids, regions
from azemu.domain.errors import AzureError, InvalidRequestContent, ResourceNotFound, resource_not_found
from azemu.domain.kinds import Registry
from azemu.domain.resourcegroups import ResourceGroups
from azemu.state.store import Store


class World(Protocol):
    """What a template's context reads: the deployment service's store, groups, registry and clock."""

    store: Store
    clock: Clock
    groups: ResourceGroups
    registry: Registry
    environment: dict[str, Any]


Plan = templates.PreparedDeployment
Instance = templates.ResourceInstance


def _ci(obj: Mapping[str, Any], key: str) -> Any:
    return next((v for k, v in obj.items() if k.lower() == key.lower()), None)


@dataclass(frozen=True)
class Request:
    """What a deployment request asks for: its template, parameters, mode and (subscription scope) location."""

    template: dict[str, Any]
    parameters: dict[str, Any]
    mode: str = "Incremental"
    location: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, rid: str, body: dict[str, Any], linked: Callable[[str], dict[str, Any] | None] | None = None
    ) -> Request:
        """``linked`` reads a ``templateLink`` URI that names content azemu itself serves (a template a
        backup restore wrote to a storage account, behind its SAS URL); any other link is refused."""
        props = _ci(body, "properties")
        if not isinstance(props, dict):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'Required property 'properties' "
                "not found in JSON. Path '', line 1, position 1.'."
            )
        link = _ci(props, "templateLink")
        linked_template = None
        if isinstance(link, dict) and linked is not None and _ci(props, "parametersLink") is None:
            linked_template = linked(str(_ci(link, "uri") or ""))
        if linked_template is None and (link is not None or _ci(props, "parametersLink") is not None):
            raise AzureError(
                "azemu runs offline and cannot fetch linked templates or parameter files: send the template in "
                "'properties.template' and the values in 'properties.parameters'.",
                code="InvalidTemplateDeployment",
                status=400,
            )
        template = linked_template if linked_template is not None else _ci(props, "template")
        if not isinstance(template, dict):
            raise AzureError(
                "The request content was invalid: 'properties.template' is required and must be an object.",
                code="InvalidRequestContent",
                status=400,
            )
        parameters = _ci(props, "parameters") or {}
        if not isinstance(parameters, dict):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'Error converting value to type "
                "'DeploymentParameters'. Path 'properties.parameters'.'."
            )
        mode = str(_ci(props, "mode") or "Incremental")
        if mode.lower() not in ("incremental", "complete"):
            raise AzureError(
                f"The deployment mode '{mode}' is not valid. Supported values are 'Incremental' and 'Complete'.",
                code="InvalidDeploymentMode",
                status=400,
            )
        location = body.get("location")
        p = ids.parse(rid)
        if p is not None and p.resource_group is None:  # subscription scope: ARM requires a location
            if not location:
                raise AzureError(
                    "The 'location' property must be specified for 'deployment'. Please see "
                    "https://aka.ms/deploy-to-subscription for usage details.",
                    code="InvalidDeployment",
                    status=400,
                )
            location = regions.require(str(location))
        return cls(
            template=template,
            parameters=parameters,
            mode="Complete" if mode.lower() == "complete" else "Incremental",
            location=str(location) if location else None,
            options={"expressionEvaluationOptions": _ci(props, "expressionEvaluationOptions") or {}},
        )


def azure_error(err: templates.TemplateError) -> AzureError:
    body = err.to_error()
    return AzureError(
        err.message,
        code=err.code,
        status=400,
        details=body.get("details"),
        additional_info=body.get("additionalInfo"),
    )


def prepare(request: Request, ctx: Context) -> Plan:
    """Validate and plan ``request`` in ``ctx``; Azure's ``InvalidTemplate`` (400) when ARM would refuse it."""
    try:
        plan = templates.prepare(request.template, ctx, request.parameters, path_prefix="properties.template")
        _validate(plan, ctx)
        return plan
    except templates.TemplateError as err:
        raise azure_error(err) from None


def _validate(plan: Plan, ctx: Context) -> None:
    """Render every body partially to surface expression errors before anything is deployed; what
    ``reference()`` and ``list*()`` would read is not needed yet (ARM defers them too)."""
    deferring = ctx.what_if
    ctx.what_if = True
    try:
        plan.validate()
    finally:
        ctx.what_if = deferring


def prepare_nested(nested: templates.NestedDeployment[Plan], ctx: Context) -> Plan:
    try:
        plan = nested.prepare(ctx)
        _validate(plan, ctx)
        return plan
    except templates.TemplateError as err:
        raise azure_error(err) from None


def nested(plan: Plan, inst: Instance) -> templates.NestedDeployment[Plan]:
    try:
        return plan.nested(inst)
    except templates.TemplateError as err:
        raise azure_error(err) from None


def render(plan: Plan, inst: Instance) -> dict[str, Any]:
    """The request body of one resource, every expression evaluated."""
    try:
        return plan.render(inst)
    except templates.TemplateError as err:
        raise azure_error(err) from None


def what_if(plan: Plan) -> list[tuple[Instance, dict[str, Any]]]:
    try:
        return plan.what_if()
    except templates.TemplateError as err:
        raise azure_error(err) from None


def outputs(plan: Plan) -> dict[str, Any]:
    """``properties.outputs``, names camelCased as ARM returns them (``VMSS`` -> ``vmss``)."""
    try:
        found = plan.outputs()
    except templates.TemplateError as err:
        raise azure_error(err) from None
    return {camel(name): value for name, value in found.items()}


def camel(name: str) -> str:
    """Newtonsoft's camelCase: the leading run of capitals is lowered, except the last one of a run
    that is followed by a lower-case letter (``VMSS`` -> ``vmss``, ``TRANS_Test`` -> ``tranS_Test``)."""
    chars = list(name)
    for i, ch in enumerate(chars):
        if not ch.isupper():
            break
        if i > 0 and i + 1 < len(chars) and not chars[i + 1].isupper():
            break
        chars[i] = ch.lower()
    return "".join(chars)


class Context:
    """The world a template sees: the deployment's scope and what is deployed there (``DeploymentContext``)."""

    def __init__(
        self,
        deployments: World,
        rid: str,
        request: Request,
        tenant_id: str | None,
        *,
        what_if: bool = False,
    ) -> None:
        self.deployments = deployments
        self.rid = rid
        self.request = request
        self._tenant = tenant_id
        self.what_if = what_if
        p = ids.parse(rid)
        assert p is not None
        self.subscription_id = p.subscription
        self.group = p.resource_group

    # scope -------------------------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        if self._tenant:
            return self._tenant
        with self.deployments.store.read() as tx:
            sub = tx.get_subscription(self.subscription_id)
        return sub.tenant_id if sub is not None else ""

    @property
    def subscription(self) -> templates.SubscriptionInfo:
        with self.deployments.store.read() as tx:
            sub = tx.get_subscription(self.subscription_id)
        return templates.SubscriptionInfo(
            self.subscription_id, sub.tenant_id if sub else self.tenant_id, sub.display_name if sub else ""
        )

    @property
    def resource_group(self) -> templates.ResourceGroupInfo | None:
        if self.group is None:
            return None
        rec = self.deployments.groups.get_group(self.subscription_id, self.group)
        return templates.ResourceGroupInfo(
            self.subscription_id,
            rec.name,
            rec.location or "",
            dict(rec.body.get("tags") or {}),
            rec.body.get("managedBy"),
        )

    @property
    def deployment(self) -> templates.DeploymentInfo:
        p = ids.parse(self.rid)
        assert p is not None
        return templates.DeploymentInfo(name=p.name, location=self.request.location, mode=self.request.mode)

    def environment(self) -> Mapping[str, Any]:
        return dict(self.deployments.environment)

    # deployed resources ------------------------------------------------------------------------------
    def reference(self, resource_id: str, api_version: str | None, full: bool) -> Any:
        with self.deployments.store.read() as tx:
            rec = tx.get_resource(ids.key_of(resource_id))
        if rec is None:
            if self.what_if:
                raise templates.NotYetDeployed(resource_id)
            p = ids.parse(resource_id)
            if p is not None and p.resource_group is not None and p.namespace is not None:
                raise resource_not_found(
                    "/".join([p.namespace, *(f"{t}/{n}" for t, n in zip(p.types, p.names, strict=True))]),
                    p.resource_group,
                )
            raise ResourceNotFound(f"The resource '{resource_id}' was not found.")
        doc = self.deployments.registry.document(rec)
        if full:
            return {**doc, "apiVersion": api_version or ""}
        return doc.get("properties", {})

    def list_action(self, resource_id: str, action: str, api_version: str | None, body: Any) -> Any:
        if self.what_if:
            raise templates.NotYetDeployed(resource_id)
        raise AzureError(
            f"The function '{action}' (POST {resource_id}/{action}) is not served by azemu.",
            code="InvalidTemplate",
            status=400,
        )

    def provider(self, namespace: str, resource_type: str | None) -> Mapping[str, Any]:
        locations = [r["displayName"] for r in regions.all_regions()]
        kinds = [k.spec for k in self.deployments.registry if k.spec.namespace.lower() == namespace.lower()]
        types = [
            {"resourceType": s.short, "locations": locations, "apiVersions": list(s.api_versions)}
            for s in kinds
        ]
        if resource_type is None:
            return {"namespace": kinds[0].namespace if kinds else namespace, "resourceTypes": types}
        for t in types:
            if str(t["resourceType"]).lower() == resource_type.lower():
                return t
        versions = apiversions.supported(namespace, resource_type)
        if versions:
            return {"resourceType": resource_type, "locations": locations, "apiVersions": list(versions)}
        raise AzureError(
            f"The resource type '{resource_type}' could not be found in the namespace '{namespace}'.",
            code="InvalidResourceType",
            status=400,
        )

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.deployments.clock.now(), dt.UTC)

    def new_guid(self) -> str:
        return str(uuid.uuid4())
