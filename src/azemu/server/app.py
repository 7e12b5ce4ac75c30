"""The ASGI application. One request passes these stages, in this order:

1. request ids      ``x-ms-request-id`` minted, ``x-ms-correlation-request-id`` echoed or minted
2. body             read with ARM's 4 MiB limit (413 beyond)
3. route            case-insensitive ARM routing (404/405 in the ARM envelope when nothing matches)
4. auth             bearer JWT verified (signature once per token, expiry every time), tenant resolved,
                    subscription ownership checked (401/404 as Azure answers)
5. api-version      checked against the resource type's published versions
6. handler          provider code: parse, call the domain, shape the response
7. error envelope   any AzureError becomes ``{"error": {...}}`` with its status; anything else is a bug in
                    azemu: logged with its request id and answered as ``InternalServerError`` - never a
                    stack trace (bad input is refused before it reaches code that could raise)

Stages run inline in one callable rather than as nested middleware objects: this is the hot path.

WebSockets (the serial console, ``wss://…/serialconsole/{ticket}/client``) are admitted here - the ARM token
in ``?authorization=`` (as Azure's serial console takes it) verified like a bearer token, the page's
``Origin`` azemu's own, the ticket's tenant the token's - and then run by :mod:`azemu.portal.console`.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from azemu.arm.http import MAX_BODY, FileBody, Request, Response, too_large
from azemu.arm.lro import OperationEndpoints
from azemu.arm.router import Router
from azemu.clock.jobs import JobRunner
from azemu.domain import apiversions
from azemu.domain.emulator import Emulator
from azemu.domain.errors import (
    AzureError,
    InternalServerError,
    InvalidResourceNamespace,
    InvalidResourceType,
    MethodNotAllowed,
    NotFound,
)
from azemu.portal import console as portal_console
from azemu.portal.assets import PortalAssets
from azemu.providers import authorization as authorization_provider
from azemu.providers import compute as compute_provider
from azemu.providers import devtestlabs as devtestlabs_provider
from azemu.providers import imagebuilder as imagebuilder_provider
from azemu.providers import insights as insights_provider
from azemu.providers import managedidentity as managedidentity_provider
from azemu.providers import network as network_provider
from azemu.providers import policyinsights as policyinsights_provider
from azemu.providers import rbac as rbac_provider
from azemu.providers import recoveryservices as recoveryservices_provider
from azemu.providers import resources as resources_provider
from azemu.providers import serialconsole as serialconsole_provider
from azemu.providers import storage as storage_provider
from azemu.providers.base import ProviderContext
from azemu.providers.compute import gallery_routes, vmss_routes
from azemu.providers.network import lb_routes
from azemu.providers.resources import deployments as deployments_routes
from azemu.providers.resources import views as resource_views
from azemu.server.admin import Admin
from azemu.server.health import Health, disk_full, store_trouble
from azemu.server.identity import Identity
from azemu.server.sas import BlobEndpoint, SasEndpoint
from azemu.server.tokens import TokenService, with_tenant
from azemu.settings import Settings

log = logging.getLogger("azemu.server")
access_log = logging.getLogger("azemu.access")

_BASE_HEADERS = [
    (b"cache-control", b"no-cache"),
    (b"pragma", b"no-cache"),
    (b"expires", b"-1"),
    (b"x-content-type-options", b"nosniff"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
]


_RATELIMIT_NAMES = {
    k: f"x-ms-ratelimit-remaining-subscription-{k}".encode() for k in ("reads", "writes", "deletes")
}


def cloud_environment(ep: str) -> dict[str, Any]:
    """What a template's ``environment()`` returns: azemu's own endpoints, in Azure's shape."""
    return {
        "name": "AzEmu",
        "gallery": f"{ep}/",
        "graph": f"{ep}/",
        "portal": f"{ep}/portal",
        "graphAudience": f"{ep}/",
        "resourceManager": f"{ep}/",
        "authentication": {
            "loginEndpoint": f"{ep}/",
            "audiences": [f"{ep}/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net",
        },
    }


class Companion(Protocol):
    """A listener that runs beside the HTTPS app in the same event loop (the proxy, guests' SSH)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def poke(self) -> None:
        """Something changed (a write, an operation ended): what the companion follows may have."""

    @property
    def pending(self) -> bool:
        """Poked and not caught up yet (checked before every answer: must be cheap)."""

    async def settle(self) -> None:
        """Catch up now, so that an answer never reports what the companion does not serve yet."""


def unregistered_namespace(ns: str) -> AzureError:
    """What ARM answers for a namespace the subscription is not registered for: azemu serves no other."""
    message = (
        f"The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how "
        "to register subscriptions."
    )
    return AzureError(
        message,
        code="MissingSubscriptionRegistration",
        status=409,
        details=[{"code": "MissingSubscriptionRegistration", "target": ns, "message": message}],
        additional_info=[
            {"type": "azemu", "info": {"message": f"azemu does not serve '{ns}': see docs/served.md."}}
        ],
    )


class RequestIds:
    """GUID-shaped request ids: a random per-process prefix and a counter (unique, and cheaper than uuid4)."""

    def __init__(self) -> None:
        r = os.urandom(10).hex()
        self._prefix = f"{r[:8]}-{r[8:12]}-4{r[13:16]}-{'89ab'[int(r[16], 16) % 4]}{r[17:20]}-"
        self._counter = itertools.count(int.from_bytes(os.urandom(3), "big") << 24)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


class AzemuApp:
    def __init__(self, emulator: Emulator, tokens: TokenService, settings: Settings) -> None:
        self.emulator = emulator
        self.tokens = tokens
        self.settings = settings
        self.router = Router()
        ctx = ProviderContext(emulator, settings)
        resources_provider.register(self.router, ctx)
        deployments_routes.register(self.router, ctx)
        compute_provider.register(self.router, ctx)
        gallery_routes.register(self.router, ctx)
        network_provider.register(self.router, ctx)
        managedidentity_provider.register(self.router, ctx)
        rbac_provider.register(self.router, ctx)
        imagebuilder_provider.register(self.router, ctx)
        devtestlabs_provider.register(self.router, ctx)
        vmss_routes.register(self.router, ctx)
        lb_routes.register(self.router, ctx)
        insights_provider.register(self.router, ctx)
        authorization_provider.register(self.router, ctx)
        policyinsights_provider.register(self.router, ctx)
        recoveryservices_provider.register(self.router, ctx)
        storage_provider.register(self.router, ctx)
        serialconsole_provider.register(self.router, ctx)
        self.portal = PortalAssets()
        self.portal.register(self.router)
        self.ws_router = Router()
        self.ws_router.add("GET", serialconsole_provider.WS_PATH, self._serial_console, api=None)
        OperationEndpoints(emulator).register(self.router)
        self.health = Health(None if settings.in_memory else Path(settings.data_dir))
        Admin(emulator, settings, self.health).register(self.router)
        Identity(emulator, tokens).register(self.router)
        SasEndpoint(emulator).register(self.router)
        BlobEndpoint(emulator).register(self.router)
        emulator.deployments.environment = cloud_environment(f"https://localhost:{settings.port}")
        self.jobs = JobRunner(emulator.clock, self._finish_due)
        emulator.operations.attach_scheduler(self.jobs.schedule)
        self._jobs_task: asyncio.Task[None] | None = None
        self._gc_task: asyncio.Task[None] | None = None
        self._ids = RequestIds()
        self.companions: list[Companion] = []
        self._ratelimit = {"reads": 12000, "writes": 1200, "deletes": 15000, "window": time.time()}

    def _finish_due(self, op_id: str) -> None:
        self.emulator.operations.finish_due(op_id)
        self._poke()

    def _poke(self) -> None:
        """Something changed (a write, an operation ended): companions that follow the domain look again."""
        for companion in self.companions:
            companion.poke()

    # ASGI ------------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.startup()
                for companion in self.companions:
                    await companion.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._jobs_task is not None:
                    self._jobs_task.cancel()
                for companion in self.companions:
                    await companion.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def startup(self) -> None:
        # Long-lived objects (routes, tables, modules) leave the collector's working set: a request
        # allocates many short-lived objects and young-generation collections stay cheap.
        gc.collect()
        gc.freeze()
        audit = self.emulator.content.audit(self.emulator.clock.now())
        if audit.leaked or audit.recounted or audit.orphans or audit.missing:
            log.warning(
                "content audit: released %d leaked reference(s), recounted %d blob(s), removed %d orphaned "
                "blob(s), %d referenced blob(s) missing",
                len(audit.leaked),
                audit.recounted,
                audit.orphans,
                len(audit.missing),
            )
        resumed = self.emulator.operations.resume()
        if resumed:
            log.info("resumed %d unfinished operation(s) after restart", resumed)
        loop = asyncio.get_running_loop()
        self._jobs_task = loop.create_task(self.jobs.run_forever())
        self._gc_task = loop.create_task(self._collect_garbage())

    async def _collect_garbage(self) -> None:
        """Reclaim content that deletes released (outside any request's transaction)."""
        while True:
            await asyncio.sleep(2.0)
            try:
                self.emulator.content.collect()
            except Exception:
                log.exception("content garbage collection failed")

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}  # ASGI: lower-case
        request_id = self._ids.next()
        correlation = headers.get("x-ms-correlation-request-id") or request_id
        host = headers.get("host") or f"{self.settings.host}:{self.settings.port}"
        method = scope["method"]
        req = Request(
            method,
            scope["path"],
            scope.get("query_string", b""),
            headers,
            b"",
            f"https://{host}",
            request_id,
            correlation,
        )
        try:
            req.body = await self._read_body(headers, receive)
            response = self._dispatch(req)
        except AzureError as err:
            response = Response(err.status, err.to_body(), headers=dict(err.headers))
        except Exception as exc:
            log.exception("unhandled error on %s %s (request %s)", method, scope["path"], request_id)
            if store_trouble(exc):
                self.health.store_failed(exc)
            if disk_full(exc):  # nothing was committed: the client may retry once there is room again
                full = AzureError(
                    f"azemu's data directory ({self.settings.data_dir}) is full: this request was not carried out "
                    "and nothing acknowledged before it was lost. Free some space, then retry. "
                    f"(request id {request_id})",
                    code="ServiceUnavailable",
                    status=503,
                    headers={"Retry-After": "30"},
                )
                response = Response(full.status, full.to_body(), headers=dict(full.headers))
            else:
                internal = InternalServerError(
                    "The server encountered an internal error. Please retry the request. "
                    f"(request id {request_id})"
                )
                response = Response(internal.status, internal.to_body())
        if method not in ("GET", "HEAD"):  # a write (reads, the hot path, poke nothing)
            self._poke()
            if response.status >= 400:
                self._record_failure(req, response)
        for companion in self.companions:
            if companion.pending:  # e.g. a VM just started: its SSH listens before anyone is told
                await companion.settle()
        stream = response.body if isinstance(response.body, FileBody) else None
        if method == "HEAD":
            response.body = None
        body = response.encode()
        out = [
            (b"x-ms-request-id", request_id.encode()),
            (b"x-ms-correlation-request-id", correlation.encode("latin-1")),
            *_BASE_HEADERS,
            *self._ratelimit_headers(method),
        ]
        client_req = headers.get("x-ms-client-request-id")
        if client_req:
            out.append((b"x-ms-client-request-id", client_req.encode("latin-1")))
        if body or response.status not in (204, 304):
            out.append((b"content-type", response.content_type.encode()))
        out.append((b"content-length", str(stream.length if stream is not None else len(body)).encode()))
        for k, v in response.headers.items():
            out.append((k.lower().encode(), v.encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status, "headers": out})
        if stream is not None and method != "HEAD":
            await self._stream(stream, send)
        else:
            await send({"type": "http.response.body", "body": body})
        if self.settings.access_log:
            access_log.info(
                json.dumps(
                    {
                        "requestId": request_id,
                        "correlationId": correlation,
                        "method": method,
                        "path": scope["path"],
                        "status": response.status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "apiVersion": req.api_version,
                    }
                )
            )

    def _record_failure(self, req: Request, response: Response) -> None:
        """A refused write, in the subscription's activity log (Azure records failed writes there)."""
        parts = req.path.split("/")
        if len(parts) < 3 or parts[1].lower() != "subscriptions" or not req.claims:
            return
        if not isinstance(response.body, dict) or not isinstance(response.body.get("error"), dict):
            return
        try:
            self.emulator.tenancy.check_access(req.claims["tid"], parts[2])
            self.emulator.activity_log.request_failed(
                subscription_id=parts[2],
                path=req.path,
                method=req.method,
                status=response.status,
                error=response.body["error"],
                at=self.emulator.clock.now(),
                caller=str(req.claims.get("upn") or req.claims.get("appid") or ""),
                correlation_id=req.correlation_id,
            )
        except Exception:  # the answer stands whatever the log does
            log.exception("recording a failed request in the activity log failed")

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ws = portal_console.WebSocket(receive, send)
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        route, params, _ = self.ws_router.match("GET", scope["path"])
        host = headers.get("host") or f"{self.settings.host}:{self.settings.port}"
        origin = headers.get("origin")
        if route is None or (origin is not None and origin.lower() != f"https://{host}".lower()):
            await ws.reject()
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("authorization") or [""])[0]
        try:
            claims = self.tokens.verify_header(f"Bearer {token}" if token else None)
            session = self.emulator.serial_consoles.open(params["ticket"], claims["tid"])
            self.emulator.tenancy.check_access(claims["tid"], session.vm_id.split("/")[2])
        except AzureError as err:
            log.info("serial console refused: %s", err)
            await ws.reject()
            return
        await portal_console.serve(ws, session, self._poke)

    def _serial_console(self, req: Request) -> Response:  # routed for matching only: _websocket runs it
        raise NotFound("A serial console is a WebSocket.")

    @staticmethod
    async def _stream(body: FileBody, send: Any) -> None:
        chunk = 1024 * 1024
        with open(body.path, "rb") as fh:
            fh.seek(body.start)
            left = body.length
            while left > 0:
                data = fh.read(min(chunk, left))
                if not data:
                    break
                left -= len(data)
                await send({"type": "http.response.body", "body": data, "more_body": left > 0})
        if left > 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _read_body(self, headers: dict[str, str], receive: Any) -> bytes:
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            raise too_large(int(length))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > MAX_BODY:
                    raise too_large(size)
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _ratelimit_headers(self, method: str) -> list[tuple[bytes, bytes]]:
        rl = self._ratelimit
        if time.time() - rl["window"] > 3600:
            rl.update(reads=12000, writes=1200, deletes=15000, window=time.time())
        kind = "reads" if method in ("GET", "HEAD") else "deletes" if method == "DELETE" else "writes"
        rl[kind] = max(0, rl[kind] - 1)
        return [(_RATELIMIT_NAMES[kind], str(int(rl[kind])).encode())]

    # the stages ------------------------------------------------------------------------------------
    def _dispatch(self, req: Request) -> Response:
        route, params, path_known = self.router.match(req.method, req.path)
        if route is None:
            if path_known:
                raise MethodNotAllowed(f"The requested resource does not support http method '{req.method}'.")
            return self._unrouted(req)
        req.params = params
        if route.auth:
            try:
                req.claims = self.tokens.verify_header(req.header("authorization"))
            except AzureError as err:
                owner = self.emulator.tenancy.owner_of(params.get("subscriptionId") or "")
                if owner:
                    with_tenant(err, owner)
                raise
            sub = params.get("subscriptionId")
            if sub is not None:
                self.emulator.tenancy.check_access(req.claims["tid"], sub)
        warning = None
        if route.api is not None:
            resolved = apiversions.check(
                route.api[0], route.api[1], req.query.get("api-version"), loose=self.settings.loose
            )
            req.api_version, warning = resolved.version, resolved.warning
        response = route.handler(req)
        if warning:
            response.headers["Warning"] = warning
        return response

    def _unrouted(self, req: Request) -> Response:
        """No route: answer as ARM does for unknown namespaces, types and actions - and say that azemu does
        not serve it, so a user can tell a gap from a mistake."""
        parts = [p for p in req.path.split("/") if p]
        lowered = [p.lower() for p in parts]
        if "providers" in lowered:
            req.claims = self.tokens.verify_header(req.header("authorization"))
            if len(lowered) > 1 and lowered[0] == "subscriptions":
                self.emulator.tenancy.check_access(req.claims["tid"], parts[1])
            i = lowered.index("providers")
            if i + 1 < len(parts):
                ns = parts[i + 1]
                if ns.lower() in resource_views.AZURE_NAMESPACES:
                    raise unregistered_namespace(ns)
                if ns.lower() not in resource_views.namespaces():
                    raise InvalidResourceNamespace(f"The resource namespace '{ns}' is invalid.", status=400)
                rest = parts[i + 2 :]
                types = rest[0::2]
                # {type}/{name}/{type}/{name}... : an odd count ends with an action (or a list of a type)
                named = types[:-1] if len(rest) % 2 else types
                if named and self.emulator.kinds.get(f"{ns}/{'/'.join(named)}"):
                    served = f"{ns}/{'/'.join(named)}"
                    action = rest[-1] if len(rest) % 2 else req.method
                    raise NotFound(
                        f"The action '{action}' on resource type '{served}' is not served by azemu (see "
                        "docs/served.md for what it serves).",
                        code="NotFound",
                    )
                rtype = "/".join(types) if types else ""
                raise InvalidResourceType(
                    f"The resource type '{rtype}' could not be found in the namespace '{ns}': azemu does not "
                    "serve it (see docs/served.md for what it serves)."
                )
        raise NotFound(f"The requested URI '{req.path}' does not exist.", code="NotFound")
