"""The PowerShell session state, error records, parameter binding and the cmdlet table."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from azemu.guest.machine import ExecContext, Guest
from azemu.guest.windows import layout as L
from azemu.guest.windows import psops
from azemu.guest.windows.psformat import Hashtable

COMMON_VALUED = ("ErrorAction", "WarningAction", "ErrorVariable", "OutVariable", "InformationAction")
COMMON_SWITCHES = ("Verbose", "Debug", "WhatIf", "Confirm")


class PSErr(Exception):
    """A PowerShell error record. ``terminating`` stops the script regardless of ErrorActionPreference."""

    def __init__(
        self,
        message: str,
        *,
        category: str = "NotSpecified",
        target: str = "",
        exception: str = "Exception",
        fqid: str = "",
        terminating: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.target = target
        self.exception = exception
        self.fqid = fqid
        self.terminating = terminating


def not_found(path: str) -> PSErr:
    return PSErr(
        f"Cannot find path '{path}' because it does not exist.",
        category="ObjectNotFound",
        target=path,
        exception="ItemNotFoundException",
        fqid="PathNotFound",
    )


@dataclass
class Args:
    named: dict[str, Any] = field(default_factory=dict)  # canonical parameter name -> value
    input: list[Any] = field(default_factory=list)  # pipeline input

    def get(self, name: str, default: Any = None) -> Any:
        return self.named.get(name, default)

    def has(self, name: str) -> bool:
        v = self.named.get(name)
        return v is not None and v is not False

    def strs(self, name: str) -> list[str]:
        v = self.named.get(name)
        if v is None:
            return []
        items = v if isinstance(v, list) else [v]
        return [str(x) for x in items]

    def number(self, name: str, default: float = 0) -> float:
        """A numeric parameter; a value that is no number fails binding as PowerShell's binder does."""
        v = self.named.get(name)
        if v is None:
            return default
        try:
            n = psops.to_number(v)
        except psops.PSRuntimeError:
            n = None
        if n is None or (isinstance(v, list | Hashtable) and not (isinstance(v, list) and len(v) == 1)):
            raise PSErr(
                f'Cannot bind parameter \'{name}\'. Cannot convert value "{psops.to_str(v)}" to type "System.Int32". '
                'Error: "Input string was not in a correct format."',
                category="InvalidArgument",
                target="",
                exception="ParameterBindingException",
                fqid="CannotConvertArgumentNoMessage",
            )
        return n

    def str(self, name: str, default: str = "") -> str:
        v = self.named.get(name)
        if v is None:
            return default
        if isinstance(v, list):
            return " ".join(builtins.str(x) for x in v)
        return builtins.str(v)


@dataclass
class CmdSpec:
    name: str
    fn: Callable[[Session, Args], list[Any]]
    params: tuple[str, ...]
    switches: tuple[str, ...]
    positional: tuple[str, ...]
    cls: str


CMDLETS: dict[str, CmdSpec] = {}
NATIVES: dict[str, Callable[[Session, list[str]], int]] = {}
ALIASES = {
    "echo": "Write-Output",
    "write": "Write-Output",
    "cat": "Get-Content",
    "gc": "Get-Content",
    "type": "Get-Content",
    "rm": "Remove-Item",
    "del": "Remove-Item",
    "erase": "Remove-Item",
    "ri": "Remove-Item",
    "rd": "Remove-Item",
    "rmdir": "Remove-Item",
    "ls": "Get-ChildItem",
    "dir": "Get-ChildItem",
    "gci": "Get-ChildItem",
    "cd": "Set-Location",
    "sl": "Set-Location",
    "chdir": "Set-Location",
    "pwd": "Get-Location",
    "gl": "Get-Location",
    "ni": "New-Item",
    "gp": "Get-ItemProperty",
    "sp": "Set-ItemProperty",
    "rp": "Remove-ItemProperty",
    "start": "Start-Process",
    "saps": "Start-Process",
    "copy": "Copy-Item",
    "cp": "Copy-Item",
    "cpi": "Copy-Item",
    "ac": "Add-Content",
    "sc": "Set-Content",
    "?": "Where-Object",
    "where": "Where-Object",
    "%": "ForEach-Object",
    "foreach": "ForEach-Object",
    "select": "Select-Object",
    "ft": "Format-Table",
    "fl": "Format-List",
    "gi": "Get-Item",
}


def cmdlet(
    name: str,
    params: tuple[str, ...] = (),
    switches: tuple[str, ...] = (),
    positional: tuple[str, ...] = (),
    cls: str | None = None,
) -> Callable[[Callable[[Session, Args], list[Any]]], Callable[[Session, Args], list[Any]]]:
    def deco(fn: Callable[[Session, Args], list[Any]]) -> Callable[[Session, Args], list[Any]]:
        klass = cls or "Microsoft.PowerShell.Commands." + name.replace("-", "") + "Command"
        CMDLETS[name.lower()] = CmdSpec(name, fn, params, switches, positional, klass)
        return fn

    return deco


def native(
    *names: str,
) -> Callable[[Callable[[Session, list[str]], int]], Callable[[Session, list[str]], int]]:
    def deco(fn: Callable[[Session, list[str]], int]) -> Callable[[Session, list[str]], int]:
        for n in names:
            NATIVES[n.lower()] = fn
        return fn

    return deco


class OutStream(list[str]):
    """The script's standard output. ``before_write`` lets the engine print pending objects first, so text
    that cmdlets write directly (Write-Host, native programs) keeps its place among them."""

    before_write: Callable[[], None] | None = None

    def append(self, text: str) -> None:
        if self.before_write is not None:
            self.before_write()
        super().append(text)

    def extend(self, chunks: Any) -> None:
        for text in chunks:
            self.append(text)


class Engine(Protocol):
    """What cmdlets that run PowerShell (ForEach-Object, Where-Object, Invoke-Expression ...) ask of the
    interpreter running the script."""

    def invoke_block(
        self, block: Any, args: list[Any], dollar_under: Any = None, new_scope: bool = False
    ) -> list[Any]: ...

    def run_text(self, text: str) -> list[Any]: ...

    def get_var(self, name: str) -> Any: ...

    def set_var(self, name: str, value: Any) -> None: ...

    def resolve_command(self, name: str) -> tuple[str, str] | None: ...


@dataclass
class Session:
    guest: Guest
    ctx: ExecContext
    vars: dict[str, Any] = field(default_factory=dict)  # lower-cased name -> value (the script scope)
    env: dict[str, str] = field(default_factory=dict)  # upper-cased name -> value
    cwd: str = "C:\\"
    out: list[str] = field(default_factory=OutStream)
    err: list[str] = field(default_factory=list)
    power: str | None = None
    hang: float = 0.0
    halted: bool = False  # a power action or `exit` ended the script
    engine: Engine | None = None  # the interpreter, for cmdlets that run script blocks
    jobs: list[Any] = field(default_factory=list)  # background jobs this session started (Get-Job)

    def run_block(self, block: Any, args: list[Any], dollar_under: Any = None) -> list[Any]:
        if self.engine is None:
            raise PSErr("No PowerShell engine is running.", fqid="NoEngine")
        return self.engine.invoke_block(block, args, dollar_under)

    # paths ---------------------------------------------------------------------------------------------
    def is_reg(self, path: str) -> bool:
        return bool(
            re.match(r"(?i)^(hklm|hkcu|hku):|^registry::|^microsoft\.powershell\.core\\registry::", path)
        )

    def reg_key(self, path: str) -> str:
        p = re.sub(r"(?i)^(microsoft\.powershell\.core\\)?registry::", "", path)
        return p

    def full(self, path: str) -> str:
        """An absolute Windows path (``C:\\X\\Y``) for ``path`` relative to the current location."""
        p = path.strip().replace("/", "\\")
        if p.startswith("~"):
            p = r"C:\Windows\system32\config\systemprofile" + p[1:]
        if re.match(r"^[A-Za-z]:", p):
            if len(p) == 2:
                p += "\\"
        elif p.startswith("\\"):
            p = self.cwd[:2] + p
        else:
            p = self.cwd.rstrip("\\") + "\\" + p
        parts: list[str] = []
        for seg in p.split("\\"):
            if seg in ("", "."):
                continue
            if seg == "..":
                if len(parts) > 1:
                    parts.pop()
                continue
            parts.append(seg)
        drive = parts[0].upper()
        return drive + "\\" + "\\".join(parts[1:])

    def shown(self, path: str) -> str:
        """A path as Windows prints it: each existing component in the case it was created with."""
        full = self.full(path)
        if self.guest.fs.exists(full):
            name = self.guest.fs.stat(full).name
            return name.lstrip("/").replace("/", "\\") if name != "/" else full
        return full

    # identity bits cmdlets need ------------------------------------------------------------------------
    def computer(self) -> str:
        return L.active_name(self.guest)


PATH_DIRS = (r"C:\Windows\System32", r"C:\Windows", r"C:\Windows\System32\WindowsPowerShell\v1.0")


def find_program(s: Session, name: str) -> str | None:
    """The file a native command name runs: a path (absolute or ``.\\x``) or a name found on PATH."""
    fs = s.guest.fs
    exts = ("", ".exe", ".cmd", ".bat")
    if "\\" in name or "/" in name or name.startswith("."):
        base = s.full(name)
        for ext in exts:
            if fs.is_file(base + ext):
                return s.shown(base + ext)
        return None
    for d in PATH_DIRS:
        for ext in exts:
            if fs.is_file(d + "\\" + name + ext):
                return s.shown(d + "\\" + name + ext)
    return None


def run_native(s: Session, path: str, argv: list[str]) -> int:
    base = path.replace("/", "\\").rsplit("\\", 1)[-1].lower()
    handler = NATIVES.get(base) or NATIVES.get(base.removesuffix(".exe"))
    if handler is None:
        s.err.append(f"azemu: the native program '{path}' exists on the disk but is not emulated\n")
        code = 1
    else:
        code = handler(s, argv)
    s.vars["lastexitcode"] = code
    return code
