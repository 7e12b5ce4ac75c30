"""Azure Site Recovery (Azure to Azure) through the SDK ``azure-mgmt-recoveryservicessiterecovery`` - and the
seed's Scenario 3: a "SQL Server" Windows VM is failed over, stopped (not generalized), captured as a
specialized gallery version; two VMs from it share computer name and SID, azemu reports the conflicts, and
joining both to one domain fails on the second with Windows' duplicate-SID error.

Each test is one ordered story (tests are spread over workers)."""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute.models import (
    Gallery,
    GalleryArtifactVersionFullSource,
    GalleryImage,
    GalleryImageIdentifier,
    GalleryImageVersion,
    GalleryImageVersionStorageProfile,
    HardwareProfile,
    Image,
    ImageReference,
    NetworkInterfaceReference,
    NetworkProfile,
    OSDisk,
    StorageProfile,
    SubResource,
    VirtualMachine,
)
from azure.mgmt.network.models import AddressSpace, Subnet, VirtualNetwork
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservices.models import Sku, Vault, VaultProperties
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient
from azure.mgmt.recoveryservicessiterecovery import models as asr

from tests import vmkit

PRIMARY, RECOVERY = "eastus", "westus"


class _Bound:
    """The SDK's operation groups with the vault's resource group and name given once (every ASR call takes
    them first)."""

    def __init__(self, client: SiteRecoveryManagementClient, rg: str, vault: str) -> None:
        self._client, self._args = client, (rg, vault)

    def __getattr__(self, group: str) -> Any:
        ops = getattr(self._client, group)
        args = self._args

        class Group:
            def __getattr__(self, method: str) -> Any:
                return functools.partial(getattr(ops, method), *args)

        return Group()


class Dr:
    """A vault in the recovery region with the Azure-to-Azure setup: two fabrics, their containers, a
    policy and the mapping that pairs them."""

    def __init__(self, azemu: Any, rg: str, vault: str) -> None:
        self.c = vmkit.clients(azemu)
        cred, kw = azemu.credential(), azemu.client_kwargs
        self.rs = RecoveryServicesClient(cred, azemu.subscription_id, **kw)
        self.asr = _Bound(SiteRecoveryManagementClient(cred, azemu.subscription_id, **kw), rg, vault)
        self.rg, self.vault, self.sub = rg, vault, azemu.subscription_id
        vmkit.ensure_group(self.c, rg, RECOVERY)
        self.rs.vaults.begin_create_or_update(
            rg, vault, Vault(location=RECOVERY, sku=Sku(name="Standard"), properties=VaultProperties())
        ).result()
        self.fabric = {}
        self.container = {}
        for region in (PRIMARY, RECOVERY):
            name = f"asr-a2a-default-{region}"
            self.fabric[region] = self.asr.replication_fabrics.begin_create(
                name,
                asr.FabricCreationInput(
                    properties=asr.FabricCreationInputProperties(
                        custom_details=asr.AzureFabricCreationInput(location=region)
                    )
                ),
            ).result()
            self.container[region] = self.asr.replication_protection_containers.begin_create(
                name,
                f"{name}-container",
                asr.CreateProtectionContainerInput(
                    properties=asr.CreateProtectionContainerInputProperties(
                        provider_specific_input=[asr.A2AContainerCreationInput()]
                    )
                ),
            ).result()
        self.policy = self.asr.replication_policies.begin_create(
            "24-hour-retention-policy",
            asr.CreatePolicyInput(
                properties=asr.CreatePolicyInputProperties(
                    provider_specific_input=asr.A2APolicyCreationInput(
                        recovery_point_history=1440,
                        app_consistent_frequency_in_minutes=240,
                        multi_vm_sync_status="Enable",
                    )
                )
            ),
        ).result()
        self.asr.replication_protection_container_mappings.begin_create(
            self.fabric[PRIMARY].name,
            self.container[PRIMARY].name,
            "primary-to-recovery",
            asr.CreateProtectionContainerMappingInput(
                properties=asr.CreateProtectionContainerMappingInputProperties(
                    target_protection_container_id=self.container[RECOVERY].id,
                    policy_id=self.policy.id,
                    provider_specific_input=asr.A2AContainerMappingInput(agent_auto_update_status="Disabled"),
                )
            ),
        ).result()

    def enable(self, vm: VirtualMachine, target_rg: str) -> asr.ReplicationProtectedItem:
        return self.asr.replication_protected_items.begin_create(
            self.fabric[PRIMARY].name,
            self.container[PRIMARY].name,
            vm.name,
            asr.EnableProtectionInput(
                properties=asr.EnableProtectionInputProperties(
                    policy_id=self.policy.id,
                    provider_specific_details=asr.A2AEnableProtectionInput(
                        fabric_object_id=vm.id,
                        recovery_container_id=self.container[RECOVERY].id,
                        recovery_resource_group_id=f"/subscriptions/{self.sub}/resourceGroups/{target_rg}",
                    ),
                )
            ),
        ).result()

    def item(self, name: str) -> asr.ReplicationProtectedItem:
        return self.asr.replication_protected_items.get(
            self.fabric[PRIMARY].name, self.container[PRIMARY].name, name
        )

    def points(self, name: str) -> list[asr.RecoveryPoint]:
        return list(
            self.asr.recovery_points.list_by_replication_protected_items(
                self.fabric[PRIMARY].name, self.container[PRIMARY].name, name
            )
        )

    @property
    def where(self) -> tuple[str, str]:
        return self.fabric[PRIMARY].name, self.container[PRIMARY].name


def guest_file(azemu: Any, vm_id: str, path: str) -> str | None:
    status, body, _ = azemu.request(
        "GET", "/_azemu/guest/file?" + urllib.parse.urlencode({"vm": vm_id, "path": path})
    )
    return None if status == 404 else body if isinstance(body, str) else str(body)


def vnet(c: vmkit.Clients, rg: str, name: str, location: str) -> VirtualNetwork:
    return c.network.virtual_networks.begin_create_or_update(
        rg,
        name,
        VirtualNetwork(
            location=location,
            address_space=AddressSpace(address_prefixes=["10.9.0.0/16"]),
            subnets=[Subnet(name="default", address_prefix="10.9.0.0/24")],
        ),
    ).result()


def test_scenario_3_failover_then_specialized_image_and_duplicate_sids(azemu):
    dr = Dr(azemu, "drRG", "drVault")
    c = dr.c
    vmkit.ensure_group(c, "sqlRG", PRIMARY)
    sql = vmkit.windows_vm(c, "sqlRG", "sql1")
    vmkit.run(
        c, "sqlRG", "sql1", "Set-Content -Path C:\\Users\\Public\\orders.mdf -Value 'orders v1'", windows=True
    )

    item = dr.enable(sql, "drRG")
    assert item.properties.protection_state == "Protected"
    assert item.properties.active_location == "Primary"
    assert item.properties.provider_specific_details.recovery_fabric_location == RECOVERY
    first = dr.points("sql1")
    assert first and first[0].properties.recovery_point_type == "ApplicationConsistent"  # VSS in the guest
    chosen = first[0]

    # the guest changes after the point; a later point has the change
    vmkit.run(
        c, "sqlRG", "sql1", "Set-Content -Path C:\\Users\\Public\\orders.mdf -Value 'orders v2'", windows=True
    )
    azemu.admin("POST", "/clock", {"advance": 5 * 60 + 1})
    assert len(dr.points("sql1")) == len(first) + 1
    assert dr.item("sql1").properties.provider_specific_details.rpo_in_seconds is not None

    # a test failover into an isolated network, then its cleanup
    isolated = vnet(c, "drRG", "isolated", RECOVERY)
    fabric, container = dr.where
    done = dr.asr.replication_protected_items.begin_test_failover(
        fabric,
        container,
        "sql1",
        asr.TestFailoverInput(
            properties=asr.TestFailoverInputProperties(
                failover_direction="PrimaryToRecovery",
                network_type="VmNetworkAsInput",
                network_id=isolated.id,
                provider_specific_details=asr.A2ATestFailoverInput(recovery_point_id=chosen.id),
            )
        ),
    ).result()
    assert done.properties.test_failover_state == "TestFailoverCompleted"
    test_vm = c.compute.virtual_machines.get("drRG", "sql1-test")
    nic = c.network.network_interfaces.get(
        "drRG", test_vm.network_profile.network_interfaces[0].id.rsplit("/", 1)[1]
    )
    assert nic.ip_configurations[0].subnet.id.lower().startswith(isolated.id.lower())
    dr.asr.replication_protected_items.begin_test_failover_cleanup(
        fabric,
        container,
        "sql1",
        asr.TestFailoverCleanupInput(properties=asr.TestFailoverCleanupInputProperties(comments="ok")),
    ).result()
    with pytest.raises(HttpResponseError):
        c.compute.virtual_machines.get("drRG", "sql1-test")
    assert dr.item("sql1").properties.last_successful_test_failover_time is not None

    # unplanned failover to the chosen (earlier) point: the VM in the recovery region is that point's copy
    failed = dr.asr.replication_protected_items.begin_unplanned_failover(
        fabric,
        container,
        "sql1",
        asr.UnplannedFailoverInput(
            properties=asr.UnplannedFailoverInputProperties(
                failover_direction="PrimaryToRecovery",
                source_site_operations="NotRequired",
                provider_specific_details=asr.A2AUnplannedFailoverInput(recovery_point_id=chosen.id),
            )
        ),
    ).result()
    assert failed.properties.protection_state == "UnplannedFailoverCommitPendingStatesBegin"
    assert failed.properties.active_location == "Recovery"
    recovered = c.compute.virtual_machines.get("drRG", "sql1")
    assert recovered.location == RECOVERY
    assert "orders v1" in (guest_file(azemu, recovered.id, "C:\\Users\\Public\\orders.mdf") or "")
    src_id = azemu.admin("GET", f"/guest/identity?vm={sql.id}")
    dst_id = azemu.admin("GET", f"/guest/identity?vm={recovered.id}")
    assert (dst_id["sid"], dst_id["computerName"]) == (src_id["sid"], src_id["computerName"])  # specialized
    committed = dr.asr.replication_protected_items.begin_failover_commit(fabric, container, "sql1").result()
    assert committed.properties.protection_state == "UnplannedFailoverCommitted"
    assert dr.points("sql1") == []

    # Scenario 3: stop the failed-over VM, do NOT generalize, capture a specialized image of it
    c.compute.virtual_machines.begin_deallocate("drRG", "sql1").result()
    with pytest.raises(HttpResponseError) as refused:  # a managed image needs a generalized VM, as in Azure
        c.compute.images.begin_create_or_update(
            "drRG", "sql-image", Image(location=RECOVERY, source_virtual_machine=SubResource(id=recovered.id))
        ).result()
    assert refused.value.status_code == 409
    c.compute.galleries.begin_create_or_update("drRG", "forensics", Gallery(location=RECOVERY)).result()
    c.compute.gallery_images.begin_create_or_update(
        "drRG",
        "forensics",
        "sql-specialized",
        GalleryImage(
            location=RECOVERY,
            os_type="Windows",
            os_state="Specialized",
            hyper_v_generation="V2",
            identifier=GalleryImageIdentifier(publisher="Contoso", offer="SQL", sku="forensics"),
        ),
    ).result()
    version = c.compute.gallery_image_versions.begin_create_or_update(
        "drRG",
        "forensics",
        "sql-specialized",
        "1.0.0",
        GalleryImageVersion(
            location=RECOVERY,
            storage_profile=GalleryImageVersionStorageProfile(
                source=GalleryArtifactVersionFullSource(virtual_machine_id=recovered.id)
            ),
        ),
    ).result()
    clones = []
    for name in ("forensic1", "forensic2"):
        nic_id = vmkit.make_nic(c, "drRG", f"{name}-nic", RECOVERY)
        clones.append(
            c.compute.virtual_machines.begin_create_or_update(
                "drRG",
                name,
                VirtualMachine(
                    location=RECOVERY,
                    hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
                    storage_profile=StorageProfile(
                        image_reference=ImageReference(id=version.id),
                        os_disk=OSDisk(create_option="FromImage"),
                    ),
                    network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic_id)]),
                ),
            ).result()
        )
    ids = [azemu.admin("GET", f"/guest/identity?vm={v.id}") for v in clones]
    assert ids[0]["sid"] == ids[1]["sid"] == src_id["sid"]
    assert ids[0]["computerName"] == ids[1]["computerName"] == src_id["computerName"]
    conflicts = azemu.admin("GET", "/identity-conflicts")
    sid_group = next(g for g in conflicts["value"] if g["kind"] == "sid")
    assert {v.id.lower() for v in clones} <= {x.lower() for x in sid_group["virtualMachines"]}
    statuses = vmkit.statuses(c, "drRG", "forensic2")
    assert "AzEmu/IdentityConflict/sid" in statuses

    # joining both to one domain: the second clone is refused, as Windows refuses a duplicate SID
    join = "Add-Computer -DomainName contoso.com -Force"
    first_join = vmkit.run(c, "drRG", "forensic1", join, windows=True)
    assert "failed to join" not in first_join.value[1].message
    second = vmkit.run(c, "drRG", "forensic2", join, windows=True)
    error = second.value[1].message
    assert "failed to join domain 'contoso.com'" in error
    assert (
        "The domain join cannot be completed because the SID of the domain you attempted to join was identical "
        "to the SID of this machine" in error
    )


def test_reprotect_fail_back_and_recovery_plans(azemu):
    dr = Dr(azemu, "dr2RG", "dr2Vault")
    c = dr.c
    vmkit.ensure_group(c, "appRG", PRIMARY)
    app = vmkit.linux_vm(c, "appRG", "app1")
    vmkit.run(c, "appRG", "app1", "echo primary > /srv/state")
    dr.enable(app, "dr2RG")
    fabric, container = dr.where

    # a recovery plan with groups: test failover and its cleanup through the plan
    plan = dr.asr.replication_recovery_plans.begin_create(
        "app-plan",
        asr.CreateRecoveryPlanInput(
            properties=asr.CreateRecoveryPlanInputProperties(
                primary_fabric_id=dr.fabric[PRIMARY].id,
                recovery_fabric_id=dr.fabric[RECOVERY].id,
                failover_deployment_model="ResourceManager",
                groups=[
                    asr.RecoveryPlanGroup(group_type="Shutdown"),
                    asr.RecoveryPlanGroup(group_type="Failover"),
                    asr.RecoveryPlanGroup(
                        group_type="Boot",
                        replication_protected_items=[
                            asr.RecoveryPlanProtectedItem(id=dr.item("app1").id, virtual_machine_id=app.id)
                        ],
                    ),
                ],
            )
        ),
    ).result()
    assert [g.group_type for g in plan.properties.groups] == ["Shutdown", "Failover", "Boot"]
    isolated = vnet(c, "dr2RG", "isolated", RECOVERY)
    dr.asr.replication_recovery_plans.begin_test_failover(
        "app-plan",
        asr.RecoveryPlanTestFailoverInput(
            properties=asr.RecoveryPlanTestFailoverInputProperties(
                failover_direction="PrimaryToRecovery",
                network_type="VmNetworkAsInput",
                network_id=isolated.id,
            )
        ),
    ).result()
    assert c.compute.virtual_machines.get("dr2RG", "app1-test").location == RECOVERY
    dr.asr.replication_recovery_plans.begin_test_failover_cleanup(
        "app-plan",
        asr.RecoveryPlanTestFailoverCleanupInput(
            properties=asr.RecoveryPlanTestFailoverCleanupInputProperties()
        ),
    ).result()
    jobs = list(dr.asr.replication_jobs.list())
    assert {"TestFailover", "TestFailoverCleanup", "EnableDr"} <= {j.properties.scenario_name for j in jobs}
    assert all(j.properties.state == "Succeeded" for j in jobs)

    # planned failover through the plan: the source shuts down first, nothing is lost
    vmkit.run(c, "appRG", "app1", "echo last-write > /srv/state")
    dr.asr.replication_recovery_plans.begin_planned_failover(
        "app-plan",
        asr.RecoveryPlanPlannedFailoverInput(
            properties=asr.RecoveryPlanPlannedFailoverInputProperties(failover_direction="PrimaryToRecovery")
        ),
    ).result()
    assert "PowerState/stopped" in vmkit.statuses(c, "appRG", "app1")
    moved = c.compute.virtual_machines.get("dr2RG", "app1")
    assert (guest_file(azemu, moved.id, "/srv/state") or "").strip() == "last-write"
    dr.asr.replication_recovery_plans.begin_failover_commit("app-plan").result()

    # re-protect (now replicating back to the primary region), change the guest, fail back, commit
    item = dr.asr.replication_protected_items.begin_reprotect(
        fabric,
        container,
        "app1",
        asr.ReverseReplicationInput(
            properties=asr.ReverseReplicationInputProperties(
                failover_direction="RecoveryToPrimary",
                provider_specific_details=asr.A2AReprotectInput(
                    recovery_container_id=dr.container[PRIMARY].id,
                    recovery_resource_group_id=f"/subscriptions/{dr.sub}/resourceGroups/appRG",
                    policy_id=dr.policy.id,
                ),
            )
        ),
    ).result()
    assert item.properties.protection_state == "Protected"
    assert item.properties.provider_specific_details.primary_fabric_location == RECOVERY
    vmkit.run(c, "dr2RG", "app1", "echo written-in-recovery > /srv/state")
    azemu.admin("POST", "/clock", {"advance": 5 * 60 + 1})
    back = dr.asr.replication_protected_items.begin_unplanned_failover(
        fabric,
        container,
        "app1",
        asr.UnplannedFailoverInput(
            properties=asr.UnplannedFailoverInputProperties(
                failover_direction="RecoveryToPrimary", source_site_operations="Required"
            )
        ),
    ).result()
    assert back.properties.active_location == "Primary"
    assert (guest_file(azemu, app.id, "/srv/state") or "").strip() == "written-in-recovery"
    assert "PowerState/running" in vmkit.statuses(c, "appRG", "app1")
    dr.asr.replication_protected_items.begin_failover_commit(fabric, container, "app1").result()

    # wrong-direction and out-of-order requests are refused
    with pytest.raises(HttpResponseError):
        dr.asr.replication_protected_items.begin_failover_commit(fabric, container, "app1").result()
