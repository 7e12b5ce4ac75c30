"""A crash during capture (the server process killed) leaves either no image or a complete one, and no
orphaned or missing content after restart."""

from __future__ import annotations

import threading
import time

from azemu.testing import AzemuServer
from tests import vmkit


def test_crash_mid_capture_then_restart_is_consistent(tmp_path):
    server = AzemuServer(data_dir=tmp_path, in_memory=False)
    with server:
        c = vmkit.clients(server)
        vmkit.ensure_group(c, "crash")
        vm = vmkit.linux_vm(c, "crash", "gold")
        c.compute.virtual_machines.begin_deallocate("crash", "gold").result()
        c.compute.virtual_machines.generalize("crash", "gold")
        # a capture that is still running when the server dies (realistic latency: 31 s on azemu's clock)
        server.admin("POST", "/clock", {"latency": "realistic"})
        status, body, _ = server.request(
            "PUT",
            f"/subscriptions/{server.subscription_id}/resourceGroups/crash/providers/"
            "Microsoft.Compute/images/img1?api-version=2024-07-01",
            {"location": "eastus", "properties": {"sourceVirtualMachine": {"id": vm.id}}},
        )
        assert status == 201 and body["properties"]["provisioningState"] == "Creating"
        server.kill()
        server.start()
        server.admin("POST", "/clock", {"advance": 60})
        c = vmkit.clients(server)
        image = c.compute.images.get("crash", "img1")
        assert image.provisioning_state == "Succeeded"  # the capture resumed and completed
        stats = server.admin("GET", "/content")
        assert stats["unreferenced"] == 0 and stats["missing"] == 0


def test_crash_while_writing_content_leaves_no_orphans(tmp_path):
    server = AzemuServer(data_dir=tmp_path, in_memory=False)
    with server:
        c = vmkit.clients(server)
        vmkit.ensure_group(c, "crash")
        vmkit.linux_vm(c, "crash", "writer")

        # a Run Command writing 256 MiB: its blobs hit the disk before the transaction that would reference them
        def write() -> None:
            try:
                server.request(
                    "POST",
                    f"/subscriptions/{server.subscription_id}/resourceGroups/crash/providers/Microsoft.Compute/"
                    "virtualMachines/writer/runCommand?api-version=2024-11-01",
                    {"commandId": "RunShellScript", "script": ["dd if=/dev/urandom of=/big bs=1M count=256"]},
                )
            except OSError:
                pass  # the server died under it: never acknowledged

        t = threading.Thread(target=write)
        t.start()
        blobs_dir = tmp_path / "content"
        before = sum(1 for _ in blobs_dir.rglob("*"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(1 for _ in blobs_dir.rglob("*")) < before + 8:
            time.sleep(0.01)
        server.kill()
        t.join()
        server.start()
        stats = server.admin("GET", "/content")
        assert stats["unreferenced"] == 0 and stats["missing"] == 0
        c = vmkit.clients(server)
        out = vmkit.run(c, "crash", "writer", "ls /big").value[0].message
        assert "exit status=" in out or "/big" in out  # either the write never happened, or it is complete
        if "exit status=" not in out:
            size = vmkit.run(c, "crash", "writer", "ls -l /big").value[0].message
            assert "268435456" in size
