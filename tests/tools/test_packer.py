"""Debian's Packer 1.6.6 (azure-arm builder), unchanged, against azemu as Azure's public cloud.

Packer only knows Azure's public, China, German and US Government clouds, so it reaches azemu through
azemu's proxy (``azemu env --proxy``): ``management.azure.com`` and ``login.microsoftonline.com`` answered
by azemu, and SSH to the build VM's public IP - a loopback address where azemu serves the guest's SSH.
The template is Microsoft's own Packer example (apt-get, nginx, ``waagent -deprovision+user``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.tools.toolkit import OpenSsh, keypair, packer_template, public_vm, tool, wait_port
from tests.vmkit import clients, ensure_group

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        tool("packer") is None and os.environ.get("CI") != "true",
        reason="Debian's packer is not installed (scripts/test installs it)",
    ),
]
IMAGE_RG = "packerImages"
BUILD_RG = "packerBuild"
PROVISIONERS: list[dict[str, Any]] = [
    {"type": "file", "source": "site/index.html", "destination": "/tmp/index.html"},
    {
        # Microsoft's example: https://learn.microsoft.com/azure/virtual-machines/linux/build-image-with-packer
        "execute_command": "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'",
        "inline": [
            "apt-get update",
            "apt-get upgrade -y",
            "apt-get -y install nginx",
            "cp /tmp/index.html /var/www/html/index.html",
            "/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync",
        ],
        "inline_shebang": "/bin/sh -x",
        "type": "shell",
    },
]
SOURCE = {
    "os_type": "Linux",
    "image_publisher": "Canonical",
    "image_offer": "0001-com-ubuntu-server-jammy",
    "image_sku": "22_04-lts",
    "vm_size": "Standard_DS2_v2",
    "azure_tags": {"dept": "Engineering", "task": "Image deployment"},
}


@pytest.fixture(scope="module")
def env(azemu, tmp_path_factory):
    if not azemu.ssh_port:
        pytest.skip("azemu serves no SSH here")
    c = clients(azemu)
    ensure_group(c, IMAGE_RG)
    work = tmp_path_factory.mktemp("packer")
    (work / "site").mkdir()
    (work / "site" / "index.html").write_text("<h1>built by packer on azemu</h1>\n")
    return azemu, c, work


def build(
    env, name: str, builder: dict[str, Any], *, credentials: bool = True
) -> subprocess.CompletedProcess[str]:
    azemu, _c, work = env
    if azemu.ssh_port != 22:
        builder = {**builder, "ssh_port": azemu.ssh_port}
    template = work / f"{name}.json"
    doc = packer_template({**SOURCE, **builder}, PROVISIONERS)
    if not credentials:  # only the subscription: Packer discovers the tenant and signs in with a device code
        for key in ("client_id", "client_secret", "tenant_id"):
            doc["builders"][0].pop(key)
    template.write_text(json.dumps(doc, indent=2))
    run_env = {**os.environ, **azemu.proxy_env(), "PACKER_CACHE_DIR": str(work / "cache")}
    run_env.pop("PACKER_LOG", None)
    done = subprocess.run(
        ["packer", "build", "-color=false", template.name],
        cwd=work,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (work / f"{name}.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done


def _check_fresh_vm(env, name: str, **source: str) -> None:
    """A VM from what Packer made: the provisioning is there, the build's user and identity are not."""
    azemu, c, work = env
    key, public = keypair(work, f"{name}_key")
    _, ip = public_vm(c, IMAGE_RG, name, key=public, **source)  # type: ignore[arg-type]
    assert wait_port(ip, azemu.ssh_port)
    openssh = OpenSsh(work, azemu.ssh_port)
    done = openssh.ssh(
        f"azureuser@{ip}",
        "hostname; cat /var/www/html/index.html; dpkg -s nginx | head -2; id packer",
        key=key,
    )
    assert done.returncode == 1, done.stderr  # `id packer`: the build's user is gone
    lines = done.stdout.splitlines()
    assert lines[0] == name
    assert lines[1] == "<h1>built by packer on azemu</h1>"
    assert lines[2:4] == ["Package: nginx", "Status: install ok installed"]
    assert "'packer': no such user" in done.stderr


def test_managed_image_from_a_platform_image(env):
    azemu, c, _ = env
    done = build(
        env,
        "managed",
        {
            "managed_image_resource_group_name": IMAGE_RG,
            "managed_image_name": "webImage",
            "location": "East US",
        },
    )
    assert "Connected to SSH!" in done.stdout
    assert "ManagedImageId: " in done.stdout
    image = c.compute.images.get(IMAGE_RG, "webImage")
    assert image.provisioning_state == "Succeeded" and image.storage_profile.os_disk.os_state == "Generalized"
    assert image.tags == {"dept": "Engineering", "task": "Image deployment"}
    # Packer's temporary resource group and everything in it are gone
    assert not [g.name for g in c.rm.resource_groups.list() if g.name.startswith("pkr-Resource-Group-")]
    _check_fresh_vm(env, "fromimage1", managed_image_id=image.id)
    _check_fresh_vm(env, "fromimage2", managed_image_id=image.id)
    # two clones, two hostnames and two sets of SSH host keys - and one machine-id: Microsoft's example only
    # runs `waagent -deprovision+user`, which keeps /etc/machine-id (docs/guests.md, the seed's trap)
    conflicts = azemu.admin("GET", "/identity-conflicts")["value"]
    assert [(x["kind"], sorted(v.rsplit("/", 1)[1] for v in x["virtualMachines"])) for x in conflicts] == [
        ("machineId", ["fromimage1", "fromimage2"])
    ]


def test_published_to_a_gallery_with_replication_regions(env):
    _azemu, c, _ = env
    c.compute.galleries.begin_create_or_update(IMAGE_RG, "pkrGallery", {"location": "eastus"}).result()
    c.compute.gallery_images.begin_create_or_update(
        IMAGE_RG,
        "pkrGallery",
        "web",
        {
            "location": "eastus",
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "hyperVGeneration": "V1",
                "identifier": {"publisher": "contoso", "offer": "web", "sku": "nginx"},
            },
        },
    ).result()
    done = build(
        env,
        "gallery",
        {
            "managed_image_resource_group_name": IMAGE_RG,
            "managed_image_name": "webImageForGallery",
            "location": "East US",
            "shared_image_gallery_destination": {
                "resource_group": IMAGE_RG,
                "gallery_name": "pkrGallery",
                "image_name": "web",
                "image_version": "1.0.0",
                "replication_regions": ["eastus", "westeurope"],
            },
        },
    )
    assert "ManagedImageSharedImageGalleryId: " in done.stdout
    version = c.compute.gallery_image_versions.get(
        IMAGE_RG, "pkrGallery", "web", "1.0.0", expand="ReplicationStatus"
    )
    assert version.provisioning_state == "Succeeded"
    assert {r.name for r in version.publishing_profile.target_regions} == {"East US", "West Europe"}
    assert c.compute.images.get(IMAGE_RG, "webImageForGallery").provisioning_state == "Succeeded"
    assert not [g.name for g in c.rm.resource_groups.list() if g.name.startswith("pkr-Resource-Group-")]
    _check_fresh_vm(env, "fromgallery", managed_image_id=version.id)


def test_in_an_existing_build_resource_group(env):
    _azemu, c, _ = env
    ensure_group(c, BUILD_RG)
    done = build(
        env,
        "buildrg",
        {
            "managed_image_resource_group_name": IMAGE_RG,
            "managed_image_name": "webImageBuildRG",
            "build_resource_group_name": BUILD_RG,
        },
    )
    assert "The resource group was not created by Packer, not deleting" in done.stdout
    assert c.compute.images.get(IMAGE_RG, "webImageBuildRG").provisioning_state == "Succeeded"
    left = sorted((r.type, r.name[:5]) for r in c.rm.resources.list_by_resource_group(BUILD_RG))
    # Packer 1.6.x deletes the VM, NIC, virtual network and public IP and leaves its OS disk behind in an
    # existing group (hashicorp/packer#10416) - on Azure as here
    assert left == [("Microsoft.Compute/disks", "pkros")]
    assert c.rm.resource_groups.get(BUILD_RG).name == BUILD_RG


def test_device_code_login_and_tenant_discovery(env):
    """No client id, secret or tenant: Packer finds the tenant from ARM's 401 challenge for the subscription
    and signs in with ADAL's device-code flow (azemu signs its user in at once), for ARM and Key Vault."""
    azemu, c, _ = env
    cache = Path.home() / ".azure" / "packer"
    try:
        done = build(
            env,
            "devicecode",
            {
                "managed_image_resource_group_name": IMAGE_RG,
                "managed_image_name": "webImageDevice",
                "location": "East US",
            },
            credentials=False,
        )
        assert "Getting tokens using device flow" in done.stdout
        assert "devicelogin" in done.stdout and "Obtained service principal token." in done.stdout
        assert c.compute.images.get(IMAGE_RG, "webImageDevice").provisioning_state == "Succeeded"
    finally:  # Packer keeps the tokens in ~/.azure/packer/oauth-<tenant>*.json
        for token_file in cache.glob(f"oauth-{azemu.tenant_id}*.json"):
            token_file.unlink()
