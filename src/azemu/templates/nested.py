"""Nested deployments: ``Microsoft.Resources/deployments`` resources with an inline ``template``.

ARM evaluates a nested template in one of two scopes (``properties.expressionEvaluationOptions.scope``):

* ``outer`` (the default for JSON templates): the nested template's expressions see the *parent's* parameters and
  variables (its own ``parameters``/``variables`` sections are not used);
* ``inner``: the nested template is a template of its own; the parent passes values through
  ``properties.parameters`` (``{"p": {"value": ...}}``), evaluated in the parent.

A ``templateLink`` (URI, relative path or template spec id) cannot be followed offline and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import TemplateError, validation_failed
from .functions.table import FunctionTable
from .resources import ResourceInstance
from .template import get_ci

if TYPE_CHECKING:
    from .context import DeploymentContext
    from .engine import PreparedDeployment


@dataclass(frozen=True)
class NestedDeployment:
    """What the domain needs to run a child deployment."""

    parent: PreparedDeployment
    instance: ResourceInstance
    name: str
    resource_id: str
    subscription_id: str | None
    """Target subscription of the child (``None`` at tenant scope)."""
    resource_group: str | None
    """Target resource group of the child; ``None`` for a subscription-scope child."""
    location: str | None
    mode: str
    scope: str
    """``inner`` or ``outer``."""
    template: dict[str, Any]
    parameters: dict[str, Any]
    """The child's parameters, evaluated in the parent (``{"p": {"value": ...}}``); empty for ``outer``."""
    body: dict[str, Any]
    """The rendered request body of the deployments resource (its ``properties.template`` left as written)."""

    def prepare(
        self, context: DeploymentContext, *, functions: FunctionTable | None = None
    ) -> PreparedDeployment:
        """Prepare the child deployment in ``context`` (the child's target scope)."""
        from .engine import prepare

        parent_state = self.parent.state
        prefix = parent_state.template.full_path(self.instance.decl.path)
        props_key = self.instance.decl.key_of("properties") or "properties"
        props = self.instance.decl.raw.get(props_key) or {}
        template_key = next((k for k in props if k.lower() == "template"), "template")
        return prepare(
            self.template,
            context,
            self.parameters if self.scope == "inner" else None,
            functions=functions or parent_state.base_functions,
            outer=parent_state if self.scope == "outer" else None,
            path_prefix=f"{prefix}.{props_key}.{template_key}",
            source=parent_state.template.source,
        )


def nested_deployment(
    parent: PreparedDeployment, inst: ResourceInstance, body: dict[str, Any]
) -> NestedDeployment:
    props = get_ci(body, "properties") or {}
    template = get_ci(props, "template")
    check_link(parent, inst)
    if not isinstance(template, dict):
        raise parent.state.template.error(
            validation_failed(
                f"The nested deployment '{inst.name}' has no inline 'template'."
            ),  # azemu wording
            inst.decl.path,
        )
    options = get_ci(props, "expressionEvaluationOptions")
    scope_value = get_ci(options, "scope") if isinstance(options, dict) else None
    scope = "inner" if isinstance(scope_value, str) and scope_value.lower() == "inner" else "outer"
    parameters = get_ci(props, "parameters") if scope == "inner" else None
    mode = get_ci(props, "mode")
    location = get_ci(body, "location")
    return NestedDeployment(
        parent=parent,
        instance=inst,
        name=inst.name,
        resource_id=inst.resource_id,
        subscription_id=inst.subscription_id,
        resource_group=inst.resource_group,
        location=location if isinstance(location, str) else None,
        mode=mode if isinstance(mode, str) else "Incremental",
        scope=scope,
        template=template,
        parameters=parameters if isinstance(parameters, dict) else {},
        body=body,
    )


def check_link(parent: PreparedDeployment, inst: ResourceInstance) -> None:
    props = inst.decl.get("properties")
    if not isinstance(props, dict):
        return
    for key in ("templateLink", "parametersLink"):
        link = get_ci(props, key)
        if link is not None:
            target = (
                get_ci(link, "uri") or get_ci(link, "relativePath") or get_ci(link, "id")
                if isinstance(link, dict)
                else link
            )
            raise TemplateError(
                validation_failed(
                    f"The nested deployment '{inst.name}' uses '{key}' ('{target}'). azemu runs offline and cannot fetch "
                    "linked templates, parameter files or template specs; embed the template with 'template' and the "
                    "values with 'parameters' instead."
                ),
                code="InvalidTemplate",
                path=parent.state.template.full_path(f"{inst.decl.path}.properties.{key}"),
            )
