"""Core cmdlets: output, location, processes, secure strings, and the small native tools."""

from __future__ import annotations

from typing import Any

from azemu.guest.machine import ExecContext
from azemu.guest.windows import layout as L
from azemu.guest.windows.psformat import Hashtable, PSObj, SecureString, render
from azemu.guest.windows.psmembers import ArrayList, StringBuilder
from azemu.guest.windows.psruntime import (
    Args,
    PSErr,
    Session,
    cmdlet,
    find_program,
    native,
    not_found,
    run_native,
)


def _items(a: Args, name: str = "InputObject") -> list[Any]:
    v = a.get(name)
    if v is None:
        return list(a.input)
    return v if isinstance(v, list) else [v]


@cmdlet("Write-Output", ("InputObject",), ("NoEnumerate",), ("InputObject",))
def write_output(s: Session, a: Args) -> list[Any]:
    return _items(a)


@cmdlet(
    "Write-Host",
    ("Object", "ForegroundColor", "BackgroundColor", "Separator"),
    ("NoNewline",),
    ("Object",),
    cls="Microsoft.PowerShell.Commands.WriteHostCommand",
)
def write_host(s: Session, a: Args) -> list[Any]:
    objs = _items(a, "Object")
    sep = a.str("Separator", " ")
    s.out.append(sep.join(render([o]).rstrip("\n") for o in objs) + ("" if a.has("NoNewline") else "\n"))
    return []


@cmdlet("Write-Warning", ("Message",), (), ("Message",))
def write_warning(s: Session, a: Args) -> list[Any]:
    s.out.append(f"WARNING: {a.str('Message')}\n")
    return []


@cmdlet("Write-Verbose", ("Message",), (), ("Message",))
def write_verbose(s: Session, a: Args) -> list[Any]:
    return []


@cmdlet("Write-Error", ("Message", "Category"), (), ("Message",))
def write_error(s: Session, a: Args) -> list[Any]:
    msg = a.str("Message")
    raise PSErr(
        msg,
        category=a.str("Category", "NotSpecified"),
        exception="WriteErrorException",
        fqid="Microsoft.PowerShell.Commands.WriteErrorException",
    )


@cmdlet("Out-Null", ("InputObject",))
def out_null(s: Session, a: Args) -> list[Any]:
    return []


@cmdlet("Out-String", ("InputObject", "Width"), ("Stream",))
def out_string(s: Session, a: Args) -> list[Any]:
    text = render(_items(a))
    return text.splitlines() if a.has("Stream") else [text]


@cmdlet(
    "Out-File",
    ("FilePath", "InputObject", "Encoding", "Width"),
    ("Append", "Force", "NoNewline", "NoClobber"),
    ("FilePath",),
)
def out_file(s: Session, a: Args) -> list[Any]:
    path = s.full(a.str("FilePath"))
    text = render(_items(a)).replace("\n", "\r\n")
    enc = a.str("Encoding", "unicode").lower()
    data = (
        (b"\xff\xfe" + text.encode("utf-16-le"))
        if enc == "unicode"
        else ((b"\xef\xbb\xbf" if enc == "utf8" else b"") + text.encode("utf-8"))
    )
    if a.has("Append") and s.guest.fs.is_file(path):
        data = text.encode("utf-16-le") if enc == "unicode" else text.encode("utf-8")
    s.guest.fs.write(path, data, append=a.has("Append"), mtime=s.ctx.now)
    return []


def _format(view: str, a: Args) -> list[Any]:
    out = []
    for o in _items(a):
        if isinstance(o, PSObj):
            props = a.strs("Property")
            cols = [c for c in props if c != "*"] or (list(o.props) if props == ["*"] else o.columns)
            o = PSObj(o.type_name + "#" + view, o.props, view, cols, o.group)
        out.append(o)
    return out


@cmdlet("Format-Table", ("Property", "InputObject"), ("AutoSize", "Wrap", "HideTableHeaders"), ("Property",))
def format_table(s: Session, a: Args) -> list[Any]:
    return _format("table", a)


@cmdlet("Format-List", ("Property", "InputObject"), (), ("Property",))
def format_list(s: Session, a: Args) -> list[Any]:
    return _format("list", a)


@cmdlet(
    "Select-Object",
    ("Property", "ExpandProperty", "First", "Last", "InputObject"),
    ("Unique",),
    ("Property",),
)
def select_object(s: Session, a: Args) -> list[Any]:
    items = _items(a)
    if a.get("First") is not None:
        items = items[: max(0, int(a.number("First")))]
    if a.get("Last") is not None:
        last = max(0, int(a.number("Last")))
        items = items[-last:] if last else []
    if a.get("ExpandProperty"):
        name = a.str("ExpandProperty")
        return [o.get(name) if isinstance(o, PSObj) else None for o in items]
    props = a.strs("Property")
    if props and props != ["*"]:
        return [
            PSObj(
                "Selected." + o.type_name,
                {p: o.get(p) for p in props},
                "table" if len(props) <= 4 else "list",
            )
            if isinstance(o, PSObj)
            else o
            for o in items
        ]
    return items


# location --------------------------------------------------------------------------------------------------
@cmdlet("Set-Location", ("Path", "LiteralPath"), ("PassThru",), ("Path",))
def set_location(s: Session, a: Args) -> list[Any]:
    path = a.str("Path") or a.str("LiteralPath") or "~"
    if s.is_reg(path):
        raise PSErr(
            "The emulator does not support registry locations; use full HKLM:\\ paths.",
            category="NotImplemented",
            target=path,
            exception="NotSupportedException",
            fqid="NotSupported",
        )
    full = s.full(path)
    if not s.guest.fs.is_dir(full):
        raise not_found(full)
    s.cwd = s.shown(full)
    return []


@cmdlet("Get-Location")
def get_location(s: Session, a: Args) -> list[Any]:
    return [PSObj("PathInfo", {"Path": s.cwd})]


# processes -------------------------------------------------------------------------------------------------
@cmdlet(
    "Start-Process",
    (
        "FilePath",
        "ArgumentList",
        "WorkingDirectory",
        "Verb",
        "WindowStyle",
        "RedirectStandardOutput",
        "RedirectStandardError",
    ),
    ("Wait", "NoNewWindow", "PassThru", "UseNewEnvironment"),
    ("FilePath", "ArgumentList"),
)
def start_process(s: Session, a: Args) -> list[Any]:
    path = a.str("FilePath")
    program = find_program(s, path)
    if program is None:
        raise PSErr(
            "This command cannot be run due to the error: The system cannot find the file specified.",
            category="InvalidOperation",
            target="",
            exception="InvalidOperationException",
            fqid="InvalidOperationException",
        )
    argv = [x for arg in a.strs("ArgumentList") for x in arg.split()]
    hang, last = s.hang, s.vars.get("lastexitcode")
    code = run_native(s, program, argv)
    if not a.has("Wait"):
        # the script did not wait: the program's time and exit code are not the script's
        s.hang = hang
        s.vars["lastexitcode"] = last
    if a.has("PassThru"):
        return [
            PSObj(
                "Process",
                {
                    "Handles": 0,
                    "NPM(K)": 0,
                    "PM(K)": 0,
                    "WS(K)": 0,
                    "CPU(s)": 0.0,
                    "Id": 4242,
                    "SI": 0,
                    "ProcessName": program.rsplit("\\", 1)[-1].removesuffix(".exe"),
                    "ExitCode": code if a.has("Wait") else None,
                },
                columns=["Handles", "NPM(K)", "PM(K)", "WS(K)", "CPU(s)", "Id", "SI", "ProcessName"],
            )
        ]
    return []


@cmdlet("Start-Sleep", ("Seconds", "Milliseconds"), (), ("Seconds",))
def start_sleep(s: Session, a: Args) -> list[Any]:
    s.hang += max(0.0, float(a.number("Seconds"))) + max(0.0, float(a.number("Milliseconds"))) / 1000
    return []


@cmdlet("ConvertTo-SecureString", ("String", "Key", "SecureKey"), ("AsPlainText", "Force"), ("String",))
def convert_to_securestring(s: Session, a: Args) -> list[Any]:
    if not a.has("AsPlainText"):
        raise PSErr(
            "Input string was not in a correct format.",
            category="InvalidArgument",
            exception="FormatException",
            fqid="ImportSecureString_InvalidArgument",
        )
    return [SecureString(a.str("String"))]


@cmdlet("New-Object", ("TypeName", "ArgumentList", "Property"), (), ("TypeName", "ArgumentList"))
def new_object(s: Session, a: Args) -> list[Any]:
    type_name = a.str("TypeName")
    low = type_name.lower().replace(" ", "").removeprefix("system.")
    if low in ("collections.arraylist",) or low.startswith("collections.generic.list"):
        made = (
            ArrayList(a.get("ArgumentList") or []) if isinstance(a.get("ArgumentList"), list) else ArrayList()
        )
        made.generic = low.startswith("collections.generic")
        return [made]
    if low in ("collections.hashtable", "hashtable"):
        return [Hashtable()]
    if low in ("text.stringbuilder",):
        return [StringBuilder(a.str("ArgumentList"))]
    if low in (
        "object",
        "management.automation.psobject",
        "psobject",
        "management.automation.pscustomobject",
    ):
        props = a.get("Property")
        values = {str(k): v for k, v in props.items()} if isinstance(props, Hashtable) else {}
        return [
            PSObj(
                "System.Management.Automation.PSCustomObject", values, "table" if len(values) <= 4 else "list"
            )
        ]
    if type_name.lower().endswith("pscredential"):
        items = a.get("ArgumentList")
        items = items if isinstance(items, list) else [items]
        return [
            PSObj(
                "PSCredential",
                {"UserName": str(items[0]) if items else "", "Password": items[-1]},
                "list",
                ["UserName", "Password"],
            )
        ]
    raise PSErr(
        f"Cannot find type [{type_name}]: verify that the assembly containing this type is loaded.",
        category="InvalidType",
        target="",
        exception="PSArgumentException",
        fqid="TypeNotFound",
    )


@cmdlet("Get-Credential", ("Credential", "Message", "UserName"), (), ("Credential",))
def get_credential(s: Session, a: Args) -> list[Any]:
    raise PSErr(
        "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
        category="InvalidOperation",
        exception="PSInvalidOperationException",
        fqid="InvalidOperation",
    )


# natives ---------------------------------------------------------------------------------------------------
@native("hostname.exe")
def hostname(s: Session, argv: list[str]) -> int:
    s.out.append(L.dns_hostname(s.guest) + "\n")
    return 0


@native("whoami.exe")
def whoami(s: Session, argv: list[str]) -> int:
    s.out.append("nt authority\\system\n")
    return 0


def now(s: Session) -> ExecContext:
    """The context a program sees, with the script's hangs so far on the clock."""
    return ExecContext(s.ctx.now + s.hang, s.ctx.vm_id, s.ctx.vm_name)
