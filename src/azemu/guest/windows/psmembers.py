"""Members of the values a script handles: properties, methods on strings, arrays, hashtables and objects,
indexing, and the static members of the few .NET types scripts reach for (``[math]``, ``[string]``,
``[Environment]``, ``[System.IO.Path]``, ``[System.IO.File]`` ...).

The engine (script-block calls, the file system, the clock) is reached through :class:`Host`.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from azemu.guest.windows import psops
from azemu.guest.windows.psformat import Hashtable, PSObj, ScriptBlock, SecureString
from azemu.guest.windows.psops import PSRuntimeError, as_list, to_bool, to_int, to_number, to_str, type_name


class Host(Protocol):
    """What member calls need from the running script."""

    def invoke_block(
        self, block: ScriptBlock, args: list[Any], dollar_under: Any = None, new_scope: bool = False
    ) -> list[Any]: ...

    def read_file(self, path: str) -> str: ...

    def write_file(self, path: str, text: str, append: bool) -> None: ...

    def file_exists(self, path: str, directory: bool) -> bool: ...

    def make_directory(self, path: str) -> None: ...

    def env(self, name: str) -> str | None: ...

    def set_env(self, name: str, value: str | None) -> None: ...

    def computer_name(self) -> str: ...

    def now(self) -> float: ...

    def cwd(self) -> str: ...


class ArrayList(list[Any]):
    """``[System.Collections.ArrayList]`` / ``List[T]``: an array that grows (``Add`` works)."""

    generic = False


class StringBuilder:
    """``[System.Text.StringBuilder]``: Append/AppendLine/Insert/Clear/ToString and Length."""

    def __init__(self, text: str = "") -> None:
        self.parts = [text] if text else []

    def text(self) -> str:
        return "".join(self.parts)

    def __str__(self) -> str:
        return self.text()

    def call(self, low: str, name: str, args: list[Any]) -> Any:
        if low in ("append", "appendline"):
            piece = to_str(args[0]) if args else ""
            if len(self.text()) + len(piece) > psops.MAX_STRING:
                raise invocation_error(
                    name, args, "Exception of type 'System.OutOfMemoryException' was thrown."
                )
            self.parts.append(piece + ("\r\n" if low == "appendline" else ""))
            return self
        if low == "appendformat":
            self.parts.append(psops.ps_format(to_str(args[0]) if args else "", args[1:]))
            return self
        if low == "clear":
            self.parts = []
            return self
        if low == "tostring":
            return self.text()
        if low == "insert" and len(args) >= 2:
            text = self.text()
            i = to_int(args[0])
            if not 0 <= i <= len(text):
                raise invocation_error(
                    name,
                    args,
                    "Index was out of range. Must be non-negative and less than the size of the collection.",
                )
            self.parts = [text[:i] + to_str(args[1]) + text[i:]]
            return self
        raise no_method(self, name)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _type_obj(v: Any) -> PSObj:
    full = (
        type_name(v)
        if not isinstance(v, ArrayList)
        else ("System.Collections.Generic.List`1" if v.generic else "System.Collections.ArrayList")
    )
    base = {"System.String": "System.Object", "System.Object[]": "System.Array"}.get(full, "System.ValueType")
    return PSObj(
        "System.RuntimeType",
        {"IsPublic": True, "IsSerial": True, "Name": _short(full), "BaseType": base, "FullName": full},
        "table",
        ["IsPublic", "IsSerial", "Name", "BaseType"],
        string=full,
    )


def invocation_error(name: str, args: list[Any], message: str) -> PSRuntimeError:
    return PSRuntimeError(
        f'Exception calling "{name}" with "{len(args)}" argument(s): "{message}"',
        category="NotSpecified",
        exception="MethodInvocationException",
        fqid=_fqid(message),
    )


def _fqid(message: str) -> str:
    if "out of range" in message.lower() or "outside the bounds" in message.lower():
        return "ArgumentOutOfRangeException"
    if "fixed size" in message:
        return "NotSupportedException"
    return "MethodException"


def no_method(v: Any, name: str) -> PSRuntimeError:
    if v is None:
        return PSRuntimeError(
            "You cannot call a method on a null-valued expression.",
            category="InvalidOperation",
            fqid="InvokeMethodOnNull",
        )
    return PSRuntimeError(
        f"Method invocation failed because [{type_name(v)}] does not contain a method named '{name}'.",
        category="InvalidOperation",
        fqid="MethodNotFound",
    )


# properties ------------------------------------------------------------------------------------------------
def get_member(v: Any, name: str) -> Any:
    low = name.lower()
    if v is None:
        return None
    if isinstance(v, list):
        if low in ("count", "length"):
            return len(v)
        if low == "rank":
            return 1
        out = []
        for item in v:
            m = get_member(item, name)
            if isinstance(m, list):
                out.extend(m)
            elif m is not None:
                out.append(m)
        if not out:
            return None
        return out[0] if len(out) == 1 else out
    if isinstance(v, Hashtable):
        if name in v:
            return v[name]
        if low == "count":
            return len(v)
        if low == "keys":
            return v.keys()
        if low == "values":
            return v.values()
        return None
    if isinstance(v, PSObj):
        if v.has(name):
            return v.get(name)
        if low == "count":
            return 1
        return None
    if isinstance(v, str):
        if low == "length":
            return len(v)
        if low == "count":
            return 1
        return None
    if isinstance(v, ScriptBlock) and low == "ast":
        return v.ast
    if low == "count":
        return 1
    if isinstance(v, SecureString) and low == "length":
        return len(v.plain)
    if isinstance(v, StringBuilder) and low == "length":
        return len(v.text())
    return None


def set_member(v: Any, name: str, value: Any) -> None:
    if isinstance(v, Hashtable):
        v[name] = value
        return
    if isinstance(v, PSObj) and v.has(name):
        v.set(name, value)
        return
    raise PSRuntimeError(
        f"The property '{name}' cannot be found on this object. Verify that the property exists and can be set.",
        category="InvalidOperation",
        fqid="PropertyNotFound",
    )


# indexing --------------------------------------------------------------------------------------------------
def get_index(v: Any, index: Any) -> Any:
    if v is None:
        raise PSRuntimeError("Cannot index into a null array.", category="InvalidOperation", fqid="NullArray")
    if isinstance(v, Hashtable):
        if isinstance(index, list):
            return [v[k] for k in index]
        return v[index]
    if isinstance(index, list):
        out = [get_index(v, i) for i in index]
        return [x for x in out if x is not None]
    if isinstance(v, list | str):
        try:
            i = to_int(index)
        except PSRuntimeError:
            return None
        if -len(v) <= i < len(v):
            return v[i]
        return None
    if isinstance(v, PSObj):
        return v.get(to_str(index))
    raise PSRuntimeError(
        f"Unable to index into an object of type {type_name(v)}.",
        category="InvalidOperation",
        fqid="CannotIndex",
    )


def set_index(v: Any, index: Any, value: Any) -> None:
    if isinstance(v, Hashtable):
        v[index] = value
        return
    if isinstance(v, list):
        i = to_int(index)
        if not -len(v) <= i < len(v):
            raise PSRuntimeError(
                "Index was outside the bounds of the array.",
                category="OperationStopped",
                exception="IndexOutOfRangeException",
                fqid="System.IndexOutOfRangeException",
            )
        v[i] = value
        return
    if v is None:
        raise PSRuntimeError("Cannot index into a null array.", category="InvalidOperation", fqid="NullArray")
    raise PSRuntimeError(
        f"Unable to index into an object of type {type_name(v)}.",
        category="InvalidOperation",
        fqid="CannotIndex",
    )


# methods ---------------------------------------------------------------------------------------------------
def _chars(arg: Any) -> str | None:
    if arg is None:
        return None
    if isinstance(arg, list):
        return "".join(to_str(x) for x in arg)
    return to_str(arg)


def _string_method(s: str, low: str, name: str, a: list[Any]) -> Any:
    def need(n: int) -> None:
        if len(a) < n:
            raise PSRuntimeError(
                f'Cannot find an overload for "{name}" and the argument count: "{len(a)}".',
                category="NotSpecified",
                exception="MethodException",
                fqid="MethodCountCouldNotFindBest",
            )

    if low in ("toupper", "toupperinvariant"):
        return s.upper()
    if low in ("tolower", "tolowerinvariant"):
        return s.lower()
    if low in ("trim", "trimstart", "trimend"):
        chars = _chars(a[0]) if a else None
        return {"trim": s.strip, "trimstart": s.lstrip, "trimend": s.rstrip}[low](chars)
    if low == "split":
        seps = _chars(a[0]) if a else None
        limit = to_int(a[1]) if len(a) > 1 and isinstance(a[1], int) else 0
        if not seps:
            parts = s.split()
            return parts
        out = [""]
        for c in s:
            if c in seps and (limit <= 0 or len(out) < limit):
                out.append("")
            else:
                out[-1] += c
        return out
    if low == "replace":
        need(2)
        old = to_str(a[0])
        if not old:
            raise invocation_error(name, a, "String cannot be of zero length.\r\nParameter name: oldValue")
        return s.replace(old, to_str(a[1]))
    if low == "contains":
        need(1)
        return to_str(a[0]) in s
    if low in ("startswith", "endswith"):
        need(1)
        other = to_str(a[0])
        ignore = len(a) > 1 and (a[1] is True or "ignorecase" in to_str(a[1]).lower())
        hay, needle = (s.lower(), other.lower()) if ignore else (s, other)
        return hay.startswith(needle) if low == "startswith" else hay.endswith(needle)
    if low == "substring":
        need(1)
        start = to_int(a[0])
        length = to_int(a[1]) if len(a) > 1 else len(s) - start
        if start < 0 or start > len(s):
            raise invocation_error(
                name, a, "startIndex cannot be larger than length of string.\r\nParameter name: startIndex"
            )
        if length < 0 or start + length > len(s):
            raise invocation_error(
                name,
                a,
                "Index and length must refer to a location within the string.\r\nParameter name: length",
            )
        return s[start : start + length]
    if low in ("indexof", "lastindexof"):
        need(1)
        needle = to_str(a[0])
        return s.find(needle) if low == "indexof" else s.rfind(needle)
    if low in ("padleft", "padright"):
        need(1)
        width = min(to_int(a[0]), psops.MAX_STRING)
        fill = to_str(a[1])[:1] if len(a) > 1 else " "
        return s.rjust(width, fill or " ") if low == "padleft" else s.ljust(width, fill or " ")
    if low == "insert":
        need(2)
        i = to_int(a[0])
        if not 0 <= i <= len(s):
            raise invocation_error(
                name,
                a,
                "Specified argument was out of the range of valid values.\r\nParameter name: startIndex",
            )
        return s[:i] + to_str(a[1]) + s[i:]
    if low == "remove":
        need(1)
        i = to_int(a[0])
        n = to_int(a[1]) if len(a) > 1 else len(s) - i
        if i < 0 or n < 0 or i + n > len(s):
            raise invocation_error(
                name,
                a,
                "Index and count must refer to a location within the string.\r\nParameter name: count",
            )
        return s[:i] + s[i + n :]
    if low == "tochararray":
        return list(s)
    if low == "equals":
        need(1)
        return s == to_str(a[0])
    if low == "compareto":
        need(1)
        other = to_str(a[0])
        return (s > other) - (s < other)
    if low == "tostring":
        return s
    if low == "normalize":
        return s
    if low == "getenumerator":
        return list(s)
    raise no_method(s, name)


def call_method(host: Host, v: Any, name: str, args: list[Any]) -> Any:
    low = name.lower()
    if v is None:
        raise no_method(None, name)
    if low == "gettype":
        return _type_obj(v)
    if isinstance(v, str):
        return _string_method(v, low, name, args)
    if isinstance(v, StringBuilder):
        return v.call(low, name, args)
    if isinstance(v, ScriptBlock):
        if low in ("invoke", "invokereturnasis"):
            out = host.invoke_block(v, args, None, True)
            return out[0] if len(out) == 1 and low == "invokereturnasis" else out
        if low == "tostring":
            return v.text
        raise no_method(v, name)
    if isinstance(v, list):
        if low in ("where", "foreach") and args and isinstance(args[0], ScriptBlock):
            block = args[0]
            if low == "where":
                return [x for x in v if to_bool(host.invoke_block(block, [], x))]
            return [y for x in v for y in host.invoke_block(block, [], x)]
        if low == "contains":
            return bool(args) and any(psops.equals(x, args[0], True) for x in v)
        if low == "indexof":
            return next((k for k, x in enumerate(v) if args and psops.equals(x, args[0], True)), -1)
        if low == "add":
            if isinstance(v, ArrayList):
                v.append(args[0] if args else None)
                return None if v.generic else len(v) - 1
            raise invocation_error(name, args, "Collection was of a fixed size.")
        if low in ("addrange",) and isinstance(v, ArrayList):
            v.extend(as_list(args[0] if args else None))
            return None
        if low == "remove" and isinstance(v, ArrayList):
            for k, x in enumerate(v):
                if args and psops.equals(x, args[0], True):
                    del v[k]
                    break
            return None
        if low == "clear" and isinstance(v, ArrayList):
            v.clear()
            return None
        if low == "toarray":
            return list(v)
        if low == "clone":
            return type(v)(v)
        if low == "tostring":
            return type_name(v) if not isinstance(v, ArrayList) else "System.Collections.ArrayList"
        if low == "getenumerator":
            return list(v)
        raise no_method(v, name)
    if isinstance(v, Hashtable):
        if low == "containskey":
            return bool(args) and args[0] in v
        if low == "containsvalue":
            return bool(args) and any(psops.equals(x, args[0]) for x in v.values())
        if low == "add":
            if len(args) < 2:
                raise PSRuntimeError(
                    f'Cannot find an overload for "Add" and the argument count: "{len(args)}".',
                    exception="MethodException",
                    fqid="MethodCountCouldNotFindBest",
                )
            if args[0] in v:
                raise invocation_error(
                    name,
                    args,
                    f"Item has already been added. Key in dictionary: '{to_str(args[0])}'  Key being added: '{to_str(args[0])}'",
                )
            v[args[0]] = args[1]
            return None
        if low == "remove":
            if args:
                v.remove(args[0])
            return None
        if low == "clear":
            for k in list(v.keys()):
                v.remove(k)
            return None
        if low == "clone":
            return v.copy()
        if low == "getenumerator":
            return [
                PSObj(
                    "System.Collections.DictionaryEntry",
                    {"Name": k, "Key": k, "Value": x},
                    "table",
                    ["Name", "Value"],
                )
                for k, x in v.items()
            ]
        if low == "tostring":
            return str(v)
        raise no_method(v, name)
    if isinstance(v, PSObj):
        member = v.get(name)
        if isinstance(member, ScriptBlock):
            return host.invoke_block(member, args, v)
        if callable(member):
            return member(*args)
        if v.type_name == "System.DateTime" and low in _DATE_ADD:
            return date_object(
                float(v.get("_epoch") or 0) + _DATE_ADD[low] * float(psops.to_number(args[0] if args else 0))
            )
        if low == "tostring":
            if v.type_name == "System.DateTime" and args:
                return format_date(float(v.get("_epoch") or 0), to_str(args[0]))
            return to_str(v)
        if low == "equals":
            return bool(args) and args[0] is v
        if v.type_name.endswith("Encoding"):
            return _encoding_method(v, low, name, args)
        raise no_method(v, name)
    if isinstance(v, bool):
        if low == "tostring":
            return to_str(v)
        if low == "equals":
            return bool(args) and v == to_bool(args[0])
        raise no_method(v, name)
    if isinstance(v, int | float):
        if low == "tostring":
            return psops.format_value(v, to_str(args[0])) if args else to_str(v)
        if low == "equals":
            return bool(args) and psops.equals(v, args[0])
        if low == "compareto":
            return psops.order(v, args[0] if args else None)
        raise no_method(v, name)
    if isinstance(v, SecureString):
        if low == "tostring":
            return str(v)
        if low == "dispose":
            return None
        raise no_method(v, name)
    raise no_method(v, name)


# dates -----------------------------------------------------------------------------------------------------
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(epoch: float, fmt: str) -> str:
    """.NET custom date format (the usual tokens), en-US, UTC."""
    t = time.gmtime(epoch)
    if fmt in ("o", "O"):
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".0000000Z"
    if fmt in ("s",):
        return time.strftime("%Y-%m-%dT%H:%M:%S", t)
    if fmt == "u":
        return time.strftime("%Y-%m-%d %H:%M:%SZ", t)
    if fmt in ("d",):
        return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year}"
    hour12 = t.tm_hour % 12 or 12
    tokens = {
        "yyyy": f"{t.tm_year:04d}",
        "yy": f"{t.tm_year % 100:02d}",
        "MMMM": _MONTHS[t.tm_mon - 1],
        "MMM": _MONTHS[t.tm_mon - 1][:3],
        "MM": f"{t.tm_mon:02d}",
        "M": str(t.tm_mon),
        "dddd": _DAYS[t.tm_wday],
        "ddd": _DAYS[t.tm_wday][:3],
        "dd": f"{t.tm_mday:02d}",
        "d": str(t.tm_mday),
        "HH": f"{t.tm_hour:02d}",
        "H": str(t.tm_hour),
        "hh": f"{hour12:02d}",
        "h": str(hour12),
        "mm": f"{t.tm_min:02d}",
        "m": str(t.tm_min),
        "ss": f"{t.tm_sec:02d}",
        "s": str(t.tm_sec),
        "fff": "000",
        "ff": "00",
        "f": "0",
        "tt": "AM" if t.tm_hour < 12 else "PM",
        "K": "Z",
        "zzz": "+00:00",
    }
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] in "'\"":
            end = fmt.find(fmt[i], i + 1)
            end = len(fmt) if end < 0 else end
            out.append(fmt[i + 1 : end])
            i = end + 1
            continue
        if fmt[i] == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1])
            i += 2
            continue
        for tok in sorted(tokens, key=len, reverse=True):
            if fmt.startswith(tok, i):
                out.append(tokens[tok])
                i += len(tok)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


_DATE_ADD = {
    "addmilliseconds": 0.001,
    "addseconds": 1.0,
    "addminutes": 60.0,
    "addhours": 3600.0,
    "adddays": 86400.0,
}


def date_object(epoch: float) -> PSObj:
    t = time.gmtime(epoch)
    return PSObj(
        "System.DateTime",
        {
            "Year": t.tm_year,
            "Month": t.tm_mon,
            "Day": t.tm_mday,
            "Hour": t.tm_hour,
            "Minute": t.tm_min,
            "Second": t.tm_sec,
            "DayOfWeek": _DAYS[t.tm_wday],
            "DayOfYear": t.tm_yday,
            "Kind": "Utc",
            "_epoch": epoch,
        },
        "list",
        ["Year", "Month", "Day", "Hour", "Minute", "Second"],
        custom=lambda objs: "".join("\n" + to_str(o) + "\n\n\n" for o in objs),
        string=format_date(epoch, "dddd, MMMM d, yyyy h:mm:ss tt"),
    )


# static members --------------------------------------------------------------------------------------------
def _encoding(name: str) -> PSObj:
    return PSObj(
        f"System.Text.{name}Encoding",
        {"EncodingName": name, "WebName": name.lower()},
        string=f"System.Text.{name}Encoding",
    )


def _encoding_method(enc: PSObj, low: str, name: str, args: list[Any]) -> Any:
    codec = {"utf8": "utf-8", "unicode": "utf-16-le", "ascii": "ascii", "utf32": "utf-32-le"}.get(
        str(enc.get("EncodingName")).lower(), "utf-8"
    )
    if low == "getbytes":
        return list(to_str(args[0] if args else "").encode(codec, "replace"))
    if low == "getstring":
        data = bytes(to_int(b) & 0xFF for b in as_list(args[0] if args else None))
        return data.decode(codec, "replace")
    raise no_method(enc, name)


def static_member(host: Host, tname: str, name: str) -> Any:
    t = tname.lower().removeprefix("system.")
    low = name.lower()
    table: dict[tuple[str, str], Callable[[], Any]] = {
        ("math", "pi"): lambda: math.pi,
        ("math", "e"): lambda: math.e,
        ("string", "empty"): lambda: "",
        ("int", "maxvalue"): lambda: 2**31 - 1,
        ("int32", "maxvalue"): lambda: 2**31 - 1,
        ("int", "minvalue"): lambda: -(2**31),
        ("int32", "minvalue"): lambda: -(2**31),
        ("long", "maxvalue"): lambda: 2**63 - 1,
        ("int64", "maxvalue"): lambda: 2**63 - 1,
        ("double", "maxvalue"): lambda: 1.7976931348623157e308,
        ("environment", "machinename"): host.computer_name,
        ("environment", "newline"): lambda: "\r\n",
        ("environment", "username"): lambda: "SYSTEM",
        ("environment", "userdomainname"): lambda: "NT AUTHORITY",
        ("environment", "is64bitoperatingsystem"): lambda: True,
        ("environment", "is64bitprocess"): lambda: True,
        ("environment", "processorcount"): lambda: 2,
        ("environment", "currentdirectory"): host.cwd,
        ("environment", "systemdirectory"): lambda: r"C:\Windows\system32",
        ("io.path", "directoryseparatorchar"): lambda: "\\",
        ("io.path", "pathseparator"): lambda: ";",
        ("datetime", "now"): lambda: date_object(host.now()),
        ("datetime", "utcnow"): lambda: date_object(host.now()),
        ("datetime", "today"): lambda: date_object(host.now() - host.now() % 86400),
        ("text.encoding", "utf8"): lambda: _encoding("UTF8"),
        ("text.encoding", "unicode"): lambda: _encoding("Unicode"),
        ("text.encoding", "ascii"): lambda: _encoding("ASCII"),
        ("text.encoding", "default"): lambda: _encoding("UTF8"),
    }
    fn = table.get((t, low))
    if fn is None:
        return None
    return fn()


def _path_combine(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if not p:
            continue
        if p.startswith("\\") or (len(p) > 1 and p[1] == ":"):
            out = p
        elif out and not out.endswith(("\\", "/")):
            out += "\\" + p
        else:
            out += p
    return out


def call_static(host: Host, tname: str, name: str, args: list[Any]) -> Any:
    t = tname.lower().replace(" ", "").removeprefix("system.")
    low = name.lower()
    a = args

    def arg(i: int) -> Any:
        return a[i] if i < len(a) else None

    if low == "new":
        if t in ("collections.arraylist",):
            return ArrayList(as_list(arg(0)) if a and isinstance(arg(0), list) else [])
        if t.startswith("collections.generic.list"):
            lst = ArrayList(as_list(arg(0)) if a and isinstance(arg(0), list) else [])
            lst.generic = True
            return lst
        if t in ("collections.hashtable", "hashtable"):
            return Hashtable()
        if t in ("string",) and len(a) == 2:
            return to_str(arg(0))[:1] * min(to_int(arg(1)), psops.MAX_STRING)
        if t in ("guid",):
            return str(uuid.UUID(to_str(arg(0)))) if a else "00000000-0000-0000-0000-000000000000"
    if t == "math":
        fns: dict[str, Callable[[], Any]] = {
            "round": lambda: (
                round(to_number(arg(0)), to_int(arg(1))) if len(a) > 1 else round(to_number(arg(0)))
            ),
            "floor": lambda: math.floor(to_number(arg(0))),
            "ceiling": lambda: math.ceil(to_number(arg(0))),
            "truncate": lambda: math.trunc(to_number(arg(0))),
            "abs": lambda: abs(to_number(arg(0))),
            "max": lambda: max(to_number(arg(0)), to_number(arg(1))),
            "min": lambda: min(to_number(arg(0)), to_number(arg(1))),
            "pow": lambda: float(to_number(arg(0))) ** float(to_number(arg(1))),
            "sqrt": lambda: math.sqrt(to_number(arg(0))) if to_number(arg(0)) >= 0 else float("nan"),
            "log": lambda: math.log(to_number(arg(0))) if to_number(arg(0)) > 0 else float("-inf"),
            "log10": lambda: math.log10(to_number(arg(0))) if to_number(arg(0)) > 0 else float("-inf"),
            "exp": lambda: math.exp(min(to_number(arg(0)), 700)),
        }
        if low in fns:
            try:
                return fns[low]()
            except (OverflowError, ValueError) as e:
                raise invocation_error(name, a, str(e)) from None
    if t == "string":
        if low == "isnullorempty":
            return arg(0) is None or to_str(arg(0)) == ""
        if low == "isnullorwhitespace":
            return arg(0) is None or to_str(arg(0)).strip() == ""
        if low == "join":
            items = a[1:] if len(a) > 2 else as_list(arg(1))
            return to_str(arg(0)).join(to_str(x) for x in items)
        if low == "format":
            return psops.ps_format(
                to_str(arg(0)),
                a[1:]
                if len(a) > 2
                else as_list(arg(1))
                if len(a) == 2 and isinstance(arg(1), list)
                else a[1:],
            )
        if low == "concat":
            return "".join(to_str(x) for x in a)
        if low == "equals":
            return to_str(arg(0)) == to_str(arg(1))
        if low == "compare":
            x, y = to_str(arg(0)).lower(), to_str(arg(1)).lower()
            return (x > y) - (x < y)
    if t in ("int", "int32", "long", "int64", "double") and low == "parse":
        return psops.cast(t, arg(0))
    if t == "environment":
        if low == "getenvironmentvariable":
            return host.env(to_str(arg(0)))
        if low == "setenvironmentvariable":
            host.set_env(to_str(arg(0)), None if arg(1) is None else to_str(arg(1)))
            return None
        if low == "getfolderpath":
            return {
                "programfiles": r"C:\Program Files",
                "windows": r"C:\Windows",
                "system": r"C:\Windows\system32",
            }.get(to_str(arg(0)).lower(), "")
        if low == "exit":
            raise PSRuntimeError(
                "azemu: [Environment]::Exit is not supported; use exit.", fqid="NotSupported"
            )
    if t == "io.path":
        parts = [to_str(x) for x in a]
        p = parts[0] if parts else ""
        base = p.replace("/", "\\").rsplit("\\", 1)[-1]
        fns2: dict[str, Callable[[], Any]] = {
            "combine": lambda: _path_combine(parts),
            "getfilename": lambda: base,
            "getextension": lambda: ("." + base.rsplit(".", 1)[1]) if "." in base else "",
            "getfilenamewithoutextension": lambda: base.rsplit(".", 1)[0] if "." in base else base,
            "getdirectoryname": lambda: (
                p.replace("/", "\\").rsplit("\\", 1)[0] if "\\" in p.replace("/", "\\") else ""
            ),
            "gettemppath": lambda: "C:\\Windows\\TEMP\\",
            "ispathrooted": lambda: p.startswith(("\\", "/")) or (len(p) > 1 and p[1] == ":"),
            "getfullpath": lambda: p,
        }
        if low in fns2:
            return fns2[low]()
    if t == "io.file":
        path = to_str(arg(0))
        if low == "exists":
            return host.file_exists(path, False)
        if low in ("readalltext", "readalllines"):
            text = host.read_file(path)
            return (
                text
                if low == "readalltext"
                else text.replace("\r\n", "\n").split("\n")[: -1 if text.endswith("\n") else None]
            )
        if low in ("writealltext", "appendalltext"):
            host.write_file(path, to_str(arg(1)), low == "appendalltext")
            return None
        if low in ("writealllines", "appendalllines"):
            host.write_file(
                path, "".join(to_str(x) + "\r\n" for x in as_list(arg(1))), low == "appendalllines"
            )
            return None
    if t == "io.directory":
        path = to_str(arg(0))
        if low == "exists":
            return host.file_exists(path, True)
        if low == "createdirectory":
            host.make_directory(path)
            return None
    if t == "convert":
        if low == "tobase64string":
            data = bytes(to_int(b) & 0xFF for b in as_list(arg(0)))
            return base64.b64encode(data).decode()
        if low == "frombase64string":
            try:
                return list(base64.b64decode(to_str(arg(0)), validate=True))
            except (binascii.Error, ValueError):
                raise invocation_error(
                    name,
                    a,
                    "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two "
                    "padding characters, or an illegal character among the padding characters. ",
                ) from None
        if low == "toint32":
            try:
                return int(to_str(arg(0)), to_int(arg(1)) if len(a) > 1 else 10)
            except ValueError:
                raise invocation_error(name, a, "Input string was not in a correct format.") from None
        if low == "tostring":
            return to_str(arg(0))
        if low == "toboolean":
            return to_bool(arg(0))
    if t == "guid" and low == "newguid":
        g = str(uuid.uuid4())
        return PSObj("System.Guid", {"Guid": g}, string=g)
    if t == "net.dns" and low == "gethostname":
        return host.computer_name()
    if t == "datetime" and low in ("parse",):
        return to_str(arg(0))
    value = static_member(host, tname, name)
    if isinstance(value, ScriptBlock):
        return host.invoke_block(value, a)
    raise PSRuntimeError(
        f"Method invocation failed because [{tname if tname.lower().startswith('system.') else 'System.' + tname.title()}] "
        f"does not contain a method named '{name}'.",
        category="InvalidOperation",
        fqid="MethodNotFound",
    )
