"""Windows VMs through the Azure SDK: Sysprep inside the guest, its failures, the generalize flag, OOBE."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from azure.core.exceptions import HttpResponseError

from tests import vmkit

RG = "winRG"
STATE_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet"


@pytest.fixture(scope="module")
def c(azemu):
    clients = vmkit.clients(azemu)
    vmkit.ensure_group(clients, RG)
    return clients


def reg(azemu, vm_id: str, key: str, name: str):
    q = urllib.parse.urlencode({"vm": vm_id, "key": key, "name": name})
    status, body, _ = azemu.request("GET", "/_azemu/guest/registry?" + q)
    return body["value"] if status == 200 else None


def ps(c, vm: str, *lines: str) -> tuple[str, str]:
    result = vmkit.run(c, RG, vm, *lines, windows=True)
    out = {v.code: v.message for v in result.value}
    return out["ComponentStatus/StdOut/succeeded"], out["ComponentStatus/StdErr/succeeded"]


def test_windows_vm_first_boot_identity(azemu, c):
    vm = vmkit.windows_vm(c, RG, "winvm1")
    view = c.compute.virtual_machines.instance_view(RG, "winvm1")
    assert view.computer_name == "winvm1" and view.vm_agent.statuses[0].display_status == "Ready"
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_COMPLETE"
    ident = azemu.admin("GET", "/guest/identity?vm=" + vm.id)
    assert ident["sid"].startswith("S-1-5-21-") and "winadmin" in ident["users"]
    out, err = ps(c, "winvm1", "hostname", "whoami")
    assert out.lower().splitlines() == ["winvm1", r"nt authority\system"] and err == ""
    out, err = ps(c, "winvm1", "Get-Nothing -Now")
    assert "The term 'Get-Nothing' is not recognized" in err


def test_sysprep_shutdown_then_generalize_when_stopped(azemu, c):
    vm = vmkit.windows_vm(c, RG, "winvm2")
    before = azemu.admin("GET", "/guest/identity?vm=" + vm.id)["sid"]
    ps(c, "winvm2", "Set-MpPreference -DisableRealtimeMonitoring $true", SYSPREP)
    codes = vmkit.statuses(c, RG, "winvm2")
    assert codes[-1] == "PowerState/stopped"  # the guest powered itself off: still allocated
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    status, _body, _ = azemu.request(
        "GET",
        "/_azemu/guest/file?"
        + urllib.parse.urlencode({"vm": vm.id, "path": r"C:\Windows\System32\Sysprep\Sysprep_succeeded.tag"}),
    )
    assert status == 200
    c.compute.virtual_machines.generalize(RG, "winvm2")  # Azure accepts a stopped VM
    assert vmkit.statuses(c, RG, "winvm2")[0] == "OSState/generalized"
    assert before


def test_sysprepped_but_not_marked_generalized_boots_into_oobe(azemu, c):
    vm = vmkit.windows_vm(c, RG, "winvm3")
    sid = azemu.admin("GET", "/guest/identity?vm=" + vm.id)["sid"]
    ps(c, "winvm3", "Set-MpPreference -DisableRealtimeMonitoring $true", SYSPREP)
    c.compute.virtual_machines.begin_start(RG, "winvm3").result()  # the seed's trap: start it again
    view = c.compute.virtual_machines.instance_view(RG, "winvm3")
    assert view.vm_agent.statuses[0].display_status == "Not Ready"
    with pytest.raises(HttpResponseError) as info:
        vmkit.run(c, RG, "winvm3", "hostname", windows=True)
    assert info.value.error.code == "VMAgentStatusCommunicationError"
    assert azemu.admin("GET", "/guest/identity?vm=" + vm.id)["sid"] != sid  # the old identity is gone


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (["Add-Computer -DomainName contoso.com -Force"], "domain"),
        (["Install-WindowsFeature AD-Domain-Services"], "AD"),
        (["Disable-BitLocker -MountPoint C:", "Enable-BitLocker -MountPoint C:"], "BitLocker"),
    ],
)
def test_sysprep_failures_leave_the_vm_running_and_ungeneralized(azemu, c, setup, needle):
    name = f"wf{abs(hash(needle)) % 10000}"
    vm = vmkit.windows_vm(c, RG, name)
    ps(c, name, "Set-MpPreference -DisableRealtimeMonitoring $true", *setup)
    ps(c, name, SYSPREP)
    assert vmkit.statuses(c, RG, name)[-1] == "PowerState/running"
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_COMPLETE"
    status, body, _ = azemu.request(
        "GET",
        "/_azemu/guest/file?"
        + urllib.parse.urlencode({"vm": vm.id, "path": r"C:\Windows\System32\Sysprep\Panther\setuperr.log"}),
    )
    assert status == 200 and body


def test_sysprep_on_a_stock_image_succeeds_with_defender_on(azemu, c):
    """Microsoft's generalize guide does not ask to turn Defender off: a stock image generalizes with it on."""
    vm = vmkit.windows_vm(c, RG, "winstock")
    out, _ = ps(c, "winstock", "(Get-MpComputerStatus).RealTimeProtectionEnabled")
    assert out.strip() == "True"
    ps(c, "winstock", SYSPREP)
    assert vmkit.statuses(c, RG, "winstock")[-1] == "PowerState/stopped"
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def _hang_request(azemu, c, name: str):
    vm = vmkit.windows_vm(c, RG, name)
    ps(
        c, name, "Start-MpScan -ScanType FullScan -AsJob"
    )  # the trap: a full scan holds the files Sysprep needs
    status, _, headers = azemu.request(
        "POST",
        vm.id + "/runCommand?api-version=2024-11-01",
        {"commandId": "RunPowerShellScript", "script": [SYSPREP]},
    )
    assert status == 202
    return vm, headers["azure-asyncoperation"].split(azemu.endpoint, 1)[1]


def test_a_defender_scan_makes_sysprep_hang_but_instant_latency_never_waits(azemu, c):
    vm, poll = _hang_request(azemu, c, "winhang")
    _, body, _ = azemu.request("GET", poll)
    assert body["status"] == "Succeeded"  # ended by the first poll: the 30-minute wait was simulated
    started = dt.datetime.fromisoformat(body["startTime"])
    ended = dt.datetime.fromisoformat(body["endTime"])
    assert (ended - started).total_seconds() >= 1800  # ... with the timestamps of the simulated wait
    assert vmkit.statuses(c, RG, "winhang")[-1] == "PowerState/running"
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_COMPLETE"  # Sysprep gave up


def test_under_realistic_latency_the_hang_lasts_30_minutes_on_azemus_clock(azemu, c):
    vm = vmkit.windows_vm(c, RG, "winslow")
    ps(c, "winslow", "Start-MpScan -ScanType FullScan -AsJob")
    azemu.admin("POST", "/clock", {"latency": "realistic"})
    try:
        status, _, headers = azemu.request(
            "POST",
            vm.id + "/runCommand?api-version=2024-11-01",
            {"commandId": "RunPowerShellScript", "script": [SYSPREP]},
        )
        assert status == 202
        poll = headers["azure-asyncoperation"].split(azemu.endpoint, 1)[1]
        azemu.admin("POST", "/clock", {"advance": 40})  # Run Command's own 31 s: the script starts, hangs
        _, body, _ = azemu.request("GET", poll)
        assert body["status"] == "InProgress"  # hanging on azemu's clock
        with pytest.raises(HttpResponseError) as info:
            vmkit.run(c, RG, "winslow", "hostname", windows=True)
        assert info.value.status_code == 409
        azemu.admin("POST", "/clock", {"advance": 1800})
        _, body, _ = azemu.request("GET", poll)
        assert body["status"] == "Succeeded"
    finally:
        azemu.admin("POST", "/clock", {"latency": "instant"})
    assert vmkit.statuses(c, RG, "winslow")[-1] == "PowerState/running"
    assert reg(azemu, vm.id, STATE_KEY, "ImageState") == "IMAGE_STATE_COMPLETE"
