"""The small request/response vocabulary handlers speak (kept lean: this is the hot path)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson

from azemu.domain.errors import InvalidRequestContent, RequestEntityTooLarge, UnsupportedMediaType

MAX_BODY = 4 * 1024 * 1024  # ARM's request size limit


@dataclass(frozen=True)
class FileBody:
    """A response body streamed from a file (``start``..``end`` inclusive byte range)."""

    path: Path
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(slots=True)
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encode(self) -> bytes:
        if self.body is None or isinstance(self.body, FileBody):
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return orjson.dumps(self.body)  # the hot path: several times faster than json.dumps


MAX_DEPTH = 64  # ARM's JSON reader (Json.NET) refuses documents nested deeper than this


def _readable(value: Any) -> None:
    """Refuse what parsed but cannot be a document: nesting deeper than ``MAX_DEPTH`` (raised as
    RecursionError, as the parser's own guard does), strings with lone surrogates (not UTF-8) and integers
    beyond 64 bits (Json.NET's Int64, and what the store's JSON encoder takes)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise RecursionError
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    key.encode("utf-8")  # UnicodeEncodeError is a ValueError
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, int) and not -(2**63) <= item < 2**64:  # what a document may store (orjson)
            raise ValueError(f"JSON integer {item} is too large or small for an Int64")


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]
    body: bytes
    scheme_host: str  # https://host:port as the client addressed us
    request_id: str
    correlation_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    claims: dict[str, Any] | None = None
    api_version: str | None = None
    _query: dict[str, str] | None = None
    _json: Any = None

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, keys lower-cased (ARM treats them case-insensitively)."""
        if self._query is None:
            qs = self.query_string
            if qs.startswith(b"api-version=") and not any(c in qs for c in b"&%+"):
                self._query = {"api-version": qs[12:].decode("latin-1")}  # the common case, parsed cheaply
            else:
                pairs = parse_qsl(qs.decode("latin-1"), keep_blank_values=True)
                self._query = {k.lower(): v for k, v in pairs}
        return self._query

    @property
    def tenant_id(self) -> str:
        assert self.claims is not None
        return str(self.claims["tid"])

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self, *, required: bool = True) -> Any:
        """The JSON body, with ARM's answers for empty, malformed or non-JSON content."""
        if self._json is not None:
            return self._json
        if not self.body.strip():
            if required:
                raise InvalidRequestContent(
                    "The request content was invalid and could not be deserialized: 'Request body is empty.'."
                )
            return None
        ctype = (self.header("content-type") or "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", "text/json") and not ctype.endswith("+json"):
            raise UnsupportedMediaType(
                f"The content media type '{ctype}' is not supported. Only 'application/json' is supported."
            )
        try:
            parsed = json.loads(self.body)
            _readable(parsed)
        except RecursionError:
            raise InvalidRequestContent(
                f"The request content was invalid and could not be deserialized: 'The reader's MaxDepth of "
                f"{MAX_DEPTH} has been exceeded.'."
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            msg = str(exc).replace("'", "")
            raise InvalidRequestContent(
                f"The request content was invalid and could not be deserialized: '{msg}'."
            ) from None
        self._json = parsed
        return self._json

    def json_object(self, *, required: bool = True) -> dict[str, Any]:
        value = self.json(required=required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise InvalidRequestContent(
                "The request content was invalid and could not be deserialized: 'Error converting value to "
                "type 'Resource'. Path '', line 1, position 1.'."
            )
        return value


def too_large(length: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        f"The request content size '{length}' exceeds the maximum allowed size of '{MAX_BODY}' bytes."
    )
