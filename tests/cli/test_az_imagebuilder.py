"""The seed's Scenario 2 with the real az CLI: an Azure VM Image Builder pipeline from the latest Ubuntu
platform image (Shell customizers installing developer tools) to a gallery version shared with a DevTest Lab,
lab VMs from it with the user and password their creator gives (and the failure without), then the monthly
patch: a newer platform image version appears on azemu's clock and the template's SourceImage trigger builds
version 1.0.1. Beside it: a Windows template (PowerShell, WindowsRestart, WindowsUpdate), a failing
customizer, a customizer that generalizes the VM itself, Azure's submission checks, cancel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "aib"
LAB_RG = "labs"
IDENTITY = "aibBuilder"
UBUNTU = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
NEXT_UBUNTU = "22.04.202507150"
MONTH = 30 * 86400


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


@pytest.fixture(scope="module")
def env(azemu, tmp_path_factory):
    """A resource group, the builder's identity with Contributor on it, a gallery and its image definition."""
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    vmkit.ensure_group(c, LAB_RG)
    ident = az_ok(azemu, "identity", "create", "-g", RG, "-n", IDENTITY)
    az_ok(
        azemu,
        "role",
        "assignment",
        "create",
        "--assignee",
        ident["clientId"],
        "--role",
        "Contributor",
        "--scope",
        f"/subscriptions/{c.sub}/resourceGroups/{RG}",
    )
    az_ok(azemu, "sig", "create", "-g", RG, "-r", "labGallery")
    az_ok(
        azemu,
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "labGallery",
        "-i",
        "devbox",
        "--publisher",
        "Contoso",
        "--offer",
        "devbox",
        "--sku",
        "ubuntu-22",
        "--os-type",
        "Linux",
        "--hyper-v-generation",
        "V2",
    )
    work = tmp_path_factory.mktemp("aib")
    return azemu, c, ident, work


def template_file(env, name: str, properties: dict[str, Any], *, identity: bool = True) -> str:
    _azemu, _c, ident, work = env
    doc: dict[str, Any] = {"location": "eastus", "properties": properties}
    if identity:
        doc["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {ident["id"]: {}}}
    path = work / f"{name}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def platform(urn: str = UBUNTU) -> dict[str, str]:
    publisher, offer, sku = urn.split(":")
    return {"type": "PlatformImage", "publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}


def managed_image(c, name: str) -> dict[str, Any]:
    return {
        "type": "ManagedImage",
        "imageId": f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.Compute/images/{name}",
        "location": "eastus",
        "runOutputName": name,
    }


def test_scenario_image_builder_to_lab_vms_and_the_monthly_patch(env):
    azemu, c, _ident, work = env
    script = work / "devtools.sh"
    script.write_text(
        "#!/bin/bash\nset -e\nsudo apt-get install -y make\necho devtools > /tmp/devtools.done\n"
    )
    motd = work / "motd"
    motd.write_text("Built by Azure VM Image Builder on azemu\n")
    definition = f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/labGallery/images/devbox"
    # az's deferred flow: the template is built in az's local cache, then sent once
    steps = [
        [
            "create",
            "--image-source",
            f"{UBUNTU}:latest",
            "--identity",
            IDENTITY,
            "--vm-size",
            "Standard_D2s_v3",
        ],
        [
            "customizer",
            "add",
            "--customizer-name",
            "git",
            "--type",
            "shell",
            "--inline-script",
            "sudo apt-get install -y git",
        ],
        [
            "customizer",
            "add",
            "--customizer-name",
            "devtools",
            "--type",
            "shell",
            "--script-url",
            script.as_uri(),
        ],
        [
            "customizer",
            "add",
            "--customizer-name",
            "motd",
            "--type",
            "file",
            "--file-source",
            motd.as_uri(),
            "--dest-path",
            "/tmp/motd",
        ],
        [
            "output",
            "add",
            "--gallery-image-definition",
            definition,
            "--gallery-replication-regions",
            "eastus",
            "westeurope",
            "--output-name",
            "devbox",
        ],
        ["output", "versioning", "set", "--output-name", "devbox", "--scheme", "Latest", "--major", "1"],
    ]
    for step in steps:
        done = azemu.az("image", "builder", *step, "-g", RG, "-n", "devbox", "--defer")
        assert done.returncode == 0, (step, done.stderr)
    # `update` without --defer sends what the cache holds
    sent = azemu.az("image", "builder", "update", "-g", RG, "-n", "devbox", "-o", "none")
    assert sent.returncode == 0, sent.stderr
    created = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "devbox")
    assert created["provisioningState"] == "Succeeded"
    assert [x["name"] for x in created["customize"]] == ["git", "devtools", "motd"]

    assert azemu.az("image", "builder", "run", "-g", RG, "-n", "devbox").returncode == 0
    shown = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "devbox")
    assert shown["lastRunStatus"]["runState"] == "Succeeded", shown["lastRunStatus"]
    assert shown["exactStagingResourceGroup"].rsplit("/", 1)[1].startswith(f"IT_{RG}_devbox_")
    staging = shown["exactStagingResourceGroup"].rsplit("/", 1)[1]
    groups = [g["name"] for g in az_ok(azemu, "group", "list")]
    assert staging in groups  # Azure keeps the staging group while the template exists, empty of the build VM
    assert (
        az_ok(
            azemu,
            "resource",
            "list",
            "-g",
            staging,
            "--query",
            "[?type=='Microsoft.Compute/virtualMachines']",
        )
        == []
    )
    runs = az_ok(azemu, "image", "builder", "show-runs", "-g", RG, "-n", "devbox")
    assert [(r["name"], r["provisioningState"]) for r in runs] == [("devbox", "Succeeded")]
    assert runs[0]["artifactId"].endswith("/images/devbox/versions/1.0.0")
    version = az_ok(
        azemu, "sig", "image-version", "show", "-g", RG, "-r", "labGallery", "-i", "devbox", "-e", "1.0.0"
    )
    assert sorted(r["name"] for r in version["publishingProfile"]["targetRegions"]) == [
        "East US",
        "West Europe",
    ]
    log = azemu_cli(azemu, "imagebuilder", "log", f"{RG}/devbox")
    assert log.returncode == 0, log.stderr
    for line in ("Provisioning with shell script", "Setting up git", "Uploading", "/tmp/motd", "waagent"):
        assert line in log.stdout, line

    # a lab sharing the gallery; lab VMs from the image with the user and password their creator gives
    lab = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"galleryId": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.DevTestLab/labs",
                "apiVersion": "2018-09-15",
                "name": "devlab",
                "location": "eastus",
            },
            {
                "type": "Microsoft.DevTestLab/labs/sharedgalleries",
                "apiVersion": "2018-10-15-preview",
                "name": "devlab/labGallery",
                "dependsOn": ["[resourceId('Microsoft.DevTestLab/labs', 'devlab')]"],
                "properties": {"galleryId": "[parameters('galleryId')]", "allowAllImages": "Enabled"},
            },
        ],
    }
    (work / "lab.json").write_text(json.dumps(lab))
    gallery = definition.rsplit("/images/", 1)[0]
    done = azemu.az(
        "deployment", "group", "create", "-g", LAB_RG, "--template-file", str(work / "lab.json"),
        "--parameters", f"galleryId={gallery}", "-o", "none",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lab_id = f"/subscriptions/{c.sub}/resourceGroups/{LAB_RG}/providers/Microsoft.DevTestLab/labs/devlab"
    shared = az_ok(
        azemu,
        "rest",
        "--url",
        f"{lab_id}/sharedgalleries/labGallery/sharedimages?api-version=2018-10-15-preview",
    )
    assert [(i["name"], i["properties"]["enableState"]) for i in shared["value"]] == [("devbox", "Enabled")]

    def lab_vm(name: str, **auth: str) -> subprocess.CompletedProcess[str]:
        vm = {
            "$schema": lab["$schema"],
            "contentVersion": "1.0.0.0",
            "resources": [
                {
                    "type": "Microsoft.DevTestLab/labs/virtualmachines",
                    "apiVersion": "2018-10-15-preview",
                    "name": f"devlab/{name}",
                    "location": "eastus",
                    "properties": {
                        "sharedImageId": f"{lab_id}/sharedgalleries/labGallery/sharedimages/devbox",
                        "sharedImageVersion": "1.0.0",
                        "size": "Standard_B2s",
                        "labVirtualNetworkId": f"{lab_id}/virtualnetworks/Dtldevlab",
                        **auth,
                    },
                }
            ],
        }
        (work / f"{name}.json").write_text(json.dumps(vm))
        return azemu.az(
            "deployment",
            "group",
            "create",
            "-g",
            LAB_RG,
            "--template-file",
            str(work / f"{name}.json"),
            "-o",
            "none",
        )

    assert lab_vm("dev1", userName="alice", password="Passw0rd!2345").returncode == 0
    refused = lab_vm("dev2")  # the image was deprovisioned: its user is gone, and the VM needs one
    assert refused.returncode != 0
    assert "Required parameter 'adminUsername' is missing (null)." in flat(refused.stderr)
    vms = az_ok(azemu, "lab", "vm", "list", "-g", LAB_RG, "--lab-name", "devlab", "--all")
    assert sorted((v["name"], v["provisioningState"]) for v in vms) == [
        ("dev1", "Succeeded"),
        ("dev2", "Failed"),
    ]
    dev1 = az_ok(azemu, "lab", "vm", "show", "-g", LAB_RG, "--lab-name", "devlab", "--name", "dev1")
    assert dev1["virtualMachineCreationSource"] == "FromSharedGalleryImage" and dev1["fqdn"]
    out = az_ok(
        azemu, "vm", "run-command", "invoke", "--ids", dev1["computeId"], "--command-id", "RunShellScript",
        "--scripts", "id alice; cat /tmp/devtools.done /tmp/motd; dpkg -s git make | grep Status; id packer",
    )["value"][0]["message"]  # fmt: skip
    assert "uid=1000(alice)" in out and "devtools" in out and "Built by Azure VM Image Builder" in out
    assert out.count("Status: install ok installed") == 2 and "'packer': no such user" in out

    # the monthly patch: a new Ubuntu version appears on azemu's clock, the trigger builds 1.0.1
    trigger = az_ok(
        azemu, "image", "builder", "trigger", "create", "-g", RG, "--image-template-name", "devbox",
        "-n", "source", "--kind", "SourceImage",
    )  # fmt: skip
    assert trigger["provisioningState"] == "Succeeded" and trigger["status"]["code"] == "Healthy"
    published = azemu_cli(azemu, "catalog", "publish", UBUNTU, NEXT_UBUNTU, "--in", str(MONTH), "-o", "json")
    assert published.returncode == 0, published.stderr
    before = [
        v["name"]
        for v in az_ok(azemu, "sig", "image-version", "list", "-g", RG, "-r", "labGallery", "-i", "devbox")
    ]
    assert before == ["1.0.0"]  # not yet: the version appears in a month
    assert azemu_cli(azemu, "clock", "advance", str(MONTH + 3600)).returncode == 0
    after = az_ok(azemu, "sig", "image-version", "list", "-g", RG, "-r", "labGallery", "-i", "devbox")
    assert sorted(v["name"] for v in after) == ["1.0.0", "1.0.1"]
    shown = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "devbox")
    assert shown["lastRunStatus"]["runState"] == "Succeeded"
    assert shown["source"]["exactVersion"] == NEXT_UBUNTU
    latest = az_ok(azemu, "vm", "image", "show", "--urn", f"{UBUNTU}:latest")
    assert latest["name"] == NEXT_UBUNTU


def test_windows_template_with_powershell_restart_and_updates(env):
    azemu, c, _ident, _work = env
    path = template_file(
        env,
        "win",
        {
            "source": platform("MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2"),
            "customize": [
                {
                    "type": "PowerShell",
                    "name": "site",
                    "inline": [
                        "New-Item -ItemType Directory -Path C:\\buildArtifacts -Force | Out-Null",
                        "Set-Content -Path C:\\buildArtifacts\\index.html -Value 'from image builder'",
                    ],
                },
                {"type": "PowerShell", "name": "elevated", "runElevated": True, "inline": ["whoami"]},
                {
                    "type": "WindowsRestart",
                    "restartCheckCommand": "Write-Output 'restarted'",
                    "restartTimeout": "5m",
                },
                {
                    "type": "WindowsUpdate",
                    "searchCriteria": "IsInstalled=0",
                    "filters": ["exclude:$_.Title -like '*Preview*'", "include:$true"],
                    "updateLimit": 20,
                },
            ],
            "distribute": [managed_image(c, "winImage"), {"type": "VHD", "runOutputName": "winVhd"}],
        },
    )
    assert (
        azemu.az("image", "builder", "create", "-g", RG, "-n", "win", "--image-template", path).returncode
        == 0
    )
    assert azemu.az("image", "builder", "run", "-g", RG, "-n", "win").returncode == 0
    outputs = {o["name"]: o for o in az_ok(azemu, "image", "builder", "show-runs", "-g", RG, "-n", "win")}
    assert outputs["winImage"]["artifactId"].endswith("/images/winImage")
    assert "/_azemu/sas/" in outputs["winVhd"]["artifactUri"] and "sig=" in outputs["winVhd"]["artifactUri"]
    log = azemu_cli(azemu, "imagebuilder", "log", f"{RG}/win").stdout
    for line in (
        "Restarting Machine",
        "restarted",
        "Searching for Windows updates...",
        "Found Windows update",
        "Sysprep",
    ):
        assert line in log, line
    image = az_ok(azemu, "image", "show", "-g", RG, "-n", "winImage")
    assert image["storageProfile"]["osDisk"]["osState"] == "Generalized"


def test_a_failing_customizer_fails_the_run_and_the_log_says_why(env):
    azemu, c, _ident, _work = env
    path = template_file(
        env,
        "fails",
        {
            "source": platform(),
            "customize": [
                {"type": "Shell", "name": "ok", "inline": ["echo fine"]},
                {"type": "Shell", "name": "broken", "inline": ["npm install -g typescript"]},
                {"type": "Shell", "name": "never", "inline": ["echo never-runs"]},
            ],
            "distribute": [managed_image(c, "neverMade")],
        },
    )
    assert (
        azemu.az("image", "builder", "create", "-g", RG, "-n", "fails", "--image-template", path).returncode
        == 0
    )
    run = azemu.az("image", "builder", "run", "-g", RG, "-n", "fails")
    assert run.returncode != 0
    assert "(PackerBuildFailed) During the image build a failure has occurred." in flat(run.stderr)
    shown = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "fails")
    assert shown["lastRunStatus"]["runState"] == "Failed"
    assert shown["lastRunStatus"]["runSubState"] == "Customizing"
    assert "Packer build command has failed" in shown["lastRunStatus"]["message"]
    assert "customization.log" in shown["lastRunStatus"]["message"]
    log = azemu_cli(azemu, "imagebuilder", "log", f"{RG}/fails").stdout
    assert "npm: not found" in log or "npm: command not found" in log, log[-3000:]
    assert "never-runs" not in log and "Build 'azure-arm' errored" in log
    assert azemu.az("image", "show", "-g", RG, "-n", "neverMade").returncode != 0


def test_a_customizer_that_generalizes_the_vm_breaks_the_build(env):
    """The builder deprovisions at the end: a customizer that already did (waagent -deprovision+user) leaves
    no user for the builder's own session, and the run fails as Azure's does."""
    azemu, c, _ident, _work = env
    path = template_file(
        env,
        "selfdep",
        {
            "source": platform(),
            "customize": [
                {"type": "Shell", "name": "deprovision", "inline": ["sudo waagent -force -deprovision+user"]}
            ],
            "distribute": [managed_image(c, "selfdep")],
        },
    )
    assert (
        azemu.az("image", "builder", "create", "-g", RG, "-n", "selfdep", "--image-template", path).returncode
        == 0
    )
    assert azemu.az("image", "builder", "run", "-g", RG, "-n", "selfdep").returncode != 0
    assert (
        az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "selfdep")["lastRunStatus"]["runState"]
        == "Failed"
    )
    log = azemu_cli(azemu, "imagebuilder", "log", f"{RG}/selfdep").stdout
    assert "you do not exist in the passwd database" in log


@pytest.mark.parametrize(
    ("case", "change", "code", "text"),
    [
        ("no identity", {"identity": None}, "ValidationFailed", "identity"),
        ("no distribution", {"distribute": []}, "ValidationFailed", "distribute"),
        ("bad region", {"region": "atlantis"}, "ValidationFailed", "atlantis"),
    ],
)
def test_submission_checks(env, case, change, code, text):
    azemu, c, _ident, _work = env
    props: dict[str, Any] = {"source": platform(), "distribute": [managed_image(c, "checked")]}
    if "distribute" in change:
        props["distribute"] = change["distribute"]
    if "region" in change:
        props["distribute"] = [{**managed_image(c, "checked"), "location": change["region"]}]
    path = template_file(env, f"check-{case.replace(' ', '-')}", props, identity="identity" not in change)
    done = azemu.az("image", "builder", "create", "-g", RG, "-n", "checked", "--image-template", path)
    assert done.returncode != 0
    assert code in done.stderr and text in done.stderr


def test_without_its_role_the_builder_cannot_reach_the_group(env):
    azemu, c, _ident, _work = env
    lonely = az_ok(azemu, "identity", "create", "-g", RG, "-n", "noRole")
    vmkit.ensure_group(c, "elsewhere")
    props = {
        "source": platform(),
        "distribute": [
            {
                **managed_image(c, "x"),
                "imageId": f"/subscriptions/{c.sub}/resourceGroups/elsewhere/providers/Microsoft.Compute/images/x",
            }
        ],
    }
    doc = {
        "location": "eastus",
        "properties": props,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {lonely["id"]: {}}},
    }
    path = Path(_work) / "norole.json"
    path.write_text(json.dumps(doc))
    done = azemu.az("image", "builder", "create", "-g", RG, "-n", "norole", "--image-template", str(path))
    assert done.returncode != 0
    assert "Not authorized to access the resource" in flat(done.stderr)


def test_cancel_a_running_build(env):
    azemu, c, _ident, _work = env
    path = template_file(
        env,
        "slow",
        {
            "source": platform(),
            "customize": [{"type": "Shell", "name": "s", "inline": ["echo hi"]}],
            "distribute": [managed_image(c, "slow")],
        },
    )
    assert (
        azemu.az("image", "builder", "create", "-g", RG, "-n", "slow", "--image-template", path).returncode
        == 0
    )
    assert azemu_cli(azemu, "clock", "set-latency", "scaled:0.05").returncode == 0
    try:
        assert azemu.az("image", "builder", "run", "-g", RG, "-n", "slow", "--no-wait").returncode == 0
        running = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "slow")["lastRunStatus"]
        assert running["runState"] == "Running"
        refused = azemu.az("image", "builder", "delete", "-g", RG, "-n", "slow")
        assert refused.returncode != 0
        assert "delete is not allowed in provisioning state: provisioned or run state: running." in flat(
            refused.stderr
        )
        assert azemu.az("image", "builder", "cancel", "-g", RG, "-n", "slow").returncode == 0
        assert azemu_cli(azemu, "clock", "advance", "3600").returncode == 0
        status = az_ok(azemu, "image", "builder", "show", "-g", RG, "-n", "slow")["lastRunStatus"]
        assert status["runState"] == "Canceled", status
    finally:
        azemu_cli(azemu, "clock", "set-latency", "instant")
    assert azemu.az("image", "builder", "delete", "-g", RG, "-n", "slow").returncode == 0
