"""Resource ids as ARM builds them.

A resource of type ``Ns/t1/t2`` named ``a/b`` in a resource group has the id
``/subscriptions/{sub}/resourceGroups/{rg}/providers/Ns/t1/a/t2/b``; at subscription scope the prefix is
``/subscriptions/{sub}``, at tenant scope empty; an extension resource's prefix is the id of the resource it
extends. ``Microsoft.Resources/resourceGroups`` is the exception: a group's id is
``/subscriptions/{sub}/resourceGroups/{name}``.
"""

from __future__ import annotations

from .errors import ExpressionError, see


def type_segments(resource_type: str) -> list[str]:
    """``'Microsoft.Network/virtualNetworks/subnets/'`` -> ``['Microsoft.Network', 'virtualNetworks', 'subnets']``."""
    return [s for s in resource_type.strip().split("/") if s]


def name_segments(name: str) -> list[str]:
    return name.split("/")


def is_resource_group_type(resource_type: str) -> bool:
    return resource_type.strip("/").lower() == "microsoft.resources/resourcegroups"


def provider_path(resource_type: str, names: list[str]) -> str:
    """``Ns/t1/a/t2/b`` for type ``Ns/t1/t2`` and names ``[a, b]`` (lengths already checked)."""
    types = type_segments(resource_type)
    parts = [types[0]]
    for t, n in zip(types[1:], names, strict=True):
        parts += [t, n]
    return "/".join(parts)


def build_id(scope_prefix: str, resource_type: str, names: list[str]) -> str:
    """The id of a resource under ``scope_prefix`` (``''``, ``/subscriptions/s``, ``.../resourceGroups/g``, or a
    resource id for extension resources)."""
    if is_resource_group_type(resource_type) and scope_prefix.count("/") == 2 and len(names) == 1:
        return f"{scope_prefix}/resourceGroups/{names[0]}"
    return f"{scope_prefix}/providers/{provider_path(resource_type, names)}"


def subscription_prefix(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id}"


def resource_group_prefix(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def check_names(function: str, resource_type: str, names: list[str]) -> list[str]:
    """Split names on ``/`` and check there is one per type segment after the namespace."""
    flat: list[str] = []
    for n in names:
        flat.extend(name_segments(n))
    expected = len(type_segments(resource_type)) - 1
    if len(type_segments(resource_type)) < 2 or len(flat) != expected:
        # Real: "Unable to evaluate template language function 'resourceId': the type
        # 'Microsoft.Storage/storageAccounts' requires '1' resource name argument(s)."
        raise ExpressionError(
            f"Unable to evaluate template language function '{function}': the type '{resource_type}' requires "
            f"'{max(expected, 0)}' resource name argument(s). {see(f'https://aka.ms/arm-functions#{function.lower()}')}"
        )
    return flat


def type_and_name(resource_id: str) -> tuple[str, str] | None:
    """Type and name of the last provider segment of an id: ``(Ns/t1/t2, a/b)``; a group id gives
    ``Microsoft.Resources/resourceGroups``."""
    parts = [p for p in resource_id.split("/") if p]
    low = [p.lower() for p in parts]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        rest = parts[i + 1 :]
        if len(rest) < 3 or len(rest) % 2 == 0:
            return None
        return "/".join([rest[0], *rest[1::2]]), "/".join(rest[2::2])
    if len(parts) == 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
        return "Microsoft.Resources/resourceGroups", parts[3]
    return None


def short_form(resource_id: str) -> str:
    """``type/name`` as ARM prints resources in messages: ``Microsoft.Web/sites/func-xyz``."""
    tn = type_and_name(resource_id)
    if tn is None:
        return resource_id
    types, names = type_segments(tn[0]), tn[1].split("/")
    return "/".join([types[0], *[f"{t}/{n}" for t, n in zip(types[1:], names, strict=False)]])
