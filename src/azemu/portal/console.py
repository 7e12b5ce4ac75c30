"""The serial console over a WebSocket: bytes typed in the browser's terminal go to the session, what the
session shows goes back, and the session is watched for its VM stopping. The server admits the WebSocket
(token, tenant, origin) before this runs; here is only the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from azemu.domain.serial_console import ConsoleSession

log = logging.getLogger("azemu.portal.console")
WATCH_INTERVAL = 1.0
MAX_MESSAGE = 64 * 1024


class WebSocket:
    """The ASGI WebSocket messages as four calls."""

    def __init__(self, receive: Any, send: Any) -> None:
        self._receive = receive
        self._send = send
        self.open = False

    async def accept(self) -> None:
        await self._send({"type": "websocket.accept"})
        self.open = True

    async def reject(self, code: int = 1008) -> None:
        await self._send({"type": "websocket.close", "code": code})

    async def receive(self) -> str | None:
        """The next message's text; None once the client has gone."""
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self.open = False
                return None
            if kind == "websocket.receive":
                if message.get("text") is not None:
                    return str(message["text"])[:MAX_MESSAGE]
                return bytes(message.get("bytes") or b"")[:MAX_MESSAGE].decode("utf-8", "replace")

    async def send(self, text: str) -> None:
        if text and self.open:
            await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int = 1000) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": code})


async def serve(ws: WebSocket, session: ConsoleSession, changed: Callable[[], None]) -> None:
    """Run one console session until the client leaves or the VM stops."""
    await ws.accept()
    await ws.send(session.start())
    if session.closed:
        await ws.close()
        return
    inbox: asyncio.Queue[str | None] = asyncio.Queue()

    async def read() -> None:
        while True:
            text = await ws.receive()
            await inbox.put(text)
            if text is None:
                return

    reader = asyncio.get_running_loop().create_task(read())
    try:
        while not session.closed:
            try:
                text = await asyncio.wait_for(inbox.get(), WATCH_INTERVAL)
            except TimeoutError:
                await ws.send(session.watch())
                continue
            if text is None:
                return
            try:
                out = session.feed(text)
            except Exception:
                log.exception("serial console input failed (%s)", session.vm_id)
                out = "\r\nazemu: internal error in the serial console\r\n"
            if session.changed:
                changed()
            await ws.send(out)
        await ws.close()
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
