"""Wire fidelity as az users meet it: `az vm extension set` runs Custom Script in the guest, `az image
create --source` on a Gen2 VM hits Azure's generation trap, and azure-cli-core can load its clouds from
azemu's metadata endpoint (ARM_CLOUD_METADATA_URL, the list form of api-version 2019-05-01)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from azemu.cli import clientenv
from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "fidRG"
KEY = vmkit.ssh_public_key()


@pytest.fixture(scope="module")
def vm(azemu):
    azemu.az_json("group", "create", "-n", RG, "-l", "eastus")
    return azemu.az_json(
        "vm", "create", "-g", RG, "-n", "fidVM", "--image", "Ubuntu2204", "--admin-username", "azureuser",
        "--ssh-key-values", KEY,
    )  # fmt: skip


def test_vm_extension_set_runs_custom_script_in_the_guest(azemu, vm):
    ext = azemu.az_json(
        "vm", "extension", "set", "-g", RG, "--vm-name", "fidVM", "--publisher", "Microsoft.Azure.Extensions",
        "--name", "CustomScript", "--settings", json.dumps({"commandToExecute": "echo set-by-az > /tmp/az.txt"}),
    )  # fmt: skip
    assert ext["provisioningState"] == "Succeeded" and ext["typeHandlerVersion"] == "2.1"
    out = azemu.az_json(
        "vm", "run-command", "invoke", "-g", RG, "-n", "fidVM", "--command-id", "RunShellScript",
        "--scripts", "cat /tmp/az.txt",
    )  # fmt: skip
    assert "set-by-az" in out["value"][0]["message"]
    listed = azemu.az_json("vm", "extension", "list", "-g", RG, "--vm-name", "fidVM")
    assert [e["name"] for e in listed] == ["CustomScript"]


def test_image_create_from_a_gen2_vm_is_the_generation_trap(azemu, vm):
    assert azemu.az("vm", "deallocate", "-g", RG, "-n", "fidVM").returncode == 0
    assert azemu.az("vm", "generalize", "-g", RG, "-n", "fidVM").returncode == 0
    done = azemu.az("image", "create", "-g", RG, "--source", "fidVM", "-n", "fidImage")
    assert done.returncode != 0
    assert (
        "(InvalidParameter) The Input HyperVGeneration property: 'V1' does not match with the HyperVGeneration "
        "property: 'Gen2' belonging to source: 'sourceVirtualMachine'."
    ) in done.stderr
    image = azemu.az_json(
        "image", "create", "-g", RG, "--source", "fidVM", "-n", "fidImage", "--hyper-v-generation", "V2"
    )
    assert image["hyperVGeneration"] == "V2"


def test_azure_cli_core_loads_clouds_from_the_metadata_url(azemu):
    found = clientenv.find_az()
    assert found is not None
    env = clientenv.ensure_az_login(found.path, azemu.data, azemu.port)
    env = {**env, "ARM_CLOUD_METADATA_URL": f"{azemu.endpoint}/metadata/endpoints?api-version=2019-05-01"}
    env["AZURE_CONFIG_DIR"] = str(azemu.data_dir / "az-metadata-url")
    env["SSL_CERT_FILE"] = str(azemu.data.tls.bundle)  # urllib (azure-cli-core's urlretrieve) reads it
    os.makedirs(env["AZURE_CONFIG_DIR"], exist_ok=True)
    done = subprocess.run(
        [found.path, "cloud", "list", "-o", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    clouds = json.loads(done.stdout)
    assert "AzEmu" in [c["name"] for c in clouds]
