"""azemu's own commands against a running server: guest inspection, conflicts, capture-and-delete."""

from __future__ import annotations

import json
import subprocess
import sys

from tests import vmkit


def azemu_cli(server, *args: str) -> subprocess.CompletedProcess[str]:
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
        timeout=120,
    )


def test_guest_inspection_conflicts_and_capture(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "cli")
    vm = vmkit.linux_vm(c, "cli", "inspectme", vmkit.DEBIAN12)
    win = vmkit.windows_vm(c, "cli", "winspect")
    done = azemu_cli(azemu, "guest", "cat", "/etc/hostname", "--vm", "cli/inspectme")
    assert done.returncode == 0 and done.stdout.strip() == "inspectme"
    done = azemu_cli(azemu, "guest", "ls", "/etc/ssh", "--vm", vm.id)
    assert "ssh_host_ed25519_key.pub" in done.stdout.split()
    done = azemu_cli(
        azemu,
        "guest",
        "reg",
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State",
        "ImageState",
        "--vm",
        win.id,
    )
    assert json.loads(done.stdout)["value"] == "IMAGE_STATE_COMPLETE"
    ident = json.loads(azemu_cli(azemu, "guest", "identity", "--vm", "cli/winspect").stdout)
    assert ident["computerName"] == "winspect" and ident["sid"].startswith("S-1-5-21-")
    missing = azemu_cli(azemu, "guest", "cat", "/nope", "--vm", "cli/inspectme")
    assert missing.returncode == 1 and "/nope" in missing.stderr
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
    groups = json.loads(azemu_cli(azemu, "conflicts").stdout)
    assert any({vm.id.lower(), twin.id.lower()} <= {m.lower() for m in g["virtualMachines"]} for g in groups)
    # capture-and-delete refuses a VM that is not generalized, then works once it is
    refused = azemu_cli(azemu, "capture", "--vm", "cli/twin", "--image", "twin-img")
    assert refused.returncode == 1 and "to be Generalized" in refused.stderr
    c.compute.virtual_machines.begin_deallocate("cli", "twin").result()
    c.compute.virtual_machines.generalize("cli", "twin")
    done = azemu_cli(azemu, "capture", "--vm", "cli/twin", "--image", "twin-img")
    assert done.returncode == 0 and json.loads(done.stdout)["vmDeleted"] is True
    assert c.compute.images.get("cli", "twin-img").provisioning_state == "Succeeded"
    assert "twin" not in [v.name for v in c.compute.virtual_machines.list("cli")]
