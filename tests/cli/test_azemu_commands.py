"""azemu's own commands against a running server: the admin API as commands (clock, latency, faults,
operations and waiting, content and GC, tenancy, reset), guest inspection, conflicts, capture-and-delete,
status, errors printed as Azure's message, `azemu az` choosing its az CLI, and disk export (ranges, the
page list, the sparse download)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from azemu.cli import clientenv
from azemu.testing.server import free_port
from tests import vmkit


def azemu_cli(server, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "azemu",
            *args,
            "--data-dir",
            str(server.data_dir),
            "--port",
            str(server.port),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def azemu_json(server, *args: str):
    done = azemu_cli(server, *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout


def test_guest_inspection_conflicts_and_capture(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "cli")
    vm = vmkit.linux_vm(c, "cli", "inspectme", vmkit.DEBIAN12)
    win = vmkit.windows_vm(c, "cli", "winspect")
    done = azemu_cli(azemu, "guest", "cat", "/etc/hostname", "--vm", "cli/inspectme")
    assert done.returncode == 0 and done.stdout.strip() == "inspectme"
    done = azemu_cli(azemu, "guest", "ls", "/etc/ssh", "--vm", vm.id)
    assert "ssh_host_ed25519_key.pub" in done.stdout.split()
    key = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
    value = azemu_json(azemu, "guest", "reg", key, "ImageState", "--vm", win.id)
    assert value["value"] == "IMAGE_STATE_COMPLETE"
    table = azemu_cli(azemu, "guest", "reg", key, "--vm", win.id)
    assert table.returncode == 0 and "ImageState" in table.stdout and "IMAGE_STATE_COMPLETE" in table.stdout
    ident = azemu_json(azemu, "guest", "identity", "--vm", "cli/winspect")
    assert ident["computerName"] == "winspect" and ident["sid"].startswith("S-1-5-21-")
    assert "winspect" in azemu_cli(azemu, "guest", "identity", "--vm", "cli/winspect").stdout
    missing = azemu_cli(azemu, "guest", "cat", "/nope", "--vm", "cli/inspectme")
    assert missing.returncode == 1 and "/nope" in missing.stderr
    no_traceback(missing)
    # a specialized copy collides with its source: `azemu conflicts` lists the group
    c.compute.virtual_machines.begin_power_off("cli", "inspectme").result()
    copy = c.compute.disks.begin_create_or_update(
        "cli",
        "inspect-copy",
        {
            "location": "eastus",
            "properties": {
                "creationData": {
                    "createOption": "Copy",
                    "sourceResourceId": vm.storage_profile.os_disk.managed_disk.id,
                }
            },
        },
    ).result()
    twin = vmkit.attach_vm(c, "cli", "twin", copy.id, "Linux")
    groups = azemu_json(azemu, "conflicts")
    assert any({vm.id.lower(), twin.id.lower()} <= {m.lower() for m in g["virtualMachines"]} for g in groups)
    assert "twin" in azemu_cli(azemu, "conflicts").stdout
    # capture-and-delete refuses a VM that is not generalized, then works once it is
    refused = azemu_cli(azemu, "capture", "--vm", "cli/twin", "--image", "twin-img")
    assert refused.returncode == 1 and "to be Generalized" in refused.stderr
    no_traceback(refused)
    c.compute.virtual_machines.begin_deallocate("cli", "twin").result()
    c.compute.virtual_machines.generalize("cli", "twin")
    assert azemu_json(azemu, "capture", "--vm", "cli/twin", "--image", "twin-img")["vmDeleted"] is True
    assert c.compute.images.get("cli", "twin-img").provisioning_state == "Succeeded"
    assert "twin" not in [v.name for v in c.compute.virtual_machines.list("cli")]


def test_clock_latency_operations_wait_and_faults(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "clk")
    vmkit.linux_vm(c, "clk", "clockvm", vmkit.DEBIAN12)
    before = azemu_json(azemu, "clock", "show")
    assert azemu_json(azemu, "clock", "set-latency", "realistic")["latency"] == "realistic"
    try:
        # a deallocate takes real Azure's 30 s: `azemu wait --advance` moves the clock instead of sleeping
        poller = c.compute.virtual_machines.begin_deallocate("clk", "clockvm")
        running = azemu_json(azemu, "operations", "--unfinished", "--kind", "virtualMachines.deallocate")
        assert [o["status"] for o in running] == ["InProgress"] and running[0]["dueTime"]
        waited = azemu_json(azemu, "wait", "--operation", running[0]["name"], "--advance")
        assert [o["status"] for o in waited] == ["Succeeded"]
        assert poller.status() in ("InProgress", "Succeeded")  # the SDK sees it on its next poll
        # `azemu clock advance` returns once the operations it made due have ended
        c.compute.virtual_machines.begin_start("clk", "clockvm")
        advanced = azemu_json(azemu, "clock", "advance", "60")
        assert advanced["offsetSeconds"] >= before["offsetSeconds"] + 60
        assert azemu_json(azemu, "operations", "--unfinished") == []
        table = azemu_cli(azemu, "operations", "--kind", "virtualMachines.start")
        assert "virtualMachines.start" in table.stdout and "clk/virtualMachines/clockvm" in table.stdout
    finally:
        azemu_json(azemu, "clock", "set-latency", "instant")
    # a fault makes the next start fail with the error it names, as Azure surfaces an asynchronous failure
    c.compute.virtual_machines.begin_power_off("clk", "clockvm").result()
    rule = azemu_json(
        azemu, "fault", "add", "--kind", "virtualMachines.start", "--error-code", "X", "--message", "Y"
    )
    assert [r["id"] for r in azemu_json(azemu, "fault", "list")] == [rule["id"]]
    assert "virtualMachines.start" in azemu_cli(azemu, "fault", "list").stdout
    with pytest.raises(HttpResponseError) as failed:
        c.compute.virtual_machines.begin_start("clk", "clockvm").result()
    assert "Y" in str(failed.value)
    assert azemu_cli(azemu, "fault", "remove", rule["id"]).returncode == 0
    assert azemu_json(azemu, "fault", "list") == []
    gone = azemu_cli(azemu, "fault", "remove", rule["id"])
    assert gone.returncode == 1 and f"Fault '{rule['id']}' not found." in gone.stderr
    azemu_json(azemu, "fault", "add", "--kind", "*", "--action", "delay", "--delay-seconds", "5")
    assert azemu_json(azemu, "fault", "clear") == []
    # the API's errors come back as Azure's message, not a traceback
    bad = azemu_cli(azemu, "clock", "set-latency", "sometimes")
    assert bad.returncode == 1 and "BadRequest: invalid latency profile 'sometimes'" in bad.stderr
    no_traceback(bad)


def test_status_content_gc_tenancy_and_reset(azemu, tmp_path):
    for output in ("table", "json"):
        done = azemu_cli(azemu, "status", "-o", output)
        assert done.returncode == 0 and done.stdout.endswith("\n")
    assert azemu_json(azemu, "status")["health"]["status"] == "ok"
    assert "Default Directory" in azemu_cli(azemu, "status").stdout
    content = azemu_json(azemu, "content")
    assert {"blobs", "bytes", "referenced", "missing", "audit"} <= set(content)
    assert "start-up audit" in azemu_cli(azemu, "content").stdout
    assert "removedBlobs" in azemu_json(azemu, "gc")
    assert "processCpuSeconds" in azemu_json(azemu, "metrics")
    tenant = azemu_json(azemu, "tenant", "create", "--name", "Contoso", "--domain", "contoso.onmicrosoft.com")
    tid = tenant["tenantId"]
    assert "Contoso" in azemu_cli(azemu, "tenant", "list").stdout
    sub = azemu_json(azemu, "subscription", "create", "--tenant", tid, "--name", "Contoso prod")
    assert [s["subscriptionId"] for s in azemu_json(azemu, "subscription", "list", "--tenant", tid)] == [
        sub["subscriptionId"]
    ]
    assert azemu_json(azemu, "principal", "list", "--tenant", tid) == []
    azemu_json(azemu, "principal", "create", "--tenant", tid, "--client-id", "app-1", "--secret", "s3cret")
    listed = azemu_json(azemu, "principal", "list", "--tenant", tid)
    assert [(p["clientId"], p["hasSecret"]) for p in listed] == [("app-1", True)]
    assert "app-1" in azemu_cli(azemu, "principal", "list", "--tenant", tid).stdout
    dup = azemu_cli(azemu, "tenant", "create", "--name", "again", "--tenant-id", tid)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    no_traceback(dup)
    assert azemu_json(azemu, "reset") == {"status": "reset"}
    assert tid not in [t["tenantId"] for t in azemu_json(azemu, "tenant", "list")]
    # nothing listening: one line saying so, exit 2
    closed = subprocess.run(
        [
            sys.executable,
            "-m",
            "azemu",
            "status",
            "--data-dir",
            str(azemu.data_dir),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 2 and "azemu is not answering on https://localhost:" in closed.stderr
    no_traceback(closed)


@pytest.mark.skipif(clientenv.checkout_root() is None, reason="not running from a source checkout")
def test_azemu_az_reuses_the_checkout_az_and_says_so(azemu, tmp_path):
    root = clientenv.checkout_root()
    assert root is not None
    pinned = root / ".venv-az" / "bin" / "az"
    if not pinned.exists():
        pytest.skip("no .venv-az in this checkout (scripts/setup --test installs it)")
    env = {k: v for k, v in os.environ.items() if k not in ("AZEMU_AZ_CLI",)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin"  # no az on PATH
    env["AZEMU_AZ_VENV"] = str(tmp_path / "would-install-here")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "azemu",
            "az",
            "--verbose",
            "--data-dir",
            str(azemu.data_dir),
            "--port",
            str(azemu.port),
            "account",
            "show",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert f"using {pinned} (the checkout's pinned az" in done.stderr
    assert "installing" not in done.stderr and not (tmp_path / "would-install-here").exists()
    assert json.loads(done.stdout)["id"] == azemu.subscription_id
    # after az's own arguments, --verbose is az's (passed through)
    env["AZEMU_VERBOSE"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "azemu", "az", "group", "list", "-o", "json"],
        capture_output=True,
        text=True,
        env={**env, "AZEMU_PORT": str(azemu.port), "AZEMU_DATA_DIR": str(azemu.data_dir)},
        timeout=180,
    )
    assert done.returncode == 0 and "the checkout's pinned az" in done.stderr


# disk export: ranges, the page list and the sparse download ----------------------------------------------
@pytest.fixture(scope="module")
def exported_disk(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "dl")
    vm = vmkit.linux_vm(c, "dl", "dlvm", vmkit.DEBIAN12)
    c.compute.virtual_machines.begin_deallocate("dl", "dlvm").result()
    return c, vm.storage_profile.os_disk.name


def _get(azemu, url: str, method: str = "GET", headers: dict[str, str] | None = None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(req, context=azemu.ssl_context(), timeout=120) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


def test_sas_ranges_and_page_list_as_blob_storage_answers(azemu, exported_disk, tmp_path):
    c, disk = exported_disk
    sas = c.compute.disks.begin_grant_access(
        "dl", disk, {"access": "Read", "durationInSeconds": 600}
    ).result()
    try:
        url = sas.access_sas
        status, head, body = _get(azemu, url, "HEAD")
        total = int(head["content-length"])
        assert status == 200 and body == b"" and total == 30 * 1024**3 + 512
        assert head["accept-ranges"] == "bytes" and "fixed VHD of 30.0 GiB" in head["x-azemu-warning"]
        status, h, footer = _get(azemu, url, headers={"Range": "bytes=-512"})
        assert status == 206 and h["content-range"] == f"bytes {total - 512}-{total - 1}/{total}"
        assert footer[:8] == b"conectix" and len(footer) == 512
        status, h, window = _get(azemu, url, headers={"Range": "bytes=1000-1199"})
        assert status == 206 and h["content-range"] == f"bytes 1000-1199/{total}" and len(window) == 200
        _, _, superblock = _get(azemu, url, headers={"x-ms-range": "bytes=1024-2047"})
        assert superblock[56:58] == b"\x53\xef"  # ext4's magic, 56 bytes into the superblock
        assert window[24:] == superblock[: 1200 - 1024]  # the same bytes, whichever range asked for them
        status, h, xml = _get(azemu, url + "&comp=pagelist")
        assert status == 200 and xml.startswith(b'<?xml version="1.0" encoding="utf-8"?><PageList>')
        assert h["x-ms-blob-content-length"] == str(total)
        assert b"<PageRange><Start>0</Start>" in xml
        with pytest.raises(urllib.error.HTTPError) as bad:
            _get(azemu, url, headers={"Range": f"bytes={total}-"})
        assert bad.value.code == 416
        # a sparse download of the SAS URL itself: the full size, a few MiB fetched and allocated
        target = tmp_path / "disk.vhd"
        result = azemu_json(azemu, "disk", "download", url, str(target))
        st = target.stat()
        assert st.st_size == total == result["size"]
        assert st.st_blocks * 512 < 64 * 1024**2 and result["fetched"] < 64 * 1024**2
        with open(target, "rb") as fh:
            fh.seek(1000)
            assert fh.read(200) == window
            fh.seek(total - 512)
            assert fh.read() == footer
    finally:
        c.compute.disks.begin_revoke_access("dl", disk).result()


def test_disk_download_by_name_grants_and_revokes(azemu, exported_disk, tmp_path):
    c, disk = exported_disk
    target = tmp_path / "byname.vhd"
    done = azemu_cli(azemu, "disk", "download", "--sparse", f"dl/{disk}", str(target))
    assert done.returncode == 0, done.stderr
    assert target.stat().st_size == 30 * 1024**3 + 512 and target.stat().st_blocks * 512 < 64 * 1024**2
    assert str(target) in done.stdout
    assert c.compute.disks.get("dl", disk).disk_state == "Reserved"  # access revoked: no longer ActiveSAS
    hostname = subprocess.run(
        ["/usr/sbin/debugfs", "-R", "cat /etc/hostname", str(target)], capture_output=True, text=True
    )
    if hostname.returncode == 0:  # e2fsprogs is there (scripts/test installs it)
        assert hostname.stdout.strip() == "dlvm"
    missing = azemu_cli(azemu, "disk", "download", "dl/nodisk", str(tmp_path / "x.vhd"))
    assert missing.returncode == 1 and "ResourceNotFound" in missing.stderr
    no_traceback(missing)
