"""Azure Backup on azemu's clock, through the REST API the SDK and az use: a job's tasks under ``realistic``
latency, the tiers of a point as they appear, a failing backup ending its job ``Failed``, and a resource
group delete taking a vault with its points and their content."""

from __future__ import annotations

from typing import Any

from tests import vmkit

API = "api-version=2026-08-01"


def call(azemu: Any, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
    status, parsed, headers = azemu.request(method, path, body)
    if expect is not None:
        assert status == expect, (status, parsed)
    elif status >= 400:
        raise AssertionError(f"{method} {path}: {status} {parsed}")
    return parsed, headers


def setup(azemu: Any, rg: str, vm: str) -> tuple[str, str, Any]:
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, rg)
    machine = vmkit.linux_vm(c, rg, vm)
    vault = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/v"
    call(
        azemu,
        "PUT",
        f"{vault}?api-version=2026-07-01",
        {"location": "eastus", "sku": {"name": "Standard"}, "properties": {}},
    )
    item = f"{vault}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;{rg.lower()};{vm}/protectedItems/VM;iaasvmcontainerv2;{rg.lower()};{vm}"
    call(azemu, "PUT", f"{item}?{API}", {"properties": {
        "protectedItemType": "Microsoft.Compute/virtualMachines", "policyId": f"{vault}/backupPolicies/DefaultPolicy",
        "sourceResourceId": machine.id}}, expect=202)  # fmt: skip
    return vault, item, c


def job_of(azemu: Any, vault: str, headers: dict[str, str]) -> str:
    op = headers["azure-asyncoperation"].split("?")[0].rsplit("/", 1)[1]
    status, _ = call(azemu, "GET", f"{vault}/backupOperations/{op}?{API}")
    return str(status["properties"]["jobId"])


def test_a_backup_job_under_realistic_latency(azemu):
    vault, item, _c = setup(azemu, "clockRG", "vm1")
    azemu.admin("POST", "/clock", {"latency": "realistic"})
    try:
        _, headers = call(
            azemu,
            "POST",
            f"{item}/backup?{API}",
            {"properties": {"objectType": "IaasVMBackupRequest"}},
            expect=202,
        )
        job_path = f"{vault}/backupJobs/{job_of(azemu, vault, headers)}?{API}"
        job, _ = call(azemu, "GET", job_path)
        assert job["properties"]["status"] == "InProgress"
        assert [(t["taskId"], t["status"]) for t in job["properties"]["extendedInfo"]["tasksList"]] == [
            ("Take Snapshot", "InProgress"),
            ("Transfer data to vault", "NotStarted"),
        ]
        assert job["properties"]["actionsInfo"] == ["Cancellable"]
        points, _ = call(azemu, "GET", f"{item}/recoveryPoints?{API}")
        assert points["value"] == []

        azemu.admin(
            "POST", "/clock", {"advance": 301}
        )  # the snapshot is taken: the point, in its snapshot tier
        job, _ = call(azemu, "GET", job_path)
        assert [t["status"] for t in job["properties"]["extendedInfo"]["tasksList"]] == [
            "Completed",
            "InProgress",
        ]
        points, _ = call(azemu, "GET", f"{item}/recoveryPoints?{API}")
        assert [t["type"] for t in points["value"][0]["properties"]["recoveryPointTierDetails"]] == [
            "InstantRP"
        ]

        azemu.admin("POST", "/clock", {"advance": 1801})  # transferred to the vault
        job, _ = call(azemu, "GET", job_path)
        assert job["properties"]["status"] == "Completed"
        assert job["properties"]["duration"].startswith("PT35M")
        points, _ = call(azemu, "GET", f"{item}/recoveryPoints?{API}")
        tiers = points["value"][0]["properties"]["recoveryPointTierDetails"]
        assert tiers == [{"type": "InstantRP", "status": "Valid"}, {"type": "HardenedRP", "status": "Valid"}]

        azemu.admin("POST", "/clock", {"advance": 2 * 86400})  # DefaultPolicy keeps snapshots 2 days
        points, _ = call(azemu, "GET", f"{item}/recoveryPoints?{API}")
        tiers = points["value"][-1]["properties"]["recoveryPointTierDetails"]
        assert tiers[0] == {"type": "InstantRP", "status": "Deleted"}
    finally:
        azemu.admin("POST", "/clock", {"latency": "instant"})


def test_a_backup_of_a_deleted_vm_ends_its_job_failed(azemu):
    vault, item, c = setup(azemu, "goneRG", "vm2")
    c.compute.virtual_machines.begin_delete("goneRG", "vm2").result()
    _, headers = call(
        azemu,
        "POST",
        f"{item}/backup?{API}",
        {"properties": {"objectType": "IaasVMBackupRequest"}},
        expect=202,
    )
    job, _ = call(azemu, "GET", f"{vault}/backupJobs/{job_of(azemu, vault, headers)}?{API}")
    assert job["properties"]["status"] == "Failed"
    assert job["properties"]["errorDetails"][0]["errorCode"] == "UserErrorVmNotFoundV2"
    assert [t["status"] for t in job["properties"]["extendedInfo"]["tasksList"]] == ["Failed", "Failed"]
    listed, _ = call(azemu, "GET", f"{vault}/backupProtectedItems?{API}")
    assert listed["value"][0]["properties"]["lastBackupStatus"] == "Failed"


def test_a_group_delete_takes_the_vault_its_points_and_their_content(azemu):
    vault, item, c = setup(azemu, "cascadeRG", "vm3")
    vmkit.run(c, "cascadeRG", "vm3", "dd if=/dev/urandom of=/var/tmp/blob bs=1M count=8")
    call(
        azemu,
        "POST",
        f"{item}/backup?{API}",
        {"properties": {"objectType": "IaasVMBackupRequest"}},
        expect=202,
    )
    vmkit.run(c, "cascadeRG", "vm3", "rm /var/tmp/blob")  # only the point holds those 8 MiB now
    azemu.admin("POST", "/gc")
    before = azemu.admin("GET", "/content")["bytes"]
    c.rm.resource_groups.begin_delete("cascadeRG").result()
    azemu.admin("POST", "/gc")
    after = azemu.admin("GET", "/content")
    assert after["bytes"] <= before - 8 * 1024 * 1024
    assert after["missing"] == 0
    status, _, _ = azemu.request("GET", f"{vault}?api-version=2026-07-01")
    assert status == 404
