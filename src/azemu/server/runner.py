"""Assemble azemu from settings and serve it with uvicorn over HTTPS."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import uvicorn

from azemu.clock.clock import Clock
from azemu.domain.emulator import Emulator, IncompatibleStore, Rules
from azemu.server.app import AzemuApp
from azemu.server.datadir import DataDir, open_data_dir
from azemu.server.proxy import AzureProxy
from azemu.server.tokens import TokenService
from azemu.settings import Settings
from azemu.sshd.server import GuestSsh
from azemu.state.sqlite import SqliteStore
from azemu.storage.blobs import BlobStore


def endpoint(settings: Settings) -> str:
    host = "localhost" if settings.host in ("127.0.0.1", "localhost", "::1", "0.0.0.0") else settings.host
    return f"https://{host}:{settings.port}"


def build_app(settings: Settings) -> tuple[AzemuApp, DataDir]:
    data = open_data_dir(settings.data_dir)
    store = SqliteStore(None if settings.in_memory else data.state_db)
    blobs = BlobStore(None if settings.in_memory else data.root / "content")
    emulator = Emulator(
        store,
        Clock(settings.latency),
        data.defaults,
        Rules(settings.rules),
        blobs=blobs,
        work_dir=None if settings.in_memory else data.root / "exports",
        files_dir=data.root / "files",
        loose=settings.loose,
    )
    tokens = TokenService(data.signing_key_pem, endpoint(settings))
    app = AzemuApp(emulator, tokens, settings)
    if settings.proxy_port:
        app.companions.append(AzureProxy(settings.proxy_port, settings.port))
    if settings.ssh_port:
        app.companions.append(
            GuestSsh(emulator.guest_sessions, settings.ssh_port, idle_timeout=settings.ssh_idle_timeout)
        )
    return app, data


def configure_logging(settings: Settings, data: DataDir) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    root = logging.getLogger("azemu")
    root.setLevel(level)
    root.handlers.clear()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(fmt)
    root.addHandler(stream)
    file_handler = logging.FileHandler(Path(data.logs) / "azemu.log")
    file_handler.setFormatter(fmt)
    root.addHandler(file_handler)
    root.propagate = False


def serve(settings: Settings) -> None:
    try:
        app, data = build_app(settings)
    except IncompatibleStore as exc:
        print(f"azemu: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings, data)
    logging.getLogger("azemu.server").info(
        "azemu serving %s (data dir %s, %s, latency %s, rules %s)",
        endpoint(settings),
        data.root,
        "in memory" if settings.in_memory else "persistent",
        settings.latency,
        settings.rules,
    )
    if settings.in_memory:
        logging.getLogger("azemu.server").warning(
            "--in-memory: resources, operations and disk content live in this process only; nothing survives "
            "a stop, a restart or a crash (%s keeps only certificates and logs)",
            data.root,
        )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(data.tls.server_cert),
        ssl_keyfile=str(data.tls.server_key),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,  # Azure sends no "server: uvicorn"
    )
