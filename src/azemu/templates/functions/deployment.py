"""Deployment functions: what only a running deployment can answer.

``parameters``, ``variables``, ``copyIndex``, ``reference``, every ``list*`` (``listKeys``, ``listSecrets``, ...),
``resourceId``, ``subscriptionResourceId``, ``tenantResourceId``, ``extensionResourceId``, ``resourceGroup``,
``subscription``, ``tenant``, ``deployment``, ``environment``, ``providers``, ``pickZones``, and the
deployment-restricted ``newGuid``/``utcNow``.

These run in a :class:`~azemu.templates.state.TemplateEnv` and enforce ARM's placement rules: ``newGuid`` and
``utcNow`` only in parameter default values, ``copyIndex`` only inside a copy loop, ``reference``/``list*`` not in
parameters nor (classic templates) variables, ``variables`` not in parameter defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ExpressionError, NotYetDeployed, function_not_expected, see
from ..resourceids import build_id, check_names, resource_group_prefix, subscription_prefix
from ..state import Phase, TemplateEnv
from ..values import is_int
from . import dates
from .table import FunctionSpec, Invocation, bad_arg, fn, want_int, want_str


def template_env(inv: Invocation) -> TemplateEnv:
    env = inv.env
    if not isinstance(env, TemplateEnv):
        raise function_not_expected(inv.written_name)
    return env


@fn("parameters", 1, 1)
def parameters(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    name = want_str("parameters", args, 0)
    if env.phase is Phase.FUNCTION:
        udf = env.udf_args or {}
        for k, v in udf.items():
            if k.lower() == name.lower():
                return v
        raise ExpressionError(
            f"The template parameter '{name}' is not found. {see('https://aka.ms/arm-template/#parameters')}",
            standalone=True,
        )
    return env.state.parameter(name)


@fn("variables", 1, 1)
def variables(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    if env.phase in (Phase.PARAMETERS, Phase.FUNCTION):
        raise function_not_expected(inv.written_name)
    return env.state.variable(want_str("variables", args, 0), what_if=env.what_if)


@fn("copyIndex", 0, 2)
def copy_index(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    loop: str | None = None
    offset = 0
    if len(args) == 2:
        loop, offset = want_str("copyIndex", args, 0), want_int("copyIndex", args, 1)
    elif len(args) == 1:
        if type(args[0]) is str:
            loop = args[0]
        elif is_int(args[0]):
            offset = int(args[0])
        else:
            raise bad_arg("copyIndex", 0, "String or Integer", args[0])
    # Real: "The template function 'copyIndex' is not expected at this location. The function can only be used in a
    # resource with copy specified. Please see https://aka.ms/arm-copy for usage details."
    reason = "The function can only be used in a resource with copy specified."
    if env.copy is None:
        raise function_not_expected(inv.written_name, reason, "https://aka.ms/arm-copy")
    frame = env.copy if loop is None else env.copy.find(loop)
    if frame is None:
        raise function_not_expected(
            inv.written_name,
            f"The copy loop '{loop}' is not defined at this location. {reason}",
            "https://aka.ms/arm-copy",
        )
    return frame.index + offset


# --- reference() and list*() ----------------------------------------------------------------------------------


def _runtime_allowed(inv: Invocation, env: TemplateEnv) -> None:
    if env.phase in (Phase.PARAMETERS, Phase.FUNCTION) or (
        env.phase is Phase.VARIABLES and not env.state.template.symbolic
    ):
        raise function_not_expected(inv.written_name)


def resolve_target(env: TemplateEnv, ref: str) -> tuple[str, str | None, bool]:
    """(resource id, api version from the template, whether this deployment creates the resource) for a
    ``reference``/``list*`` argument: a resource id, or the name/symbolic name of a resource in the template."""
    index = env.state.resources
    if ref.startswith("/"):
        found = index.by_id.get(ref.lower()) if index else None
        inst = found[0] if found else None
        return ref, inst.api_version if inst else None, bool(inst and inst.deployable)
    matches = index.resolve(ref, symbolic=env.state.template.symbolic) if index else None
    parts = [p for p in ref.split("/") if p]
    if not matches and len(parts) >= 3 and len(parts) % 2 == 1:
        # 'Namespace/type/name' names a resource in the deployment's scope (ARM docs: reference(concat(
        # 'Microsoft.Storage/storageAccounts/', name), '2016-01-01') for an account outside the template)
        return f"{env.state.scope_prefix()}/providers/{'/'.join(parts)}", None, False
    if not matches:
        # Real: "The template reference 'appServicePlan' is not valid: could not find template resource or resource copy
        # with this name. Please see https://aka.ms/arm-function-reference for usage details."
        raise ExpressionError(
            f"The template reference '{ref}' is not valid: could not find template resource or resource copy with this "
            f"name. {see('https://aka.ms/arm-function-reference')}",
            standalone=True,
        )
    inst = matches[0]
    if len(matches) > 1 and env.copy is not None:
        # inside a loop, a reference to a looped resource by name means the same iteration
        for m in matches:
            if m.copy_index == env.copy.index:
                inst = m
    return inst.resource_id, inst.api_version, inst.deployable


@fn("reference", 1, 3)
def reference(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    _runtime_allowed(inv, env)
    target = want_str("reference", args, 0)
    api = want_str("reference", args, 1) if len(args) > 1 and args[1] is not None else None
    full = len(args) > 2 and type(args[2]) is str and args[2].lower() == "full"
    resource_id, template_api, ours = resolve_target(env, target)
    if env.what_if and ours:
        raise NotYetDeployed(resource_id)
    return env.state.context.reference(resource_id, api or template_api, full)


def _list_impl(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    _runtime_allowed(inv, env)
    name = inv.node.name
    target = want_str(name, args, 0)
    api = want_str(name, args, 1) if len(args) > 1 and args[1] is not None else None
    body = args[2] if len(args) > 2 else None
    resource_id, template_api, ours = resolve_target(env, target)
    if env.what_if and ours:
        raise NotYetDeployed(resource_id)
    return env.state.context.list_action(resource_id, name, api or template_api, body)


def list_fallback(name: str) -> FunctionSpec | None:
    """ARM's ``list*`` family: any function whose name starts with ``list`` calls that action on a resource."""
    if name.lower().startswith("list") and len(name) > 4 and "." not in name:
        return FunctionSpec(name, _list_impl, 1, 3)
    return None


# --- resource ids ---------------------------------------------------------------------------------------------


def _strings(name: str, args: Sequence[Any]) -> list[str]:
    return [want_str(name, args, i) for i in range(len(args))]


def _type_position(name: str, args: list[str]) -> int:
    for i, a in enumerate(args):
        if "/" in a:
            return i
    # azemu wording
    raise ExpressionError(
        f"Unable to evaluate template language function '{name}': no resource type argument was found. A resource type "
        f"has the form 'Namespace/type'. {see(f'https://aka.ms/arm-functions#{name.lower()}')}"
    )


def _too_many_scope_args(name: str) -> ExpressionError:
    # azemu wording
    return ExpressionError(
        f"Unable to evaluate template language function '{name}': too many arguments precede the resource type. "
        f"{see(f'https://aka.ms/arm-functions#{name.lower()}')}"
    )


@fn("resourceId", 2, None)
def resource_id(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    values = _strings("resourceId", args)
    at = _type_position("resourceId", values)
    rtype, names = values[at], check_names("resourceId", values[at], values[at + 1 :])
    state = env.state
    if at == 0:
        prefix = state.scope_prefix()
    elif at == 1:
        sub = state.subscription_id or ""
        prefix = resource_group_prefix(sub, values[0])
    elif at == 2:
        prefix = resource_group_prefix(values[0], values[1])
    else:
        raise _too_many_scope_args("resourceId")
    return build_id(prefix, rtype, names)


@fn("subscriptionResourceId", 2, None)
def subscription_resource_id(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    values = _strings("subscriptionResourceId", args)
    at = _type_position("subscriptionResourceId", values)
    if at > 1:
        raise _too_many_scope_args("subscriptionResourceId")
    sub = values[0] if at == 1 else (env.state.subscription_id or "")
    rtype = values[at]
    return build_id(
        subscription_prefix(sub), rtype, check_names("subscriptionResourceId", rtype, values[at + 1 :])
    )


@fn("tenantResourceId", 2, None)
def tenant_resource_id(inv: Invocation, args: Sequence[Any]) -> Any:
    values = _strings("tenantResourceId", args)
    rtype = values[0]
    return build_id("", rtype, check_names("tenantResourceId", rtype, values[1:]))


@fn("extensionResourceId", 3, None)
def extension_resource_id(inv: Invocation, args: Sequence[Any]) -> Any:
    values = _strings("extensionResourceId", args)
    base, rtype = values[0].rstrip("/"), values[1]
    return build_id(base, rtype, check_names("extensionResourceId", rtype, values[2:]))


# --- scope objects --------------------------------------------------------------------------------------------


@fn("resourceGroup", 0, 0)
def resource_group(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    rg = env.state.context.resource_group
    if rg is None:
        # Real: "The template function 'RESOURCEGROUP' is not expected at this location."
        raise function_not_expected(inv.written_name)
    return rg.to_value()


@fn("subscription", 0, 0)
def subscription(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    sub = env.state.context.subscription
    if sub is None:
        raise function_not_expected(inv.written_name)
    return sub.to_value()


@fn("tenant", 0, 0)
def tenant(inv: Invocation, args: Sequence[Any]) -> Any:
    ctx = template_env(inv).state.context
    out: dict[str, Any] = {}
    for attr, key in (("tenant_country_code", "countryCode"), ("tenant_display_name", "displayName")):
        value = getattr(ctx, attr, None)
        if value is not None:
            out[key] = value
    out["id"] = f"/tenants/{ctx.tenant_id}"
    out["tenantId"] = ctx.tenant_id
    return out


@fn("deployment", 0, 0)
def deployment(inv: Invocation, args: Sequence[Any]) -> Any:
    return template_env(inv).state.deployment_value()


@fn("environment", 0, 0)
def environment(inv: Invocation, args: Sequence[Any]) -> Any:
    return dict(template_env(inv).state.context.environment())


@fn("providers", 1, 2)
def providers(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    ns = want_str("providers", args, 0)
    rtype = want_str("providers", args, 1) if len(args) > 1 else None
    return dict(env.state.context.provider(ns, rtype))


@fn("pickZones", 3, 5)
def pick_zones(inv: Invocation, args: Sequence[Any]) -> Any:
    env = template_env(inv)
    ns, rtype, location = (want_str("pickZones", args, i) for i in range(3))
    count = want_int("pickZones", args, 3) if len(args) > 3 else 1
    offset = want_int("pickZones", args, 4) if len(args) > 4 else 0
    info = env.state.context.provider(ns, rtype)
    wanted = location.lower().replace(" ", "")
    for mapping in info.get("zoneMappings") or []:
        if str(mapping.get("location", "")).lower().replace(" ", "") == wanted:
            zones = sorted((str(z) for z in mapping.get("zones") or []), key=lambda z: (len(z), z))
            if not zones:
                return []
            return [zones[(offset + i) % len(zones)] for i in range(min(max(count, 0), len(zones)))]
    return []


# --- functions only parameter defaults may call ----------------------------------------------------------------


def _default_value_only(inv: Invocation) -> None:
    env = template_env(inv)
    if env.phase is not Phase.PARAMETERS:
        # Shaped like the real copyIndex message; ARM docs: "This function can only be used in the default value
        # for a parameter."
        raise function_not_expected(
            inv.written_name, "The function can only be used in the default value of a parameter."
        )


@fn("newGuid", 0, 0)
def new_guid(inv: Invocation, args: Sequence[Any]) -> Any:
    _default_value_only(inv)
    return dates.new_guid.impl(inv, args)


@fn("utcNow", 0, 1)
def utc_now(inv: Invocation, args: Sequence[Any]) -> Any:
    _default_value_only(inv)
    return dates.utc_now.impl(inv, args)


SPECS = [
    parameters,
    variables,
    copy_index,
    reference,
    resource_id,
    subscription_resource_id,
    tenant_resource_id,
    extension_resource_id,
    resource_group,
    subscription,
    tenant,
    deployment,
    environment,
    providers,
    pick_zones,
    new_guid,
    utc_now,
]
