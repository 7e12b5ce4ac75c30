"""What-if: how a deployment would change a resource, as ARM reports it.

``predict(before, request)`` is the resource as it would be after the PUT (the request's values over the
current document - what an RP keeps that the request does not name stays); ``delta(before, after)`` lists
the property-level changes in ARM's shape: ``{path, propertyChangeType, before?, after?, children?}`` with
``Create``/``Delete``/``Modify`` for values and ``Array`` (children by index) for arrays.
"""

from __future__ import annotations

import copy
from typing import Any

# what ARM never reports as a change (computed or echoed by every RP)
IGNORED = frozenset({"id", "type", "name", "apiVersion", "etag", "properties.provisioningState"})


def predict(before: dict[str, Any] | None, request: dict[str, Any]) -> dict[str, Any]:
    after = copy.deepcopy(before) if before else {}
    _merge(after, request)
    return after


def _merge(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def delta(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The changes from ``before`` to ``after``; objects are flattened into dotted paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str.lower):
            sub = f"{path}.{key}" if path else key
            if sub in IGNORED:
                continue
            if key not in before:
                out.append({"path": sub, "propertyChangeType": "Create", "after": after[key]})
            elif key not in after:
                out.append({"path": sub, "propertyChangeType": "Delete", "before": before[key]})
            else:
                out.extend(delta(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list):
        if _same(before, after):
            return []
        children: list[dict[str, Any]] = []
        for i in range(max(len(before), len(after))):
            if i >= len(before):
                children.append({"path": str(i), "propertyChangeType": "Create", "after": after[i]})
            elif i >= len(after):
                children.append({"path": str(i), "propertyChangeType": "Delete", "before": before[i]})
            elif not _same(before[i], after[i]):
                inner = delta(before[i], after[i])
                change: dict[str, Any] = {"path": str(i), "propertyChangeType": "Modify"}
                if inner and isinstance(before[i], dict | list):
                    change["children"] = inner
                else:
                    change.update(before=before[i], after=after[i])
                children.append(change)
        return [{"path": path, "propertyChangeType": "Array", "children": children}]
    if _same(before, after):
        return []
    return [{"path": path, "propertyChangeType": "Modify", "before": before, "after": after}]


def _same(a: Any, b: Any) -> bool:
    """ARM compares strings case-insensitively where it can't know better (ids, enum values)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def change(resource_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """One entry of ``properties.changes``."""
    if before is None and after is not None:
        return {"resourceId": resource_id, "changeType": "Create", "after": after}
    if after is None and before is not None:
        return {"resourceId": resource_id, "changeType": "Delete", "before": before}
    assert before is not None and after is not None
    found = delta(before, after)
    kind = "Modify" if found else "NoChange"
    out: dict[str, Any] = {"resourceId": resource_id, "changeType": kind, "before": before, "after": after}
    if found:
        out["delta"] = found
    return out
