"""Azure DevTest Labs with the real az CLI (and az rest / ARM templates where az has no command): a lab from
a template, lab VMs from marketplace and custom images, custom images from a lab VM (deprovisioned or
sysprepped by the lab in the guest, or specialized) and from a VHD, artifacts, claimable VMs, policies,
schedules on azemu's clock, costs, and a lab's delete."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import ssl
import subprocess
import sys
import urllib.request
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "labs"
LAB = "devlab"
PASSWORD = "Passw0rd!2345"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


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
        timeout=180,
    )


def az_ok(azemu, *args: str) -> Any:
    done = azemu.az(*args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def flat(text: str) -> str:
    return " ".join(text.split())


def lab_az(*args: str) -> list[str]:
    return [*args, "-g", RG, "--lab-name", LAB]


@pytest.fixture(scope="module")
def env(azemu, tmp_path_factory):
    """A lab from an ARM template as the portal writes one: its shutdown schedule, network and the public
    environment repo named bare, an allowed-sizes policy."""
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    work = tmp_path_factory.mktemp("dtl")
    lab_res = f"[resourceId('Microsoft.DevTestLab/labs', '{LAB}')]"
    template = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "apiVersion": "2018-09-15",
                "name": LAB,
                "type": "Microsoft.DevTestLab/labs",
                "location": "eastus",
                "properties": {"labStorageType": "Premium"},
                "resources": [
                    {
                        "apiVersion": "2018-09-15",
                        "name": "LabVmsShutdown",
                        "type": "schedules",
                        "dependsOn": [lab_res],
                        "properties": {
                            "status": "Enabled",
                            "timeZoneId": "Pacific Standard Time",
                            "dailyRecurrence": {"time": "1900"},
                            "taskType": "LabVmsShutdownTask",
                            "notificationSettings": {"status": "Disabled", "timeInMinutes": 30},
                        },
                    },
                    {
                        "apiVersion": "2018-09-15",
                        "name": "LabVmAutoStart",
                        "type": "schedules",
                        "dependsOn": [lab_res],
                        "properties": {
                            "status": "Enabled",
                            "timeZoneId": "Pacific Standard Time",
                            "weeklyRecurrence": {
                                "time": "0700",
                                "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                            },
                            "taskType": "LabVmsStartupTask",
                        },
                    },
                    {
                        "apiVersion": "2018-09-15",
                        "name": f"Dtl{LAB}",
                        "type": "virtualNetworks",
                        "dependsOn": [lab_res],
                    },
                    {
                        "apiVersion": "2018-09-15",
                        "name": "Public Environment Repo",
                        "type": "artifactSources",
                        "dependsOn": [lab_res],
                        "properties": {"status": "Enabled"},
                    },
                    {
                        "apiVersion": "2018-09-15",
                        "name": "default/AllowedVmSizesInLab",
                        "type": "policySets/policies",
                        "dependsOn": [lab_res],
                        "properties": {
                            "factName": "LabVmSize",
                            "evaluatorType": "AllowedValuesPolicy",
                            "status": "Enabled",
                            "threshold": "[string(createArray('Standard_B2s', 'Standard_DS1_v2', 'Standard_D2s_v3'))]",
                        },
                    },
                ],
            }
        ],
    }
    (work / "lab.json").write_text(json.dumps(template))
    done = azemu.az(
        "deployment", "group", "create", "-g", RG, "--template-file", str(work / "lab.json"), "-o", "none"
    )
    assert done.returncode == 0, done.stderr
    lab = az_ok(azemu, "lab", "get", "-g", RG, "--name", LAB)
    return azemu, c, lab, work


def test_the_lab_and_what_it_offers(env):
    azemu, _c, lab, _work = env
    assert lab["provisioningState"] == "Succeeded" and lab["labStorageType"] == "Premium"
    vnets = az_ok(azemu, *lab_az("lab", "vnet", "list"))
    assert [v["name"] for v in vnets] == [f"Dtl{LAB}"]
    override = vnets[0]["subnetOverrides"][0]
    assert (
        override["useInVmCreationPermission"] == "Allow"
        and override["usePublicIpAddressPermission"] == "Allow"
    )
    assert vnets[0]["externalProviderResourceId"].endswith(f"/Microsoft.Network/virtualNetworks/Dtl{LAB}")
    sources = {s["name"]: s for s in az_ok(azemu, *lab_az("lab", "artifact-source", "list"))}
    assert set(sources) == {"public repo", "Public Environment Repo"}
    artifacts = az_ok(azemu, *lab_az("lab", "artifact", "list", "--artifact-source-name", "public repo"))
    assert {"linux-apt-package", "linux-run-bash", "windows-run-powershell"} <= {a["name"] for a in artifacts}
    images = [i["name"] for i in az_ok(azemu, *lab_az("lab", "gallery-image", "list"))]
    assert "Ubuntu Server 22.04 LTS" in images and "Windows Server 2022 Datacenter" in images
    cost = az_ok(azemu, "rest", "--url", f"{lab['id']}/costs/targetCost?api-version=2018-09-15")
    assert cost["properties"]["labCostSummary"]["estimatedLabCost"] == 0.0


def test_lab_vm_artifacts_custom_image_and_a_vm_from_it(env):
    azemu, _c, lab, work = env
    create = lab_az(
        "lab", "vm", "create", "-n", "dev1", "--image", "Ubuntu Server 22.04 LTS", "--image-type", "gallery"
    )
    assert (
        azemu.az(
            *create, "--admin-username", "builder", "--admin-password", PASSWORD, "-o", "none"
        ).returncode
        == 0
    )
    vm = az_ok(
        azemu,
        *lab_az("lab", "vm", "show", "--name", "dev1"),
        "--expand",
        "properties($expand=computeVm,networkInterface)",
    )
    assert vm["provisioningState"] == "Succeeded" and vm["lastKnownPowerState"] == "Running"
    assert vm["computeVm"]["statuses"][1]["code"] == "PowerState/running"
    assert vm["fqdn"] == vm["networkInterface"]["publicIpAddress"]
    assert vm["computeId"].split("/")[4].startswith(f"{LAB}-dev1-")

    # artifacts: the public repo's, and one from a folder of the user's own (a source in the data directory)
    own = Path(azemu.data_dir) / "files" / "team-artifacts" / "motd"
    own.mkdir(parents=True)
    (own / "artifactfile.json").write_text(
        json.dumps(
            {
                "$schema": "https://raw.githubusercontent.com/Azure/azure-devtestlab/master/schemas/2016-11-28/dtlArtifacts.json",
                "title": "Message of the day",
                "targetOsType": "Linux",
                "parameters": {"text": {"type": "string"}},
                "runCommand": {"commandToExecute": "[concat('sh motd.sh \"', parameters('text'), '\"')]"},
            }
        )
    )
    (own / "motd.sh").write_text('echo "$1" > /etc/motd\n')
    source = {
        "properties": {
            "uri": "https://localhost/_azemu/files/team-artifacts",
            "sourceType": "GitHub",
            "status": "Enabled",
            "displayName": "Team",
        }
    }
    put = azemu.az(
        "rest",
        "--method",
        "put",
        "--url",
        f"{lab['id']}/artifactsources/team?api-version=2018-09-15",
        "--body",
        json.dumps(source),
    )
    assert put.returncode == 0, put.stderr
    arts = [
        {
            "artifactId": "/artifactsources/public repo/artifacts/linux-apt-package",
            "parameters": [{"name": "packages", "value": "git"}],
        },
        {
            "artifactId": f"{lab['id']}/artifactsources/team/artifacts/motd",
            "parameters": [{"name": "text", "value": "welcome to the lab"}],
        },
    ]
    (work / "arts.json").write_text(json.dumps(arts))
    assert (
        azemu.az(
            *lab_az("lab", "vm", "apply-artifacts", "--name", "dev1"), "--artifacts", str(work / "arts.json")
        ).returncode
        == 0
    )
    vm = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "dev1"))
    assert vm["artifactDeploymentStatus"] == {
        "deploymentStatus": "Succeeded",
        "artifactsApplied": 2,
        "totalArtifacts": 2,
    }
    assert [a["status"] for a in vm["artifacts"]] == ["Succeeded", "Succeeded"]

    # a custom image: the lab deprovisions the guest (the VM is stopped: the lab starts it first)
    assert azemu.az(*lab_az("lab", "vm", "stop", "--name", "dev1")).returncode == 0
    image = az_ok(
        azemu, *lab_az("lab", "custom-image", "create", "-n", "devimage"), "--os-type", "Linux",
        "--os-state", "DeprovisionRequested", "--source-vm-id", vm["id"],
    )  # fmt: skip
    assert image["provisioningState"] == "Succeeded"
    managed = az_ok(azemu, "image", "show", "--ids", image["managedImageId"])
    assert managed["storageProfile"]["osDisk"]["osState"] == "Generalized"
    assert az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "dev1"))["lastKnownPowerState"] == "Stopped"

    create = lab_az("lab", "vm", "create", "-n", "dev2", "--image", "devimage", "--image-type", "custom")
    assert (
        azemu.az(*create, "--admin-username", "alice", "--admin-password", PASSWORD, "-o", "none").returncode
        == 0
    )
    dev2 = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "dev2"))
    assert dev2["virtualMachineCreationSource"] == "FromCustomImage"
    out = az_ok(
        azemu, "vm", "run-command", "invoke", "--ids", dev2["computeId"], "--command-id", "RunShellScript",
        "--scripts", "id alice; cat /etc/motd; dpkg -s git | grep Status; id builder",
    )["value"][0]["message"]  # fmt: skip
    assert "uid=1000(alice)" in out and "welcome to the lab" in out and "install ok installed" in out
    assert "'builder': no such user" in out  # deprovisioning removed the first VM's user

    # without a user the new VM cannot be provisioned from a generalized image
    body = {"location": "eastus", "properties": {"customImageId": image["id"], "size": "Standard_B2s"}}
    put = azemu.az(
        "rest",
        "--method",
        "put",
        "--url",
        f"{lab['id']}/virtualmachines/nouser?api-version=2018-09-15",
        "--body",
        json.dumps(body),
    )
    assert put.returncode == 0, put.stderr
    failed = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "nouser"))
    assert failed["provisioningState"] == "Failed"
    assert azemu.az(*lab_az("lab", "vm", "delete", "--name", "nouser"), "--yes").returncode == 0


def test_a_specialized_image_boots_as_captured(env):
    azemu, _c, _lab, _work = env
    create = lab_az(
        "lab", "vm", "create", "-n", "pet", "--image", "Ubuntu Server 22.04 LTS", "--image-type", "gallery"
    )
    assert (
        azemu.az(
            *create, "--admin-username", "petowner", "--admin-password", PASSWORD, "-o", "none"
        ).returncode
        == 0
    )
    pet = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "pet"))
    image = az_ok(
        azemu, *lab_az("lab", "custom-image", "create", "-n", "petimage"), "--os-type", "Linux",
        "--os-state", "NonDeprovisioned", "--source-vm-id", pet["id"],
    )  # fmt: skip
    assert image["managedSnapshotId"] and not image.get("managedImageId")
    assert az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "pet"))["lastKnownPowerState"] == "Running"
    create = lab_az("lab", "vm", "create", "-n", "pet2", "--image", "petimage", "--image-type", "custom")
    assert azemu.az(*create, "--admin-password", PASSWORD, "-o", "none").returncode == 0
    pet2 = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "pet2"))
    out = az_ok(
        azemu, "vm", "run-command", "invoke", "--ids", pet2["computeId"], "--command-id", "RunShellScript",
        "--scripts", "id petowner; hostname",
    )["value"][0]["message"]  # fmt: skip
    assert "uid=1000(petowner)" in out and "\npet\n" in out  # the captured VM's user and host name


def test_windows_custom_image_sysprepped_by_the_lab(env):
    azemu, _c, _lab, _work = env
    create = lab_az(
        "lab",
        "vm",
        "create",
        "-n",
        "win1",
        "--image",
        "Windows Server 2022 Datacenter",
        "--image-type",
        "gallery",
    )
    assert (
        azemu.az(
            *create, "--admin-username", "labadmin", "--admin-password", PASSWORD, "-o", "none"
        ).returncode
        == 0
    )
    win1 = az_ok(azemu, *lab_az("lab", "vm", "show", "--name", "win1"))
    image = az_ok(
        azemu, *lab_az("lab", "custom-image", "create", "-n", "winimage"), "--os-type", "Windows",
        "--os-state", "SysprepRequested", "--source-vm-id", win1["id"],
    )  # fmt: skip
    assert (
        image["provisioningState"] == "Succeeded"
        and image["vm"]["windowsOsInfo"]["windowsOsState"] == "SysprepRequested"
    )
    panther = az_ok(
        azemu,
        "vm",
        "get-instance-view",
        "--ids",
        win1["computeId"],
        "--query",
        "instanceView.statuses[].code",
    )
    assert "OSState/generalized" in panther
    refused = azemu.az(
        *lab_az("lab", "custom-image", "create", "-n", "wrongos"), "--os-type", "Linux",
        "--os-state", "DeprovisionRequested", "--source-vm-id", win1["id"],
    )  # fmt: skip
    assert refused.returncode != 0 and "does not apply to the Windows virtual machine" in flat(refused.stderr)


def test_custom_image_from_a_vhd(env):
    """A VHD azemu exported, kept where the lab's storage account holds uploads (the data directory)."""
    azemu, _c, lab, _work = env
    az_ok(azemu, "disk", "create", "-g", RG, "-n", "small", "--size-gb", "1", "--os-type", "Linux")
    sas = az_ok(azemu, "disk", "grant-access", "-g", RG, "-n", "small", "--duration-in-seconds", "600")
    url = sas.get("accessSas") or sas["accessSAS"]
    account = lab["defaultStorageAccount"].rsplit("/", 1)[1]
    uploads = Path(azemu.data_dir) / "files" / account / "uploads"
    uploads.mkdir(parents=True)
    with (
        urllib.request.urlopen(url, context=ssl._create_unverified_context()) as r,
        open(uploads / "small.vhd", "wb") as f,
    ):
        shutil.copyfileobj(r, f)
    body = {"properties": {"vhd": {"imageName": "small.vhd", "sysPrep": False, "osType": "Linux"}}}
    url = f"{lab['id']}/customimages/fromvhd?api-version=2018-09-15"
    assert azemu.az("rest", "--method", "put", "--url", url, "--body", json.dumps(body)).returncode == 0
    image = az_ok(azemu, *lab_az("lab", "custom-image", "show", "--name", "fromvhd"))
    assert image["provisioningState"] == "Succeeded" and image["vhd"]["imageName"] == "small.vhd"
    snapshot = az_ok(azemu, "snapshot", "show", "--ids", image["managedSnapshotId"])
    assert snapshot["creationData"]["createOption"] == "Import" and snapshot["diskSizeGB"] == 1
    missing = {"properties": {"vhd": {"imageName": "nope.vhd", "sysPrep": False, "osType": "Linux"}}}
    done = azemu.az(
        "rest", "--method", "put", "--url", url.replace("fromvhd", "nope"), "--body", json.dumps(missing)
    )
    assert done.returncode != 0
    assert (
        f"The blob name: nope.vhd was not found in the lab storage account: {account}, container: uploads"
        in flat(done.stderr)
    )
    # the same VHD imported as a plain managed disk
    blob = f"https://{account}.blob.core.windows.net/uploads/small.vhd"
    imported = az_ok(azemu, "disk", "create", "-g", RG, "-n", "imported", "--source", blob)
    assert imported["creationData"]["createOption"] == "Import" and imported["diskSizeGB"] == 1


def test_claimable_vms_policies_and_the_lab_delete(env):
    azemu, _c, lab, _work = env
    create = lab_az(
        "lab", "vm", "create", "-n", "pool1", "--image", "Ubuntu Server 22.04 LTS", "--image-type", "gallery"
    )
    assert (
        azemu.az(*create, "--admin-password", PASSWORD, "--allow-claim", "true", "-o", "none").returncode == 0
    )
    assert [v["name"] for v in az_ok(azemu, *lab_az("lab", "vm", "list", "--claimable"))] == ["pool1"]
    assert azemu.az("lab", "vm", "claim", "-g", RG, "--lab-name", LAB).returncode == 0  # claim any
    mine = az_ok(azemu, *lab_az("lab", "vm", "list"))
    assert (
        "pool1" in [v["name"] for v in mine]
        and az_ok(azemu, *lab_az("lab", "vm", "list", "--claimable")) == []
    )

    too_big = lab_az(
        "lab", "vm", "create", "-n", "big", "--image", "Ubuntu Server 22.04 LTS", "--image-type", "gallery"
    )
    refused = azemu.az(*too_big, "--admin-password", PASSWORD, "--size", "Standard_D16s_v3")
    assert refused.returncode != 0
    assert "The virtual machine size 'Standard_D16s_v3' is not allowed in the lab 'devlab'." in flat(
        refused.stderr
    )
    policy = {
        "properties": {
            "factName": "LabVmCount",
            "threshold": "1",
            "status": "Enabled",
            "evaluatorType": "MaxValuePolicy",
        }
    }
    put = azemu.az(
        "rest",
        "--method",
        "put",
        "--url",
        f"{lab['id']}/policysets/default/policies/LabVmCount?api-version=2018-09-15",
        "--body",
        json.dumps(policy),
    )
    assert put.returncode == 0, put.stderr
    refused = azemu.az(
        *lab_az(
            "lab",
            "vm",
            "create",
            "-n",
            "onemore",
            "--image",
            "Ubuntu Server 22.04 LTS",
            "--image-type",
            "gallery",
        ),
        "--admin-password",
        PASSWORD,
    )
    assert refused.returncode != 0 and "has reached the limit of 1" in flat(refused.stderr)
    policy["properties"]["status"] = "Disabled"
    put = azemu.az(
        "rest",
        "--method",
        "put",
        "--url",
        f"{lab['id']}/policysets/default/policies/LabVmCount?api-version=2018-09-15",
        "--body",
        json.dumps(policy),
    )
    assert put.returncode == 0, put.stderr


def test_schedules_stop_and_start_vms_on_the_clock(env):
    azemu, _c, lab, _work = env
    create = lab_az(
        "lab", "vm", "create", "-n", "sched", "--image", "Ubuntu Server 22.04 LTS", "--image-type", "gallery"
    )
    assert (
        azemu.az(*create, "--admin-password", PASSWORD, "--tags", "AutoStartOn=true", "-o", "none").returncode
        == 0
    )
    shutdown = az_ok(azemu, "rest", "--url", f"{lab['id']}/schedules/LabVmsShutdown?api-version=2018-09-15")
    assert shutdown["properties"]["taskType"] == "LabVmsShutdownTask"
    # to 19:30 Pacific on the next weekday evening: the lab's VMs are stopped
    clock = json.loads(azemu_cli(azemu, "clock", "show", "-o", "json").stdout)
    pacific = zoneinfo.ZoneInfo("America/Los_Angeles")
    now = dt.datetime.fromisoformat(clock["now"]).astimezone(pacific)
    evening = now.replace(hour=19, minute=30, second=0, microsecond=0)
    while evening <= now or evening.weekday() >= 4:  # Mon-Thu evening: the next morning starts
        evening += dt.timedelta(days=1)
    seconds = (evening - now).total_seconds()
    assert azemu_cli(azemu, "clock", "advance", str(int(seconds))).returncode == 0
    states = {
        v["name"]: v["lastKnownPowerState"] for v in az_ok(azemu, *lab_az("lab", "vm", "list", "--all"))
    }
    assert states["sched"] == "Stopped" and states["pool1"] == "Stopped"
    # 07:30 the next morning: auto-start starts the VMs that opted in (the AutoStartOn tag)
    assert azemu_cli(azemu, "clock", "advance", str(12 * 3600)).returncode == 0
    states = {
        v["name"]: v["lastKnownPowerState"] for v in az_ok(azemu, *lab_az("lab", "vm", "list", "--all"))
    }
    assert states["sched"] == "Running" and states["pool1"] == "Stopped"


def test_deleting_the_lab_removes_its_vms_and_their_groups(env):
    azemu, _c, _lab, _work = env
    vms = az_ok(azemu, *lab_az("lab", "vm", "list", "--all"))
    groups = {v["computeId"].split("/")[4] for v in vms if v.get("computeId")}
    assert groups
    assert azemu.az("lab", "delete", "-g", RG, "--name", LAB, "--yes").returncode == 0
    left = {g["name"] for g in az_ok(azemu, "group", "list")}
    assert not groups & left
    assert azemu.az("lab", "get", "-g", RG, "--name", LAB).returncode != 0
