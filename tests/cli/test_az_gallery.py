"""The seed's step 6 with the real az CLI: gallery -> image definition -> image version, replicated to regions."""

from __future__ import annotations

import pytest

from tests import gallerykit as gk
from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "myRG"


@pytest.fixture(scope="module")
def image(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    return gk.generalized_image(c, RG, "myImage")


def test_seed_step6_gallery_end_to_end(azemu, image):
    gal = azemu.az_json("sig", "create", "-g", RG, "-r", "myGallery")
    assert gal["identifier"]["uniqueName"].endswith("-MYGALLERY")
    d = azemu.az_json(
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "myGallery",
        "-i",
        "myImageDef",
        "--publisher",
        "Contoso",
        "--offer",
        "WebServer",
        "--sku",
        "2026",
        "--os-type",
        "Linux",
        "--os-state",
        "Generalized",
        "--hyper-v-generation",
        "V2",
    )
    assert d["osState"] == "Generalized" and d["identifier"]["publisher"] == "Contoso"
    v = azemu.az_json(
        "sig",
        "image-version",
        "create",
        "-g",
        RG,
        "-r",
        "myGallery",
        "-i",
        "myImageDef",
        "-e",
        "1.0.0",
        "--managed-image",
        "myImage",
        "--target-regions",
        "eastus=2",
        "westeurope=1=Standard_ZRS",
    )
    regions = {t["name"]: t for t in v["publishingProfile"]["targetRegions"]}
    assert regions["East US"]["regionalReplicaCount"] == 2
    assert regions["West Europe"]["storageAccountType"] == "Standard_ZRS"
    listed = azemu.az_json("sig", "image-version", "list", "-g", RG, "-r", "myGallery", "-i", "myImageDef")
    assert [x["name"] for x in listed] == ["1.0.0"]
    shown = azemu.az_json(
        "sig",
        "image-version",
        "show",
        "-g",
        RG,
        "-r",
        "myGallery",
        "-i",
        "myImageDef",
        "-e",
        "1.0.0",
        "--expand",
        "ReplicationStatus",
    )
    assert shown["replicationStatus"]["aggregatedState"] == "Completed"
    assert (
        azemu.az(
            "sig",
            "image-version",
            "wait",
            "-g",
            RG,
            "-r",
            "myGallery",
            "-i",
            "myImageDef",
            "--gallery-image-version",
            "1.0.0",
            "--created",
        ).returncode
        == 0
    )
    upd = azemu.az_json(
        "sig",
        "image-version",
        "update",
        "-g",
        RG,
        "-r",
        "myGallery",
        "-i",
        "myImageDef",
        "-e",
        "1.0.0",
        "--add",
        "publishingProfile.targetRegions",
        "name=westus2",
    )
    assert "West US 2" in [t["name"] for t in upd["publishingProfile"]["targetRegions"]]
    # delete order: definition refused while versions exist
    done = azemu.az("sig", "image-definition", "delete", "-g", RG, "-r", "myGallery", "-i", "myImageDef")
    assert done.returncode != 0 and "CannotDeleteResource" in done.stderr
    assert (
        azemu.az(
            "sig", "image-version", "delete", "-g", RG, "-r", "myGallery", "-i", "myImageDef", "-e", "1.0.0"
        ).returncode
        == 0
    )
    assert (
        azemu.az(
            "sig", "image-definition", "delete", "-g", RG, "-r", "myGallery", "-i", "myImageDef"
        ).returncode
        == 0
    )
    assert azemu.az("sig", "delete", "-g", RG, "-r", "myGallery").returncode == 0


def test_invalid_version_name_and_share_with_az(azemu, image):
    azemu.az_json("sig", "create", "-g", RG, "-r", "shareGallery")
    azemu.az_json(
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "shareGallery",
        "-i",
        "def",
        "--publisher",
        "P",
        "--offer",
        "O",
        "--sku",
        "S",
        "--os-type",
        "Linux",
        "--hyper-v-generation",
        "V2",
    )
    done = azemu.az(
        "sig",
        "image-version",
        "create",
        "-g",
        RG,
        "-r",
        "shareGallery",
        "-i",
        "def",
        "-e",
        "1.0",
        "--managed-image",
        "myImage",
    )
    assert done.returncode != 0 and "The image version name is invalid." in " ".join(done.stderr.split())
    other_tenant = azemu.admin("POST", "/tenants", {"displayName": "Partner"})["tenantId"]
    assert (
        azemu.az(
            "sig", "share", "add", "-g", RG, "-r", "shareGallery", "--tenant-ids", other_tenant
        ).returncode
        == 0
    )
    gal = azemu.az_json("sig", "show", "-g", RG, "-r", "shareGallery", "--sharing-groups")
    groups = gal["sharingProfile"]["groups"]
    assert gal["sharingProfile"]["permissions"] == "Groups"
    assert any(g["type"] == "AADTenants" and other_tenant in g["ids"] for g in groups)
