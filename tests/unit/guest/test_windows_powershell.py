"""Run Command's RunPowerShellScript subset."""

from __future__ import annotations

from azemu.guest.machine import ExecContext, ExecResult, Guest, OsProfile
from azemu.guest.windows import base_guest, first_boot, identity, run_powershell
from azemu.guest.windows import layout as L

NOW = 1_764_000_000.0
CTX = ExecContext(NOW, "00000000-0000-0000-0000-000000000003", "vm3")


def guest() -> Guest:
    g = base_guest("windows-2022", NOW)
    first_boot(g, OsProfile("psvm", "azureuser", "Sup3r-Secret!"), CTX)
    return g


def ps(g: Guest, *lines: str, params: list[dict[str, str]] | None = None) -> ExecResult:
    return run_powershell(g, list(lines), params or [], CTX)


def test_basics_variables_and_parameters() -> None:
    g = guest()
    r = ps(
        g,
        "# a comment",
        "$x = 'world'; Write-Output \"hello $x\"",
        "echo $env:COMPUTERNAME",
        "hostname",
        "whoami",
        'Write-Host "p=$Name" # trailing comment',
        params=[{"name": "Name", "value": "v1"}],
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["hello world", "PSVM", "psvm", "nt authority\\system", "p=v1"]


def test_unknown_cmdlet_error_text_and_exit_code() -> None:
    g = guest()
    r = ps(g, "Write-Output ok", "  Get-Fooo -Bar 1")
    assert r.exit_code == 1
    assert r.stdout == "ok\n"
    assert r.stderr.startswith(
        "Get-Fooo : The term 'Get-Fooo' is not recognized as the name of a cmdlet, function, script file, or "
        "operable program. Check the spelling of the name, or if a path was included, verify that the path is "
        "correct and try again.\nAt line:2 char:3\n+   Get-Fooo -Bar 1\n+   ~~~~~~~~\n"
    )
    assert (
        "    + CategoryInfo          : ObjectNotFound: (Get-Fooo:String) [], CommandNotFoundException"
        in r.stderr
    )
    assert "    + FullyQualifiedErrorId : CommandNotFoundException" in r.stderr
    # an error that is not the last statement does not fail the script
    assert ps(g, "Get-Fooo", "Write-Output fine").exit_code == 0


def test_exit_n_and_stop_preference() -> None:
    g = guest()
    assert ps(g, "Write-Output a", "exit 7", "Write-Output b").exit_code == 7
    r = ps(g, "$ErrorActionPreference = 'Stop'", r"Get-Content C:\nope.txt", "Write-Output after")
    assert r.exit_code == 1 and "after" not in r.stdout
    assert "Cannot find path 'C:\\nope.txt' because it does not exist." in r.stderr
    r = ps(g, r"Get-Content C:\nope.txt -ErrorAction SilentlyContinue")
    assert r.stderr == "" and r.exit_code == 1


def test_files_case_insensitive() -> None:
    g = guest()
    r = ps(
        g,
        r"New-Item -ItemType Directory -Path C:\Temp | Out-Null",
        r"Set-Content -Path C:\Temp\A.txt -Value 'one'",
        r"Add-Content C:\temp\a.TXT 'two'",
        r"Get-Content c:\TEMP\a.txt",
        r"Test-Path C:\TEMP\A.TXT",
        r"Remove-Item C:\Temp -Recurse -Force",
        r"Test-Path C:\Temp",
    )
    assert r.stdout.splitlines() == ["one", "two", "True", "False"], r.stderr
    r = ps(g, r"New-Item -ItemType Directory C:\d | Out-Null; Set-Content C:\d\f 'x'", r"Remove-Item C:\d")
    assert "NonInteractive mode" in r.stderr and r.exit_code == 1


def test_registry_cmdlets() -> None:
    g = guest()
    r = ps(
        g,
        r"New-Item -Path 'HKLM:\SOFTWARE\Contoso' -Force | Out-Null",
        r"New-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso' -Name Level -Value 3 -PropertyType DWord | Out-Null",
        r"Set-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso' -Name Owner -Value 'ops'",
        r"(Get-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso' -Name Level).Level",
        r"Get-ItemPropertyValue -Path 'HKLM:\SOFTWARE\Contoso' -Name Owner",
        r"Remove-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso' -Name Owner",
        r"Get-ItemProperty -Path 'HKLM:\SOFTWARE\Contoso' -Name Owner",
    )
    assert r.stdout.splitlines()[:2] == ["3", "ops"], r.stderr
    assert L.reg(g).get_typed(r"HKLM\SOFTWARE\Contoso", "Level") == ("REG_DWORD", 3)
    assert "Property Owner does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso." in r.stderr
    r = ps(g, r"Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State'")
    assert "ImageState   : IMAGE_STATE_COMPLETE" in r.stdout
    assert (
        "PSPath       : Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft"
        in r.stdout
    )


def test_install_windows_feature_table() -> None:
    g = guest()
    r = ps(g, "Install-WindowsFeature -Name Web-Server -IncludeManagementTools")
    assert r.stdout.splitlines()[1:4] == [
        "Success Restart Needed Exit Code      Feature Result",
        "------- -------------- ---------      --------------",
        "True    No             Success        {Web Server (IIS)}",
    ]
    assert L.feature_installed(g, "Web-Server")
    again = ps(g, "Install-WindowsFeature Web-Server")
    assert "True    No             NoChangeNeeded {}" in again.stdout
    table = ps(g, "Get-WindowsFeature Web-Server, AD-Domain-Services").stdout
    assert "[X] Web Server (IIS)" in table and "[ ] Active Directory Domain Services" in table
    assert (
        "Display Name                                            Name                       Install State"
        in table
    )
    bad = ps(g, "Install-WindowsFeature Nope")
    assert "ArgumentNotValid: The role, role service, or feature name is not valid: 'Nope'" in bad.stderr
    assert ps(g, "Uninstall-WindowsFeature Web-Server").exit_code == 0
    assert not L.feature_installed(g, "Web-Server")


def test_defender_preference() -> None:
    g = guest()
    assert ps(g, "(Get-MpComputerStatus).RealTimeProtectionEnabled").stdout == "True\n"
    ps(g, "Set-MpPreference -DisableRealtimeMonitoring $true")
    assert L.reg(g).get(L.K_DEFENDER_RTP, "DisableRealtimeMonitoring") == 1
    assert ps(g, "(Get-MpComputerStatus).RealTimeProtectionEnabled").stdout == "False\n"
    ps(g, "Set-MpPreference -DisableRealtimeMonitoring $false")
    assert L.realtime_on(g)


def test_domain_join_and_leave() -> None:
    g = guest()
    r = ps(
        g,
        "$pw = ConvertTo-SecureString 'P4ss!word' -AsPlainText -Force",
        "$cred = New-Object System.Management.Automation.PSCredential('CONTOSO\\admin', $pw)",
        "Add-Computer -DomainName contoso.com -Credential $cred -Force",
    )
    assert r.exit_code == 0, r.stderr
    assert "WARNING: The changes will take effect after you restart the computer PSVM." in r.stdout
    assert identity(g)["domain"] == "contoso.com"
    assert L.reg(g).get(L.K_TCPIP, "Domain") == "contoso.com"
    assert "already in that domain" in ps(g, "Add-Computer -DomainName contoso.com").stderr
    assert "NonInteractive" in ps(g, "Remove-Computer -WorkgroupName WORKGROUP").stderr
    r = ps(g, "Remove-Computer -UnjoinDomainCredential $cred -WorkgroupName WORKGROUP -Force -Restart")
    assert r.exit_code == 0 and r.power == "reboot"
    assert identity(g)["domain"] is None and identity(g)["workgroup"] == "WORKGROUP"


def test_local_users_and_groups() -> None:
    g = guest()
    r = ps(
        g,
        "New-LocalUser -Name alice -Password (ConvertTo-SecureString 'P4ss!word' -AsPlainText -Force)",
        "Add-LocalGroupMember -Group Administrators -Member alice",
    )
    assert r.exit_code == 0, r.stderr
    assert "alice True" in r.stdout
    assert identity(g)["users"] == ["alice", "azureuser"]
    assert "alice" in L.group_members(g, "Administrators")
    assert "User alice already exists." in ps(g, "New-LocalUser alice -NoPassword").stderr
    assert "missing mandatory parameters: Password" in ps(g, "New-LocalUser bob").stderr
    ps(g, "Remove-LocalUser -Name alice")
    assert identity(g)["users"] == ["azureuser"]
    assert "User alice was not found." in ps(g, "Get-LocalUser alice").stderr


def test_appx_cmdlets() -> None:
    g = guest()
    prov = ps(g, "Get-AppxProvisionedPackage -Online").stdout
    assert "PackageName  : Microsoft.SecHealthUI_" in prov
    ps(
        g,
        r"Set-Content C:\Contoso.App_2.0.0.0_x64__abcdefghijklm.msix 'x'",
        r"Add-AppxPackage -Path C:\Contoso.App_2.0.0.0_x64__abcdefghijklm.msix",
    )
    assert L.user_packages(g) == [(L.SYSTEM_SID, "Contoso.App_2.0.0.0_x64__abcdefghijklm")]
    assert "Contoso.App" in ps(g, "Get-AppxPackage -AllUsers Contoso*").stdout
    ps(g, "Get-AppxPackage -AllUsers -Name Contoso.App | Remove-AppxPackage -AllUsers")
    assert L.user_packages(g) == []
    assert "0x80073CF1" in ps(g, "Remove-AppxPackage Nope_1_x64__x").stderr
    pkg = L.provisioned_packages(g)[0]
    ps(g, f"Remove-AppxProvisionedPackage -Online -PackageName {pkg}")
    assert pkg not in L.provisioned_packages(g)


def test_bitlocker_and_power() -> None:
    g = guest()
    ps(g, "Enable-BitLocker -MountPoint C: -RecoveryPasswordProtector")
    assert "Protection Status:    Protection On" in ps(g, "manage-bde -status C:").stdout
    ps(g, "Disable-BitLocker -MountPoint C:")
    assert not L.bitlocker_on(g)
    r = ps(g, "Write-Output a", "Stop-Computer -Force", "Write-Output b")
    assert r.power == "poweroff" and r.stdout == "a\n"
    assert ps(g, "Restart-Computer -Force").power == "reboot"
    assert ps(g, "shutdown /s /t 0").power == "poweroff"
    assert ps(g, "shutdown /r").power == "reboot"


def test_parse_error_runs_nothing() -> None:
    g = guest()
    r = ps(g, "Write-Output first", r'"C:\Windows\System32\Sysprep\sysprep.exe" /generalize')
    assert r.exit_code == 1 and r.stdout == ""
    assert "Unexpected token '/generalize' in expression or statement." in r.stderr
    assert "FullyQualifiedErrorId : UnexpectedToken" in r.stderr


def test_rename_with_restart() -> None:
    g = guest()
    r = ps(g, "Rename-Computer -NewName web-9 -Force -Restart")
    assert r.power == "reboot" and r.stdout == ""
    assert L.pending_name(g) == "web-9"


def test_pipeline_filters_and_remaining_arguments() -> None:
    g = guest()
    r = ps(
        g,
        "Get-WindowsFeature | Where-Object { $_.Name -like 'AD-*' } | ForEach-Object { $_.Name }",
        "Get-LocalUser | ? Enabled | select -ExpandProperty Name",
        "Write-Output a b",
    )
    assert r.stdout.splitlines() == ["AD-Certificate", "AD-Domain-Services", "azureuser", "a", "b"], r.stderr
