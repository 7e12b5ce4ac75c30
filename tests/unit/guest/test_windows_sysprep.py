"""Sysprep on a Windows guest: success effects (a stock image generalizes with Defender on, as on Azure), every
failure cause, the Defender hang (only while a scan runs), bad switches."""

from __future__ import annotations

import pytest

from azemu.guest.machine import ExecContext, ExecResult, Guest, OsProfile
from azemu.guest.windows import base_guest, first_boot, identity, run_powershell
from azemu.guest.windows import layout as L

NOW = 1_764_000_000.0
CTX = ExecContext(NOW, "00000000-0000-0000-0000-000000000001", "vm1")
SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe"
ACT = r"C:\Windows\System32\Sysprep\Panther\setupact.log"
ERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"
DEFENDER_OFF = "Set-MpPreference -DisableRealtimeMonitoring $true"
SCAN = "Start-MpScan -ScanType FullScan -AsJob | Out-Null"  # a background scan: the Defender trap


def deployed() -> Guest:
    g = base_guest("windows-2022", NOW)
    assert first_boot(g, OsProfile("srcvm", "azureuser", "Sup3r-Secret!"), CTX).agent_ready
    return g


def ps(g: Guest, *lines: str) -> ExecResult:
    return run_powershell(g, list(lines), [], CTX)


def assert_failed_cleanly(g: Guest, r: ExecResult, before_sid: str | None) -> None:
    assert r.exit_code != 0
    assert r.power is None
    assert not g.fs.exists(L.SYSPREP_TAG)
    assert g.fs.is_file(ERR)
    assert L.image_state(g) == L.COMPLETE
    assert "ImageState=IMAGE_STATE_COMPLETE" in g.fs.read_text(L.STATE_INI)
    assert L.machine_sid(g) == before_sid


@pytest.mark.parametrize(
    ("switch", "power"), [("/shutdown", "poweroff"), ("/reboot", "reboot"), ("/quit", None), ("", "reboot")]
)
def test_generalize_success_effects_and_power(switch: str, power: str | None) -> None:
    g = deployed()
    assert identity(g)["users"] == ["azureuser"]
    r = ps(g, f"{SYSPREP} /generalize /oobe {switch}".strip())  # stock image: Defender on, no scan running
    assert r.exit_code == 0, r.stderr
    assert r.power == power
    reg = L.reg(g)
    assert reg.get(L.K_SETUP_STATE, "ImageState") == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    assert "[State]\r\nImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" in g.fs.read_text(L.STATE_INI)
    assert reg.get(L.K_SYSPREP_STATUS, "GeneralizationState") == 7
    assert reg.get(L.K_SYSPREP_STATUS, "CleanupState") == 2
    assert reg.get(L.K_SETUP, "SetupType") == 2
    assert reg.get(L.K_SETUP, "CmdLine") == r"oobe\windeploy.exe"
    assert L.machine_sid(g) is None
    assert g.fs.is_file(L.SYSPREP_TAG)
    assert g.fs.glob(r"C:\Windows\System32\winevt\Logs\*.evtx") == []
    assert identity(g)["users"] == ["azureuser"]  # generalize keeps local users
    log = g.fs.read_text(ACT)
    assert "SYSPRP ======== Beginning of a new sysprep run ========" in log
    assert r"SYSPRP Initialized SysPrep log at C:\Windows\System32\Sysprep\Panther" in log
    assert "SYSPRP ValidatePrivileges:User has required privileges to sysprep machine" in log
    assert "SYSPRP ParseCommands:Found supported command line option 'GENERALIZE'" in log
    assert (
        r"SYSPRP FCreateTagFile:Successfully created tag file C:\Windows\System32\Sysprep\Sysprep_succeeded.tag"
        in log
    )
    shutdown_line = (
        "SYSPRP ProcessShutdown:Successfully called InitiateSystemShutdownEx to shutdown the computer"
    )
    assert (shutdown_line in log) == (switch == "/shutdown")
    assert not g.fs.exists(ERR)


@pytest.mark.parametrize(
    "form",
    [
        r"& $env:SystemRoot\System32\Sysprep\Sysprep.exe /oobe /generalize /quiet /quit",
        r"Start-Process -FilePath C:\Windows\System32\Sysprep\Sysprep.exe -ArgumentList '/generalize /oobe /shutdown /quiet' -Wait",
        r"cd $env:windir\system32\sysprep; .\sysprep.exe /generalize /oobe /shutdown",
        r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /shutdown",
    ],
)
def test_every_real_invocation_form(form: str) -> None:
    g = deployed()
    r = ps(g, form)
    assert r.exit_code == 0, r.stderr
    assert L.image_state(g) == L.GENERALIZE_OOBE
    assert g.fs.is_file(L.SYSPREP_TAG)


def test_sysprep_not_on_path_and_not_loaded_from_current_location() -> None:
    g = deployed()
    r = ps(g, r"cd C:\Windows\System32\Sysprep", "sysprep.exe /generalize /oobe /shutdown")
    assert r.exit_code == 1
    assert "sysprep.exe : The term 'sysprep.exe' is not recognized" in r.stderr
    assert 'instead type: ".\\sysprep.exe"' in r.stdout
    assert L.image_state(g) == L.COMPLETE


def test_tag_from_an_earlier_run_is_deleted_at_start() -> None:
    g = deployed()
    g.fs.write(L.SYSPREP_TAG, b"")
    ps(g, "Add-Computer -DomainName contoso.com -Force", f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert not g.fs.exists(L.SYSPREP_TAG)


def test_oobe_without_generalize_keeps_sid() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    r = ps(g, f"{SYSPREP} /oobe /quit")
    assert r.exit_code == 0 and r.power is None
    assert L.image_state(g) == L.SPECIALIZE_OOBE
    assert L.machine_sid(g) == sid


def test_domain_joined_fails() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    r = ps(
        g,
        "Add-Computer -DomainName contoso.com -Force",
        f"{SYSPREP} /generalize /oobe /shutdown",
    )
    assert_failed_cleanly(g, r, sid)
    assert "contoso.com" in g.fs.read_text(ERR)
    assert "Sysprep was not able to validate your Windows installation" in r.stderr


def test_ad_ds_installed_is_refused() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    r = ps(
        g,
        "Install-WindowsFeature AD-Domain-Services -IncludeManagementTools",
        f"{SYSPREP} /generalize /oobe /shutdown /quiet",
    )
    assert_failed_cleanly(g, r, sid)
    assert "Active Directory Domain Services" in g.fs.read_text(ERR)
    assert r.stderr == ""  # /quiet: no dialog


def test_per_user_appx_not_provisioned_fails_with_0x80073cf2() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    pkg = "Microsoft.MicrosoftEdge.Stable_120.0.2210.91_neutral__8wekyb3d8bbwe"
    r = ps(
        g,
        r"New-Item -ItemType Directory C:\pkgs | Out-Null",
        rf"Set-Content C:\pkgs\{pkg}.msix 'x'",
        rf"Add-AppxPackage -Path C:\pkgs\{pkg}.msix",
        f"{SYSPREP} /generalize /oobe /shutdown /quiet",
    )
    assert_failed_cleanly(g, r, sid)
    err = g.fs.read_text(ERR)
    assert (
        f"SYSPRP Package {pkg} was installed for a user, but not provisioned for all users. This package will "
        "not function properly in the sysprep image."
    ) in err
    assert "SYSPRP Failed to remove apps for the current user: 0x80073cf2." in err
    # the documented fix: remove it for the user, then Sysprep succeeds
    r = ps(g, f"Remove-AppxPackage {pkg}", f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert r.exit_code == 0 and r.power == "poweroff"


def test_bitlocker_on_fails() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    r = ps(
        g,
        "Enable-BitLocker -MountPoint C: -RecoveryPasswordProtector | Out-Null",
        f"{SYSPREP} /generalize /oobe /shutdown /quiet",
    )
    assert_failed_cleanly(g, r, sid)
    assert "0x80310039" in g.fs.read_text(ERR)
    r = ps(g, "manage-bde -off C:", f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert r.exit_code == 0


def test_rearm_limit() -> None:
    g = deployed()
    L.reg(g).set(L.K_SYSPREP_STATUS, "SysprepCount", 1001)
    r = ps(g, f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert_failed_cleanly(g, r, L.machine_sid(g))
    L.reg(g).set(L.K_SPP, "SkipRearm", 1)
    assert ps(g, f"{SYSPREP} /generalize /oobe /shutdown /quiet").exit_code == 0


def test_another_instance_running() -> None:
    g = deployed()
    L.reg(g).set(L.K_SYSPREP_STATUS, "SysprepRunning", 1)
    r = ps(g, f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert_failed_cleanly(g, r, L.machine_sid(g))


def test_defender_scan_in_progress_makes_generalize_hang_then_fail() -> None:
    g = deployed()
    sid = L.machine_sid(g)
    r = ps(g, SCAN, f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert r.hang_seconds == 1800
    assert r.exit_code == 1
    assert_failed_cleanly(g, r, sid)
    assert identity(g)["computerName"] == "srcvm"
    assert g.fs.glob(r"C:\Windows\System32\winevt\Logs\*.evtx")  # nothing generalized
    log = g.fs.read_text(ACT)
    assert "MsMpEng.exe" in log and "a FullScan started at" in log and "Timed out after 30 minutes" in log
    assert "16:30:00, Error" in log  # logged 30 minutes after the start (NOW is 16:00:00 UTC)


def test_the_scan_outlives_the_run_command_that_started_it() -> None:
    g = deployed()
    assert ps(g, SCAN).exit_code == 0
    status = ps(g, "Get-MpComputerStatus | Select-Object FullScanStartTime, FullScanEndTime").stdout
    assert "11/24/2025 4:00:00 PM" in status  # started, never finished
    assert ps(g, f"{SYSPREP} /generalize /oobe /shutdown /quiet").hang_seconds == 1800


@pytest.mark.parametrize(
    "fix",
    [
        DEFENDER_OFF,  # AZ-104's advice: disable real-time scanning
        r'& "$env:ProgramFiles\Windows Defender\MpCmdRun.exe" -Scan -Cancel',
        "Get-Job | Stop-Job",
        "Get-Job | Wait-Job | Out-Null",
    ],
)
def test_each_way_out_of_the_defender_trap(fix: str) -> None:
    g = deployed()
    r = ps(g, SCAN, fix, f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert (r.exit_code, r.power) == (0, "poweroff"), r.stderr
    assert L.image_state(g) == L.GENERALIZE_OOBE
    assert r.hang_seconds == (2700 if "Wait-Job" in fix else 0)


def test_a_finished_scan_does_not_hold_anything() -> None:
    g = deployed()
    ps(g, SCAN)
    later = ExecContext(NOW + 2700, CTX.vm_id, CTX.vm_name)
    r = run_powershell(g, [f"{SYSPREP} /generalize /oobe /shutdown /quiet"], [], later)
    assert (r.exit_code, r.power, r.hang_seconds) == (0, "poweroff", 0)
    # a scan the script waits for is over when it returns
    g = deployed()
    r = ps(g, "Start-MpScan -ScanType QuickScan", f"{SYSPREP} /generalize /oobe /shutdown /quiet")
    assert (r.exit_code, r.hang_seconds) == (0, 300)


def test_defender_hang_not_waited_by_start_process_without_wait() -> None:
    g = deployed()
    r = ps(
        g,
        SCAN,
        f"Start-Process {SYSPREP} -ArgumentList '/generalize','/oobe','/shutdown','/quiet'",
        "echo done",
    )
    assert r.hang_seconds == 0 and r.exit_code == 0 and "done" in r.stdout
    assert L.image_state(g) == L.COMPLETE


@pytest.mark.parametrize(
    "args",
    [
        "/oobe /audit /generalize",
        "/generalize /oobe /shutdown /reboot",
        "/generalize /mode:vm /shutdown",
        "/generalize /oobe /bogus",
    ],
)
def test_bad_switch_combinations(args: str) -> None:
    g = deployed()
    r = ps(g, f"{SYSPREP} {args} /quiet")
    assert_failed_cleanly(g, r, L.machine_sid(g))


def test_mode_vm_with_generalize_oobe_is_fine() -> None:
    g = deployed()
    r = ps(g, f"{SYSPREP} /generalize /oobe /mode:vm /shutdown")
    assert r.exit_code == 0 and r.power == "poweroff"


def test_packers_windows_sysprep_script_runs_to_the_end() -> None:
    """The provisioner Packer's azure-arm builder documents for Windows images."""
    g = deployed()
    r = ps(
        g,
        "while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
        "while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
        r"& $env:SystemRoot\System32\Sysprep\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
        "while($true) { $imageState = Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State "
        "| Select ImageState; if($imageState.ImageState -ne 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') "
        "{ Write-Output $imageState.ImageState; Start-Sleep -s 10 } else { break } }",
    )
    assert (r.exit_code, r.stdout, r.stderr, r.power, r.hang_seconds) == (0, "", "", None, 0)
    assert L.image_state(g) == L.GENERALIZE_OOBE
