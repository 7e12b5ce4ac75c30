"""What a client needs to reach azemu: endpoint, CA bundle, credentials - as env vars or an az profile."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import azemu
from azemu.server.datadir import DataDir
from azemu.server.tls import AZURE_HOSTS

AZ_CLI_VERSION = "2.91.0"
DEFAULT_PROXY_PORT = 8444
FALLBACK_SSH_PORT = 2222


def endpoint_for(port: int) -> str:
    return f"https://localhost:{port}"


def env_vars(data: DataDir, port: int) -> dict[str, str]:
    ep = endpoint_for(port)
    d = data.defaults
    return {
        "AZEMU_ENDPOINT": ep,
        "AZURE_RESOURCE_MANAGER_ENDPOINT": ep,
        "REQUESTS_CA_BUNDLE": str(data.tls.bundle),
        "SSL_CERT_FILE": str(data.tls.bundle),
        "AZURE_AUTHORITY_HOST": ep,
        "AZURE_TENANT_ID": d.tenant_id,
        "AZURE_CLIENT_ID": d.client_id,
        "AZURE_CLIENT_SECRET": d.client_secret,
        "AZURE_SUBSCRIPTION_ID": d.subscription_id,
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",
        # later `azemu` commands in the same shell talk to this azemu
        "AZEMU_PORT": str(port),
        "AZEMU_DATA_DIR": str(data.root),
    }


def may_bind_port(port: int) -> bool:
    """Whether this process may listen on ``port`` (below the unprivileged start only as root)."""
    if port >= 1024 or os.geteuid() == 0:
        return True
    try:
        start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip())
    except (OSError, ValueError):
        start = 1024
    return port >= start


def _port_free(address: str, port: int) -> bool:
    """Whether ``address:port`` can be bound now (a system sshd on 0.0.0.0:22 takes every 127.x.y.z:22)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def resolve_ssh_port(value: str) -> int:
    """``auto``: 22 when azemu may bind it (root, and no other server holds it), else 2222; ``off``/``0``: no
    SSH; otherwise the number."""
    v = value.strip().lower()
    if v == "auto":
        return 22 if may_bind_port(22) and _port_free("127.255.255.254", 22) else FALLBACK_SSH_PORT
    if v in ("off", "0"):
        return 0
    if not v.isdigit() or not 0 < int(v) < 65536:
        raise ValueError("use auto, off or a port number")
    return int(v)


def proxy_env_vars(data: DataDir, proxy_port: int) -> dict[str, str]:
    """For tools that only know Azure's public cloud: every HTTPS request goes through azemu's proxy, which
    answers for Azure's hosts and refuses everything else; the CA variables make Python, Go, Node and curl
    clients trust azemu's local CA (per process: nothing is installed system-wide)."""
    proxy = f"http://127.0.0.1:{proxy_port}"
    no_proxy = "localhost,127.0.0.1,::1,127.0.0.0/8"
    d = data.defaults
    return {
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
        "REQUESTS_CA_BUNDLE": str(data.tls.bundle),  # Python requests (az, Ansible, azure-identity)
        "SSL_CERT_FILE": str(data.tls.bundle),  # Go (Packer, Terraform), Python's ssl, httpx
        "CURL_CA_BUNDLE": str(data.tls.bundle),
        "NODE_EXTRA_CA_CERTS": str(data.tls.ca_cert),  # Node adds it to its own roots
        "CHECKPOINT_DISABLE": "1",  # HashiCorp tools' version check would be refused by the proxy
        "AZURE_TENANT_ID": d.tenant_id,
        "AZURE_CLIENT_ID": d.client_id,
        "AZURE_CLIENT_SECRET": d.client_secret,
        "AZURE_SUBSCRIPTION_ID": d.subscription_id,
        # Ansible's azure.azcollection
        "AZURE_TENANT": d.tenant_id,
        "AZURE_SECRET": d.client_secret,
        # Terraform's azurerm provider
        "ARM_TENANT_ID": d.tenant_id,
        "ARM_CLIENT_ID": d.client_id,
        "ARM_CLIENT_SECRET": d.client_secret,
        "ARM_SUBSCRIPTION_ID": d.subscription_id,
    }


def hosts_block(address: str = "127.0.0.1") -> str:
    """``/etc/hosts`` lines for tools that ignore proxies (azemu must then serve HTTPS on port 443)."""
    return "\n".join(
        [
            "# azemu: Azure's public-cloud hosts answered by azemu (run `azemu serve --port 443` as root, or",
            "# redirect 443 to azemu's port); remove these lines to reach Azure again",
            *(f"{address}\t{h}" for h in AZURE_HOSTS),
        ]
    )


def cloud_config(ep: str) -> dict[str, object]:
    return {
        "endpoints": {
            "activeDirectory": ep,
            "activeDirectoryResourceId": ep,
            "activeDirectoryGraphResourceId": ep + "/",
            "management": ep + "/",
            "microsoftGraphResourceId": ep + "/",
            "resourceManager": ep + "/",
            "logAnalyticsResourceId": ep,
        }
    }


@dataclass(frozen=True)
class AzCli:
    """The az CLI ``azemu az`` runs, and why that one."""

    path: str
    source: str


def checkout_root() -> Path | None:
    """The source checkout azemu runs from, when it is an editable install (``pip install -e .``)."""
    root = Path(azemu.__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "azemu").is_dir() else None


def user_az_venv() -> Path:
    return Path(os.environ.get("AZEMU_AZ_VENV", "~/.azemu-az")).expanduser()


def find_az() -> AzCli | None:
    """In order: the checkout's pinned az (``.venv-az``, which ``scripts/test`` installs), ``$AZEMU_AZ_CLI``,
    ``az`` on ``PATH``, one ``azemu az`` installed before (``~/.azemu-az``); None if there is none."""
    root = checkout_root()
    if root is not None and (root / ".venv-az" / "bin" / "az").exists():
        return AzCli(str(root / ".venv-az" / "bin" / "az"), f"the checkout's pinned az ({root / '.venv-az'})")
    explicit = os.environ.get("AZEMU_AZ_CLI")
    if explicit:
        return AzCli(explicit, "$AZEMU_AZ_CLI")
    found = shutil.which("az")
    if found:
        return AzCli(found, "az on PATH")
    venv_az = user_az_venv() / "bin" / "az"
    if venv_az.exists():
        return AzCli(str(venv_az), f"the az azemu installed before ({user_az_venv()})")
    return None


def install_az() -> AzCli:
    """Install the pinned az CLI into a virtual environment of its own (its pins clash with the SDK's)."""
    venv = user_az_venv()
    print(f"azemu: installing azure-cli=={AZ_CLI_VERSION} into {venv} (once)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"azure-cli=={AZ_CLI_VERSION}"], check=True)
    return AzCli(str(venv / "bin" / "az"), f"azure-cli=={AZ_CLI_VERSION}, just installed into {venv}")


def az_env(data: DataDir, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AZURE_CONFIG_DIR": str(data.root / f"az-config-{port}"),
            "REQUESTS_CA_BUNDLE": str(data.tls.bundle),
            # az reads a --template-uri itself (urllib, Python's default SSL context): a template a backup
            # restore wrote is served by azemu, behind its certificate
            "SSL_CERT_FILE": str(data.tls.bundle),
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
        }
    )
    return env


def ensure_az_login(az: str, data: DataDir, port: int) -> dict[str, str]:
    """Register the cloud and log in once per (data dir, port); later calls reuse the profile."""
    env = az_env(data, port)
    cfg = Path(env["AZURE_CONFIG_DIR"])
    marker = cfg / "azemu-login.json"
    ep = endpoint_for(port)
    d = data.defaults
    wanted = {"endpoint": ep, "tenant": d.tenant_id, "client": d.client_id}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return env
    cfg.mkdir(parents=True, exist_ok=True)
    steps = [
        [az, "cloud", "register", "--name", "AzEmu", "--cloud-config", json.dumps(cloud_config(ep))],
        [az, "cloud", "set", "--name", "AzEmu"],
        [az, "config", "set", "core.instance_discovery=false", "core.collect_telemetry=false"],
        [
            az,
            "login",
            "--service-principal",
            f"--username={d.client_id}",
            f"--password={d.client_secret}",  # the '=' form: a generated secret may start with '-'
            "--tenant",
            d.tenant_id,
            "-o",
            "none",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True)
        if done.returncode != 0 and not (step[1:3] == ["cloud", "register"] and "already" in done.stderr):
            raise RuntimeError(f"{' '.join(step[:3])} failed: {done.stderr.strip()}")
    marker.write_text(json.dumps(wanted))
    return env
