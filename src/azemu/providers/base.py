"""What every provider shares: the context handlers run in and small parsing helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azemu.arm.http import Request
from azemu.domain.emulator import Emulator
from azemu.domain.errors import InvalidRequestContent
from azemu.providers import shapes
from azemu.settings import Settings


@dataclass
class ProviderContext:
    emulator: Emulator
    settings: Settings


def body_of(req: Request, shape: Any, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, checked against a shape (providers/shapes.py)."""
    body = req.json_object(required=required)
    shapes.check(body, shape)
    return body


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
