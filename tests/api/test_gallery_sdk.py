"""Azure Compute Gallery through the SDK: galleries, definitions, versions, replication, latest, sharing."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    GalleryArtifactVersionFullSource,
    GalleryImageUpdate,
    GalleryImageVersion,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    ImageReference,
    SharingProfileGroup,
    SharingUpdate,
    TargetRegion,
)

from tests import gallerykit as gk
from tests import vmkit

RG = "galRG"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


@pytest.fixture(scope="module")
def image(c):
    return gk.generalized_image(c, RG, "baseimg")


def test_gallery_and_definition_rules(azemu, c):
    gal = gk.gallery(c, RG, "myGallery")
    assert gal.identifier.unique_name == f"{azemu.subscription_id}-MYGALLERY"
    with pytest.raises(HttpResponseError) as info:
        gk.gallery(c, RG, "my-gallery")
    assert info.value.status_code == 400 and "including dashes, are disallowed" in info.value.error.message
    d = gk.definition(c, RG, "myGallery", "defA")
    assert d.architecture == "x64" and d.hyper_v_generation == "V2"
    assert any(
        f.name == "SecurityType" and f.value == "TrustedLaunchSupported" for f in d.features
    )  # 2026-03-03
    with pytest.raises(HttpResponseError) as info:
        gk.definition(c, RG, "myGallery", "defB", sku="defA")
    assert "identified by (publisher:azemu, offer:tests, sku:defA) already exists" in info.value.error.message
    with pytest.raises(HttpResponseError) as info:
        c.compute.gallery_images.begin_update(
            RG, "myGallery", "defA", GalleryImageUpdate(os_state="Specialized")
        ).result()
    assert info.value.status_code == 409 and info.value.error.code == "PropertyChangeNotAllowed"
    assert info.value.error.message == "Changing property 'galleryImage.properties.osState' is not allowed."
    updated = c.compute.gallery_images.begin_update(
        RG, "myGallery", "defA", GalleryImageUpdate(description="hi")
    ).result()
    assert updated.description == "hi"
    with pytest.raises(HttpResponseError) as info:
        c.compute.galleries.begin_delete(RG, "myGallery").result()
    assert info.value.status_code == 409 and info.value.error.code == "CannotDeleteResource"
    assert "'Microsoft.Compute/galleries/myGallery/images/defA'" in info.value.error.message


def test_version_errors(azemu, c, image):
    gk.gallery(c, RG, "errGallery")
    gk.definition(c, RG, "errGallery", "gen")
    with pytest.raises(HttpResponseError) as info:
        gk.version(c, RG, "errGallery", "gen", "1.0", image_id=image.id)
    assert info.value.error.message.startswith(
        "The image version name is invalid. The image version name should follow"
    )
    vm = vmkit.linux_vm(c, RG, "specvm")
    with pytest.raises(HttpResponseError) as info:
        gk.version(c, RG, "errGallery", "gen", "1.0.0", image_id=vm.id)
    assert (
        "must be specified in 'galleryImageVersion.properties.storageProfile.source.virtualMachineId'"
        in info.value.error.message
    )
    with pytest.raises(HttpResponseError) as info:
        gk.version(c, RG, "errGallery", "gen", "1.0.0", vm_id=vm.id)
    assert info.value.error.message == (
        f"The resource with id '{vm.id}' has a different OS state ['Specialized'] than the parent gallery image OS "
        "state ['Generalized']."
    )
    for regions, fragment in (
        ([("eastus", 0)], "out of range"),
        ([("westeurope", 1)], "must contain the location"),
        ([("eastus", 1), ("East US", 1)], "Duplicate regions"),
    ):
        with pytest.raises(HttpResponseError) as info:
            gk.version(c, RG, "errGallery", "gen", "1.0.0", image_id=image.id, regions=regions)
        assert fragment in info.value.error.message
    with pytest.raises(ResourceNotFoundError) as info:
        list(c.compute.gallery_image_versions.list_by_gallery_image(RG, "errGallery", "nodef"))
    assert info.value.error.code == "ParentResourceNotFound"


def test_versions_regions_latest_and_vms(azemu, c, image):
    gk.gallery(c, RG, "prodGallery")
    d = gk.definition(c, RG, "prodGallery", "web")
    v1 = gk.version(
        c, RG, "prodGallery", "web", "1.0.0", image_id=image.id, regions=[("eastus", 2), ("westeurope", 1)]
    )
    assert [t.name for t in v1.publishing_profile.target_regions] == ["East US", "West Europe"]
    assert v1.publishing_profile.target_regions[0].storage_account_type == "Standard_LRS"
    assert v1.safety_profile.allow_deletion_of_replicated_locations is False
    gk.version(c, RG, "prodGallery", "web", "1.10.0", image_id=image.id)
    gk.version(c, RG, "prodGallery", "web", "1.9.0", image_id=image.id)
    gk.version(c, RG, "prodGallery", "web", "2.0.0", image_id=image.id, exclude=True)
    gk.version(c, RG, "prodGallery", "web", "1.11.0", image_id=image.id, exclude_regions={"eastus"})
    vm = vmkit.linux_vm(c, RG, "fromlatest", ImageReference(id=d.id))
    assert vm.storage_profile.image_reference.exact_version == "1.10.0"  # numeric order; exclusions honoured
    vm2 = vmkit.linux_vm(c, RG, "fromlatest2", ImageReference(id=d.id + "/versions/latest"))
    assert vm2.storage_profile.image_reference.exact_version == "1.10.0"
    a = azemu.admin("GET", "/guest/identity?vm=" + vm.id)
    b = azemu.admin("GET", "/guest/identity?vm=" + vm2.id)
    assert a["computerName"] == "fromlatest" and a["machineId"] != b["machineId"]  # cleaned image: fresh ids
    # a version only in eastus cannot serve a VM in westus
    with pytest.raises(HttpResponseError) as info:
        vmkit.linux_vm(
            c, RG, "wrongregion", ImageReference(id=v1.id.replace("1.0.0", "1.9.0")), location="westus"
        )
    assert (
        info.value.error.code == "GalleryImageNotFound"
        and "is not available in westus region" in info.value.error.message
    )
    gk.definition(c, RG, "prodGallery", "empty")
    with pytest.raises(HttpResponseError) as info:
        vmkit.linux_vm(c, RG, "nolatest", ImageReference(id=d.id.replace("/images/web", "/images/empty")))
    assert info.value.error.message.startswith('There is no latest image version exists for "')
    # update: add a region; removing one needs allowDeletionOfReplicatedLocations
    upd = c.compute.gallery_image_versions.begin_update(
        RG,
        "prodGallery",
        "web",
        "1.0.0",
        {
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {"name": "eastus", "regionalReplicaCount": 2},
                        {"name": "westeurope"},
                        {"name": "westus2"},
                    ]
                }
            }
        },
    ).result()
    assert [t.name for t in upd.publishing_profile.target_regions] == ["East US", "West Europe", "West US 2"]
    with pytest.raises(HttpResponseError) as info:
        c.compute.gallery_image_versions.begin_update(
            RG,
            "prodGallery",
            "web",
            "1.0.0",
            {"properties": {"publishingProfile": {"targetRegions": [{"name": "eastus"}]}}},
        ).result()
    assert "allowDeletionOfReplicatedLocations" in info.value.error.message
    c.compute.gallery_image_versions.begin_update(
        RG,
        "prodGallery",
        "web",
        "1.0.0",
        {
            "properties": {
                "safetyProfile": {"allowDeletionOfReplicatedLocations": True},
                "publishingProfile": {"targetRegions": [{"name": "eastus"}]},
            }
        },
    ).result()


def test_replication_runs_on_the_clock_and_faults_surface(azemu, c, image):
    gk.gallery(c, RG, "slowGallery")
    gk.definition(c, RG, "slowGallery", "slow")
    azemu.admin(
        "POST",
        "/faults",
        {
            "kind": "galleries/images/versions.replicate",
            "resource_contains": "/versions/3.0.0",
            "region": "West Europe",
            "error_message": "Replication to West Europe failed.",
        },
    )
    azemu.admin(
        "POST", "/clock", {"latency": "scaled:0.002"}
    )  # 16 s/GiB/replica x 30 GiB -> ~1 s per replica
    try:
        poller = c.compute.gallery_image_versions.begin_create_or_update(
            RG,
            "slowGallery",
            "slow",
            "2.0.0",
            GalleryImageVersion(
                location="eastus",
                publishing_profile=GalleryImageVersionPublishingProfile(
                    target_regions=[
                        TargetRegion(name="eastus", regional_replica_count=1),
                        TargetRegion(name="northeurope", regional_replica_count=3),
                    ]
                ),
                storage_profile=GalleryImageVersionStorageProfile(
                    source=GalleryArtifactVersionFullSource(id=image.id)
                ),
            ),
        )
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            v = c.compute.gallery_image_versions.get(
                RG, "slowGallery", "slow", "2.0.0", expand="ReplicationStatus"
            )
            north = next(s for s in v.replication_status.summary if s.region == "North Europe")
            seen.append((north.state, north.progress))
            if v.replication_status.aggregated_state == "Completed":
                break
            time.sleep(0.1)
        assert seen[0][0] == "Replicating" and seen[-1] == ("Completed", 100)
        progress = [p for _, p in seen]
        assert progress == sorted(progress)  # monotonic
        assert poller.result().provisioning_state == "Succeeded"
        with pytest.raises(HttpResponseError) as info:
            c.compute.gallery_image_versions.begin_create_or_update(
                RG,
                "slowGallery",
                "slow",
                "3.0.0",
                GalleryImageVersion(
                    location="eastus",
                    publishing_profile=GalleryImageVersionPublishingProfile(
                        target_regions=[TargetRegion(name="eastus"), TargetRegion(name="westeurope")]
                    ),
                    storage_profile=GalleryImageVersionStorageProfile(
                        source=GalleryArtifactVersionFullSource(id=image.id)
                    ),
                ),
            ).result()
        assert "Replication to West Europe failed." in info.value.error.message
        failed = c.compute.gallery_image_versions.get(
            RG, "slowGallery", "slow", "3.0.0", expand="ReplicationStatus"
        )
        assert failed.provisioning_state == "Failed"
        states = {s.region: s.state for s in failed.replication_status.summary}
        assert states == {"East US": "Completed", "West Europe": "Failed"}
    finally:
        azemu.admin("POST", "/clock", {"latency": "instant"})


def test_specialized_definition_clones_identity(azemu, c):
    gk.gallery(c, RG, "specGallery")
    gk.definition(c, RG, "specGallery", "spec", state="Specialized")
    src = vmkit.linux_vm(c, RG, "specsrc")
    vmkit.run(c, RG, "specsrc", "echo kept > /root/state")
    v = gk.version(c, RG, "specGallery", "spec", "1.0.0", vm_id=src.id)
    assert v.storage_profile.source.virtual_machine_id.lower() == src.id.lower()
    with pytest.raises(HttpResponseError) as info:
        vmkit.linux_vm(c, RG, "specbad", ImageReference(id=v.id))
    assert info.value.error.message == "Parameter 'osProfile' is not allowed."
    nic = vmkit.make_nic(c, RG, "specclone-nic")
    vm = c.compute.virtual_machines.begin_create_or_update(
        RG,
        "specclone",
        {
            "location": "eastus",
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "storageProfile": {"imageReference": {"id": v.id}},
                "networkProfile": {"networkInterfaces": [{"id": nic}]},
            },
        },
    ).result()
    assert vm.os_profile is None and vm.storage_profile.image_reference.exact_version == "1.0.0"
    a = azemu.admin("GET", "/guest/identity?vm=" + src.id)
    b = azemu.admin("GET", "/guest/identity?vm=" + vm.id)
    assert (a["computerName"], a["sshHostKeys"], a["machineId"]) == (
        b["computerName"],
        b["sshHostKeys"],
        b["machineId"],
    )
    out = vmkit.run(c, RG, "specclone", "cat /root/state").value[0].message
    assert "[stdout]\nkept\n" in out
    assert vmkit.statuses(c, RG, "specclone")[0] == "OSState/specialized"


def test_cross_tenant_sharing(azemu, c, image):
    gk.gallery(c, RG, "sharedGallery")
    d = gk.definition(c, RG, "sharedGallery", "shared")
    v = gk.version(c, RG, "sharedGallery", "shared", "1.0.0", image_id=image.id)
    t2 = azemu.admin("POST", "/tenants", {"displayName": "Fabrikam"})
    s2 = azemu.admin("POST", f"/tenants/{t2['tenantId']}/subscriptions", {"displayName": "Fabrikam sub"})
    other = vmkit.clients(azemu, s2["subscriptionId"], t2["tenantId"], "fabrikam-app")
    vmkit.ensure_group(other, "fab")
    unique = c.compute.galleries.get(RG, "sharedGallery").identifier.unique_name
    shared_ref = ImageReference(
        shared_gallery_image_id=f"/SharedGalleries/{unique}/Images/shared/Versions/1.0.0"
    )
    with pytest.raises(HttpResponseError) as info:  # by id: Azure's linked authorization error
        vmkit.linux_vm(other, "fab", "byid", ImageReference(id=v.id))
    assert info.value.status_code == 403 and info.value.error.code == "LinkedAuthorizationFailed"
    with pytest.raises(HttpResponseError):
        vmkit.linux_vm(other, "fab", "notyet", shared_ref)
    assert list(other.compute.shared_galleries.list("eastus")) == []
    c.compute.gallery_sharing_profile.begin_update(
        RG,
        "sharedGallery",
        SharingUpdate(
            operation_type="Add", groups=[SharingProfileGroup(type="AADTenants", ids=[t2["tenantId"]])]
        ),
    ).result()
    assert [g.name for g in other.compute.shared_galleries.list("eastus")] == [unique]
    images = list(other.compute.shared_gallery_images.list("eastus", unique))
    assert [i.name for i in images] == ["shared"]
    vm = vmkit.linux_vm(other, "fab", "fromshared", shared_ref)
    assert vm.storage_profile.image_reference.shared_gallery_image_id == shared_ref.shared_gallery_image_id
    assert vm.storage_profile.image_reference.exact_version == "1.0.0"
    assert d.id


def test_delete_order(c, image):
    gk.gallery(c, RG, "delGallery")
    gk.definition(c, RG, "delGallery", "del")
    gk.version(c, RG, "delGallery", "del", "1.0.0", image_id=image.id)
    with pytest.raises(HttpResponseError) as info:
        c.compute.gallery_images.begin_delete(RG, "delGallery", "del").result()
    assert info.value.error.code == "CannotDeleteResource"
    c.compute.gallery_image_versions.begin_delete(RG, "delGallery", "del", "1.0.0").result()
    c.compute.gallery_images.begin_delete(RG, "delGallery", "del").result()
    c.compute.galleries.begin_delete(RG, "delGallery").result()
    with pytest.raises(ResourceNotFoundError):
        c.compute.galleries.get(RG, "delGallery")


def test_community_gallery_same_tenant_rbac_and_end_of_life(azemu, c, image):
    c.compute.galleries.begin_create_or_update(
        RG,
        "communityGallery",
        {
            "location": "eastus",
            "properties": {
                "sharingProfile": {
                    "permissions": "Private",
                    "communityGalleryInfo": {
                        "publisherUri": "https://example.org",
                        "publisherContact": "img@example.org",
                        "eula": "none",
                        "publicNamePrefix": "azemutest",
                    },
                }
            },
        },
    ).result()
    gk.definition(c, RG, "communityGallery", "pub")
    gk.version(c, RG, "communityGallery", "pub", "1.0.0", image_id=image.id)
    public = c.compute.galleries.get(
        RG, "communityGallery"
    ).sharing_profile.community_gallery_info.public_names[0]
    assert public.startswith("azemutest-")
    c.compute.gallery_sharing_profile.begin_update(
        RG, "communityGallery", SharingUpdate(operation_type="EnableCommunity")
    ).result()
    t3 = azemu.admin("POST", "/tenants", {"displayName": "Anyone"})
    s3 = azemu.admin("POST", f"/tenants/{t3['tenantId']}/subscriptions", {"displayName": "Anyone sub"})
    anyone = vmkit.clients(azemu, s3["subscriptionId"], t3["tenantId"], "any-app")
    vmkit.ensure_group(anyone, "pubuse")
    versions = list(anyone.compute.community_gallery_image_versions.list("eastus", public, "pub"))
    assert [v.name for v in versions] == ["1.0.0"]
    ref = ImageReference(
        community_gallery_image_id=f"/CommunityGalleries/{public}/Images/pub/Versions/latest"
    )
    vm = vmkit.linux_vm(anyone, "pubuse", "fromcommunity", ref)
    assert vm.storage_profile.image_reference.exact_version == "1.0.0"

    # same tenant, another subscription: reachable by id (RBAC within the tenant)
    s4 = azemu.admin("POST", f"/tenants/{azemu.tenant_id}/subscriptions", {"displayName": "Team B"})
    team_b = vmkit.clients(azemu, s4["subscriptionId"])
    vmkit.ensure_group(team_b, "teamb")
    version_id = c.compute.gallery_image_versions.get(RG, "communityGallery", "pub", "1.0.0").id
    assert (
        vmkit.linux_vm(team_b, "teamb", "crosssub", ImageReference(id=version_id)).provisioning_state
        == "Succeeded"
    )

    # end of life: a version past its end-of-life date still deploys, with a warning
    c.compute.gallery_image_versions.begin_update(
        RG,
        "communityGallery",
        "pub",
        "1.0.0",
        {"properties": {"publishingProfile": {"endOfLifeDate": "2099-01-01T00:00:00Z"}}},
    ).result()
    with pytest.raises(HttpResponseError) as info:
        c.compute.gallery_image_versions.begin_update(
            RG,
            "communityGallery",
            "pub",
            "1.0.0",
            {"properties": {"publishingProfile": {"endOfLifeDate": "2001-01-01T00:00:00Z"}}},
        ).result()
    assert info.value.error.message == "EndOfLifeDate must be set to a future date."
    azemu.admin("POST", "/clock", {"advance": 100 * 365 * 86400})
    old = vmkit.linux_vm(c, RG, "fromeol", ImageReference(id=version_id))
    assert old.provisioning_state == "Succeeded"
    assert any(
        s.code == "AzEmu/ImageEndOfLife"
        for s in c.compute.virtual_machines.instance_view(RG, "fromeol").statuses
    )


def test_version_from_snapshots_with_a_data_disk(azemu, c):
    src = vmkit.linux_vm(c, RG, "snapgalsrc")
    c.compute.virtual_machines.begin_deallocate(RG, "snapgalsrc").result()
    os_snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "gal-os-snap",
        {
            "location": "eastus",
            "properties": {
                "creationData": {
                    "createOption": "Copy",
                    "sourceResourceId": src.storage_profile.os_disk.managed_disk.id,
                }
            },
        },
    ).result()
    data = c.compute.disks.begin_create_or_update(
        RG,
        "gal-data",
        {"location": "eastus", "properties": {"diskSizeGB": 8, "creationData": {"createOption": "Empty"}}},
    ).result()
    gk.gallery(c, RG, "snapGallery")
    gk.definition(c, RG, "snapGallery", "snapdef", state="Specialized")
    v = c.compute.gallery_image_versions.begin_create_or_update(
        RG,
        "snapGallery",
        "snapdef",
        "1.0.0",
        {
            "location": "eastus",
            "properties": {
                "storageProfile": {
                    "osDiskImage": {"source": {"id": os_snap.id}},
                    "dataDiskImages": [{"lun": 1, "source": {"id": data.id}}],
                }
            },
        },
    ).result()
    assert [(d.lun, d.size_in_gb, d.host_caching) for d in v.storage_profile.data_disk_images] == [
        (1, 8, "ReadOnly")
    ]
    nic = vmkit.make_nic(c, RG, "snapclone-nic")
    vm = c.compute.virtual_machines.begin_create_or_update(
        RG,
        "snapclone",
        {
            "location": "eastus",
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "storageProfile": {"imageReference": {"id": v.id}},
                "networkProfile": {"networkInterfaces": [{"id": nic}]},
            },
        },
    ).result()
    assert [(d.lun, d.disk_size_gb) for d in vm.storage_profile.data_disks] == [(1, 8)]
    ident = azemu.admin("GET", "/guest/identity?vm=" + vm.id)
    assert ident["computerName"] == "snapgalsrc"  # specialized: the source's identity
