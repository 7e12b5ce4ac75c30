"""`az vm create`, unchanged, in every form the seed's workflow needs: the whole walk-through starting from it,
then every `--image` form, Windows with a password, specialized images, an attached OS disk, and the network,
disk and count options. Each VM is a real resource with a guest; the output is what az prints against Azure."""

from __future__ import annotations

import json
import time

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "myRG"
KEY = vmkit.ssh_public_key()


def create(azemu, name: str, *args: str) -> dict:
    return azemu.az_json(
        "vm", "create", "-g", RG, "-n", name, "--admin-username", "azureuser", "--ssh-key-values", KEY, *args
    )


def identity(azemu, vm_id: str) -> dict:
    return azemu.admin("GET", f"/guest/identity?vm={vm_id}")


@pytest.fixture(scope="module")
def seed(azemu):
    """The seed chapter's walk-through, typed as az commands, starting with `az vm create`."""
    azemu.az_json("group", "create", "-n", RG, "-l", "eastus")
    vm = create(azemu, "myVM", "--image", "Ubuntu2204")
    before = identity(azemu, vm["id"])
    out = azemu.az_json(
        "vm", "run-command", "invoke", "-g", RG, "-n", "myVM", "--command-id", "RunShellScript",
        "--scripts", "sudo waagent -deprovision+user -force",
    )  # fmt: skip
    assert "Enable succeeded" in out["value"][0]["message"]
    assert azemu.az("vm", "deallocate", "-g", RG, "-n", "myVM").returncode == 0
    assert azemu.az("vm", "generalize", "-g", RG, "-n", "myVM").returncode == 0
    image = azemu.az_json(
        "image", "create", "-g", RG, "--source", "myVM", "-n", "myImage", "--hyper-v-generation", "V2"
    )
    azemu.az_json("sig", "create", "-g", RG, "-r", "myGallery")
    definition = azemu.az_json(
        "sig", "image-definition", "create", "-g", RG, "-r", "myGallery", "-i", "myImageDef",
        "--publisher", "Contoso", "--offer", "Web", "--sku", "1", "--os-type", "Linux",
        "--os-state", "Generalized", "--hyper-v-generation", "V2",
    )  # fmt: skip
    version = azemu.az_json(
        "sig", "image-version", "create", "-g", RG, "-r", "myGallery", "-i", "myImageDef", "-e", "1.0.0",
        "--managed-image", "myImage", "--target-regions", "eastus=2", "westeurope=1=Standard_ZRS",
    )  # fmt: skip
    return {"vm": vm, "before": before, "image": image, "definition": definition, "version": version}


def test_the_walk_through_starts_with_az_vm_create(azemu, seed):
    vm = seed["vm"]
    assert vm["powerState"] == "VM running" and vm["resourceGroup"] == RG and vm["location"] == "eastus"
    assert vm["privateIpAddress"] == "10.0.0.4" and vm["publicIpAddress"].count(".") == 3
    assert vm["macAddress"].count("-") == 5
    assert seed["before"]["computerName"] == "myVM" and seed["before"]["machineId"]
    assert seed["image"]["provisioningState"] == "Succeeded"
    regions = {
        r["name"]: r["regionalReplicaCount"] for r in seed["version"]["publishingProfile"]["targetRegions"]
    }
    assert regions == {"East US": 2, "West Europe": 1}
    # the network az vm create made is real: addresses allocated, NIC bound to the VM
    nic = azemu.az_json("network", "nic", "show", "-g", RG, "-n", "myVMVMNic")
    assert nic["virtualMachine"]["id"].endswith("/virtualMachines/myVM")
    assert (
        azemu.az_json("network", "vnet", "show", "-g", RG, "-n", "myVMVNET")["subnets"][0]["name"]
        == "myVMSubnet"
    )


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("fromAlias", "Debian11"),
        ("fromUrn", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"),
        ("fromImageName", "myImage"),
        ("fromImageId", "{image}"),
        ("fromVersion", "{version}"),
        ("fromLatest", "{definition}"),
    ],
)
def test_every_image_form_gives_a_fresh_identity(azemu, seed, name, image):
    ref = image.format(
        image=seed["image"]["id"], version=seed["version"]["id"], definition=seed["definition"]["id"]
    )
    vm = create(azemu, name, "--image", ref)
    assert vm["powerState"] == "VM running"
    ident = identity(azemu, vm["id"])
    assert ident["computerName"] == name
    # first boot made the clone its own host keys (waagent -deprovision keeps /etc/machine-id: a known trap)
    assert not set(ident["sshHostKeys"]) & set(seed["before"]["sshHostKeys"])
    assert "azureuser" in ident["users"]


def test_shared_and_community_gallery_images(azemu, seed):
    sub = azemu.subscription_id
    assert (
        azemu.az("sig", "share", "add", "-g", RG, "-r", "myGallery", "--subscription-ids", sub).returncode
        == 0
    )
    unique = azemu.az_json("sig", "show", "-g", RG, "-r", "myGallery")["identifier"]["uniqueName"]
    vm = create(
        azemu,
        "fromShared",
        "-l",
        "eastus",
        "--image",
        f"/SharedGalleries/{unique}/Images/myImageDef/Versions/1.0.0",
    )
    assert vm["powerState"] == "VM running"
    shown = azemu.az_json("vm", "show", "-g", RG, "-n", "fromShared")
    assert shown["storageProfile"]["imageReference"]["sharedGalleryImageId"].startswith("/SharedGalleries/")
    enabled = azemu.az(
        "sig", "share", "enable-community", "-g", RG, "-r", "myGallery",
    )  # fmt: skip
    if enabled.returncode != 0:  # az asks for the publisher details first
        azemu.az_json(
            "sig", "update", "-g", RG, "-r", "myGallery", "--permissions", "Community", "--publisher-uri",
            "https://contoso.example", "--publisher-email", "images@contoso.example", "--eula", "https://contoso.example/eula",
            "--public-name-prefix", "contoso",
        )  # fmt: skip
        assert azemu.az("sig", "share", "enable-community", "-g", RG, "-r", "myGallery").returncode == 0
    public = azemu.az_json("sig", "show", "-g", RG, "-r", "myGallery")["sharingProfile"][
        "communityGalleryInfo"
    ]
    vm = create(
        azemu, "fromCommunity", "-l", "eastus", "--accept-term",
        "--image", f"/CommunityGalleries/{public['publicNames'][0]}/Images/myImageDef/Versions/latest",
    )  # fmt: skip
    assert vm["powerState"] == "VM running"


def test_windows_with_a_password(azemu):
    vm = azemu.az_json(
        "vm", "create", "-g", RG, "-n", "win1", "--image", "Win2022Datacenter", "--admin-username", "winadmin",
        "--admin-password", vmkit.WIN_PASSWORD + "x1",
    )  # fmt: skip
    assert vm["powerState"] == "VM running"
    ident = identity(azemu, vm["id"])
    assert ident["computerName"] == "win1" and ident["sid"].startswith("S-1-5-21-")
    # the password is a secure parameter of the deployment: never shown back
    deployments = azemu.az_json("deployment", "group", "list", "-g", RG)
    mine = next(d for d in deployments if "win1" in json.dumps(d["properties"].get("outputResources")))
    assert mine["properties"]["parameters"]["adminPassword"] == {"type": "SecureString"}


def test_specialized_versions_and_attached_disks_keep_the_identity(azemu, seed):
    src = create(azemu, "dr1", "--image", "Ubuntu2204")
    src_identity = identity(azemu, src["id"])
    azemu.az_json(
        "sig", "image-definition", "create", "-g", RG, "-r", "myGallery", "-i", "drDef", "--publisher", "Contoso",
        "--offer", "DR", "--sku", "1", "--os-type", "Linux", "--os-state", "Specialized", "--hyper-v-generation", "V2",
    )  # fmt: skip
    spec = azemu.az_json(
        "sig", "image-version", "create", "-g", RG, "-r", "myGallery", "-i", "drDef", "-e", "1.0.0",
        "--virtual-machine", src["id"],
    )  # fmt: skip
    clone = create(azemu, "drClone", "--image", spec["id"], "--specialized")  # az still asks for a key
    assert clone["powerState"] == "VM running"
    assert identity(azemu, clone["id"])["machineId"] == src_identity["machineId"]
    conflicts = azemu.admin("GET", "/identity-conflicts")["value"]
    assert any(clone["id"] in g["virtualMachines"] and src["id"] in g["virtualMachines"] for g in conflicts)
    os_disk = azemu.az_json("vm", "show", "-g", RG, "-n", "dr1")["storageProfile"]["osDisk"]["managedDisk"][
        "id"
    ]
    azemu.az_json("disk", "create", "-g", RG, "-n", "drCopy", "--source", os_disk)
    attached = azemu.az_json(
        "vm", "create", "-g", RG, "-n", "drAttached", "--attach-os-disk", "drCopy", "--os-type", "linux"
    )
    assert attached["powerState"] == "VM running"
    assert identity(azemu, attached["id"])["computerName"] == src_identity["computerName"]


def test_network_disk_and_count_options(azemu, seed):
    vm = create(
        azemu, "opts", "--image", "Ubuntu2204", "--public-ip-address", "", "--nsg-rule", "NONE",
        "--vnet-name", "myVMVNET", "--subnet", "myVMSubnet", "--data-disk-sizes-gb", "10", "20",
    )  # fmt: skip
    assert vm["publicIpAddress"] == "" and vm["privateIpAddress"].startswith("10.0.0.")
    disks = azemu.az_json("vm", "show", "-g", RG, "-n", "opts")["storageProfile"]["dataDisks"]
    assert [(d["lun"], d["createOption"], d["diskSizeGB"]) for d in disks] == [
        (0, "Empty", 10),
        (1, "Empty", 20),
    ]
    several = create(azemu, "many", "--image", "Ubuntu2204", "--count", "2")
    assert sorted(v["name"] for v in several) == ["many0", "many1"]
    assert {identity(azemu, v["id"])["computerName"] for v in several} == {"many0", "many1"}
    done = azemu.az(
        "vm", "create", "-g", RG, "-n", "later", "--image", "Ubuntu2204", "--admin-username", "azureuser",
        "--ssh-key-values", KEY, "--no-wait",
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == ""
    assert azemu.az("vm", "wait", "-g", RG, "-n", "later", "--created").returncode == 0


def test_image_catalog_sizes_and_skus(azemu):
    offline = azemu.az_json("vm", "image", "list")
    assert any(i["urnAlias"] == "Ubuntu2204" for i in offline)
    shown = azemu.az_json(
        "vm", "image", "show", "--urn", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"
    )
    assert shown["osDiskImage"]["operatingSystem"] == "Linux" and shown["hyperVGeneration"] == "V2"
    sizes = azemu.az_json("vm", "list-sizes", "-l", "eastus")
    assert any(s["name"] == "Standard_D2s_v5" and s["numberOfCores"] == 2 for s in sizes)
    skus = azemu.az_json("vm", "list-skus", "-l", "eastus", "--size", "Standard_D2s_v5")
    assert skus and skus[0]["locationInfo"][0]["zones"] == ["1", "2", "3"]


def test_windows_generalize_with_sysprep_through_az_never_waits(azemu):
    """The seed's Windows path: a stock image generalizes with Defender on, and under instant latency az's
    run-command returns at once (a simulated wait would make az poll every 30 s)."""
    azemu.az_json(
        "vm", "create", "-g", RG, "-n", "winweb", "--image", "Win2022Datacenter", "--admin-username", "winadmin",
        "--admin-password", vmkit.WIN_PASSWORD + "x1",
    )  # fmt: skip
    started = time.monotonic()
    out = azemu.az_json(
        "vm", "run-command", "invoke", "-g", RG, "-n", "winweb", "--command-id", "RunPowerShellScript",
        "--scripts", r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet",
    )  # fmt: skip
    assert time.monotonic() - started < 25, "az waited on a poll interval"
    assert [v["code"] for v in out["value"]] == [
        "ComponentStatus/StdOut/succeeded",
        "ComponentStatus/StdErr/succeeded",
    ]
    assert azemu.az("vm", "deallocate", "-g", RG, "-n", "winweb").returncode == 0
    assert azemu.az("vm", "generalize", "-g", RG, "-n", "winweb").returncode == 0
    image = azemu.az_json(
        "image", "create", "-g", RG, "--source", "winweb", "-n", "winImage", "--hyper-v-generation", "V2"
    )
    assert (
        image["storageProfile"]["osDisk"]["osType"] == "Windows" and image["provisioningState"] == "Succeeded"
    )
    vm = azemu.az_json(
        "vm", "create", "-g", RG, "-n", "winclone", "--image", "winImage", "--admin-username", "clonadmin",
        "--admin-password", vmkit.WIN_PASSWORD + "x2",
    )  # fmt: skip
    ident = identity(azemu, vm["id"])
    assert ident["computerName"] == "winclone" and "clonadmin" in ident["users"]
