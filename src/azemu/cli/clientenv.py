"""What a client needs to reach azemu: endpoint, CA bundle, credentials - as env vars or an az profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import azemu
from azemu.server.datadir import DataDir

AZ_CLI_VERSION = "2.91.0"


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
