"""Azure Run Command ``RunPowerShellScript``: a script run as SYSTEM by Windows PowerShell 5.1.

The pieces: :mod:`pslex` and :mod:`psparse` read the script into :mod:`psast` trees (the whole script is
parsed first: a parse error runs nothing, as in PowerShell), :mod:`psinterp` runs them with :mod:`psops`
(operators) and :mod:`psmembers` (properties and methods); the cmdlets live in ``ps_*.py`` and register in
:mod:`psruntime`.

Run Command passes ``parameters`` as script parameters; here they are also plain variables (real
PowerShell binds them only through a ``param()`` block, which is honoured for defaults).

Exit code: ``exit N`` wins; otherwise 1 when the last statement failed (an error record, or a native
program's non-zero exit), else 0. A script-terminating error (``throw``, ``-ErrorAction Stop``,
``$ErrorActionPreference = 'Stop'``) that no ``catch`` handles ends the script with 1.
"""

from __future__ import annotations

from typing import Any

from azemu.guest.machine import ExecContext, ExecResult, Guest
from azemu.guest.windows import layout as L
from azemu.guest.windows import ps_accounts, ps_core, ps_flow, ps_items, ps_services, ps_system
from azemu.guest.windows.psformat import PSObj
from azemu.guest.windows.psinterp import run_script_text
from azemu.guest.windows.psruntime import Session

RUNCMD_DIR = r"C:\Packages\Plugins\Microsoft.CPlat.Core.RunCommandWindows\1.1.18\Downloads"
CMDLET_MODULES = (
    ps_accounts,
    ps_core,
    ps_flow,
    ps_items,
    ps_services,
    ps_system,
)  # importing them registers the cmdlets


def run_powershell(
    guest: Guest, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext
) -> ExecResult:
    s = Session(guest, ctx)
    _init(s)
    script = "\n".join(lines)
    guest.fs.mkdir(RUNCMD_DIR)
    guest.fs.write(RUNCMD_DIR + r"\script0.ps1", script.replace("\n", "\r\n"), mtime=ctx.now)
    s.cwd = RUNCMD_DIR
    values: dict[str, Any] = {}
    for p in parameters:
        name = str(p.get("name", "")).lower()
        if name:
            s.vars[name] = values[name] = str(p.get("value", ""))
    code, parse_error = run_script_text(s, script, values)
    if parse_error is not None:
        return ExecResult(1, stderr=parse_error)
    return ExecResult(code, "".join(s.out), "".join(s.err), s.power, s.hang)


def _init(s: Session) -> None:
    name = L.active_name(s.guest)
    dom = L.domain(s.guest)
    s.env.update(
        {
            "COMPUTERNAME": name,
            "USERNAME": name + "$",
            "USERDOMAIN": (dom.split(".")[0].upper() if dom else L.workgroup(s.guest)),
            "SYSTEMROOT": r"C:\Windows",
            "WINDIR": r"C:\Windows",
            "SYSTEMDRIVE": "C:",
            "PROGRAMFILES": r"C:\Program Files",
            "PROGRAMFILES(X86)": r"C:\Program Files (x86)",
            "PROGRAMDATA": r"C:\ProgramData",
            "TEMP": r"C:\Windows\TEMP",
            "TMP": r"C:\Windows\TEMP",
            "USERPROFILE": r"C:\Windows\system32\config\systemprofile",
            "PUBLIC": r"C:\Users\Public",
            "OS": "Windows_NT",
            "PROCESSOR_ARCHITECTURE": "AMD64",
            "NUMBER_OF_PROCESSORS": "2",
            "PATH": r"C:\Windows\system32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0\\",
            "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
            "COMSPEC": r"C:\Windows\system32\cmd.exe",
            "PSMODULEPATH": r"C:\Program Files\WindowsPowerShell\Modules;C:\Windows\system32\WindowsPowerShell\v1.0\Modules",
        }
    )
    build = L.reg(s.guest).get(L.K_NT_CV, "CurrentBuild", "20348")
    ubr = L.reg(s.guest).get(L.K_NT_CV, "UBR", 0)
    s.vars["psversiontable"] = PSObj(
        "PSVersionTable",
        {
            "PSVersion": f"5.1.{build}.{ubr}",
            "PSEdition": "Desktop",
            "BuildVersion": f"10.0.{build}.{ubr}",
            "CLRVersion": "4.0.30319.42000",
            "WSManStackVersion": "3.0",
            "PSRemotingProtocolVersion": "2.3",
            "SerializationVersion": "1.1.0.1",
        },
        "list",
    )
    s.vars.update(
        {
            "erroractionpreference": "Continue",
            "warningpreference": "Continue",
            "verbosepreference": "SilentlyContinue",
            "progresspreference": "Continue",
            "confirmpreference": "High",
            "lastexitcode": 0,
            "home": r"C:\Windows\system32\config\systemprofile",
            "pshome": r"C:\Windows\System32\WindowsPowerShell\v1.0",
            "psscriptroot": RUNCMD_DIR,
            "pscommandpath": RUNCMD_DIR + r"\script0.ps1",
            "args": [],
            "error": [],
        }
    )
