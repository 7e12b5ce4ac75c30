"""Azure Backup with the real az CLI: protect a VM, back it up, change the guest, restore - as a new VM, as
disks plus the template Azure writes, over the original -, and from the restored VM make the seed's
"specialized or generalized image". Stop protection, soft delete, undelete; retention on azemu's clock.

Each test is one ordered story (tests are spread over workers)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
DAY = 86400


def az(azemu: Any, *args: str) -> Any:
    return azemu.az_json(*args)


def ok(azemu: Any, *args: str) -> None:
    done = azemu.az(*args, "-o", "none")
    assert done.returncode == 0, done.stderr


def guest_file(azemu: Any, vm_id: str, path: str) -> str | None:
    status, body, _ = azemu.request(
        "GET", "/_azemu/guest/file?" + urllib.parse.urlencode({"vm": vm_id, "path": path})
    )
    return None if status == 404 else body if isinstance(body, str) else str(body)


def protect(azemu: Any, c: vmkit.Clients, rg: str, vault: str, vm: str) -> None:
    ok(azemu, "backup", "vault", "create", "-g", rg, "-n", vault, "-l", "eastus")
    job = az(
        azemu,
        "backup",
        "protection",
        "enable-for-vm",
        "-g",
        rg,
        "-v",
        vault,
        "--vm",
        vm,
        "--policy-name",
        "DefaultPolicy",
    )
    assert job["properties"]["operation"] == "ConfigureBackup"
    assert job["properties"]["status"] == "Completed"


def item_args(rg: str, vault: str, vm: str) -> list[str]:
    return ["-g", rg, "-v", vault, "-c", vm, "-i", vm, "--backup-management-type", "AzureIaasVM"]


def test_backup_then_restore_as_a_new_vm_and_images_from_it(azemu):
    c = vmkit.clients(azemu)
    rg, vault = "bkRG", "bkVault"
    vmkit.ensure_group(c, rg)
    source = vmkit.linux_vm(c, rg, "web1", vmkit.UBUNTU2204)
    vmkit.run(c, rg, "web1", "mkdir -p /srv/data && echo 'orders v1' > /srv/data/orders.txt")
    protect(azemu, c, rg, vault, "web1")

    job = az(
        azemu,
        "backup",
        "protection",
        "backup-now",
        *item_args(rg, vault, "web1"),
        "--retain-until",
        "31-12-2099",
    )
    assert job["properties"]["operation"] == "Backup"
    waited = az(azemu, "backup", "job", "wait", "-g", rg, "-v", vault, "-n", job["name"])
    assert waited["properties"]["status"] == "Completed"
    tasks = [t["taskId"] for t in waited["properties"]["extendedInfo"]["tasksList"]]
    assert tasks == ["Take Snapshot", "Transfer data to vault"]
    points = az(azemu, "backup", "recoverypoint", "list", "-g", rg, "-v", vault, "-c", "web1", "-i", "web1",
                "--backup-management-type", "AzureIaasVM")  # fmt: skip
    assert len(points) == 1
    rp = points[0]
    assert rp["properties"]["recoveryPointType"] == "FileSystemConsistent"  # a running Linux guest
    assert [t["type"] for t in rp["properties"]["recoveryPointTierDetails"]] == ["InstantRP", "HardenedRP"]
    item = az(azemu, "backup", "item", "show", "-g", rg, "-v", vault, "-c", "web1", "-n", "web1",
              "--backup-management-type", "AzureIaasVM")  # fmt: skip
    assert item["properties"]["protectionState"] == "Protected"

    # the guest changes after the backup
    vmkit.run(c, rg, "web1", "echo 'orders v2' > /srv/data/orders.txt")

    # restore as a new VM (alternate location): the point's content, the source's identity
    ok(azemu, "group", "create", "-n", "restoreRG", "-l", "eastus")
    ok(
        azemu,
        "storage",
        "account",
        "create",
        "-n",
        "bkstaging1",
        "-g",
        rg,
        "-l",
        "eastus",
        "--sku",
        "Standard_LRS",
    )
    vnet = c.network.virtual_networks.list(rg).__next__()
    restore = az(azemu, "backup", "restore", "restore-disks", "-g", rg, "-v", vault, "-c", "web1", "-i", "web1",
                 "-r", rp["name"], "--storage-account", "bkstaging1", "--target-resource-group", "restoreRG",
                 "--restore-mode", "AlternateLocation", "--target-vm-name", "web1-restored",
                 "--target-vnet-name", vnet.name, "--target-vnet-resource-group", rg,
                 "--target-subnet-name", vnet.subnets[0].name)  # fmt: skip
    assert restore["properties"]["operation"] == "Restore"
    assert restore["properties"]["status"] == "Completed"
    restored = c.compute.virtual_machines.get("restoreRG", "web1-restored")
    assert (guest_file(azemu, restored.id, "/srv/data/orders.txt") or "").strip() == "orders v1"
    assert (guest_file(azemu, source.id, "/srv/data/orders.txt") or "").strip() == "orders v2"
    src = azemu.admin("GET", f"/guest/identity?vm={source.id}")
    dst = azemu.admin("GET", f"/guest/identity?vm={restored.id}")
    assert (dst["computerName"], dst["machineId"], dst["sshHostKeys"]) == (
        src["computerName"],
        src["machineId"],
        src["sshHostKeys"],
    )
    codes = vmkit.statuses(c, "restoreRG", "web1-restored")
    assert "OSState/specialized" in codes
    assert "AzEmu/IdentityConflict/machineId" in codes  # the source still runs

    # a specialized gallery version straight from the restored VM ...
    ok(azemu, "sig", "create", "-g", "restoreRG", "-r", "restored")
    ok(azemu, "sig", "image-definition", "create", "-g", "restoreRG", "-r", "restored", "-i", "web-specialized",
       "--publisher", "Contoso", "--offer", "Web", "--sku", "restored", "--os-type", "Linux", "--os-state",
       "specialized")  # fmt: skip
    version = az(azemu, "sig", "image-version", "create", "-g", "restoreRG", "-r", "restored", "-i", "web-specialized",
                 "-e", "1.0.0", "--virtual-machine", restored.id)  # fmt: skip
    assert version["provisioningState"] == "Succeeded"
    # ... and, once generalized, a generalized managed image of it
    vmkit.run(c, "restoreRG", "web1-restored", "sudo waagent -deprovision+user -force")
    ok(azemu, "vm", "deallocate", "-g", "restoreRG", "-n", "web1-restored")
    ok(azemu, "vm", "generalize", "-g", "restoreRG", "-n", "web1-restored")
    image = az(azemu, "image", "create", "-g", "restoreRG", "-n", "web-generalized", "--source", "web1-restored",
               "--hyper-v-generation", "V2")  # fmt: skip
    assert image["provisioningState"] == "Succeeded"


def test_restore_disks_writes_the_template_that_recreates_the_vm(azemu):
    c = vmkit.clients(azemu)
    rg, vault = "tplRG", "tplVault"
    vmkit.ensure_group(c, rg)
    vmkit.linux_vm(c, rg, "db1", vmkit.UBUNTU2204)
    vmkit.run(c, rg, "db1", "echo 'state at backup' > /srv/state")
    protect(azemu, c, rg, vault, "db1")
    ok(azemu, "backup", "protection", "backup-now", *item_args(rg, vault, "db1"))
    rp = az(azemu, "backup", "recoverypoint", "list", "-g", rg, "-v", vault, "-c", "db1", "-i", "db1",
            "--backup-management-type", "AzureIaasVM")[0]  # fmt: skip
    ok(azemu, "group", "create", "-n", "tplTarget", "-l", "eastus")
    ok(azemu, "storage", "account", "create", "-n", "tplstaging1", "-g", rg, "-l", "eastus")
    job = az(azemu, "backup", "restore", "restore-disks", "-g", rg, "-v", vault, "-c", "db1", "-i", "db1", "-r",
             rp["name"], "--storage-account", "tplstaging1", "--target-resource-group", "tplTarget")  # fmt: skip
    bag = job["properties"]["extendedInfo"]["propertyBag"]
    assert bag["Job Type"] == "Recover disks"
    assert bag["Target resource group"] == "tplTarget"
    assert bag["Template Blob Uri"].startswith("https://tplstaging1.blob.core.windows.net/")
    disks = az(azemu, "disk", "list", "-g", "tplTarget")
    assert [d["diskState"] for d in disks] == ["Unattached"]
    # the template and the VM configuration are readable through their SAS URLs
    template = azemu.request("GET", "/" + bag["Template Blob Sas Uri"].split("/", 3)[3])[1]
    assert {r["type"] for r in template["resources"]} == {
        "Microsoft.Network/networkInterfaces",
        "Microsoft.Compute/virtualMachines",
    }
    status, _body, _ = azemu.request("GET", "/" + bag["Template Blob Uri"].split("/", 3)[3].split("?")[0])
    assert status != 200  # no SAS, no blob
    # deployed as Azure's documentation does it: az deployment group create --template-uri
    ok(azemu, "network", "vnet", "create", "-g", "tplTarget", "-n", "tplVnet", "--subnet-name", "default")
    ok(azemu, "deployment", "group", "create", "-g", "tplTarget", "--template-uri", bag["Template Blob Sas Uri"],
       "--parameters", "VirtualMachineName=db1-restored", "VirtualNetwork=tplVnet", "Subnet=default")  # fmt: skip
    vm = c.compute.virtual_machines.get("tplTarget", "db1-restored")
    assert vm.storage_profile.os_disk.create_option == "Attach"
    assert (guest_file(azemu, vm.id, "/srv/state") or "").strip() == "state at backup"

    # original-location restore: the source VM's disks take the point back
    vmkit.run(c, rg, "db1", "echo 'damaged' > /srv/state")
    source = c.compute.virtual_machines.get(rg, "db1")
    ok(azemu, "backup", "restore", "restore-disks", "-g", rg, "-v", vault, "-c", "db1", "-i", "db1", "-r",
       rp["name"], "--storage-account", "tplstaging1", "--restore-mode", "OriginalLocation")  # fmt: skip
    assert (guest_file(azemu, source.id, "/srv/state") or "").strip() == "state at backup"


def test_stop_protection_soft_delete_undelete_and_resume(azemu):
    c = vmkit.clients(azemu)
    rg, vault = "sdRG", "sdVault"
    vmkit.ensure_group(c, rg)
    vmkit.linux_vm(c, rg, "app1")
    protect(azemu, c, rg, vault, "app1")
    ok(azemu, "backup", "protection", "backup-now", *item_args(rg, vault, "app1"))
    config = az(azemu, "backup", "vault", "backup-properties", "show", "-g", rg, "-n", vault)
    assert config[0]["properties"]["storageTypeState"] == "Locked"
    assert config[1]["properties"]["softDeleteFeatureState"] == "AlwaysON"  # az creates vaults so
    refused = azemu.az("backup", "vault", "backup-properties", "set", "-g", rg, "-n", vault,
                       "--backup-storage-redundancy", "LocallyRedundant")  # fmt: skip
    assert refused.returncode != 0
    assert (
        "Storage Redundancy option is locked when the first machine is registered with the vault"
        in refused.stderr
    )

    show = [
        "backup",
        "item",
        "show",
        "-g",
        rg,
        "-v",
        vault,
        "-c",
        "app1",
        "-n",
        "app1",
        "--backup-management-type",
        "AzureIaasVM",
    ]
    ok(azemu, "backup", "protection", "disable", *item_args(rg, vault, "app1"), "--yes")
    item = az(azemu, *show)
    assert item["properties"]["protectionState"] == "ProtectionStopped"
    assert item["properties"]["extendedInfo"]["recoveryPointCount"] == 1  # data retained

    ok(
        azemu,
        "backup",
        "protection",
        "disable",
        *item_args(rg, vault, "app1"),
        "--delete-backup-data",
        "true",
        "--yes",
    )
    item = az(azemu, *show)
    assert item["properties"]["isScheduledForDeferredDelete"] is True
    assert item["properties"]["deferredDeleteTimeRemaining"].startswith("13.23:") or item["properties"][
        "deferredDeleteTimeRemaining"
    ].startswith("14.00:")
    blocked = azemu.az("backup", "vault", "delete", "-g", rg, "-n", vault, "--yes")
    assert blocked.returncode != 0
    assert "Vault cannot be deleted as there are existing resources within the vault" in blocked.stderr

    ok(azemu, "backup", "protection", "undelete", *item_args(rg, vault, "app1"))
    assert az(azemu, *show)["properties"]["isScheduledForDeferredDelete"] is False
    ok(
        azemu,
        "backup",
        "protection",
        "resume",
        *item_args(rg, vault, "app1"),
        "--policy-name",
        "DefaultPolicy",
    )
    item = az(azemu, *show)
    assert (item["properties"]["protectionState"], item["properties"]["policyName"]) == (
        "Protected",
        "DefaultPolicy",
    )
    operations = [
        j["properties"]["operation"] for j in az(azemu, "backup", "job", "list", "-g", rg, "-v", vault)
    ]
    assert {"ConfigureBackup", "Backup", "DisableBackup", "DeleteBackupData", "Undelete"} <= set(operations)

    # soft-deleted for 14 days on azemu's clock, then gone with its points
    ok(
        azemu,
        "backup",
        "protection",
        "disable",
        *item_args(rg, vault, "app1"),
        "--delete-backup-data",
        "true",
        "--yes",
    )
    azemu.admin("POST", "/clock", {"advance": 14 * DAY + 60})
    assert az(azemu, "backup", "item", "list", "-g", rg, "-v", vault) == []
    ok(azemu, "backup", "vault", "delete", "-g", rg, "-n", vault, "--yes")


def test_scheduled_backups_and_retention_free_content(azemu):
    """A daily policy kept 7 days, the guest writing new data every day: the schedule takes a point a day,
    retention removes the oldest, and the content store gives their bytes back."""
    c = vmkit.clients(azemu)
    rg, vault = "retRG", "retVault"
    vmkit.ensure_group(c, rg)
    vmkit.linux_vm(c, rg, "log1")
    ok(azemu, "backup", "vault", "create", "-g", rg, "-n", vault, "-l", "eastus")
    policy = az(azemu, "backup", "policy", "get-default-for-vm", "-g", rg, "-v", vault)
    policy["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    created = az(azemu, "backup", "policy", "create", "-g", rg, "-v", vault, "-n", "Week", "--policy", json.dumps(policy),
                 "--backup-management-type", "AzureIaasVM")  # fmt: skip
    assert created["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 7
    ok(
        azemu,
        "backup",
        "protection",
        "enable-for-vm",
        "-g",
        rg,
        "-v",
        vault,
        "--vm",
        "log1",
        "--policy-name",
        "Week",
    )

    def stored() -> int:
        azemu.admin("POST", "/gc")
        return int(azemu.admin("GET", "/content")["bytes"])

    def day(n: int) -> None:  # a day of new data (a 2 MiB file of its own), then the day's backup
        vmkit.run(c, rg, "log1", f"dd if=/dev/urandom of=/var/log/day{n}.bin bs=1M count=2")
        azemu.admin("POST", "/clock", {"advance": DAY})

    for n in range(8):
        day(n)
    points = az(azemu, "backup", "recoverypoint", "list", "-g", rg, "-v", vault, "-c", "log1", "-i", "log1",
                "--backup-management-type", "AzureIaasVM")  # fmt: skip
    assert 6 <= len(points) <= 8
    peak = stored()
    # the guest deletes its old data; once the points holding it expire, its bytes go
    vmkit.run(c, rg, "log1", "rm -f /var/log/day*.bin")
    for _ in range(9):
        azemu.admin("POST", "/clock", {"advance": DAY})
    points = az(azemu, "backup", "recoverypoint", "list", "-g", rg, "-v", vault, "-c", "log1", "-i", "log1",
                "--backup-management-type", "AzureIaasVM")  # fmt: skip
    assert 6 <= len(points) <= 8
    assert stored() < peak - 8 * 2 * 1024 * 1024
