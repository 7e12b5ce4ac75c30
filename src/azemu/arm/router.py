"""ARM routing: case-insensitive literal segments, ``{param}`` captures that keep the client's case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from azemu.arm.http import Request, Response

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    segments: tuple[str, ...]  # literal segments lower-cased; "{name}" captures
    handler: Handler
    api: tuple[str, str] | None  # (namespace, resource type) whose api-versions apply; None = unchecked
    auth: bool = True


class Router:
    def __init__(self) -> None:
        self._by_len: dict[int, list[Route]] = {}

    def add(
        self, method: str, pattern: str, handler: Handler, *, api: tuple[str, str] | None, auth: bool = True
    ) -> None:
        segs = tuple(s if s.startswith("{") else s.lower() for s in pattern.strip("/").split("/") if s)
        self._by_len.setdefault(len(segs), []).append(Route(method.upper(), segs, handler, api, auth))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known). ``path_known`` with no route means the method is not allowed."""
        parts = [p for p in path.split("/") if p]
        lowered = [p.lower() for p in parts]
        path_known = False
        for route in self._by_len.get(len(parts), ()):
            params: dict[str, str] = {}
            for seg, raw, low in zip(route.segments, parts, lowered, strict=True):
                if seg[0] == "{":
                    params[seg[1:-1]] = raw
                elif seg != low:
                    break
            else:
                if route.method == method:
                    return route, params, True
                path_known = True
        return None, {}, path_known
