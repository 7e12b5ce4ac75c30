"""Resource declarations expanded into instances: one per copy-loop iteration, with full type, name and id.

For each declaration ARM evaluates (at validation time) its ``condition``, ``copy`` count, ``type``, ``name``,
``apiVersion`` and ``existing`` flag; the body is rendered later (:mod:`.render`).

* A ``copy`` loop (``{"name", "count", "mode": "serial", "batchSize"}``) gives ``count`` instances;
  ``copyIndex()`` in the declaration reads the iteration.
* A child declared in its parent's ``resources`` array has a short type and name (``subnets``, ``default``) that
  become ``Microsoft.Network/virtualNetworks/subnets`` and ``vnet1/default``; it is expanded once per parent
  instance, inside the parent's copy loops. azemu makes it depend on its parent (ARM's docs leave that dependency
  to ``dependsOn``; an emulator can only fail the child otherwise).
* A resource named ``parent/child`` at top level has a multi-segment type; names must have one segment fewer than
  types (ARM: "incorrect segment lengths").
* ``existing: true`` (languageVersion 2.0) declares a resource that is only read, never deployed.
* Scope: a resource-group deployment puts resources in its group, a subscription deployment at subscription level
  (``Microsoft.Resources/resourceGroups`` there creates groups); ``subscriptionId``/``resourceGroup`` properties
  (nested deployments) move a resource to another scope, ``scope`` makes it an extension resource of another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ExpressionError, TemplateError, see, validation_failed
from .resourceids import (
    build_id,
    is_resource_group_type,
    name_segments,
    resource_group_prefix,
    subscription_prefix,
    type_segments,
)
from .source import join_path
from .state import CopyFrame, DeploymentState, Phase
from .template import ResourceDecl
from .values import to_display, type_name
from .walker import copy_count, evaluate_value

DEPLOYMENTS_TYPE = "microsoft.resources/deployments"


@dataclass(eq=False)
class ResourceInstance:
    """One resource the deployment deploys (or, with ``existing``, reads)."""

    key: str
    """Unique within the deployment: the declaration path plus the copy indexes (``resources[2]#1``)."""
    decl: ResourceDecl
    type: str
    name: str
    api_version: str | None
    resource_id: str
    copy: CopyFrame | None
    copy_name: str | None = None
    copy_index: int | None = None
    serial_batch_size: int | None = None
    existing: bool = False
    condition: bool = True
    parent: ResourceInstance | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    depends_on: list[ResourceInstance] = field(default_factory=list)

    @property
    def symbolic_name(self) -> str | None:
        return self.decl.symbolic_name

    @property
    def is_deployment(self) -> bool:
        """A nested deployment (``Microsoft.Resources/deployments``)."""
        return self.type.lower() == DEPLOYMENTS_TYPE

    @property
    def deployable(self) -> bool:
        return self.condition and not self.existing

    def __repr__(self) -> str:
        return f"ResourceInstance({self.key}: {self.type} {self.name})"


class ResourceIndex:
    """Instances by key, id, type and name, loop name and symbolic name (all matched ignoring case)."""

    def __init__(self, instances: list[ResourceInstance]) -> None:
        self.instances = instances
        self.by_id: dict[str, list[ResourceInstance]] = {}
        self.by_type_name: dict[tuple[str, str], list[ResourceInstance]] = {}
        self.by_name: dict[str, list[ResourceInstance]] = {}
        self.by_loop: dict[str, list[ResourceInstance]] = {}
        self.by_symbol: dict[str, list[ResourceInstance]] = {}
        for inst in instances:
            self.by_id.setdefault(inst.resource_id.lower(), []).append(inst)
            self.by_type_name.setdefault((inst.type.lower(), inst.name.lower()), []).append(inst)
            self.by_name.setdefault(inst.name.lower(), []).append(inst)
            if inst.copy_name:
                self.by_loop.setdefault(inst.copy_name.lower(), []).append(inst)
            if inst.symbolic_name:
                self.by_symbol.setdefault(inst.symbolic_name.lower(), []).append(inst)
        self.declared_loops = {i.copy_name.lower() for i in instances if i.copy_name}

    def resolve(self, ref: str, *, symbolic: bool) -> list[ResourceInstance] | None:
        """The instances a ``dependsOn`` entry or ``reference()`` argument designates, or None if nothing matches.

        In order: a symbolic name (languageVersion 2.0), a copy-loop name (all its instances), a resource id, a
        ``Namespace/type/name`` string, a plain resource name.
        """
        low = ref.strip().lower()
        if symbolic and low in self.by_symbol:
            return self.by_symbol[low]
        if low in self.by_loop:
            return self.by_loop[low]
        if low.startswith("/"):
            return self.by_id.get(low)
        if "/" in low:
            parts = [p for p in ref.strip().split("/") if p]
            if len(parts) >= 3 and len(parts) % 2 == 1:
                rtype = "/".join([parts[0], *parts[1::2]]).lower()
                rname = "/".join(parts[2::2]).lower()
                found = self.by_type_name.get((rtype, rname))
                if found:
                    return found
        return self.by_name.get(low)


# --- expansion -------------------------------------------------------------------------------------------------


def expand_resources(state: DeploymentState) -> list[ResourceInstance]:
    out: list[ResourceInstance] = []
    for decl in state.template.resources:
        _expand_decl(state, decl, None, None, out)
    return out


def _wrap(state: DeploymentState, e: ExpressionError, decl: ResourceDecl) -> TemplateError:
    raw_name = decl.get("name")
    shown = raw_name if type(raw_name) is str else (decl.symbolic_name or "")
    return state.element_error(e, "resource", shown, decl.path)


def _invalid(
    state: DeploymentState, decl: ResourceDecl, detail: str, path: str | None = None
) -> TemplateError:
    raw_name = decl.get("name")
    shown = raw_name if type(raw_name) is str else (decl.symbolic_name or "")
    return state.template.error(
        validation_failed(
            f"The template resource '{shown}'{state.template.at(decl.path)} is not valid. {detail} "
            f"{see('https://aka.ms/arm-template/#resources')}"
        ),
        path or decl.path,
    )


def _expand_decl(
    state: DeploymentState,
    decl: ResourceDecl,
    parent: ResourceInstance | None,
    frame: CopyFrame | None,
    out: list[ResourceInstance],
) -> None:
    copy_spec = decl.get("copy")
    if copy_spec is None:
        _make(state, decl, parent, frame, None, out)
        return
    if not isinstance(copy_spec, dict):
        raise _invalid(state, decl, "The 'copy' property must be an object.", join_path(decl.path, "copy"))
    loop = _get(copy_spec, "name")
    if type(loop) is not str or not loop:
        raise _invalid(
            state, decl, "The copy 'name' property must be a non-empty string.", join_path(decl.path, "copy")
        )
    env = state.env(Phase.RESOURCES, copy=frame)
    try:
        count = copy_count(state.evaluator, _get(copy_spec, "count"), env, loop)
    except ExpressionError as e:
        e.add_path("count")
        e.add_path(decl.key_of("copy") or "copy")
        raise _wrap(state, e, decl) from None
    batch: int | None = None
    mode = _get(copy_spec, "mode")
    if type(mode) is str and mode.lower() == "serial":
        size = _get(copy_spec, "batchsize")
        if size is not None:
            try:
                size = evaluate_value(state.evaluator, size, env)
            except ExpressionError as e:
                raise _wrap(state, e, decl) from None
        batch = size if type(size) is int and size > 0 else 1
    for i in range(count):
        _make(state, decl, parent, CopyFrame(loop, i, frame), (loop, i, batch), out)


def _get(obj: dict[str, Any], name: str) -> Any:
    for k, v in obj.items():
        if k.lower() == name:
            return v
    return None


def _field(state: DeploymentState, decl: ResourceDecl, key: str, env: Any) -> Any:
    raw_key = decl.key_of(key)
    if raw_key is None:
        return None
    try:
        return evaluate_value(state.evaluator, decl.raw[raw_key], env)
    except ExpressionError as e:
        e.add_path(raw_key)
        raise _wrap(state, e, decl) from None


def _make(
    state: DeploymentState,
    decl: ResourceDecl,
    parent: ResourceInstance | None,
    frame: CopyFrame | None,
    loop: tuple[str, int, int | None] | None,
    out: list[ResourceInstance],
) -> None:
    env = state.env(Phase.RESOURCES, copy=frame)
    condition = _field(state, decl, "condition", env)
    if condition is None:
        condition = True
    if type(condition) is not bool:
        # azemu wording
        raise _invalid(
            state,
            decl,
            f"The 'condition' property must evaluate to a boolean; it is of type '{type_name(condition)}'.",
        )
    rtype = _field(state, decl, "type", env)
    name = _field(state, decl, "name", env)
    if type(rtype) is not str or not rtype.strip():
        raise _invalid(
            state, decl, "The type property cannot be null or empty."
        )  # azemu wording (see name below)
    if type(name) is not str or not name:
        # Real: "The template resource '' at line '11' and column '50' is not valid. The name property cannot be null or
        # empty. Please see https://aka.ms/arm-template/#resources for usage details."
        raise _invalid(state, decl, "The name property cannot be null or empty.")
    api_version = _field(state, decl, "apiversion", env)
    existing = _field(state, decl, "existing", env) is True

    rtype = rtype.strip().strip("/")
    if (
        parent is not None and "." not in type_segments(rtype)[0]
    ):  # relative: `subnets`, `policySets/policies`
        rtype = f"{parent.type}/{rtype}"
        name = f"{parent.name}/{name}"
    elif parent is not None and len(name_segments(name)) == len(type_segments(rtype)) - 2:
        name = f"{parent.name}/{name}"  # full child type with a short name
    if len(type_segments(rtype)) != len(name_segments(name)) + 1 and not (
        is_resource_group_type(rtype) and len(name_segments(name)) == 1
    ):
        # Real: "The template resource 'dnsRecord1' for type '...' at line '5' and column '9' has incorrect segment
        # lengths. A nested resource type must have identical number of segments as its resource name. A root resource
        # type must have segment length one greater than its resource name."
        raise state.template.error(
            validation_failed(
                f"The template resource '{name}' for type '{rtype}'{state.template.at(decl.path)} has incorrect "
                "segment lengths. A nested resource type must have identical number of segments as its resource name. "
                "A root resource type must have segment length one greater than its resource name. "
                f"{see('https://aka.ms/arm-template/#resources')}"
            ),
            decl.path,
        )

    sub, rg, scope_id = _target(state, decl, env, parent)
    if scope_id is not None:
        resource_id = build_id(scope_id, rtype, name_segments(name))
    elif rg is not None and sub is not None:
        resource_id = build_id(resource_group_prefix(sub, rg), rtype, name_segments(name))
    elif sub is not None:
        resource_id = build_id(subscription_prefix(sub), rtype, name_segments(name))
    else:
        resource_id = build_id("", rtype, name_segments(name))

    key = decl.path + _copy_suffix(frame)
    inst = ResourceInstance(
        key=key,
        decl=decl,
        type=rtype,
        name=name,
        api_version=api_version if type(api_version) is str else None,
        resource_id=resource_id,
        copy=frame,
        copy_name=loop[0] if loop else None,
        copy_index=loop[1] if loop else None,
        serial_batch_size=loop[2] if loop else None,
        existing=existing,
        condition=condition,
        parent=parent,
        subscription_id=sub,
        resource_group=rg,
    )
    out.append(inst)
    for child in decl.children:
        _expand_decl(state, child, inst, frame, out)


def _copy_suffix(frame: CopyFrame | None) -> str:
    indexes: list[int] = []
    while frame is not None:
        indexes.append(frame.index)
        frame = frame.outer
    return "".join(f"#{i}" for i in reversed(indexes))


def _target(
    state: DeploymentState, decl: ResourceDecl, env: Any, parent: ResourceInstance | None
) -> tuple[str | None, str | None, str | None]:
    """(subscription, resource group, extension scope id) the resource is deployed to."""
    if parent is not None:
        return parent.subscription_id, parent.resource_group, None
    sub = state.subscription_id
    rg = state.resource_group_name
    sub_field = _field(state, decl, "subscriptionid", env)
    rg_field = _field(state, decl, "resourcegroup", env)
    scope_field = _field(state, decl, "scope", env)
    if type(sub_field) is str and sub_field:
        sub = sub_field
        rg = None  # a subscription named without a group: the subscription itself
    if type(rg_field) is str and rg_field:
        rg = rg_field
    if type(scope_field) is str and scope_field:
        return sub, rg, _scope_id(state, scope_field, sub, rg)
    if scope_field is not None and type(scope_field) is not str:
        raise _invalid(
            state, decl, f"The 'scope' property must be a string; it is '{to_display(scope_field)}'."
        )
    return sub, rg, None


def _scope_id(state: DeploymentState, scope: str, sub: str | None, rg: str | None) -> str:
    """An extension resource's ``scope``: a full id, or ``Namespace/type/name`` relative to the deployment's scope
    (as Bicep emits it)."""
    scope = scope.strip()
    if scope.startswith("/"):
        return scope.rstrip("/")
    prefix = resource_group_prefix(sub, rg) if sub and rg else (subscription_prefix(sub) if sub else "")
    parts = [p for p in scope.split("/") if p]
    return f"{prefix}/providers/{'/'.join(parts)}"
