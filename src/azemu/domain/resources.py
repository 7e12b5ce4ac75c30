"""What every ARM resource shares: records, etags, preconditions and generic listing with $filter."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from azemu.domain.errors import AzureError, InvalidRequestContent, PreconditionFailed
from azemu.state.records import ResourceRecord
from azemu.state.store import Store


class InvalidFilter(AzureError):
    code, status = "InvalidFilterInQueryString", 400


def parse_tags(value: Any) -> dict[str, str] | None:
    """ARM tags: an object of string values (≤ 50 tags; names ≤ 512, values ≤ 256 characters)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) for v in value.values()
    ):
        raise InvalidRequestContent(
            "The request content was invalid and could not be deserialized: 'Error converting value to type "
            "'System.Collections.Generic.Dictionary`2[System.String,System.String]'. Path 'tags'.'."
        )
    tags = {str(k): str(v) for k, v in value.items()}
    if len(tags) > 50:
        raise InvalidRequestContent("The number of tags exceeds the maximum of 50.", code="InvalidTagCount")
    for k, v in tags.items():
        if len(k) > 512 or len(v) > 256:
            raise InvalidRequestContent(
                f"The tag name '{k[:64]}' or its value exceeds the maximum length (512 for names, 256 for values).",
                code="InvalidTagNameCharacters" if len(k) > 512 else "InvalidTagValueLength",
            )
    return tags


def new_etag() -> str:
    return f'"{uuid.uuid4()}"'


def check_preconditions(
    existing: ResourceRecord | None, if_match: str | None, if_none_match: str | None
) -> None:
    """``If-Match``/``If-None-Match`` as ARM applies them to writes: a failed condition is 412."""
    failed = False
    if if_match is not None:
        tags = [t.strip() for t in if_match.split(",")]
        if existing is None or ("*" not in tags and existing.etag not in tags):
            failed = True
    if if_none_match is not None and existing is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        if "*" in tags or existing.etag in tags:
            failed = True
    if failed:
        raise PreconditionFailed("The condition specified using HTTP conditional header(s) is not met.")


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # eq | substringof | startswith
    value: str


_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_FN = re.compile(r"^\s*(substringof|startswith)\s*\(\s*'((?:[^']|'')*)'\s*,\s*(\w+)\s*\)\s*$", re.IGNORECASE)
_STARTSWITH = re.compile(r"^\s*startswith\s*\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.IGNORECASE)
_FIELDS = {
    "resourcetype": "resourceType",
    "name": "name",
    "location": "location",
    "tagname": "tagName",
    "tagvalue": "tagValue",
    "resourcegroup": "resourceGroup",
}


def parse_filter(text: str | None) -> list[Clause]:
    """The subset of ARM's OData ``$filter`` that resource listing accepts, joined by ``and``."""
    if not text:
        return []
    clauses: list[Clause] = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        if m := _EQ.match(part):
            fld, op, val = m.group(1), "eq", m.group(2)
        elif m := _FN.match(part):
            fld, op, val = m.group(3), m.group(1).lower(), m.group(2)
        elif m := _STARTSWITH.match(part):
            fld, op, val = m.group(1), "startswith", m.group(2)
        else:
            raise InvalidFilter(f"Invalid $filter '{text}' specified in the query string.")
        canonical = _FIELDS.get(fld.lower())
        if canonical is None:
            raise InvalidFilter(f"Invalid $filter '{text}' specified in the query string.")
        clauses.append(Clause(canonical, op, val.replace("''", "'")))
    return clauses


def _matches(rec: ResourceRecord, clauses: list[Clause]) -> bool:
    tags: dict[str, str] = rec.body.get("tags") or {}
    tag_name = next((c.value for c in clauses if c.field == "tagName"), None)
    for c in clauses:
        if c.field == "tagValue":
            if tag_name is None:
                return False
            actual = next((v for k, v in tags.items() if k.lower() == tag_name.lower()), None)
            if actual is None or actual.lower() != c.value.lower():
                return False
            continue
        if c.field == "tagName":
            if not any(k.lower() == c.value.lower() for k in tags):
                return False
            continue
        actual_value = {
            "resourceType": rec.type,
            "name": rec.name,
            "location": rec.location or "",
            "resourceGroup": rec.resource_group or "",
        }[c.field].lower()
        wanted = c.value.lower()
        if c.op == "eq" and actual_value != wanted:
            return False
        if c.op == "substringof" and wanted not in actual_value:
            return False
        if c.op == "startswith" and not actual_value.startswith(wanted):
            return False
    return True


class Resources:
    """Generic, cross-provider views of the resource documents."""

    GROUP_TYPE = "Microsoft.Resources/resourceGroups"

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(
        self, subscription_id: str, resource_group: str | None, filter_text: str | None
    ) -> list[ResourceRecord]:
        clauses = parse_filter(filter_text)
        with self.store.read() as tx:
            recs = tx.list_resources(subscription_id=subscription_id, resource_group=resource_group)
        return [r for r in recs if r.type.lower() != self.GROUP_TYPE.lower() and _matches(r, clauses)]

    @staticmethod
    def generic_view(rec: ResourceRecord) -> dict[str, Any]:
        view: dict[str, Any] = {"id": rec.id, "name": rec.name, "type": rec.type}
        for key in ("sku", "kind", "managedBy", "identity", "plan", "zones"):
            if rec.body.get(key) is not None:
                view[key] = rec.body[key]
        if rec.location:
            view["location"] = rec.location
        view["tags"] = rec.body.get("tags") or {}
        return view
