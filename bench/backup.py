"""Azure Backup on the copy-on-write content store, in one run: 100 daily recovery points of a VM whose guest
changes 1 % of its content a day.

The VM holds 100 files of 4 MiB of random bytes (400 MiB); each day one file is rewritten with new random
bytes (1 % of the content, through Run Command, whose traces the guest rotates), then the policy's daily
backup runs on azemu's clock. Printed:

* bytes the content store holds after 100 points / the bytes of one full copy of the VM's content
  (target <= 2.0: the first point is one copy, each later one adds the day's change);
* the time of a disk restore from the newest point and from the oldest one, interleaved (target ~1: a
  point is a complete tree, never a chain of increments to replay).

Run: scripts/bench   (or .venv/bin/python -m bench.backup)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests import vmkit

from azemu.testing import AzemuServer

DAY = 86400
# the guest rotates its logs, as a long-lived server does: Run Command's traces (a script, its output and a
# log line per run) would otherwise grow every tree a little more each day
ROTATE = (
    "rm -rf /var/lib/waagent/run-command/download/* /var/lib/waagent/Microsoft.CPlat.Core.RunCommandLinux-1.0.5/"
    "config/* /var/lib/waagent/Microsoft.CPlat.Core.RunCommandLinux-1.0.5/status/*; : > "
    "/var/log/azure/run-command/handler.log"
)
FILES, FILE_MIB, POINTS = 100, 4, 100
RG, VAULT, VM = "bench", "benchVault", "data1"
API = "api-version=2026-08-01"


def call(emu: AzemuServer, method: str, path: str, body: Any = None) -> Any:
    status, parsed, _ = emu.request(method, path, body)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {parsed}")
    return parsed


def content_bytes(emu: AzemuServer) -> int:
    emu.admin("POST", "/gc")
    return int(emu.admin("GET", "/content")["bytes"])


def main() -> None:
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("AZEMU_BENCH_DIR")) as tmp,
        AzemuServer(data_dir=Path(tmp) / "data", in_memory=False) as emu,
    ):
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, RG)
        sub = emu.subscription_id
        vault = (
            f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
        )
        call(
            emu,
            "PUT",
            f"{vault}?api-version=2026-07-01",
            {"location": "eastus", "sku": {"name": "Standard"}, "properties": {}},
        )
        default = call(emu, "GET", f"{vault}/backupPolicies/DefaultPolicy?{API}")
        props = default["properties"]
        props["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 365
        call(emu, "PUT", f"{vault}/backupPolicies/Year?{API}", {"properties": props})

        vm = vmkit.linux_vm(c, RG, VM)
        vmkit.run(c, RG, VM, "mkdir -p /data", *[
            f"dd if=/dev/urandom of=/data/f{i:03d} bs=1M count={FILE_MIB}" for i in range(FILES)
        ], ROTATE)  # fmt: skip
        base = content_bytes(emu)  # the VM's content: one full copy (its OS disk, with the data)

        container, item = f"IaasVMContainer;iaasvmcontainerv2;{RG};{VM}", f"VM;iaasvmcontainerv2;{RG};{VM}"
        item_id = f"{vault}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}"
        call(emu, "PUT", f"{item_id}?{API}", {"properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines", "policyId": f"{vault}/backupPolicies/Year",
            "sourceResourceId": vm.id}})  # fmt: skip

        t0 = time.perf_counter()
        for day in range(POINTS):
            if day:  # the day's change: 1 % of the content, new random bytes
                vmkit.run(
                    c,
                    RG,
                    VM,
                    f"dd if=/dev/urandom of=/data/f{day % FILES:03d} bs=1M count={FILE_MIB}",
                    ROTATE,
                )
            emu.admin("POST", "/clock", {"advance": DAY})
        days_s = time.perf_counter() - t0
        points = call(emu, "GET", f"{item_id}/recoveryPoints?{API}")["value"]
        stored = content_bytes(emu)

        call(emu, "PUT", f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/benchsa?api-version=2025-06-01",
             {"location": "eastus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})  # fmt: skip
        c.rm.resource_groups.create_or_update("restores", {"location": "eastus"})
        newest, oldest = points[0], points[-1]

        def restore(point: dict[str, Any]) -> float:
            body = {"properties": {
                "objectType": "IaasVMRestoreRequest", "recoveryPointId": point["name"], "recoveryType": "RestoreDisks",
                "sourceResourceId": vm.id, "region": "eastus",
                "storageAccountId": f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/benchsa",
                "targetResourceGroupId": f"/subscriptions/{sub}/resourceGroups/restores",
                "createNewCloudService": False, "originalStorageAccountOption": False}}  # fmt: skip
            t = time.perf_counter()
            status, _, headers = emu.request("POST", f"{point['id']}/restore?{API}", body)
            assert status == 202, status
            op = headers["azure-asyncoperation"].split("?")[0].rsplit("/", 1)[1]
            job = call(emu, "GET", f"{vault}/backupOperations/{op}?{API}")["properties"]["jobId"]
            done = call(emu, "GET", f"{vault}/backupJobs/{job}?{API}")
            assert done["properties"]["status"] == "Completed", done
            return time.perf_counter() - t

        times: dict[str, list[float]] = {"newest": [], "oldest": []}
        for _ in range(15):  # interleaved: the same machine state for both
            times["newest"].append(restore(newest))
            times["oldest"].append(restore(oldest))
        new_s, old_s = statistics.median(times["newest"]), statistics.median(times["oldest"])

        full = base
        print(f"backup: {len(points)} daily recovery points of a {FILES * FILE_MIB} MiB VM, 1 % changed a day "
              f"({days_s:.1f} s for the {POINTS} days on azemu's clock)")  # fmt: skip
        print(
            f"  content store: {stored / 2**20:.1f} MiB for {len(points)} points; one full copy {full / 2**20:.1f} MiB"
        )
        print(f"  bytes stored / one full copy = {stored / full:.3f}   (target <= 2.0)")
        print(
            f"  restore (disks) from the newest point: {new_s * 1000:.1f} ms, from the oldest: {old_s * 1000:.1f} ms"
        )
        print(f"  restore time newest / oldest = {new_s / old_s:.2f}   (target ~1)")


if __name__ == "__main__":
    main()
