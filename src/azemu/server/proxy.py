"""azemu as an HTTPS proxy on loopback for tools that only know Azure's public cloud.

A client with ``HTTPS_PROXY=http://127.0.0.1:<proxy port>`` asks ``CONNECT management.azure.com:443``;
for Azure's own host names (:data:`azemu.server.tls.AZURE_HOSTS`) the tunnel leads to azemu's HTTPS
listener, which terminates TLS with a certificate for that name from azemu's local CA (the client trusts it
through ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` / ``NODE_EXTRA_CA_CERTS``, set by
``azemu env --proxy``). Every other host is refused with ``403`` and a message saying why: nothing is ever
forwarded to the network, and nothing is intercepted that is not Azure's.

Why no library: the TLS termination is uvicorn's (Python's ``ssl``), and what is left is a CONNECT relay
with an allow-list - a few dozen lines of asyncio. Intercepting proxies (mitmproxy, proxy.py) bring their
own CA handling, process model and forwarding to arbitrary hosts, which is what this must never do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from azemu.server.tls import AZURE_HOSTS

log = logging.getLogger("azemu.proxy")
_HEAD_LIMIT = 16 * 1024
_ALLOWED = frozenset(AZURE_HOSTS)


def refusal(host: str) -> str:
    return (
        f"azemu's proxy answers only for Azure's own hosts ({', '.join(AZURE_HOSTS)}) on port 443; "
        f"'{host}' is not one of them, so nothing was forwarded. Put it in NO_PROXY to reach it directly."
    )


def _response(status: str, text: str) -> bytes:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nX-Azemu-Proxy: refused\r\n\r\n"
    )
    return head.encode() + body


def allowed(authority: str) -> tuple[str, bool]:
    """(host, whether the proxy tunnels it) for a CONNECT authority such as ``management.azure.com:443``."""
    host, sep, port = authority.rpartition(":")
    if not sep or host.startswith("["):
        return authority.lower(), False
    host = host.lower().rstrip(".")
    return host, host in _ALLOWED and port == "443"


class AzureProxy:
    """CONNECT-only proxy: Azure's hosts tunnel to ``upstream`` (azemu's HTTPS port), anything else is refused."""

    def __init__(self, port: int, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.upstream_port = upstream_port
        self.host = host
        self.server: asyncio.Server | None = None
        self.tunnels = 0
        self.refused = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, self.host, self.port, limit=_HEAD_LIMIT)
        log.info("proxy for Azure's hosts on http://%s:%d", self.host, self.port)

    def poke(self) -> None:
        pass

    pending = False

    async def settle(self) -> None:
        pass

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3:
            await self._refuse(writer, "400 Bad Request", "azemu's proxy: malformed request line.")
            return
        method, target, _ = parts
        if method.upper() != "CONNECT":
            # A plain-HTTP request through a proxy names an absolute URL; Azure's hosts speak HTTPS only.
            host = target.split("://", 1)[-1].split("/", 1)[0]
            await self._refuse(writer, "403 Forbidden", refusal(host))
            return
        host, ok = allowed(target)
        if not ok:
            await self._refuse(writer, "403 Forbidden", refusal(host))
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError as exc:
            await self._refuse(writer, "502 Bad Gateway", f"azemu's proxy: azemu is not answering ({exc}).")
            return
        self.tunnels += 1
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def _refuse(self, writer: asyncio.StreamWriter, status: str, text: str) -> None:
        self.refused += 1
        log.info("proxy refused: %s", text)
        with contextlib.suppress(ConnectionError):
            writer.write(_response(status, text))
            await writer.drain()
        writer.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await src.read(65536)
            if not data:
                break
            dst.write(data)
            await dst.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            dst.close()
