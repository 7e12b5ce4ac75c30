"""The admin API of Scenario 2: the platform catalog on azemu's clock and Image Builder's logs (each request
has an ``azemu`` command: cli/images.py). A mixin of :class:`azemu.server.admin.Admin`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from azemu.arm.http import Request, Response
from azemu.domain.emulator import Emulator
from azemu.domain.errors import BadRequest

# (method, path, handler, what it does): admin.py makes them AdminRoutes
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/catalog/versions", "catalog_versions", "platform image versions published on the clock"),
    (
        "POST",
        "/catalog/versions",
        "catalog_publish",
        'publish a platform image version `{"image": "pub:offer:sku", "version", "at"?|"inSeconds"?}`',
    ),
    (
        "GET",
        "/imagebuilder/logs",
        "imagebuilder_log",
        "an image template's customization.log (or validation.log) `?template=ID&run=N&log=…`",
    ),
    (
        "GET",
        "/imagebuilder/runs",
        "imagebuilder_runs",
        "an image template's runs: states, times, what each stage cost azemu `?template=ID`",
    ),
)


def _when(body: dict[str, Any], now: float) -> float | None:
    if body.get("at") is not None:
        try:
            when = dt.datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"'at' must be an ISO 8601 time, not '{body['at']}'.") from None
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()
    if body.get("inSeconds") is not None:
        try:
            return now + float(body["inSeconds"])
        except (TypeError, ValueError):
            raise BadRequest("'inSeconds' must be a number of seconds.") from None
    return None


class ImagesAdmin:
    emu: Emulator

    def _operator(self, req: Request) -> None: ...

    def catalog_versions(self, req: Request) -> Response:
        return Response(200, {"value": self.emu.catalog.published()})

    def catalog_publish(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object()
        image, version = body.get("image"), body.get("version")
        if not isinstance(image, str) or not isinstance(version, str):
            raise BadRequest('Give {"image": "publisher:offer:sku", "version": "…"}.')
        return Response(201, self.emu.catalog.publish(image, version, _when(body, self.emu.clock.now())))

    def imagebuilder_runs(self, req: Request) -> Response:
        template = req.query.get("template")
        if not template:
            raise BadRequest("Give ?template=<image template id>.")
        return Response(200, {"value": self.emu.imagebuilder.runs(template)})

    def imagebuilder_log(self, req: Request) -> Response:
        template = req.query.get("template")
        if not template:
            raise BadRequest("Give ?template=<image template id>.")
        run = req.query.get("run")
        text = self.emu.imagebuilder.log(
            template, int(run) if run and run.lstrip("-").isdigit() else None, req.query.get("log") or ""
        )
        return Response(200, text.encode(), content_type="text/plain; charset=utf-8")
