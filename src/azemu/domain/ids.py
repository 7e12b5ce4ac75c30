"""ARM resource ids: building, parsing and the case-insensitive key used for storage."""

from __future__ import annotations

from dataclasses import dataclass


def key_of(resource_id: str) -> str:
    """The storage key: ARM ids compare case-insensitively (and ``subscriptions/…`` is ``/subscriptions/…``)."""
    key = resource_id.lower().rstrip("/")
    return key if key.startswith("/") or not key.startswith("subscriptions/") else "/" + key


def canonical(resource_id: str) -> str:
    """An id as ARM reads it: ``subscriptions/…`` (no leading slash, as Microsoft's examples write ids) is
    ``/subscriptions/…``; anything else is left as given."""
    return "/" + resource_id if resource_id[:14].lower() == "subscriptions/" else resource_id


def subscription_id(sub: str) -> str:
    return f"/subscriptions/{sub}"


def resource_group_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_id(sub: str, rg: str, namespace: str, types: list[str], names: list[str]) -> str:
    """``/subscriptions/s/resourceGroups/rg/providers/NS/t1/n1/t2/n2``."""
    parts = [f"{t}/{n}" for t, n in zip(types, names, strict=True)]
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/" + "/".join(parts)


def subscription_resource_id(sub: str, namespace: str, types: list[str], names: list[str]) -> str:
    """``/subscriptions/s/providers/NS/t1/n1``: a resource at subscription scope."""
    parts = [f"{t}/{n}" for t, n in zip(types, names, strict=True)]
    return f"/subscriptions/{sub}/providers/{namespace}/" + "/".join(parts)


@dataclass(frozen=True)
class ParsedId:
    subscription: str
    resource_group: str | None
    namespace: str | None
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def full_type(self) -> str:
        """``Microsoft.Compute/galleries/images``."""
        return "/".join((self.namespace or "", *self.types))

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else (self.resource_group or self.subscription)


def parse(resource_id: str) -> ParsedId | None:
    """Parse an ARM id; ``None`` when it is not one."""
    segs = [s for s in resource_id.split("/") if s]
    if len(segs) < 2 or segs[0].lower() != "subscriptions":
        return None
    sub = segs[1]
    if len(segs) == 2:
        return ParsedId(sub, None, None, (), ())
    if segs[2].lower() == "providers":  # a subscription-level resource (deployments at subscription scope)
        if len(segs) < 6 or len(segs) % 2 != 0:
            return None
        rest = segs[4:]
        return ParsedId(sub, None, segs[3], tuple(rest[0::2]), tuple(rest[1::2]))
    if len(segs) < 4 or segs[2].lower() != "resourcegroups":
        return None
    rg = segs[3]
    if len(segs) == 4:
        return ParsedId(sub, rg, None, (), ())
    if len(segs) < 8 or segs[4].lower() != "providers" or len(segs) % 2 != 0:
        return None
    ns = segs[5]
    rest = segs[6:]
    return ParsedId(sub, rg, ns, tuple(rest[0::2]), tuple(rest[1::2]))
