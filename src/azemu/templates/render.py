"""Rendering an instance: the request body the deployment sends for it, every expression evaluated.

Rendering happens when the instance's turn comes (its dependencies exist), because ``reference()`` and
``list*()`` read deployed resources. The body carries ``apiVersion``, ``type`` and ``name`` (full, as expanded),
then every other property of the declaration evaluated (``location``, ``tags``, ``sku``, ``kind``, ``identity``,
``plan``, ``zones``, ``properties`` with property-level ``copy`` blocks expanded, ...). Template-only properties
(``condition``, ``copy``, ``dependsOn``, ``resources``, ``comments``, ``metadata``, ``existing``, ``scope``,
``subscriptionId``, ``resourceGroup``) are left out. A nested deployment's ``properties.template`` is not evaluated here: it belongs to
the child deployment.

A failure reads like ARM's deployment-time error (real: ``Unable to process template language expressions for
resource '<id>' at line '1' and column '507'. '<inner>'``).

Partial rendering (what-if) leaves an expression that needs a resource this deployment has not created yet as its
original string.
"""

from __future__ import annotations

from typing import Any

from .errors import ExpressionError, TemplateError
from .resources import ResourceInstance
from .state import DeploymentState, Phase
from .walker import evaluate_value

SKIPPED = {
    "name",
    "type",
    "apiversion",
    "condition",
    "copy",
    "dependson",
    "resources",
    "comments",
    "metadata",
    "existing",
    "scope",
    "subscriptionid",
    "resourcegroup",
}


def render(state: DeploymentState, inst: ResourceInstance, *, partial: bool = False) -> dict[str, Any]:
    env = state.env(Phase.RESOURCES, copy=inst.copy, partial=partial)
    ev = state.evaluator
    body: dict[str, Any] = {}
    if inst.api_version is not None:
        body["apiVersion"] = inst.api_version
    body["type"] = inst.type
    body["name"] = inst.name
    for key, value in inst.decl.raw.items():
        low = key.lower()
        if low in SKIPPED:
            continue
        try:
            if low == "properties" and inst.is_deployment and isinstance(value, dict):
                body[key] = _deployment_properties(state, value, env)
            else:
                body[key] = evaluate_value(ev, value, env, copies=low == "properties")
        except ExpressionError as e:
            e.add_path(key)
            raise processing_error(state, inst, e) from None
    return body


def _deployment_properties(state: DeploymentState, props: dict[str, Any], env: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in props.items():
        if k.lower() == "template":
            out[k] = v  # the child deployment evaluates its own template
            continue
        try:
            out[k] = evaluate_value(state.evaluator, v, env)
        except ExpressionError as e:
            e.add_path(k)
            raise
    return out


def processing_error(state: DeploymentState, inst: ResourceInstance, e: ExpressionError) -> TemplateError:
    rel = e.relative_path()
    path = inst.decl.path + ("" if not rel else (rel if rel.startswith("[") else "." + rel))
    pos = state.template.position(path) or (0, 0)
    # Real: "Unable to process template language expressions for resource '/subscriptions/.../deployments/x' at line
    # '1' and column '507'. 'The template function 'copyIndex' is not expected at this location. ...'"
    return state.template.error(
        f"Unable to process template language expressions for resource '{inst.resource_id}' at line '{pos[0]}' and "
        f"column '{pos[1]}'. '{e.message}'",
        path,
    )
