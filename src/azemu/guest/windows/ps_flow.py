"""Cmdlets that run script blocks or reach the engine: Where-Object, ForEach-Object, Sort-Object,
Measure-Object, Invoke-Expression, Invoke-Command, Get-Command, Add-Member, Get-Date, Join-Path, Split-Path.

They call back into the running interpreter through ``Session.engine`` (see :mod:`psruntime`), so this module
imports nothing of the interpreter.
"""

from __future__ import annotations

import functools
from typing import Any

from azemu.guest.windows import psmembers, psops
from azemu.guest.windows.psformat import Hashtable, PSObj, ScriptBlock
from azemu.guest.windows.psops import PSRuntimeError, to_bool, to_str
from azemu.guest.windows.psruntime import ALIASES, Args, PSErr, Session, cmdlet

_WHERE_OPS = (
    "EQ",
    "NE",
    "GT",
    "LT",
    "GE",
    "LE",
    "Like",
    "NotLike",
    "Match",
    "NotMatch",
    "Contains",
    "NotContains",
    "In",
    "NotIn",
    "CEQ",
    "CNE",
    "CLike",
    "CMatch",
)


def _engine(s: Session) -> Any:
    if s.engine is None:
        raise PSErr("No PowerShell engine is running.", fqid="NoEngine")
    return s.engine


def _collapse(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


@cmdlet(
    "Where-Object",
    ("FilterScript", "Property", "Value", "InputObject"),
    _WHERE_OPS,
    ("FilterScript", "Value"),
)
def where_object(s: Session, a: Args) -> list[Any]:
    flt = a.get("FilterScript")
    op = next((o for o in _WHERE_OPS if a.has(o)), None)
    items = a.input if a.get("InputObject") is None else psops.as_list(a.get("InputObject"))
    out = []
    for item in items:
        if not isinstance(flt, ScriptBlock):
            prop = a.str("Property") or to_str(flt)
            value = psmembers.get_member(item, prop)
            if op:
                keep = to_bool(psops.compare("-" + op.lower(), value, a.get("Value"), lambda m: None))
            else:
                keep = to_bool(value)
        else:
            keep = to_bool(_collapse(_engine(s).invoke_block(flt, [], item)))
        if keep:
            out.append(item)
    return out


@cmdlet(
    "ForEach-Object",
    ("Process", "Begin", "End", "MemberName", "ArgumentList", "InputObject", "RemainingScripts"),
    (),
    ("Process", "RemainingScripts"),
)
def foreach_object(s: Session, a: Args) -> list[Any]:
    engine = _engine(s)
    out: list[Any] = []
    process = a.get("Process")
    blocks = psops.as_list(process) if isinstance(process, list) else [process]
    extra = psops.as_list(a.get("RemainingScripts"))
    begin, end = a.get("Begin"), a.get("End")
    if len(blocks) + len(extra) >= 2 and all(isinstance(b, ScriptBlock) for b in [*blocks, *extra]):
        allb = [*blocks, *extra]
        begin, blocks, end = allb[0], allb[1:2], (allb[2] if len(allb) > 2 else None)
    if isinstance(begin, ScriptBlock):
        out.extend(engine.invoke_block(begin, []))
    items = a.input if a.get("InputObject") is None else psops.as_list(a.get("InputObject"))
    for item in items:
        for block in blocks:
            if isinstance(block, ScriptBlock):
                out.extend(engine.invoke_block(block, [], item))
            elif block is not None or a.get("MemberName"):
                name = a.str("MemberName") or to_str(block)
                member = psmembers.get_member(item, name)
                if member is None and not isinstance(item, PSObj | Hashtable):
                    try:
                        member = psmembers.call_method(
                            engine, item, name, psops.as_list(a.get("ArgumentList"))
                        )
                    except PSRuntimeError:
                        member = None
                out.extend(
                    psops.as_list(member)
                    if isinstance(member, list)
                    else ([] if member is None else [member])
                )
    if isinstance(end, ScriptBlock):
        out.extend(engine.invoke_block(end, []))
    return out


def _sort_key(props: list[Any], engine: Any, item: Any) -> list[Any]:
    if not props:
        return [item]
    keys = []
    for p in props:
        if isinstance(p, ScriptBlock):
            keys.append(_collapse(engine.invoke_block(p, [], item)))
        elif isinstance(p, Hashtable):
            expr = p["Expression"] or p["e"]
            keys.append(
                _collapse(engine.invoke_block(expr, [], item))
                if isinstance(expr, ScriptBlock)
                else psmembers.get_member(item, to_str(expr))
            )
        else:
            keys.append(psmembers.get_member(item, to_str(p)))
    return keys


def _compare_keys(x: list[Any], y: list[Any]) -> int:
    for a, b in zip(x, y, strict=False):
        try:
            c = psops.order(a, b)
        except PSRuntimeError:
            c = psops.order(to_str(a), to_str(b))
        if c:
            return c
    return 0


def _compare_pairs(p: tuple[list[Any], Any], q: tuple[list[Any], Any]) -> int:
    return _compare_keys(p[0], q[0])


@cmdlet("Sort-Object", ("Property", "InputObject"), ("Descending", "Unique", "CaseSensitive"), ("Property",))
def sort_object(s: Session, a: Args) -> list[Any]:
    engine = _engine(s)
    props = psops.as_list(a.get("Property"))
    items = a.input if a.get("InputObject") is None else psops.as_list(a.get("InputObject"))
    keyed: list[tuple[list[Any], Any]] = [(_sort_key(props, engine, x), x) for x in items]
    keyed.sort(key=functools.cmp_to_key(_compare_pairs), reverse=a.has("Descending"))
    out = [x for _, x in keyed]
    if a.has("Unique"):
        unique: list[Any] = []
        for x in out:
            if not any(psops.equals(x, y) for y in unique):
                unique.append(x)
        out = unique
    return out


@cmdlet(
    "Measure-Object",
    ("Property", "InputObject"),
    ("Sum", "Average", "Maximum", "Minimum", "Line", "Word", "Character"),
    ("Property",),
)
def measure_object(s: Session, a: Args) -> list[Any]:
    items = a.input if a.get("InputObject") is None else psops.as_list(a.get("InputObject"))
    prop = a.str("Property")
    values = [psmembers.get_member(x, prop) if prop else x for x in items]
    nums = [psops.to_number(v) for v in values if v is not None]
    props: dict[str, Any] = {
        "Count": len(items),
        "Average": None,
        "Sum": None,
        "Maximum": None,
        "Minimum": None,
        "Property": prop or None,
    }
    if a.has("Sum") and nums:
        props["Sum"] = sum(nums)
    if a.has("Average") and nums:
        props["Average"] = sum(nums) / len(nums)
    if a.has("Maximum") and nums:
        props["Maximum"] = max(nums)
    if a.has("Minimum") and nums:
        props["Minimum"] = min(nums)
    return [
        PSObj(
            "Microsoft.PowerShell.Commands.GenericMeasureInfo",
            props,
            "list",
            ["Count", "Average", "Sum", "Maximum", "Minimum", "Property"],
        )
    ]


@cmdlet("Invoke-Expression", ("Command",), (), ("Command",))
def invoke_expression(s: Session, a: Args) -> list[Any]:
    result: list[Any] = _engine(s).run_text(a.str("Command"))
    return result


@cmdlet(
    "Invoke-Command",
    ("ScriptBlock", "ArgumentList", "ComputerName", "Session", "InputObject"),
    ("NoNewScope",),
    ("ScriptBlock",),
)
def invoke_command(s: Session, a: Args) -> list[Any]:
    if a.get("ComputerName") or a.get("Session"):
        raise PSErr(
            "azemu: remoting (Invoke-Command -ComputerName) is not available inside a Run Command script.",
            category="NotImplemented",
            exception="NotSupportedException",
            fqid="NotSupported",
        )
    block = a.get("ScriptBlock")
    if not isinstance(block, ScriptBlock):
        raise PSErr(
            "Cannot bind parameter 'ScriptBlock'. Cannot convert the value to type \"System.Management.Automation.ScriptBlock\".",
            category="InvalidArgument",
            exception="ParameterBindingException",
            fqid="CannotConvertArgumentNoMessage",
        )
    result: list[Any] = _engine(s).invoke_block(
        block, psops.as_list(a.get("ArgumentList")), None, not a.has("NoNewScope")
    )
    return result


@cmdlet("Get-Command", ("Name", "CommandType", "Module"), ("ListImported",), ("Name",))
def get_command(s: Session, a: Args) -> list[Any]:
    out = []
    for name in a.strs("Name"):
        found = _engine(s).resolve_command(name)
        if found is None:
            raise PSErr(
                f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable "
                "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
                "and try again.",
                category="ObjectNotFound",
                target=name,
                exception="CommandNotFoundException",
                fqid="CommandNotFoundException",
            )
        kind, resolved = found
        type_label = {
            "function": "Function",
            "cmdlet": "Cmdlet",
            "alias": "Alias",
            "application": "Application",
        }[kind]
        shown = (
            f"{name} -> {resolved}"
            if kind == "alias"
            else (resolved.rsplit("\\", 1)[-1] if kind == "application" else resolved)
        )
        out.append(
            PSObj(
                "System.Management.Automation.CommandInfo",
                {
                    "CommandType": type_label,
                    "Name": shown,
                    "Version": "",
                    "Source": resolved if kind == "application" else "",
                    "Path": resolved if kind == "application" else None,
                    "Definition": resolved,
                },
                "table",
                ["CommandType", "Name", "Version", "Source"],
                string=shown,
            )
        )
    return out


@cmdlet(
    "Add-Member",
    (
        "InputObject",
        "MemberType",
        "Name",
        "Value",
        "NotePropertyName",
        "NotePropertyValue",
        "NotePropertyMembers",
    ),
    ("PassThru", "Force"),
    ("MemberType", "Name", "Value"),
)
def add_member(s: Session, a: Args) -> list[Any]:
    targets = psops.as_list(a.get("InputObject")) if a.get("InputObject") is not None else list(a.input)
    name = a.str("NotePropertyName") or a.str("Name")
    value = a.get("NotePropertyValue") if a.get("NotePropertyName") else a.get("Value")
    members = a.get("NotePropertyMembers")
    for t in targets:
        if not isinstance(t, PSObj):
            raise PSErr(
                "azemu: Add-Member works on objects ([pscustomobject]) in this emulator.",
                category="InvalidOperation",
                exception="InvalidOperationException",
                fqid="NotSupported",
            )
        pairs = members.items() if isinstance(members, Hashtable) else [(name, value)]
        for k, v in pairs:
            key = to_str(k)
            if t.has(key) and not a.has("Force"):
                raise PSErr(
                    f'Cannot add a member with the name "{key}" because a member with that name already exists. To '
                    "overwrite the member anyway, add the Force parameter to your command.",
                    category="InvalidOperation",
                    target=t.type_name,
                    exception="InvalidOperationException",
                    fqid="MemberAlreadyExists,Microsoft.PowerShell.Commands.AddMemberCommand",
                )
            t.set(key, v)
            if t.columns is not None and key not in t.columns:
                t.columns.append(key)
            if len(t.props) > 4 and t.type_name.endswith("PSCustomObject"):
                t.view = "list"
    return targets if a.has("PassThru") else []


@cmdlet("Get-Date", ("Date", "Format", "UFormat"), ("AsUTC",), ("Date",))
def get_date(s: Session, a: Args) -> list[Any]:
    now = s.ctx.now + s.hang
    if a.get("Format") is not None:
        return [psmembers.format_date(now, a.str("Format"))]
    if a.get("UFormat") is not None:
        fmt = a.str("UFormat")
        if fmt == "%s":
            return [str(int(now))]
        import_fmt = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}
        for k, v in import_fmt.items():
            fmt = fmt.replace(k, v)
        return [psmembers.format_date(now, fmt)]
    return [psmembers.date_object(now)]


@cmdlet(
    "Join-Path",
    ("Path", "ChildPath", "AdditionalChildPath"),
    ("Resolve",),
    ("Path", "ChildPath", "AdditionalChildPath"),
)
def join_path(s: Session, a: Args) -> list[Any]:
    out = []
    for base in a.strs("Path"):
        parts = [base, *a.strs("ChildPath"), *a.strs("AdditionalChildPath")]
        path = parts[0].rstrip("\\/")
        for p in parts[1:]:
            path = path + "\\" + p.strip("\\/")
        out.append(path)
    return out


@cmdlet(
    "Split-Path",
    ("Path", "LiteralPath"),
    ("Leaf", "Parent", "Qualifier", "NoQualifier", "IsAbsolute"),
    ("Path",),
)
def split_path(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    for p in a.strs("Path") or a.strs("LiteralPath"):
        norm = p.replace("/", "\\").rstrip("\\")
        if a.has("Leaf"):
            out.append(norm.rsplit("\\", 1)[-1])
        elif a.has("Qualifier"):
            out.append(norm[:2] if len(norm) > 1 and norm[1] == ":" else "")
        elif a.has("NoQualifier"):
            out.append(norm[2:] if len(norm) > 1 and norm[1] == ":" else norm)
        elif a.has("IsAbsolute"):
            out.append((len(norm) > 1 and norm[1] == ":") or norm.startswith("\\"))
        else:
            parent = norm.rsplit("\\", 1)[0] if "\\" in norm else ""
            out.append(parent + "\\" if len(parent) == 2 and parent[1] == ":" else parent)
    return out


ALIASES.update(
    {
        "iex": "Invoke-Expression",
        "icm": "Invoke-Command",
        "sort": "Sort-Object",
        "measure": "Measure-Object",
        "gcm": "Get-Command",
        "sleep": "Start-Sleep",
    }
)
