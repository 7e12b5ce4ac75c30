"""The ARM envelope every resource document shares: one function builds it for every kind."""

from __future__ import annotations

from typing import Any

from azemu.state.records import ResourceRecord

# top-level ARM properties a resource may carry beside ``properties`` (shown only when set)
_OPTIONAL = (
    "sku",
    "kind",
    "plan",
    "identity",
    "zones",
    "managedBy",
    "extendedLocation",
    "placement",
    "resources",
)


def envelope(
    rec: ResourceRecord,
    properties: dict[str, Any] | None,
    *,
    etag: str | None = None,
    tags: bool = True,
) -> dict[str, Any]:
    """``{id, name, type, location, tags, [sku, …], [etag], properties}`` of a resource."""
    doc: dict[str, Any] = {"id": rec.id, "name": rec.name, "type": rec.type}
    if rec.location is not None:
        doc["location"] = rec.location
    if tags:
        doc["tags"] = rec.body.get("tags") or {}
    for key in _OPTIONAL:
        value = rec.body.get(key)
        if value is not None and value != []:
            doc[key] = value
    if etag is not None:
        doc["etag"] = etag
    if properties is not None:
        doc["properties"] = properties
    return doc
