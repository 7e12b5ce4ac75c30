"""Running a template: :func:`prepare` validates and plans a deployment, :class:`PreparedDeployment` renders it.

The deployment service drives it like this::

    prepared = prepare(template, context, request_parameters)     # TemplateError if ARM would refuse it
    for wave in prepared.waves:                                     # instances of a wave are independent
        for inst in wave:
            if inst.is_deployment:
                child = prepared.nested(inst)                       # run child.prepare(child_context) the same way
            else:
                body = prepared.render(inst)                        # PUT body for inst.resource_id
    outputs = prepared.outputs()                                    # {"name": {"type": "String", "value": ...}}

:func:`prepare` does what ARM does when it validates a deployment: reads the top level, checks every expression's
syntax and function names, binds and checks parameters, evaluates variables, expands resources into instances
(conditions, copy loops, child resources, ids), resolves dependencies and orders the instances into waves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import DeploymentContext
from .errors import ExpressionError, TemplateError, function_not_valid, see, validation_failed
from .functions.catalog import arm_functions
from .functions.table import FunctionTable
from .graph import resolve_dependencies, waves
from .nested import NestedDeployment, check_link, nested_deployment
from .nodes import Call, walk
from .outputs import evaluate_outputs
from .parameters import Parameters
from .parser import is_expression, parse_expression
from .render import render
from .resources import ResourceIndex, ResourceInstance, expand_resources
from .source import SourceMap, join_path
from .state import DeploymentState
from .template import Template
from .udf import user_function_specs
from .values import copy_value
from .variables import Variables


class PreparedDeployment:
    """A validated deployment: its parameters, resource instances and the waves to deploy them in."""

    def __init__(self, state: DeploymentState, instances: list[ResourceInstance]) -> None:
        self.state = state
        self.instances = instances
        """Every instance: deployable, ``existing`` (read only) and skipped (condition false)."""
        self.waves: list[list[ResourceInstance]] = waves(state, instances)

    @property
    def template(self) -> Template:
        return self.state.template

    @property
    def context(self) -> DeploymentContext:
        return self.state.context

    @property
    def deployable(self) -> list[ResourceInstance]:
        return [i for i in self.instances if i.deployable]

    @property
    def existing(self) -> list[ResourceInstance]:
        return [i for i in self.instances if i.existing and i.condition]

    @property
    def skipped(self) -> list[ResourceInstance]:
        """Instances whose ``condition`` is false: not deployed."""
        return [i for i in self.instances if not i.condition]

    @property
    def parameters(self) -> dict[str, Any]:
        """The effective parameter values (supplied or defaults), secure ones included: for the engine's caller."""
        if self.state.outer is not None:
            return {}
        values: dict[str, Any] = copy_value(self.state.parameters.bind_all())
        return values

    def parameters_for_response(self) -> dict[str, Any]:
        """``properties.parameters`` of the deployment as Azure returns it (secure values omitted)."""
        if self.state.outer is not None:
            return {}
        return self.state.parameters.for_response()

    def instance(self, ref: str) -> ResourceInstance:
        """An instance by key, symbolic name, resource id or name."""
        for inst in self.instances:
            if inst.key == ref:
                return inst
        index = self.state.resources
        assert index is not None
        found = index.resolve(ref, symbolic=self.template.symbolic)
        if not found:
            raise KeyError(ref)
        inst = found[0]
        assert isinstance(inst, ResourceInstance)
        return inst

    def render(self, inst: ResourceInstance, *, partial: bool = False) -> dict[str, Any]:
        """The request body of ``inst``, every expression evaluated (see :mod:`.render`)."""
        return render(self.state, inst, partial=partial)

    def nested(self, inst: ResourceInstance) -> NestedDeployment[PreparedDeployment]:
        """The child deployment of a ``Microsoft.Resources/deployments`` instance (see :mod:`.nested`)."""
        if not inst.is_deployment:
            raise ValueError(f"{inst.resource_id} is not a nested deployment")
        return nested_deployment(self.state, inst, self.render(inst), _prepare_child)

    def what_if(self) -> list[tuple[ResourceInstance, dict[str, Any]]]:
        """Every deployable instance rendered partially: expressions that need resources this deployment would create
        stay as written (ARM's what-if shows them the same way)."""
        return [(inst, self.render(inst, partial=True)) for inst in self.deployable]

    def validate(self) -> None:
        """Render every instance partially to surface expression errors before anything is deployed."""
        self.what_if()

    def outputs(self) -> dict[str, dict[str, Any]]:
        """The template's outputs, once its resources are deployed (see :mod:`.outputs`)."""
        return evaluate_outputs(self.state)

    def output_resources(self) -> list[dict[str, str]]:
        """``properties.outputResources``: the ids of the deployed resources."""
        return [{"id": i.resource_id} for i in self.deployable]


def prepare(
    template: Template | Mapping[str, Any],
    context: DeploymentContext,
    parameters: Mapping[str, Any] | None = None,
    *,
    functions: FunctionTable | None = None,
    text: str | None = None,
    path_prefix: str = "",
    outer: DeploymentState | None = None,
    source: SourceMap | None = None,
) -> PreparedDeployment:
    """Validate a deployment of ``template`` into ``context`` with the request's ``parameters``
    (``{"name": {"value": ...}}``) and plan it. Raises :class:`TemplateError` with ARM's code and message.

    ``text`` is the template's JSON as submitted (for line/column in errors) with ``path_prefix`` its place in that
    text (``properties.template`` for a deployment request body). ``functions`` replaces the ARM function table.
    """
    if not isinstance(template, Template):
        template = Template.parse(dict(template), text=text, path_prefix=path_prefix, source=source)
    table = functions or arm_functions()
    udfs = user_function_specs(template)
    if udfs:
        table = table.with_functions(*udfs)
    state = DeploymentState(template, context, table, outer=outer)
    state.base_functions = functions or arm_functions()
    state.parameters = Parameters(state, None if outer is not None else parameters)
    state.parameters_for_deployment = dict(parameters or {})
    state.variables = Variables(state)
    check_expressions(state)
    if outer is None:
        state.parameters.bind_all()
        if not template.symbolic:
            state.variables.evaluate_all()
    instances = expand_resources(state)
    index = ResourceIndex(instances)
    state.resources = index
    _check_duplicates(state, instances)
    resolve_dependencies(state, index)
    prepared = PreparedDeployment(state, instances)
    for inst in instances:
        if inst.is_deployment and inst.deployable:
            check_link(state, inst)
    return prepared


def _prepare_child(
    child: NestedDeployment[PreparedDeployment], context: DeploymentContext, functions: FunctionTable | None
) -> PreparedDeployment:
    """Prepare a nested deployment in ``context`` (its target scope), as :func:`prepare` prepares any."""
    parent_state = child.parent_state
    prefix = parent_state.template.full_path(child.instance.decl.path)
    props_key = child.instance.decl.key_of("properties") or "properties"
    props = child.instance.decl.raw.get(props_key) or {}
    template_key = next((k for k in props if k.lower() == "template"), "template")
    return prepare(
        child.template,
        context,
        child.parameters if child.scope == "inner" else None,
        functions=functions or parent_state.base_functions,
        outer=parent_state if child.scope == "outer" else None,
        path_prefix=f"{prefix}.{props_key}.{template_key}",
        source=parent_state.template.source,
    )


def _check_duplicates(state: DeploymentState, instances: list[ResourceInstance]) -> None:
    seen: dict[str, ResourceInstance] = {}
    for inst in instances:
        if not inst.deployable:
            continue
        key = inst.resource_id.lower()
        if key in seen:
            # ARM refuses two declarations of one resource ("is defined multiple times in a template").
            raise state.template.error(
                validation_failed(
                    f"The resource '{inst.resource_id}'{state.template.at(inst.decl.path)} is defined multiple times in a "
                    f"template. {see('https://aka.ms/arm-template/#resources')}"
                ),
                inst.decl.path,
            )
        seen[key] = inst


# --- static checks: syntax and function names of every expression --------------------------------------------------


def check_expressions(state: DeploymentState) -> None:
    """Parse every expression in parameters, variables and resources, and check the functions it calls exist (ARM
    rejects an unknown function when it validates the template, before evaluating anything). Outputs are checked
    when evaluated, as ARM does."""
    template, table = state.template, state.functions
    for name, pdecl in template.parameters.items():
        path = join_path("parameters", name)
        default_key = next((k for k in pdecl if k.lower() == "defaultvalue"), None)
        if default_key is None:
            continue  # metadata, descriptions and constraints are never evaluated
        _check_value(
            state,
            table,
            pdecl[default_key],
            path,
            lambda e, n=name, p=path: state.element_error(e, "resource", n, p),
            rel_base=default_key,
        )
    for name, value in template.variables.items():
        path = join_path("variables", name)
        _check_value(
            state,
            table,
            value,
            path,
            lambda e, n=name, p=path: state.element_error(e, "variable", n, p, with_position=False),
        )
    for decl in template.all_resources():
        raw_name = decl.get("name")
        shown = raw_name if isinstance(raw_name, str) else (decl.symbolic_name or "")
        for key, value in decl.raw.items():
            if key.lower() in ("resources", "comments", "metadata"):
                continue
            checked = value
            if key.lower() == "properties" and isinstance(value, dict) and _has_nested_template(decl.raw):
                checked = {k: v for k, v in value.items() if k.lower() != "template"}
            _check_value(
                state,
                table,
                checked,
                join_path(decl.path, key),
                lambda e, s=shown, d=decl: state.element_error(e, "resource", s, d.path),
                rel_base=key,
            )


def _has_nested_template(raw: dict[str, Any]) -> bool:
    rtype = next((v for k, v in raw.items() if k.lower() == "type"), None)
    return isinstance(rtype, str) and rtype.strip().lower() == "microsoft.resources/deployments"


def _check_value(
    state: DeploymentState,
    table: FunctionTable,
    value: Any,
    path: str,
    wrap: Any,
    rel_base: str = "",
) -> None:
    stack: list[tuple[Any, list[str]]] = [(value, [rel_base] if rel_base else [])]
    while stack:
        v, rel = stack.pop()
        t = type(v)
        if t is str:
            if not is_expression(v):
                continue
            try:
                tree = parse_expression(v[1:-1])
                for node in walk(tree):
                    if type(node) is Call and node.full_name not in table:
                        raise function_not_valid(node.full_name)
            except ExpressionError as e:
                for part in reversed(rel):
                    e.add_path(part)
                raise wrap(e) from None
        elif t is list:
            stack.extend((item, [*rel, f"[{i}]"]) for i, item in enumerate(v))
        elif t is dict:
            for k, item in v.items():
                if is_expression(k):
                    stack.append((k, rel))
                stack.append((item, [*rel, k]))


__all__ = ["PreparedDeployment", "TemplateError", "prepare"]
