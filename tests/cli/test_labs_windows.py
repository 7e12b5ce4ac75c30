"""The Windows labs, each as a learner does it: `start` prepares the lab, `check` fails and says why, the
learner's steps run with the real az CLI, and `check` passes. One emulator for the module."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import requires_az
from tests.labkit import (
    PASSWORD,
    az,
    check,
    failing,
    finding,
    report,
    run_command,
    start,
    version_id,
    vm_id,
)

pytestmark = [requires_az, pytest.mark.az]
SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet"
SETUPERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"


def test_capture_windows(azemu):
    rg = start(azemu, "capture-windows")["resourceGroup"]
    before = check(azemu, "capture-windows")
    assert "ImageState is IMAGE_STATE_COMPLETE" in finding(before, "Sysprep")["found"]
    run_command(azemu, rg, "webVM", SYSPREP, windows=True)
    stopped = check(azemu, "capture-windows")  # Sysprep powered the guest off: stopped, still allocated
    assert "webVM is stopped but still allocated" in finding(stopped, "deallocated")["found"]
    assert finding(stopped, "Sysprep")["ok"]
    az(azemu, "vm", "deallocate", "-g", rg, "-n", "webVM")
    az(azemu, "vm", "generalize", "-g", rg, "-n", "webVM")
    az(
        azemu,
        "image",
        "create",
        "-g",
        rg,
        "-n",
        "webImage",
        "--source",
        "webVM",
        "--hyper-v-generation",
        "V2",
    )
    after = check(azemu, "capture-windows")
    assert after["passed"], report(after)
    assert (
        "In the image webImage: ImageState is IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
        in finding(after, "Sysprep")["found"]
    )


def test_dr_specialized(azemu):
    rg = start(azemu, "dr-specialized")["resourceGroup"]
    before = check(azemu, "dr-specialized")
    assert (
        "sqlVM itself is not generalized (no Sysprep, no az vm generalize): it stays in service"
        not in failing(before)
    )
    assert "Scenario 3" in finding(before, "sqlServer for specialized")["seed"]
    az(
        azemu, "sig", "image-definition", "create", "-g", rg, "-r", "drGallery", "-i", "sqlServer", "--publisher",
        "Contoso", "--offer", "SQL", "--sku", "dr", "--os-type", "Windows", "--os-state", "Specialized",
        "--hyper-v-generation", "V2",
    )  # fmt: skip
    az(
        azemu, "sig", "image-version", "create", "-g", rg, "-r", "drGallery", "-i", "sqlServer", "-e", "1.0.0",
        "--virtual-machine", vm_id(azemu, rg, "sqlVM"),
    )  # fmt: skip
    az(
        azemu, "vm", "create", "-g", rg, "-n", "sqlClone", "--image", version_id(azemu, rg, "drGallery", "sqlServer", "1.0.0"),
        "--specialized", "--admin-username", "azureuser", "--admin-password", PASSWORD, "--public-ip-address", "",
        "--nsg", "",
    )  # fmt: skip
    after = check(azemu, "dr-specialized")
    assert after["passed"], report(after)
    replica = finding(after, "exact replica")["found"]
    assert "sqlClone's computer name is sqlVM" in replica and "names FINANCE01" in replica
    flagged = finding(after, "flags the shared identity")
    assert flagged["advisory"] and "sid" in flagged["found"]


def test_trap_shared_sid(azemu):
    rg = start(azemu, "trap-shared-sid")["resourceGroup"]
    before = check(azemu, "trap-shared-sid")
    why = finding(before, "why")
    assert why["advisory"] and "ImageState IMAGE_STATE_COMPLETE" in why["found"] and "Trap 3" in why["seed"]
    conflicts = azemu.admin("GET", "/identity-conflicts")["value"]
    assert any(
        g["kind"] == "sid" and {v.rsplit("/", 1)[1] for v in g["virtualMachines"]} >= {"app1", "app2"}
        for g in conflicts
    )
    run_command(azemu, rg, "app1", SYSPREP, windows=True)
    az(azemu, "vm", "deallocate", "-g", rg, "-n", "app1")
    az(azemu, "vm", "generalize", "-g", rg, "-n", "app1")
    az(
        azemu,
        "image",
        "create",
        "-g",
        rg,
        "-n",
        "goldImage",
        "--source",
        "app1",
        "--hyper-v-generation",
        "V2",
    )
    az(
        azemu, "vm", "create", "-g", rg, "-n", "app3", "--image", "goldImage", "--admin-username", "azureuser",
        "--admin-password", PASSWORD, "--public-ip-address", "", "--nsg", "",
    )  # fmt: skip
    half = check(azemu, "trap-shared-sid")
    assert failing(half) == ["app2, the duplicate, is deleted"]
    az(azemu, "vm", "delete", "-g", rg, "-n", "app2", "--yes")
    after = check(azemu, "trap-shared-sid")
    assert after["passed"], report(after)
    assert "agent Ready" in finding(after, "app3 runs from goldImage")["found"]


def test_sysprep_fails(azemu):
    rg = start(azemu, "sysprep-fails")["resourceGroup"]
    query = urllib.parse.urlencode({"vm": vm_id(azemu, rg, "appServer"), "path": SETUPERR})

    run_command(azemu, rg, "appServer", SYSPREP, windows=True)
    _, log, _ = azemu.request("GET", f"/_azemu/guest/file?{query}")
    assert "Sysprep is not supported for this server role" in log
    first = check(azemu, "sysprep-fails")
    assert "Sysprep is not supported for this server role" in finding(first, "Sysprep /generalize")["found"]
    assert finding(first, "AD DS role")["found"] == "AD-Domain-Services is still installed."

    run_command(
        azemu,
        rg,
        "appServer",
        "Uninstall-WindowsFeature AD-Domain-Services | Out-Null",
        SYSPREP,
        windows=True,
    )
    _, log, _ = azemu.request("GET", f"/_azemu/guest/file?{query}")
    assert "Timed out after 30 minutes" in log  # the Defender scan holds Sysprep's files
    second = check(azemu, "sysprep-fails")
    assert finding(second, "AD DS role")["ok"]
    assert "Timed out after 30 minutes" in finding(second, "Sysprep /generalize")["found"]

    run_command(
        azemu, rg, "appServer", "Set-MpPreference -DisableRealtimeMonitoring $true", SYSPREP, windows=True
    )
    az(azemu, "vm", "deallocate", "-g", rg, "-n", "appServer")
    az(azemu, "vm", "generalize", "-g", rg, "-n", "appServer")
    az(
        azemu,
        "image",
        "create",
        "-g",
        rg,
        "-n",
        "appImage",
        "--source",
        "appServer",
        "--hyper-v-generation",
        "V2",
    )
    after = check(azemu, "sysprep-fails")
    assert after["passed"], report(after)
