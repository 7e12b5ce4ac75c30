"""Dependencies between resource instances and the order that follows: waves.

An instance depends on:

* each ``dependsOn`` entry: a resource name, a ``Namespace/type/name`` string, a resource id (usually from
  ``resourceId()``), a copy-loop name (all its instances) or, in languageVersion 2.0, a symbolic name. An entry
  naming a resource whose ``condition`` is false is dropped (ARM docs); one naming nothing is an error (real:
  ``The resource 'Microsoft.Web/sites/func-xyz' is not defined in the template.``);
* each resource of this template named by the first argument of a ``reference()`` or ``list*()`` call in its
  body (ARM's implicit dependency);
* its parent, when declared inside the parent's ``resources`` array;
* in a ``serial`` copy loop, every instance of the previous batch (``batchSize``, default 1).

Dependencies on ``existing`` resources are dropped (they are read, not deployed). The instances are then layered
into waves: each wave holds instances whose dependencies all lie in earlier waves, so a wave can be deployed in
parallel. A cycle is refused (real: ``Circular dependency detected on resource: '<id>'.``).
"""

from __future__ import annotations

from typing import Any

from .errors import ExpressionError, TemplateError, see, validation_failed
from .nodes import Call, Node, walk
from .parser import is_expression, parse_expression
from .resourceids import short_form
from .resources import ResourceIndex, ResourceInstance
from .source import join_path
from .state import DeploymentState, Phase
from .walker import evaluate_value

_CONTROL_KEYS = {
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
}


def resolve_dependencies(state: DeploymentState, index: ResourceIndex) -> None:
    symbolic = state.template.symbolic
    reference_args = _reference_args_by_decl(state, index)
    for inst in index.instances:
        deps: dict[str, ResourceInstance] = {}
        for target in _depends_on_entries(state, index, inst, symbolic):
            deps.setdefault(target.key, target)
        for target in _implicit(state, index, inst, reference_args.get(id(inst.decl), [])):
            deps.setdefault(target.key, target)
        if inst.parent is not None:
            deps.setdefault(inst.parent.key, inst.parent)
        if inst.serial_batch_size and inst.copy_index:
            batch = inst.copy_index // inst.serial_batch_size
            if batch > 0:
                for other in index.by_loop.get((inst.copy_name or "").lower(), []):
                    same_parent = other.parent is inst.parent and other.decl is inst.decl
                    if (
                        same_parent
                        and other.copy_index is not None
                        and other.copy_index // inst.serial_batch_size == batch - 1
                    ):
                        deps.setdefault(other.key, other)
        deps.pop(inst.key, None)
        inst.depends_on = [d for d in deps.values() if d.deployable]


def _depends_on_entries(
    state: DeploymentState, index: ResourceIndex, inst: ResourceInstance, symbolic: bool
) -> list[ResourceInstance]:
    raw_key = inst.decl.key_of("dependson")
    if raw_key is None:
        return []
    raw = inst.decl.raw[raw_key]
    path = join_path(inst.decl.path, raw_key)
    if not isinstance(raw, list):
        raise state.template.error(
            validation_failed(
                f"The template resource property 'dependsOn' must be an array. {see('https://aka.ms/arm-template')}"
            ),
            path,
        )
    env = state.env(Phase.RESOURCES, copy=inst.copy)
    out: list[ResourceInstance] = []
    for i, entry in enumerate(raw):
        try:
            value = evaluate_value(state.evaluator, entry, env)
        except ExpressionError as e:
            e.add_path(f"[{i}]")
            e.add_path(raw_key)
            raw_name = inst.decl.get("name")
            raise state.element_error(
                e, "resource", raw_name if isinstance(raw_name, str) else "", inst.decl.path
            ) from None
        if type(value) is not str:
            continue
        found = index.resolve(value, symbolic=symbolic)
        if found is None:
            raise _not_defined(state, value, join_path(path, i))
        out.extend(found)
    return out


def _not_defined(state: DeploymentState, ref: str, path: str) -> TemplateError:
    if "/" not in ref:
        # Real: "The template reference 'appServicePlan' is not valid: could not find template resource or resource
        # copy with this name. Please see https://aka.ms/arm-function-reference for usage details."
        return state.template.error(
            validation_failed(
                f"The template reference '{ref}' is not valid: could not find template resource or resource copy with "
                f"this name. {see('https://aka.ms/arm-function-reference')}"
            ),
            path,
        )
    # Real: "The resource 'Microsoft.Web/sites/func-xyz' is not defined in the template. Please see
    # https://aka.ms/arm-template for usage details."
    shown = short_form(ref) if ref.startswith("/") else ref
    return state.template.error(
        validation_failed(
            f"The resource '{shown}' is not defined in the template. {see('https://aka.ms/arm-template')}"
        ),
        path,
    )


# --- implicit dependencies through reference() / list*() -------------------------------------------------------


def _reference_args_by_decl(state: DeploymentState, index: ResourceIndex) -> dict[int, list[Node]]:
    """For each declaration, the first-argument nodes of its ``reference``/``list*`` calls."""
    out: dict[int, list[Node]] = {}
    for decl in {id(i.decl): i.decl for i in index.instances}.values():
        nodes: list[Node] = []
        for key, value in decl.raw.items():
            if key.lower() in _CONTROL_KEYS:
                continue
            inner_template = (
                key.lower() == "properties"
                and decl.get("type") is not None
                and isinstance(value, dict)
                and _inner_scoped(value)
            )
            _collect(value, nodes, skip_template=inner_template)
        out[id(decl)] = nodes
    return out


def _inner_scoped(props: dict[str, Any]) -> bool:
    opts = next((v for k, v in props.items() if k.lower() == "expressionevaluationoptions"), None)
    scope = (
        next((v for k, v in opts.items() if k.lower() == "scope"), None) if isinstance(opts, dict) else None
    )
    return isinstance(scope, str) and scope.lower() == "inner"


def _collect(value: Any, nodes: list[Node], *, skip_template: bool = False) -> None:
    t = type(value)
    if t is str:
        if is_expression(value):
            try:
                tree = parse_expression(value[1:-1])
            except ExpressionError:
                return
            for n in walk(tree):
                if type(n) is Call and n.args:
                    low = n.name.lower()
                    if (low == "reference" or low.startswith("list")) and n.namespace is None:
                        nodes.append(n.args[0])
    elif t is list:
        for item in value:
            _collect(item, nodes)
    elif t is dict:
        for k, v in value.items():
            if skip_template and k.lower() == "template":
                continue
            _collect(v, nodes)


def _implicit(
    state: DeploymentState, index: ResourceIndex, inst: ResourceInstance, arg_nodes: list[Node]
) -> list[ResourceInstance]:
    out: list[ResourceInstance] = []
    if not arg_nodes:
        return out
    env = state.env(Phase.RESOURCES, copy=inst.copy, partial=True)
    for node in arg_nodes:
        try:
            target = state.evaluator.evaluate(node, env)
        except Exception:  # an argument that cannot be computed now names no resource
            continue
        if type(target) is not str:
            continue
        found = index.resolve(target, symbolic=state.template.symbolic)
        if not found:
            continue
        if len(found) > 1 and inst.copy is not None:
            same = [f for f in found if f.copy_index == inst.copy.index]
            found = same or found
        out.extend(found)
    return out


# --- waves ------------------------------------------------------------------------------------------------------


def waves(state: DeploymentState, instances: list[ResourceInstance]) -> list[list[ResourceInstance]]:
    """Deployable instances layered so every dependency lies in an earlier wave; refuses cycles."""
    nodes = [i for i in instances if i.deployable]
    remaining = {i.key: {d.key for d in i.depends_on} for i in nodes}
    by_key = {i.key: i for i in nodes}
    out: list[list[ResourceInstance]] = []
    done: set[str] = set()
    while remaining:
        ready = [k for k, deps in remaining.items() if deps <= done]
        if not ready:
            raise _cycle(state, by_key, remaining)
        out.append([by_key[k] for k in ready])
        for k in ready:
            del remaining[k]
        done.update(ready)
    return out


def _cycle(
    state: DeploymentState, by_key: dict[str, ResourceInstance], remaining: dict[str, set[str]]
) -> TemplateError:
    # walk dependencies among the blocked instances until one repeats: that one lies on a cycle
    start = next(iter(remaining))
    seen: list[str] = []
    key = start
    while key not in seen:
        seen.append(key)
        key = next(d for d in remaining[key] if d in remaining)
    inst = by_key[key]
    # Real: "Deployment template validation failed: 'Circular dependency detected on resource:
    # '/subscriptions/.../providers/Microsoft.Web/sites/rcshrchatfunc'. Please see https://aka.ms/arm-syntax-resources
    # for usage details.'."
    return state.template.error(
        validation_failed(
            f"Circular dependency detected on resource: '{inst.resource_id}'. {see('https://aka.ms/arm-syntax-resources')}"
        ),
        inst.decl.path,
    )
