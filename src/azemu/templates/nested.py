"""Nested deployments: ``Microsoft.Resources/deployments`` resources with an inline ``template``.

ARM evaluates a nested template in one of two scopes (``properties.expressionEvaluationOptions.scope``):

* ``outer`` (the default for JSON templates): the nested template's expressions see the *parent's* parameters and
  variables (its own ``parameters``/``variables`` sections are not used);
* ``inner``: the nested template is a template of its own; the parent passes values through
  ``properties.parameters`` (``{"p": {"value": ...}}``), evaluated in the parent.

A ``templateLink`` (URI, relative path or template spec id) cannot be followed offline and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .context import DeploymentContext
from .errors import TemplateError, validation_failed
from .functions.table import FunctionTable
from .resources import ResourceInstance
from .state import DeploymentState
from .template import get_ci

P = TypeVar("P")


@dataclass(frozen=True)
class NestedDeployment(Generic[P]):
    """What the domain needs to run a child deployment. ``P`` is what preparing it gives (the engine's
    ``PreparedDeployment``): the engine hands in ``preparer``, so this module needs nothing of the engine."""

    parent_state: DeploymentState
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
    preparer: Callable[[NestedDeployment[P], DeploymentContext, FunctionTable | None], P] = field(
        repr=False, compare=False
    )

    def prepare(self, context: DeploymentContext, *, functions: FunctionTable | None = None) -> P:
        """Prepare the child deployment in ``context`` (the child's target scope)."""
        return self.preparer(self, context, functions)


def nested_deployment(
    parent_state: DeploymentState,
    inst: ResourceInstance,
    body: dict[str, Any],
    preparer: Callable[[NestedDeployment[P], DeploymentContext, FunctionTable | None], P],
) -> NestedDeployment[P]:
    props = get_ci(body, "properties") or {}
    template = get_ci(props, "template")
    check_link(parent_state, inst)
    if not isinstance(template, dict):
        raise parent_state.template.error(
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
        parent_state=parent_state,
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
        preparer=preparer,
    )


def check_link(state: DeploymentState, inst: ResourceInstance) -> None:
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
                path=state.template.full_path(f"{inst.decl.path}.properties.{key}"),
            )
