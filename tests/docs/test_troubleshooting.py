"""docs/troubleshooting.md quotes real messages: each error is reproduced here and every line of the page's
``text`` blocks under that heading must appear in what az, the SDK or azemu printed (``…`` standing for
ids and paths that differ from run to run)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from azemu.cli import clientenv
from azemu.testing import AzemuServer
from azemu.testing.server import free_port
from tests import vmkit
from tests.conftest import requires_az
from tests.docs.markdown import ROOT, blocks, prose

PAGE = ROOT / "docs" / "troubleshooting.md"


def _slug(heading: str) -> str:
    from tests.docs.test_markdown import _slug as slug

    return slug(heading)


def quoted(section: str) -> list[str]:
    """The lines of the ``text`` blocks under the heading whose anchor is ``section``."""
    headings = [(n, _slug(line.lstrip("#"))) for n, line in prose(PAGE) if line.startswith("## ")]
    start = next(n for n, slug in headings if slug == section)
    end = min([n for n, _ in headings if n > start], default=10**9)
    lines = [
        line.strip()
        for b in blocks(PAGE)
        if b.language == "text" and start < b.line < end
        for line in b.code.splitlines()
        if line.strip()
    ]
    assert lines, f"no quoted message under #{section}"
    return lines


def assert_quoted(section: str, *outputs: str) -> None:
    text = "\n".join(o.replace("\r", "") for o in outputs)
    for line in quoted(section):
        pattern = ".*?".join(re.escape(part) for part in line.split("…"))
        assert re.search(pattern, text), (
            f"#{section}: the page quotes\n  {line}\nbut the real output is\n{text}"
        )


def _register(emu: AzemuServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    az = clientenv.find_az()
    assert az is not None
    e = emu.endpoint
    endpoints = ["--endpoint-active-directory", e, "--endpoint-active-directory-resource-id", e]
    endpoints += ["--endpoint-resource-manager", e + "/", "--endpoint-management", e + "/"]
    return subprocess.run(
        [az.path, "cloud", "register", "--name", "AzEmu", *endpoints], env=env, capture_output=True, text=True
    )


def _login(emu: AzemuServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``az login`` into the registered AzEmu cloud."""
    az = clientenv.find_az()
    assert az is not None
    subprocess.run([az.path, "cloud", "set", "--name", "AzEmu"], env=env, capture_output=True, check=True)
    login = [
        az.path,
        "login",
        "--service-principal",
        "-u",
        emu.client_id,
        "-p",
        "x",
        "--tenant",
        emu.tenant_id,
    ]
    return subprocess.run(login, env=env, capture_output=True, text=True, timeout=120)


def _client_env(emu: AzemuServer, tmp: Path, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZEMU_", "REQUESTS_CA"))}
    env.update(emu.env())
    env["AZURE_CONFIG_DIR"] = str(tmp)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


SDK_SCRIPT = """
import os, sys
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient
cred = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], "x",
                              authority=os.environ["AZEMU_ENDPOINT"],
                              disable_instance_discovery=sys.argv[1] == "off")
list(ResourceManagementClient(cred, os.environ["AZURE_SUBSCRIPTION_ID"], base_url=os.environ["AZEMU_ENDPOINT"])
     .resource_groups.list())
"""


def _sdk(env: dict[str, str], discovery: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, discovery], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    return done.stderr


@requires_az
def test_certificate_verify_failed(azemu, tmp_path):
    trusting = _client_env(azemu, tmp_path)
    env = _client_env(azemu, tmp_path, REQUESTS_CA_BUNDLE=None)  # SSL_CERT_FILE stays: it is not enough
    assert env["SSL_CERT_FILE"]
    register = _register(azemu, env)  # az fetches the cloud's metadata: refused already
    assert register.returncode != 0
    assert _register(azemu, trusting).returncode == 0
    login = _login(azemu, env)
    assert login.returncode != 0
    assert_quoted("certificate_verify_failed", register.stderr, login.stderr, _sdk(env, "off"))


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


@requires_az
@pytest.mark.skipif(_resolves("login.microsoftonline.com"), reason="the page quotes the offline failure")
def test_instance_discovery(azemu, tmp_path):
    env = _client_env(azemu, tmp_path, AZURE_CORE_INSTANCE_DISCOVERY=None)
    assert _register(azemu, env).returncode == 0
    az = _login(azemu, env)
    assert az.returncode != 0
    assert_quoted("instance-discovery-loginmicrosoftonlinecom", az.stderr, _sdk(env, "on"))


@requires_az
def test_generation_mismatch_and_busy_vm(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "troubleRG")
    vmkit.linux_vm(c, "troubleRG", "gen2VM", vmkit.DEBIAN12)  # 12-gen2
    gen1 = vmkit.ImageReference(publisher="Debian", offer="debian-12", sku="12", version="latest")
    vmkit.linux_vm(c, "troubleRG", "gen1VM", gen1)
    vmkit.linux_vm(c, "troubleRG", "busyVM", vmkit.UBUNTU2204)
    for args in (
        ("vm", "deallocate", "-g", "troubleRG", "-n", "gen2VM"),
        ("vm", "generalize", "-g", "troubleRG", "-n", "gen2VM"),
        ("vm", "deallocate", "-g", "troubleRG", "-n", "gen1VM"),
        ("vm", "generalize", "-g", "troubleRG", "-n", "gen1VM"),
        ("image", "create", "-g", "troubleRG", "-n", "gen1Image", "--source", "gen1VM"),
        ("sig", "create", "-g", "troubleRG", "-r", "troubleGallery"),
        (
            "sig", "image-definition", "create", "-g", "troubleRG", "-r", "troubleGallery", "-i", "gen2Def",
            "--publisher", "Contoso", "--offer", "Debian", "--sku", "12-gen2", "--os-type", "Linux",
            "--hyper-v-generation", "V2",
        ),
    ):  # fmt: skip
        assert azemu.az(*args, "-o", "none").returncode == 0
    at_image = azemu.az("image", "create", "-g", "troubleRG", "-n", "gen2Image", "--source", "gen2VM")
    assert at_image.returncode != 0
    at_gallery = azemu.az(
        "sig", "image-version", "create", "-g", "troubleRG", "-r", "troubleGallery", "-i", "gen2Def",
        "-e", "1.0.0", "--managed-image", "gen1Image",
    )  # fmt: skip
    assert at_gallery.returncode != 0
    assert_quoted("gen1gen2-a-different-hypervisor-generation", at_image.stderr, at_gallery.stderr)

    azemu.admin("POST", "/clock", {"latency": "realistic"})
    try:
        assert azemu.az("vm", "deallocate", "-g", "troubleRG", "-n", "busyVM", "--no-wait").returncode == 0
        busy = azemu.az("vm", "start", "-g", "troubleRG", "-n", "busyVM")
        assert busy.returncode != 0
        assert_quoted("a-vm-busy-with-an-operation-operationnotallowed--ongoing-operation", busy.stderr)
    finally:
        azemu.admin("POST", "/clock", {"latency": "instant"})
        azemu.admin("POST", "/clock", {"advance": 60})


def test_sysprep_hung_by_a_defender_scan(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "troubleWin")
    vm = vmkit.windows_vm(c, "troubleWin", "winVM")
    vmkit.run(c, "troubleWin", "winVM", "Start-MpScan -ScanType FullScan -AsJob", windows=True)
    result = c.compute.virtual_machines.begin_run_command(
        "troubleWin",
        "winVM",
        {
            "commandId": "RunPowerShellScript",
            "script": [r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown"],
        },
    ).result()
    out = "\n".join(v.message or "" for v in result.value)
    query = urllib.parse.urlencode({"vm": vm.id, "path": r"C:\Windows\System32\Sysprep\Panther\setuperr.log"})
    _, log, _ = azemu.request("GET", f"/_azemu/guest/file?{query}")
    assert_quoted("sysprep-hangs-then-fails-a-defender-scan", out, str(log))
    statuses = [s.code for s in c.compute.virtual_machines.instance_view("troubleWin", "winVM").statuses]
    assert "PowerState/running" in statuses  # not generalized, still running


def test_old_store_format(tmp_path):
    data = tmp_path / "data"
    with AzemuServer(data_dir=data, in_memory=False):
        pass
    with sqlite3.connect(data / "state.db") as db:
        db.execute("UPDATE settings SET value = '1' WHERE name = 'storeFormat'")
    done = subprocess.run(
        [sys.executable, "-m", "azemu", "serve", "--data-dir", str(data), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert_quoted("an-old-data-directory-store-format", done.stderr)


def test_quoted_sections_exist():
    for section in (
        "certificate_verify_failed",
        "instance-discovery-loginmicrosoftonlinecom",
        "gen1gen2-a-different-hypervisor-generation",
        "a-vm-busy-with-an-operation-operationnotallowed--ongoing-operation",
        "sysprep-hangs-then-fails-a-defender-scan",
        "an-old-data-directory-store-format",
    ):
        assert quoted(section)
