"""Debian's Packer 1.6.6, its ``azure-dtl`` builder, unchanged: a custom image built in a DevTest Lab.

As for the azure-arm builder (test_packer.py), Packer reaches azemu through its proxy as Azure's public
cloud. The builder asks the lab for a network whose subnet allows VMs with public IPs, creates a lab VM with
``createEnvironment`` (its SSH key, the lab's ``public repo`` artifact), connects over SSH to the VM's FQDN,
provisions, stops the lab VM, captures a custom image with ``DeprovisionRequested`` (the lab deprovisions
the guest) and deletes the lab VM.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from azure.mgmt.devtestlabs import DevTestLabsClient

from tests.tools.toolkit import packer_template, tool
from tests.vmkit import clients, ensure_group

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        tool("packer") is None and os.environ.get("CI") != "true",
        reason="Debian's packer is not installed (scripts/test installs it)",
    ),
]
LAB_RG = "labs"
LAB = "packerlab"
PROVISIONERS: list[dict[str, Any]] = [
    {
        "execute_command": "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'",
        "inline": [
            "apt-get update",
            "apt-get -y install nginx",
            "echo built-in-a-lab > /var/www/html/index.html",
        ],
        "inline_shebang": "/bin/sh -x",
        "type": "shell",
    },
]


@pytest.fixture(scope="module")
def env(azemu, tmp_path_factory):
    if not azemu.ssh_port:
        pytest.skip("azemu serves no SSH here")
    c = clients(azemu)
    ensure_group(c, LAB_RG)
    dtl = DevTestLabsClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)
    dtl.labs.begin_create_or_update(LAB_RG, LAB, {"location": "eastus"}).result()
    return azemu, c, dtl, tmp_path_factory.mktemp("packer-dtl")


def test_custom_image_in_a_lab(env):
    azemu, c, dtl, work = env
    builder: dict[str, Any] = {
        "type": "azure-dtl",
        "lab_name": LAB,
        "lab_resource_group_name": LAB_RG,
        "lab_virtual_network_name": f"Dtl{LAB}",
        "managed_image_resource_group_name": LAB_RG,
        "managed_image_name": "nginxImage",
        "os_type": "Linux",
        "image_publisher": "Canonical",
        "image_offer": "0001-com-ubuntu-server-jammy",
        "image_sku": "22_04-lts-gen2",
        "vm_size": "Standard_DS2_v2",
        "dtl_artifacts": [
            {"artifact_name": "linux-apt-package", "parameters": [{"name": "packages", "value": "git"}]}
        ],
    }
    if azemu.ssh_port != 22:
        builder["ssh_port"] = azemu.ssh_port
    doc = packer_template(builder, PROVISIONERS)
    doc["builders"][0]["type"] = "azure-dtl"
    (work / "dtl.json").write_text(json.dumps(doc, indent=2))
    run_env = {**os.environ, **azemu.proxy_env(), "PACKER_CACHE_DIR": str(work / "cache")}
    run_env.pop("PACKER_LOG", None)
    done = subprocess.run(
        ["packer", "build", "-color=false", "dtl.json"],
        cwd=work,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (work / "dtl.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No lab network information provided. Using Dtlpackerlab Virtual network" in done.stdout
    assert "Connected to SSH!" in done.stdout

    image = dtl.custom_images.get(LAB_RG, LAB, "nginxImage")
    assert image.provisioning_state == "Succeeded"
    assert image.vm.linux_os_info.linux_os_state == "DeprovisionRequested"
    managed = c.compute.images.get(LAB_RG, image.managed_image_id.rsplit("/", 1)[1])
    assert managed.storage_profile.os_disk.os_state == "Generalized"
    # Packer 1.6.6 deletes its lab VM through the compute VM's resource group, where no lab is: ARM answers
    # 204 and the (stopped, deprovisioned) build VM stays in the lab, as on Azure
    assert "Deleting virtual machine ...Complete" in done.stdout
    left = [vm for vm in dtl.virtual_machines.list(LAB_RG, LAB)]
    assert [vm.last_known_power_state for vm in left] == ["Stopped"]
    dtl.virtual_machines.begin_delete(LAB_RG, LAB, left[0].name).result()

    # a lab VM from the custom image: nginx and the artifact's git are there, Packer's user is not
    dtl.virtual_machines.begin_create_or_update(
        LAB_RG,
        LAB,
        "fromimage",
        {
            "location": "eastus",
            "properties": {
                "customImageId": image.id,
                "size": "Standard_B2s",
                "userName": "dev",
                "password": "Passw0rd!2345",
                "labVirtualNetworkId": f"{dtl.labs.get(LAB_RG, LAB).id}/virtualnetworks/Dtl{LAB}",
            },
        },
    ).result()
    vm = dtl.virtual_machines.get(LAB_RG, LAB, "fromimage")
    assert vm.provisioning_state == "Succeeded" and vm.last_known_power_state == "Running"
    compute_rg, compute_name = vm.compute_id.split("/")[4], vm.compute_id.rsplit("/", 1)[1]
    out = c.compute.virtual_machines.begin_run_command(
        compute_rg,
        compute_name,
        {
            "commandId": "RunShellScript",
            "script": ["cat /var/www/html/index.html; dpkg -s git | head -2; id dev; id packer"],
        },
    ).result()
    message = out.value[0].message
    assert "built-in-a-lab" in message and "Package: git\nStatus: install ok installed" in message
    assert "uid=1000(dev)" in message and "'packer': no such user" in message
