"""Item cmdlets over the case-insensitive filesystem and the registry (the FileSystem and Registry providers)."""

from __future__ import annotations

import fnmatch
import time
from typing import Any

from azemu.guest.registry import norm_key
from azemu.guest.windows import layout as L
from azemu.guest.windows.psformat import PSObj, SecureString, text
from azemu.guest.windows.psruntime import Args, PSErr, Session, cmdlet, not_found

_HIVE_LONG = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS"}
_REG_TYPES = {
    "string": "REG_SZ",
    "expandstring": "REG_EXPAND_SZ",
    "dword": "REG_DWORD",
    "qword": "REG_QWORD",
    "multistring": "REG_MULTI_SZ",
    "binary": "REG_BINARY",
}
_NONINTERACTIVE = PSErr(
    "Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
    category="InvalidOperation",
    exception="PSInvalidOperationException",
    fqid="InvalidOperation",
)


# registry helpers ------------------------------------------------------------------------------------------
def _key(s: Session, path: str) -> str:
    return norm_key(s.reg_key(path))


def _key_shown(s: Session, key: str) -> str:
    """HKLM\\software\\x -> HKEY_LOCAL_MACHINE\\SOFTWARE\\X with each part as created."""
    r = L.reg(s.guest)
    parts = key.split("\\")
    out = [parts[0]]
    for part in parts[1:]:
        match = next((k for k in r.subkeys("\\".join(out)) if k.lower() == part.lower()), part)
        out.append(match)
    out[0] = _HIVE_LONG.get(out[0].upper(), out[0])
    return "\\".join(out)


def _need_key(s: Session, path: str) -> str:
    key = _key(s, path)
    if not L.reg(s.guest).key_exists(key):
        raise not_found(path)
    return key


def _ps_props(s: Session, key: str) -> dict[str, Any]:
    shown = _key_shown(s, key)
    parent, _, child = shown.rpartition("\\")
    return {
        "PSPath": "Microsoft.PowerShell.Core\\Registry::" + shown,
        "PSParentPath": "Microsoft.PowerShell.Core\\Registry::" + parent,
        "PSChildName": child,
        "PSDrive": key.split("\\")[0].upper(),
        "PSProvider": "Microsoft.PowerShell.Core\\Registry",
    }


def _coerce(value: Any, rtype: str) -> Any:
    if isinstance(value, SecureString):
        value = value.plain
    if rtype in ("REG_DWORD", "REG_QWORD"):
        if value is None:
            return 0
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, bool):
            return int(value)
        try:
            if isinstance(value, str):
                return int(value, 0)
            if isinstance(value, int | float):
                return int(value)
            raise ValueError(value)
        except ValueError as exc:
            raise PSErr(
                f'Cannot convert value "{value}" to type "System.Int32". Error: "Input string was not in a '
                'correct format."',
                category="InvalidArgument",
                target="",
                exception="PSInvalidCastException",
                fqid="InvalidCastFromStringToInteger",
            ) from exc
    if rtype == "REG_MULTI_SZ":
        return [text(v) for v in (value if isinstance(value, list) else [value])]
    if rtype == "REG_BINARY":
        try:
            return [int(v) & 0xFF for v in (value if isinstance(value, list) else [value]) if v is not None]
        except (TypeError, ValueError) as exc:
            raise PSErr(
                f'Cannot convert value "{text(value)}" to type "System.Byte[]".',
                category="InvalidArgument",
                target="",
                exception="PSInvalidCastException",
                fqid="InvalidCastFromStringToInteger",
            ) from exc
    return text(value)


def _no_property(s: Session, name: str, key: str) -> PSErr:
    return PSErr(
        f"Property {name} does not exist at path {_key_shown(s, key)}.",
        category="InvalidArgument",
        target=name,
        exception="PSArgumentException",
        fqid="System.Management.Automation.PSArgumentException",
    )


def _reg_key_obj(s: Session, key: str) -> PSObj:
    r = L.reg(s.guest)
    props = [f"{n} : {text(v)}" for n, v in r.values(key).items()]
    shown = _key_shown(s, key)
    parent, _, child = shown.rpartition("\\")
    return PSObj(
        "RegistryKey", {"Name": child, "Property": props}, group=f"    Hive: {parent}", custom=_render_keys
    )


def _render_keys(objs: list[PSObj]) -> str:
    out: list[str] = []
    group = None
    for o in objs:
        if o.group != group:
            group = o.group
            out.append(
                f"\n\n{group}\n\n\nName                           Property\n----                           --------\n"
            )
        props = o.get("Property") or [""]
        out.append(f"{text(o.get('Name')):<30} {props[0]}".rstrip() + "\n")
        out.extend(" " * 31 + p + "\n" for p in props[1:])
    return "".join(out) + "\n"


# filesystem helpers ----------------------------------------------------------------------------------------
def _stamp(mtime: float) -> str:
    t = time.gmtime(mtime)
    hour = t.tm_hour % 12 or 12
    return (
        f"{t.tm_mon}/{t.tm_mday}/{t.tm_year}"
        + f"{hour}:{t.tm_min:02d} {'AM' if t.tm_hour < 12 else 'PM'}".rjust(10)
    )


def _file_obj(s: Session, path: str) -> PSObj:
    fs = s.guest.fs
    node = fs.stat(path)
    shown = node.name.lstrip("/").replace("/", "\\")
    parent, _, name = shown.rpartition("\\")
    is_dir = node.kind == "d"
    return PSObj(
        "FileSystemInfo",
        {
            "Mode": "d-----" if is_dir else "-a----",
            "LastWriteTime": _stamp(node.mtime or s.ctx.now),
            "Length": None if is_dir else node.size,
            "Name": name,
            "FullName": shown,
            "PSIsContainer": is_dir,
        },
        group=f"    Directory: {parent if parent.count(chr(92)) else parent + chr(92)}",
        custom=_render_files,
    )


def _render_files(objs: list[PSObj]) -> str:
    out: list[str] = []
    group = None
    for o in objs:
        if o.group != group:
            group = o.group
            out.append(
                f"\n\n{group}\n\n\nMode                 LastWriteTime         Length Name\n"
                "----                 -------------         ------ ----\n"
            )
        out.append(
            f"{o.get('Mode'):<6}{o.get('LastWriteTime'):>28}{text(o.get('Length')):>15} {o.get('Name')}\n"
        )
    return "".join(out) + "\n\n"


def _paths(a: Args, name: str = "Path") -> list[str]:
    return a.strs(name) or a.strs("LiteralPath")


def _expand(s: Session, path: str) -> list[str]:
    """Wildcards in the last path component; the path itself otherwise (existing or not)."""
    full = s.full(path)
    parent, _, leaf = full.rpartition("\\")
    if not any(c in leaf for c in "*?["):
        return [full]
    parent = parent if "\\" in parent else parent + "\\"
    if not s.guest.fs.is_dir(parent):
        return []
    return [
        parent.rstrip("\\") + "\\" + n
        for n in s.guest.fs.listdir(parent)
        if fnmatch.fnmatch(n.lower(), leaf.lower())
    ]


def _read(s: Session, path: str) -> str:
    data = s.guest.fs.read(path)
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", "replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace")


def _encode(textv: str, encoding: str) -> bytes:
    enc = encoding.lower()
    if enc == "unicode":
        return b"\xff\xfe" + textv.encode("utf-16-le")
    if enc == "utf8":
        return b"\xef\xbb\xbf" + textv.encode("utf-8")
    return textv.encode("utf-8")


# content ---------------------------------------------------------------------------------------------------
@cmdlet(
    "Get-Content",
    ("Path", "LiteralPath", "TotalCount", "Tail", "Encoding", "Delimiter", "ReadCount"),
    ("Raw", "Force", "Wait"),
    ("Path",),
)
def get_content(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    for p in _paths(a):
        targets = _expand(s, p)
        for full in targets:
            fs = s.guest.fs
            if not fs.exists(full):
                raise not_found(full)
            if fs.is_dir(full):
                raise PSErr(
                    f"Unable to get content because it is a directory: '{full}'. Please use 'Get-ChildItem' "
                    "instead.",
                    category="ObjectNotFound",
                    target=full,
                    exception="UnauthorizedAccessException",
                    fqid="GetContentReaderUnauthorizedAccessError",
                )
            body = _read(s, full)
            if a.has("Raw"):
                out.append(body)
                continue
            lines = body.replace("\r\n", "\n").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if a.get("TotalCount") is not None:
                lines = lines[: int(a.get("TotalCount"))]
            if a.get("Tail") is not None:
                lines = lines[-int(a.get("Tail")) :] if int(a.get("Tail")) else []
            out.extend(lines)
    return out


def _set_content(s: Session, a: Args, append: bool) -> list[Any]:
    value = a.get("Value")
    values = a.input if value is None else (value if isinstance(value, list) else [value])
    body = "".join(text(v) + ("" if a.has("NoNewline") else "\r\n") for v in values)
    fs = s.guest.fs
    for p in _paths(a):
        full = s.full(p)
        parent = full.rpartition("\\")[0]
        if not fs.is_dir(parent if "\\" in parent else parent + "\\"):
            raise PSErr(
                f"Could not find a part of the path '{full}'.",
                category="ObjectNotFound",
                target=full,
                exception="DirectoryNotFoundException",
                fqid="GetContentWriterDirectoryNotFoundError",
            )
        if fs.is_dir(full):
            raise PSErr(
                f"Access to the path '{full}' is denied.",
                category="PermissionDenied",
                target=full,
                exception="UnauthorizedAccessException",
                fqid="GetContentWriterUnauthorizedAccessError",
            )
        existing = fs.is_file(full)
        if append and existing:
            old = fs.read(full)
            enc = "unicode" if old.startswith(b"\xff\xfe") else "default"
            data = body.encode("utf-16-le") if enc == "unicode" else body.encode("utf-8")
            fs.write(full, data, append=True, mtime=s.ctx.now)
        else:
            fs.write(full, _encode(body, a.str("Encoding", "default")), mtime=s.ctx.now)
    return []


@cmdlet(
    "Set-Content",
    ("Path", "LiteralPath", "Value", "Encoding"),
    ("Force", "NoNewline", "PassThru"),
    ("Path", "Value"),
)
def set_content(s: Session, a: Args) -> list[Any]:
    return _set_content(s, a, append=False)


@cmdlet(
    "Add-Content",
    ("Path", "LiteralPath", "Value", "Encoding"),
    ("Force", "NoNewline", "PassThru"),
    ("Path", "Value"),
)
def add_content(s: Session, a: Args) -> list[Any]:
    return _set_content(s, a, append=True)


# items -----------------------------------------------------------------------------------------------------
@cmdlet("Test-Path", ("Path", "LiteralPath", "PathType"), ("IsValid",), ("Path",))
def test_path(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    kind = a.str("PathType", "Any").lower()
    for p in _paths(a):
        if s.is_reg(p):
            out.append(kind != "leaf" and L.reg(s.guest).key_exists(_key(s, p)))
            continue
        hits = _expand(s, p)
        fs = s.guest.fs
        ok = [h for h in hits if fs.exists(h) and (kind == "any" or (kind == "leaf") == fs.is_file(h))]
        out.append(bool(ok))
    return out


@cmdlet(
    "Remove-Item", ("Path", "LiteralPath", "Include", "Exclude", "Filter"), ("Recurse", "Force"), ("Path",)
)
def remove_item(s: Session, a: Args) -> list[Any]:
    fs = s.guest.fs
    r = L.reg(s.guest)
    for p in _paths(a):
        if s.is_reg(p):
            key = _need_key(s, p)
            if r.subkeys(key) and not a.has("Recurse"):
                raise _NONINTERACTIVE
            r.delete_key(key)
            continue
        targets = _expand(s, p)
        if not targets:
            continue
        for full in targets:
            if not fs.exists(full):
                raise not_found(full)
            if fs.is_dir(full):
                if fs.listdir(full) and not a.has("Recurse"):
                    raise _NONINTERACTIVE
                fs.rmtree(full)
            else:
                fs.remove(full)
    return []


@cmdlet(
    "Copy-Item",
    ("Path", "LiteralPath", "Destination"),
    ("Recurse", "Force", "PassThru"),
    ("Path", "Destination"),
)
def copy_item(s: Session, a: Args) -> list[Any]:
    fs = s.guest.fs
    dest = s.full(a.str("Destination"))
    for p in _paths(a):
        for src in _expand(s, p):
            if not fs.exists(src):
                raise not_found(src)
            target = dest + "\\" + src.rsplit("\\", 1)[-1] if fs.is_dir(dest) else dest
            if fs.is_file(src):
                fs.write(target, fs.read(src), mtime=s.ctx.now)
            elif a.has("Recurse"):
                base = fs.norm(src)
                for node in fs.walk(src):
                    rel = node[len(base) :].replace("/", "\\")
                    if fs.is_dir(node):
                        fs.mkdir(target + rel)
                    else:
                        fs.write(target + rel, fs.read(node), mtime=s.ctx.now)
            else:
                fs.mkdir(target)
    return []


@cmdlet("New-Item", ("Path", "Name", "ItemType", "Value"), ("Force",), ("Path",))
def new_item(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    paths = _paths(a) or [s.cwd]
    for p in paths:
        if a.get("Name"):
            p = p.rstrip("\\") + "\\" + a.str("Name")
        if s.is_reg(p):
            out.append(_new_key(s, p, a.has("Force")))
            continue
        fs = s.guest.fs
        full = s.full(p)
        kind = a.str("ItemType", "File").lower()
        if kind in ("directory", "container"):
            if fs.exists(full) and not a.has("Force"):
                raise PSErr(
                    f"An item with the specified name {full} already exists.",
                    category="ResourceExists",
                    target=full,
                    exception="IOException",
                    fqid="DirectoryExist",
                )
            fs.mkdir(full)
            fs.stat(full).mtime = fs.stat(full).mtime or s.ctx.now
        elif kind == "file":
            if fs.exists(full) and not a.has("Force"):
                raise PSErr(
                    f"The file '{full}' already exists.",
                    category="WriteError",
                    target=full,
                    exception="IOException",
                    fqid="NewItemIOError",
                )
            parent = full.rpartition("\\")[0]
            if not fs.is_dir(parent if "\\" in parent else parent + "\\") and not a.has("Force"):
                raise PSErr(
                    f"Could not find a part of the path '{full}'.",
                    category="WriteError",
                    target=full,
                    exception="DirectoryNotFoundException",
                    fqid="NewItemIOError",
                )
            fs.write(full, text(a.get("Value")), mtime=s.ctx.now)
        else:
            raise PSErr(
                'The type is not a known type for the file system. Only "file" and "directory" can be '
                "created.",
                category="InvalidArgument",
                target=full,
                exception="PSArgumentException",
                fqid="Argument",
            )
        out.append(_file_obj(s, full))
    return out


def _new_key(s: Session, path: str, force: bool) -> PSObj:
    r = L.reg(s.guest)
    key = _key(s, path)
    parent = key.rpartition("\\")[0]
    if r.key_exists(key):
        if not force:
            raise PSErr(
                "A key at this path already exists.",
                category="ResourceExists",
                target=path,
                exception="IOException",
                fqid="System.IO.IOException",
            )
        r.delete_key(key)  # New-Item -Force on an existing key re-creates it, dropping its values and subkeys
    elif parent and not r.key_exists(parent) and not force:
        raise not_found(parent)
    r.set(key, "_", "")
    r.delete_value(key, "_")
    return _reg_key_obj(s, key)


@cmdlet(
    "Get-ChildItem",
    ("Path", "LiteralPath", "Filter", "Include", "Exclude", "Depth"),
    ("Recurse", "Force", "File", "Directory", "Name"),
    ("Path", "Filter"),
)
def get_child_item(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    fs = s.guest.fs
    for p in _paths(a) or [s.cwd]:
        if s.is_reg(p):
            key = _need_key(s, p)
            out.extend(_reg_key_obj(s, key + "\\" + sub) for sub in L.reg(s.guest).subkeys(key))
            continue
        roots = _expand(s, p)
        if not roots or (len(roots) == 1 and not fs.exists(roots[0])):
            if roots and not any(c in p for c in "*?"):
                raise not_found(roots[0])
            continue
        found: list[str] = []
        for root in roots:
            if fs.is_dir(root) and (root == s.full(p) or a.has("Recurse")):
                if a.has("Recurse"):
                    base = fs.norm(root)
                    found.extend(n for n in fs.walk(root) if fs.norm(n) != base)
                else:
                    found.extend(root.rstrip("\\") + "\\" + n for n in fs.listdir(root))
            else:
                found.append(root)
        filt = a.str("Filter").lower()
        for f in found:
            name = f.replace("/", "\\").rsplit("\\", 1)[-1]
            if filt and not fnmatch.fnmatch(name.lower(), filt):
                continue
            if (a.has("File") and fs.is_dir(f)) or (a.has("Directory") and not fs.is_dir(f)):
                continue
            out.append(name if a.has("Name") else _file_obj(s, f))
    return out


# registry properties ---------------------------------------------------------------------------------------
@cmdlet("Get-ItemProperty", ("Path", "LiteralPath", "Name"), (), ("Path", "Name"))
def get_item_property(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    r = L.reg(s.guest)
    for p in _paths(a):
        if not s.is_reg(p):
            if not s.guest.fs.exists(s.full(p)):
                raise not_found(p)
            out.append(_file_obj(s, s.full(p)))
            continue
        key = _need_key(s, p)
        values = r.values(key)
        names = a.strs("Name")
        if names:
            picked = {}
            for n in names:
                hit = next((k for k in values if k.lower() == n.lower()), None)
                if hit is None:
                    raise _no_property(s, n, key)
                picked[hit] = values[hit]
            values = picked
        out.append(PSObj("ItemProperty", {**values, **_ps_props(s, key)}, "list"))
    return out


@cmdlet("Get-ItemPropertyValue", ("Path", "LiteralPath", "Name"), (), ("Path", "Name"))
def get_item_property_value(s: Session, a: Args) -> list[Any]:
    paths = _paths(a)
    if not paths or not a.strs("Name"):
        raise PSErr(
            "Cannot process command because of one or more missing mandatory parameters: "
            + ("Path Name." if not paths and not a.strs("Name") else "Path." if not paths else "Name."),
            category="InvalidArgument",
            exception="ParameterBindingException",
            fqid="MissingMandatoryParameter",
        )
    key = _need_key(s, paths[0])
    out = []
    for n in a.strs("Name"):
        typed = L.reg(s.guest).get_typed(key, n)
        if typed is None:
            raise _no_property(s, n, key)
        out.append(typed[1])
    return out


@cmdlet(
    "Set-ItemProperty",
    ("Path", "LiteralPath", "Name", "Value", "Type"),
    ("Force", "PassThru"),
    ("Path", "Name", "Value"),
)
def set_item_property(s: Session, a: Args) -> list[Any]:
    r = L.reg(s.guest)
    for p in _paths(a):
        key = _need_key(s, p)
        name = a.str("Name")
        typed = r.get_typed(key, name)
        rtype = _REG_TYPES.get(a.str("Type").lower()) or (typed[0] if typed else "REG_SZ")
        r.set(key, name, _coerce(a.get("Value"), rtype), rtype)
    return []


@cmdlet(
    "New-ItemProperty",
    ("Path", "LiteralPath", "Name", "Value", "PropertyType"),
    ("Force",),
    ("Path", "Name", "Value"),
)
def new_item_property(s: Session, a: Args) -> list[Any]:
    r = L.reg(s.guest)
    out: list[Any] = []
    for p in _paths(a):
        key = _need_key(s, p)
        name = a.str("Name")
        if r.get_typed(key, name) is not None and not a.has("Force"):
            raise PSErr(
                "The property already exists.",
                category="ResourceExists",
                target=_key_shown(s, key),
                exception="IOException",
                fqid="System.IO.IOException",
            )
        rtype = _REG_TYPES.get(a.str("PropertyType", "String").lower(), "REG_SZ")
        value = _coerce(a.get("Value"), rtype)
        r.set(key, name, value, rtype)
        out.append(PSObj("ItemProperty", {name: value, **_ps_props(s, key)}, "list"))
    return out


@cmdlet("Remove-ItemProperty", ("Path", "LiteralPath", "Name"), ("Force",), ("Path", "Name"))
def remove_item_property(s: Session, a: Args) -> list[Any]:
    r = L.reg(s.guest)
    for p in _paths(a):
        key = _need_key(s, p)
        for n in a.strs("Name"):
            if not r.delete_value(key, n):
                raise _no_property(s, n, key)
    return []


@cmdlet("Get-Item", ("Path", "LiteralPath", "Filter", "Include", "Exclude"), ("Force",), ("Path",))
def get_item(s: Session, a: Args) -> list[Any]:
    out: list[Any] = []
    for p in _paths(a):
        if s.is_reg(p):
            out.append(_reg_key_obj(s, _need_key(s, p)))
            continue
        hits = [h for h in _expand(s, p) if s.guest.fs.exists(h)]
        if not hits and not any(c in p for c in "*?"):
            raise not_found(s.full(p))
        out.extend(_file_obj(s, h) for h in hits)
    return out
