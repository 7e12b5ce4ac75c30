"""What every ``azemu`` client command shares: the options that say which azemu to talk to, an HTTPS client
that fetches its own token, and turning failures into one line of Azure's message (never a traceback)."""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from azemu.cli import clientenv
from azemu.server.datadir import DataDir, default_data_dir, open_data_dir

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Data directory of the azemu to talk to (default $AZEMU_DATA_DIR or ~/.azemu)."
    ),
]
PortOpt = Annotated[int, typer.Option("--port", envvar="AZEMU_PORT", help="Port azemu listens on.")]

err_console = Console(stderr=True, soft_wrap=True, highlight=False)

#: exit codes: an Azure error answered by azemu; azemu not reachable (typer's usage errors are 2 as well)
EXIT_AZURE_ERROR = 1
EXIT_UNREACHABLE = 2


def data_dir_of(value: Path | None) -> Path:
    return (value or default_data_dir()).expanduser().resolve()


class AzureCallError(Exception):
    """An error answered by azemu in Azure's envelope (``{"error": {"code", "message"}}``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Unreachable(Exception):
    pass


def _error_of(status: int, raw: bytes) -> AzureCallError:
    try:
        body = json.loads(raw)
    except ValueError:
        return AzureCallError(status, f"HTTP{status}", raw.decode("utf-8", "replace").strip() or "(no body)")
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return AzureCallError(status, str(err.get("code", f"HTTP{status}")), str(err.get("message", "")))
    if isinstance(body, dict) and "error_description" in body:  # Entra ID's token endpoint
        return AzureCallError(status, str(body.get("error")), str(body["error_description"]))
    return AzureCallError(status, f"HTTP{status}", json.dumps(body))


class Client:
    """HTTPS to one azemu (its CA from the data directory), with a token of the default service principal."""

    def __init__(self, data_dir: Path | None, port: int) -> None:
        self.root = data_dir_of(data_dir)
        self.port = port
        self.endpoint = clientenv.endpoint_for(port)
        self._data: DataDir | None = None
        self._token: str | None = None
        self._context: ssl.SSLContext | None = None

    @property
    def data(self) -> DataDir:
        if self._data is None:
            self._data = open_data_dir(self.root)
        return self._data

    @property
    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=str(self.data.tls.ca_cert))
        return self._context

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else self.endpoint + path

    def raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        timeout: float = 120,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; answers below 400 are returned, Azure errors raised as :class:`AzureCallError`."""
        req = urllib.request.Request(self.url(path), data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=timeout) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, bytes(r.read())
        except urllib.error.HTTPError as err:
            raise _error_of(err.code, err.read()) from None
        except ssl.SSLCertVerificationError as err:
            raise Unreachable(
                f"the server on port {self.port} does not present a certificate of the CA in {self.root} "
                f"({err.verify_message}): pass the --data-dir it was started with"
            ) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise Unreachable(f"azemu is not answering on {self.endpoint} ({reason})") from None

    def token(self) -> str:
        if self._token is None:
            d = self.data.defaults
            form = urllib.parse.urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": d.client_id,
                    "client_secret": d.client_secret,
                    "scope": "https://management.azure.com/.default",
                }
            ).encode()
            _, _, raw = self.raw(
                "POST",
                f"/{d.tenant_id}/oauth2/v2.0/token",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            self._token = str(json.loads(raw)["access_token"])
        return self._token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        """An authenticated JSON request: (status, headers, parsed body or None)."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, hdrs, raw = self.raw(method, path, data, headers)
        return status, hdrs, json.loads(raw) if raw.strip() else None

    def call_raw(self, method: str, path: str) -> bytes:
        """An authenticated request whose answer is not JSON (a guest's file)."""
        return self.raw(method, path, None, {"Authorization": f"Bearer {self.token()}"})[2]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """``/_azemu{path}``: the admin API."""
        return self.call(method, "/_azemu" + path, body)[2]

    def health(self) -> Any:
        return json.loads(self.raw("GET", "/_azemu/health", timeout=10)[2])

    def lro(self, method: str, path: str, body: Any = None, *, timeout: float = 600) -> Any:
        """An ARM request that may be long-running: polled the way az does, until it ends."""
        status, hdrs, result = self.call(method, path, body)
        if status != 202 and "azure-asyncoperation" not in hdrs:
            return result
        async_url, location = hdrs.get("azure-asyncoperation"), hdrs.get("location")
        deadline = time.monotonic() + timeout
        while async_url is not None:
            _, h, state = self.call("GET", async_url)
            if state.get("status") not in ("InProgress", "Running", "Accepted", None):
                if state["status"] != "Succeeded":
                    err = state.get("error") or {}
                    raise AzureCallError(
                        200, str(err.get("code", state["status"])), str(err.get("message", ""))
                    )
                if "properties" in state and "output" in state["properties"]:
                    return state["properties"]["output"]
                break
            if time.monotonic() > deadline:
                raise AzureCallError(0, "Timeout", f"{method} {path} did not end within {timeout:.0f} s")
            _sleep_for(h)
        while location is not None:
            status, h, result = self.call("GET", location)
            if status != 202:
                return result
            if time.monotonic() > deadline:
                raise AzureCallError(0, "Timeout", f"{method} {path} did not end within {timeout:.0f} s")
            _sleep_for(h)
        return result


def _sleep_for(headers: dict[str, str]) -> None:
    ms = headers.get("retry-after-ms")
    seconds = float(ms) / 1000 if ms else float(headers.get("retry-after", "1"))
    time.sleep(min(max(seconds, 0.05), 5.0))


@contextmanager
def reported() -> Iterator[None]:
    """Failures as one line on stderr and an exit code: Azure's code and message, or why azemu is not reached."""
    try:
        yield
    except AzureCallError as err:
        err_console.print(f"[red]azemu: {err.code}:[/] {err.message}", markup=True)
        raise typer.Exit(EXIT_AZURE_ERROR) from None
    except Unreachable as err:
        err_console.print(f"[red]azemu:[/] {err}. Start it with: azemu serve", markup=True)
        raise typer.Exit(EXIT_UNREACHABLE) from None


def vm_id(client: Client, vm: str) -> str:
    """A VM given as a resource id, or as ``RG/NAME`` in the default subscription."""
    return resource_id(client, vm, "Microsoft.Compute/virtualMachines")


def resource_id(client: Client, value: str, rtype: str) -> str:
    if value.lower().startswith("/subscriptions/"):
        return value
    rg, sep, name = value.partition("/")
    if not sep or not rg or not name or "/" in name:
        raise typer.BadParameter(f"{value!r}: give a resource id, or RESOURCE_GROUP/NAME")
    sub = client.data.defaults.subscription_id
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"


def write_stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
