"""An azemu process on a free loopback port, with everything a client needs to reach it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from azemu.cli import clientenv
from azemu.server.datadir import DataDir, open_data_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AzemuServer:
    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        in_memory: bool = True,
        latency: str = "instant",
        rules: str = "azure",
        loose: bool = False,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
        ssh_port: str = "auto",
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="azemu-"))
        self.in_memory = in_memory
        self.latency = latency
        self.rules = rules
        self.loose = loose
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self.port = 0
        self.proxy_port = 0
        self.ssh_port_option = ssh_port
        self.ssh_port = 0  # what azemu chose (22 when it may bind it), read back from its health answer
        self.process: subprocess.Popen[bytes] | None = None
        self.data: DataDir = open_data_dir(self.data_dir)
        self._token: tuple[str, float] | None = None

    # life cycle ------------------------------------------------------------------------------------
    def start(self) -> AzemuServer:
        self.port = self.port or free_port()
        self.proxy_port = self.proxy_port or free_port()
        args = [
            sys.executable,
            "-m",
            "azemu",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--latency",
            self.latency,
            "--rules",
            self.rules,
            "--log-level",
            "warning",
            "--no-access-log",
            "--proxy-port",
            str(self.proxy_port),
            "--ssh-port",
            self.ssh_port_option,
            *self.extra_args,
        ]
        if self.in_memory:
            args.append("--in-memory")
        if self.loose:
            args.append("--loose")
        log = open(self.data_dir / "logs" / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.wait_healthy()
        except BaseException:
            self.kill()  # never leave a server behind that did not come up
            raise
        return self

    def wait_healthy(self) -> float:
        started = time.monotonic()
        deadline = started + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"azemu exited with {self.process.returncode}; see {self.data_dir / 'logs'}"
                )
            try:
                with urllib.request.urlopen(
                    f"{self.endpoint}/_azemu/health", context=self.ssl_context(), timeout=2
                ) as resp:
                    self.ssh_port = int(json.load(resp).get("sshPort") or 0)
                    return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise TimeoutError(f"azemu did not become healthy within {self.startup_timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Crash the server (SIGKILL): nothing gets a chance to flush or clean up."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> AzemuServer:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, and remove the data directory azemu made (kept, with its server log, when the environment
        sets ``AZEMU_KEEP_TEST_DATA=1``: the place to look when a test fails)."""
        self.stop()
        if self._own_dir and os.environ.get("AZEMU_KEEP_TEST_DATA") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> AzemuServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # what clients need -----------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return clientenv.endpoint_for(self.port)

    @property
    def ca_bundle(self) -> str:
        return str(self.data.tls.bundle)

    @property
    def tenant_id(self) -> str:
        return self.data.defaults.tenant_id

    @property
    def subscription_id(self) -> str:
        return self.data.defaults.subscription_id

    @property
    def client_id(self) -> str:
        return self.data.defaults.client_id

    @property
    def client_secret(self) -> str:
        return self.data.defaults.client_secret

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any ``azure-mgmt-*`` client: ``Client(cred, sub, **emu.client_kwargs)``."""
        return {"base_url": self.endpoint, "connection_verify": self.ca_bundle}

    def credential(
        self, tenant_id: str | None = None, client_id: str | None = None, secret: str | None = None
    ) -> Any:
        """An ``azure-identity`` credential that works offline against azemu.

        This is the exact line to use in your own code::

            ClientSecretCredential(tenant, client, secret, authority=endpoint,
                                   disable_instance_discovery=True, connection_verify=ca_bundle)
        """
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            tenant_id or self.tenant_id,
            client_id or self.client_id,
            secret or self.client_secret,
            authority=self.endpoint,
            disable_instance_discovery=True,
            connection_verify=self.ca_bundle,
        )

    def env(self) -> dict[str, str]:
        return clientenv.env_vars(self.data, self.port)

    def proxy_env(self) -> dict[str, str]:
        """What ``eval "$(azemu env --proxy)"`` exports: a public-cloud tool reaches azemu through its proxy."""
        return clientenv.proxy_env_vars(self.data, self.proxy_port)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.data.tls.ca_cert))

    # raw HTTP helpers (admin API, tokens) ----------------------------------------------------------
    def token(
        self, tenant_id: str | None = None, client_id: str | None = None, scope: str | None = None
    ) -> str:
        tenant = tenant_id or self.tenant_id
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client_id or self.client_id,
                "client_secret": self.client_secret,
                "scope": scope or "https://management.azure.com/.default",
            }
        ).encode()
        status, body, _ = self.request(
            "POST",
            f"/{tenant}/oauth2/v2.0/token",
            raw_body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=False,
        )
        if status != 200:
            raise RuntimeError(f"token request failed: {status} {body}")
        return str(body["access_token"])

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool | str = True,
    ) -> tuple[int, Any, dict[str, str]]:
        """One HTTPS request; returns (status, parsed JSON or raw text, headers)."""
        hdrs = dict(headers or {})
        if auth is True:
            hdrs.setdefault("Authorization", f"Bearer {self._cached_token()}")
        elif isinstance(auth, str):
            hdrs["Authorization"] = f"Bearer {auth}"
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None and raw_body is None:
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.endpoint + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=60) as resp:
                status, raw, rh = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, raw, rh = err.code, err.read(), dict(err.headers)
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return status, parsed, {k.lower(): v for k, v in rh.items()}

    def _cached_token(self) -> str:
        if self._token is None or self._token[1] < time.time() + 60:
            self._token = (self.token(), time.time() + 3000)
        return self._token[0]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        status, parsed, _ = self.request(method, "/_azemu" + path, body)
        if status >= 400:
            raise RuntimeError(f"admin {method} {path}: {status} {parsed}")
        return parsed

    def reset(self) -> None:
        self.admin("POST", "/reset")

    # the real az CLI -------------------------------------------------------------------------------
    def az(self, *args: str, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real az CLI against this server (isolated profile, default service principal)."""
        found = clientenv.find_az()
        if found is None:
            raise RuntimeError(
                "az CLI not found: run scripts/setup --test, set AZEMU_AZ_CLI or put az on PATH"
            )
        env = clientenv.ensure_az_login(found.path, self.data, self.port)
        return subprocess.run(
            [found.path, *args], env=env, capture_output=True, text=True, check=check, timeout=timeout
        )

    def az_json(self, *args: str) -> Any:
        done = self.az(*args, "-o", "json")
        if done.returncode != 0:
            raise RuntimeError(f"az {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else None
