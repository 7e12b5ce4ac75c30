"""The portal's static files, served from the package (no CDN: everything works offline).

Only files that exist under ``static/`` when azemu starts are served (an allow-list, so no path a client
writes can reach anything else); pages carry a Content-Security-Policy that allows scripts from azemu's own
origin only (no inline script, no eval).
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain.errors import NotFound

PREFIX = "/portal"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json; charset=utf-8",
    ".ico": "image/x-icon",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _walk(root: Traversable, prefix: str = "") -> dict[str, Traversable]:
    out: dict[str, Traversable] = {}
    for item in root.iterdir():
        name = f"{prefix}{item.name}"
        if item.is_dir():
            out.update(_walk(item, name + "/"))
        elif not item.name.startswith("."):
            out[name] = item
    return out


class PortalAssets:
    def __init__(self) -> None:
        self.root = resources.files("azemu.portal").joinpath("static")
        self.files = _walk(self.root)
        self._cache: dict[str, bytes] = {}

    def register(self, router: Router) -> None:
        router.add("GET", PREFIX, self.index, api=None, auth=False)
        for depth in range(1, 4):
            pattern = PREFIX + "".join(f"/{{p{i}}}" for i in range(depth))
            router.add("GET", pattern, self.file, api=None, auth=False)

    def vendored(self) -> bool:
        """Whether scripts/setup copied the terminal library in (the serial console needs it)."""
        return "vendor/xterm.mjs" in self.files

    def index(self, req: Request) -> Response:
        return self._serve("index.html")

    def file(self, req: Request) -> Response:
        parts = [req.params[f"p{i}"] for i in range(3) if f"p{i}" in req.params]
        return self._serve("/".join(parts) or "index.html")

    def _serve(self, name: str) -> Response:
        item = self.files.get(name)
        if item is None:
            raise NotFound(f"The portal has no file '{name}'.", code="NotFound")
        data = self._cache.get(name)
        if data is None:
            data = self._cache[name] = item.read_bytes()
        ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        return Response(
            200, data, headers=dict(SECURITY_HEADERS), content_type=TYPES.get(ext, "application/octet-stream")
        )
