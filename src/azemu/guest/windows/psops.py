"""PowerShell's operators and conversions over plain values (None, bool, int, float, str, list, Hashtable,
PSObj): arithmetic with PowerShell's left-operand rules, case-insensitive comparisons that filter
collections, ``-like``/``-match``/``-replace``/``-split``/``-join``, ``-f`` (.NET composite formatting),
casts and ``-is``/``-as``.

Errors are :class:`PSRuntimeError`, worded as Windows PowerShell 5.1 words them.
"""

from __future__ import annotations

import decimal
import re
import warnings
from collections.abc import Callable
from typing import Any

from azemu.guest.windows.psformat import Hashtable, PSObj, ScriptBlock, SecureString, number_text

MAX_ITEMS = 1_000_000  # ranges and repetitions: a guard for the emulator's memory
MAX_STRING = 16 * 1024 * 1024


class PSRuntimeError(Exception):
    """A runtime error record: the statement stops (``throw`` and ``-ErrorAction Stop`` stop the script)."""

    def __init__(
        self,
        message: str,
        *,
        category: str = "NotSpecified",
        exception: str = "RuntimeException",
        fqid: str = "RuntimeException",
        target: str = "",
        thrown: Any = None,
        script: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.exception = exception
        self.fqid = fqid
        self.target = target
        self.thrown = thrown  # the object a `throw` carried
        self.script = script  # terminates the script (throw, Stop), not just the statement
        self.extent: tuple[int, int] | None = None  # where it happened, set by the interpreter
        self.target_type = "String"
        self.activity = ""  # the cmdlet, for CategoryInfo's [..]
        self.formatted: str | None = None  # the full error text, when it was rendered where it happened


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "System.Boolean"
    if isinstance(v, int):
        return "System.Int32" if -(2**31) <= v < 2**31 else "System.Int64"
    if isinstance(v, float):
        return "System.Double"
    if isinstance(v, str):
        return "System.String"
    if isinstance(v, list):
        return "System.Object[]"
    if isinstance(v, Hashtable):
        return "System.Collections.Hashtable"
    if isinstance(v, ScriptBlock):
        return "System.Management.Automation.ScriptBlock"
    if isinstance(v, SecureString):
        return "System.Security.SecureString"
    if isinstance(v, PSObj):
        return v.type_name if "." in v.type_name else "System.Management.Automation.PSCustomObject"
    if type(v).__name__ == "StringBuilder":
        return "System.Text.StringBuilder"
    return "System.Object"


# conversions -----------------------------------------------------------------------------------------------
def to_bool(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str):
        return v != ""
    if isinstance(v, list):
        if not v:
            return False
        if len(v) == 1:
            return to_bool(v[0])
        return True
    return True


def to_str(v: Any, ofs: str = " ") -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        return number_text(v)
    if isinstance(v, list):
        return ofs.join(to_str(x, ofs) for x in v)
    if isinstance(v, PSObj) and v.string is None and type_name(v).endswith("PSCustomObject"):
        return "@{" + "; ".join(f"{k}={to_str(x)}" for k, x in v.props.items()) + "}"
    return str(v)


def as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


_NUMBER = re.compile(r"\s*([+-]?)(0x[0-9a-f]+|\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)\s*", re.I)


def parse_number(text: str) -> int | float | None:
    if text.strip() == "":
        return 0
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    sign, body = m.groups()
    value: int | float
    if body.lower().startswith("0x"):
        value = int(body, 16)
    elif any(c in body for c in ".eE"):
        value = float(body)
    else:
        value = int(body)
    return -value if sign == "-" else value


def cast_error(
    v: Any, target: str, reason: str = "Input string was not in a correct format."
) -> PSRuntimeError:
    return PSRuntimeError(
        f'Cannot convert value "{to_str(v)}" to type "{target}". Error: "{reason}"',
        category="InvalidArgument",
        exception="RuntimeException",
        fqid="InvalidCastFromStringToInteger" if isinstance(v, str) else "InvalidCastParseTargetInvocation",
    )


def to_number(v: Any) -> int | float:
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        n = parse_number(v)
        if n is None:
            raise cast_error(v, "System.Int32")
        return n
    if isinstance(v, list) and len(v) == 1:
        return to_number(v[0])
    raise PSRuntimeError(
        f'Cannot convert the "{to_str(v)}" value of type "{type_name(v)}" to type "System.Int32".',
        category="InvalidArgument",
        fqid="ConvertToFinalInvalidCastException",
    )


def to_int(v: Any) -> int:
    n = to_number(v)
    if isinstance(n, float):
        return round(n) if n == n and abs(n) != float("inf") else 0
    return int(n)


# arithmetic ------------------------------------------------------------------------------------------------
def _no_method(v: Any, op: str) -> PSRuntimeError:
    return PSRuntimeError(
        f"Method invocation failed because [{type_name(v)}] does not contain a method named '{op}'.",
        category="InvalidOperation",
        fqid="MethodNotFound",
    )


def _divide_by_zero() -> PSRuntimeError:
    return PSRuntimeError("Attempted to divide by zero.", fqid="RuntimeException")


def add(a: Any, b: Any) -> Any:
    if isinstance(a, list):
        out = a + as_list(b) if isinstance(b, list) else [*a, b]
        if len(out) > MAX_ITEMS:
            raise PSRuntimeError("Array dimensions exceeded supported range.", fqid="RuntimeException")
        return out
    if isinstance(a, Hashtable):
        if not isinstance(b, Hashtable):
            raise PSRuntimeError(
                "A hash table can only be added to another hash table.",
                category="InvalidOperation",
                fqid="AddHashTableToNonHashTable",
            )
        out_h = a.copy()
        for k, v in b.items():
            if k in out_h:
                raise PSRuntimeError(
                    f"Item has already been added. Key in dictionary: '{to_str(k)}'  Key being added: '{to_str(k)}'",
                    category="NotSpecified",
                    exception="ArgumentException",
                    fqid="System.ArgumentException",
                )
            out_h[k] = v
        return out_h
    if a is None:
        return b
    if isinstance(a, str):
        out_s = a + to_str(b)
        if len(out_s) > MAX_STRING:
            raise PSRuntimeError(
                "Exception of type 'System.OutOfMemoryException' was thrown.",
                fqid="System.OutOfMemoryException",
            )
        return out_s
    if isinstance(a, int | float):
        return a + to_number(b)
    raise _no_method(a, "op_Addition")


def arith(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return add(a, b)
    if op == "*":
        if isinstance(a, str):
            n = to_int(b)
            if n < 0 or len(a) * n > MAX_STRING:
                raise PSRuntimeError(
                    "Exception of type 'System.OutOfMemoryException' was thrown.",
                    fqid="System.OutOfMemoryException",
                )
            return a * n
        if isinstance(a, list):
            n = to_int(b)
            if n < 0 or len(a) * n > MAX_ITEMS:
                raise PSRuntimeError("Array dimensions exceeded supported range.", fqid="RuntimeException")
            return a * n
    name = {"-": "op_Subtraction", "*": "op_Multiply", "/": "op_Division", "%": "op_Modulus"}[op]
    if isinstance(a, list | Hashtable | PSObj | ScriptBlock):
        raise _no_method(a, name)
    if isinstance(a, str) and parse_number(a) is None:
        raise _no_method(a, name)
    x, y = to_number(a), to_number(b)
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if isinstance(x, float) or isinstance(y, float):
        if y == 0:
            if op == "%":
                return float("nan")
            return float("nan") if x == 0 else (float("inf") if x > 0 else float("-inf"))
        if op == "/":
            return x / y
        return _rem(x, y)
    if y == 0:
        raise _divide_by_zero()
    if op == "/":
        return x // y if x % y == 0 else x / y
    return _rem(x, y)


def _rem(x: int | float, y: int | float) -> int | float:
    """C# remainder: the sign follows the dividend."""
    r = abs(x) % abs(y)
    return -r if x < 0 else r


def bitwise(op: str, a: Any, b: Any) -> int:
    x, y = to_int(a), to_int(b)
    if op == "-band":
        return x & y
    if op == "-bor":
        return x | y
    if op == "-bxor":
        return x ^ y
    if op == "-shl":
        return x << (y & 63)
    return x >> (y & 63)


def range_op(a: Any, b: Any) -> list[int]:
    x, y = to_int(a), to_int(b)
    if abs(y - x) >= MAX_ITEMS:
        raise PSRuntimeError(
            "The range is too large for the emulator (more than a million items).", fqid="RangeTooLarge"
        )
    return list(range(x, y + 1)) if x <= y else list(range(x, y - 1, -1))


# comparisons -----------------------------------------------------------------------------------------------
def _coerce_like(a: Any, b: Any) -> Any:
    """b converted to a's type, for a comparison."""
    if isinstance(a, bool):
        return to_bool(b)
    if isinstance(a, int | float):
        if isinstance(b, int | float):
            return b
        if isinstance(b, str):
            n = parse_number(b)
            if n is None:
                raise cast_error(b, "System.Int32")
            return n
        return to_number(b)
    if isinstance(a, str):
        return to_str(b)
    return b


def equals(a: Any, b: Any, case: bool = False) -> bool:
    if a is None or b is None:
        return a is None and (b is None or b == [])
    if isinstance(a, str) and isinstance(b, str):
        return a == b if case else a.lower() == b.lower()
    try:
        bb = _coerce_like(a, b)
    except PSRuntimeError:
        return False
    if isinstance(a, str):
        return a == bb if case else a.lower() == str(bb).lower()
    if isinstance(a, int | float | bool):
        return bool(a == bb)
    if isinstance(a, PSObj | Hashtable | list | ScriptBlock):
        return a is b
    return bool(a == bb)


def order(a: Any, b: Any, case: bool = False) -> int:
    """-1/0/1, PowerShell-style (numbers numerically, strings case-insensitively)."""
    if a is None and b is None:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    if isinstance(a, int | float) and not isinstance(a, bool):
        try:
            bb = _coerce_like(a, b)
        except PSRuntimeError as e:
            raise PSRuntimeError(
                f'Could not compare "{to_str(a)}" to "{to_str(b)}". Error: "{e.message}"',
                category="InvalidOperation",
                fqid="ComparisonFailure",
            ) from None
        return int((a > bb) - (a < bb))
    sa, sb = to_str(a), to_str(b)
    if not case:
        sa, sb = sa.lower(), sb.lower()
    return (sa > sb) - (sa < sb)


def wildcard_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end > i + 1:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + body + "]")
                i = end + 1
                continue
            out.append(re.escape(c))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def like(text: Any, pattern: Any, case: bool = False) -> bool:
    try:
        rx = _compile(wildcard_regex(to_str(pattern)), re.S | (0 if case else re.I))
    except re.error:
        return False
    return rx.fullmatch(to_str(text)) is not None


def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    with warnings.catch_warnings():  # Python's FutureWarnings about a script's pattern are not the script's
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern, flags)


def dotnet_regex(pattern: str, case: bool = False) -> re.Pattern[str]:
    py = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern)
    py = re.sub(r"\\k<([A-Za-z_]\w*)>", r"(?P=\1)", py)
    py = py.replace(r"\z", r"\Z")
    try:
        return _compile(py, 0 if case else re.I)
    except (re.error, OverflowError, RecursionError) as e:
        raise PSRuntimeError(
            f'parsing "{pattern}" - {str(e).capitalize()}.',
            category="InvalidOperation",
            fqid="InvalidRegularExpression",
        ) from None


def match(text: Any, pattern: Any, case: bool = False) -> Hashtable | None:
    m = dotnet_regex(to_str(pattern), case).search(to_str(text))
    if m is None:
        return None
    groups = Hashtable()
    for k, g in enumerate([m.group(0), *m.groups()]):
        if g is not None:
            groups[k] = g
    for name, g in m.groupdict().items():
        if g is not None:
            groups[name] = g
    return groups


def _expand_replacement(repl: str, m: re.Match[str], whole: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c != "$" or i + 1 >= len(repl):
            out.append(c)
            i += 1
            continue
        nxt = repl[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "&":
            out.append(m.group(0))
            i += 2
        elif nxt == "`":
            out.append(whole[: m.start()])
            i += 2
        elif nxt == "'":
            out.append(whole[m.end() :])
            i += 2
        elif nxt == "_":
            out.append(whole)
            i += 2
        elif nxt == "{":
            end = repl.find("}", i)
            name = repl[i + 2 : end] if end > 0 else ""
            try:
                out.append(m.group(int(name) if name.isascii() and name.isdigit() else name) or "")
                i = end + 1
            except IndexError:
                out.append(repl[i : end + 1] if end > 0 else c)
                i = end + 1 if end > 0 else i + 1
        elif "0" <= nxt <= "9":
            j = i + 1
            while j < len(repl) and "0" <= repl[j] <= "9" and int(repl[i + 1 : j + 1]) <= m.re.groups:
                j += 1
            num = int(repl[i + 1 : j]) if j > i + 1 else -1
            if 0 <= num <= m.re.groups:
                out.append(m.group(num) or "")
                i = j
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def replace(text: Any, pattern: Any, repl: Any, case: bool = False) -> str:
    s = to_str(text)
    rx = dotnet_regex(to_str(pattern), case)
    r = to_str(repl)
    return rx.sub(lambda m: _expand_replacement(r, m, s), s)


def split(text: Any, pattern: Any = None, limit: int = 0, case: bool = False) -> list[str]:
    s = to_str(text)
    if pattern is None:
        return [p for p in re.split(r"\s+", s) if p]
    rx = dotnet_regex(to_str(pattern), case)
    parts = rx.split(s, maxsplit=max(0, limit - 1)) if limit > 0 else rx.split(s)
    return ["" if p is None else p for p in parts]


def join(items: Any, sep: Any = "") -> str:
    return to_str(sep).join(to_str(x) for x in as_list(items))


def contains(collection: Any, item: Any, case: bool = False) -> bool:
    return any(equals(x, item, case) for x in as_list(collection))


def compare(op: str, a: Any, b: Any, set_matches: Callable[[Hashtable | None], None]) -> Any:
    """The comparison family (-eq ... -split); a collection on the left filters or maps."""
    case = op.startswith("-c") and op not in ("-contains",)
    base = (
        "-" + op[2:]
        if (op.startswith(("-c", "-i")) and op not in ("-contains", "-in", "-is", "-isnot"))
        else op
    )
    if base in ("-contains", "-notcontains"):
        hit = contains(a, b, case)
        return hit if base == "-contains" else not hit
    if base in ("-in", "-notin"):
        hit = contains(b, a, case)
        return hit if base == "-in" else not hit
    if base == "-join":
        return join(a, b)
    if base == "-replace":
        items = as_list(b)
        pattern = items[0] if items else ""
        repl = items[1] if len(items) > 1 else ""
        if len(items) > 2:
            raise PSRuntimeError(
                "The -replace operator allows only two elements to follow it, not 3.",
                category="InvalidOperation",
                fqid="BadReplaceArgument",
            )
        if isinstance(a, list):
            return [replace(x, pattern, repl, case) for x in a]
        return replace(a, pattern, repl, case)
    if base == "-split":
        items = as_list(b)
        pattern = items[0] if items else None
        limit = to_int(items[1]) if len(items) > 1 else 0
        return [p for x in as_list(a) for p in split(x, pattern, limit, case)]
    if isinstance(a, list):
        if base in ("-match", "-notmatch"):
            rx = dotnet_regex(to_str(b), case)
            keep = [x for x in a if (rx.search(to_str(x)) is not None) == (base == "-match")]
            return keep
        return [x for x in a if to_bool(compare(op, x, b, set_matches))]
    if base in ("-eq", "-ne"):
        hit = equals(a, b, case)
        return hit if base == "-eq" else not hit
    if base in ("-like", "-notlike"):
        hit = like(a, b, case)
        return hit if base == "-like" else not hit
    if base in ("-match", "-notmatch"):
        groups = match(a, b, case)
        if base == "-match":
            set_matches(groups)
        return (groups is not None) == (base == "-match")
    c = order(a, b, case)
    return {"-gt": c > 0, "-ge": c >= 0, "-lt": c < 0, "-le": c <= 0}[base]


# -f --------------------------------------------------------------------------------------------------------
def _round(value: float | int, places: int) -> decimal.Decimal:
    d = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    return d.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def _group(digits: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return ",".join(out)


def format_value(v: Any, spec: str) -> str:
    if not spec:
        return to_str(v)
    if isinstance(v, str):
        n = parse_number(v) if spec[:1].upper() in "DXNFCPE" and v.strip() else None
        if n is None:
            return v
        v = n
    if not isinstance(v, int | float) or isinstance(v, bool):
        return to_str(v)
    kind, digits = spec[:1], spec[1:]
    if kind.upper() in "DXNFCPEG" and (digits == "" or digits.isdigit()) and len(digits) < 3:
        places = int(digits) if digits else None
        up = kind.upper()
        if up == "D":
            if isinstance(v, float):
                raise PSRuntimeError(
                    "Format specifier was invalid.", exception="FormatException", fqid="FormatException"
                )
            return ("-" if v < 0 else "") + str(abs(v)).zfill(places or 0)
        if up == "X":
            text = format(int(v) & (2**64 - 1) if v < 0 else int(v), "X" if kind == "X" else "x")
            return text.zfill(places or 0)
        if up in "NFC":
            d = _round(v, 2 if places is None else places)
            sign = "-" if d < 0 else ""
            body = f"{abs(d):f}"
            whole, _, frac = body.partition(".")
            if up in "NC":
                whole = _group(whole)
            text = whole + ("." + frac if frac else "")
            return sign + ("$" + text if up == "C" else text)
        if up == "P":
            d = _round(v * 100, 2 if places is None else places)
            return f"{d:f} %"
        if up == "E":
            mant, _, exp = format(float(v), f".{6 if places is None else places}E").partition("E")
            text = f"{mant}E{exp[0]}{exp[1:].rjust(3, '0')}"
            return text if kind == "E" else text.lower()
        return to_str(v)
    if re.fullmatch(r"[#0,]*\.?[#0]*%?", spec):
        percent = spec.endswith("%")
        spec_body = spec.rstrip("%")
        value = v * 100 if percent else v
        whole_spec, _, frac_spec = spec_body.partition(".")
        places = len(frac_spec)
        min_places = frac_spec.count("0")
        d = _round(value, places)
        sign = "-" if d < 0 else ""
        body = f"{abs(d):f}"
        whole, _, frac = body.partition(".")
        frac = frac.rstrip("0").ljust(min_places, "0") if frac else "0" * min_places
        whole = (
            whole.zfill(whole_spec.count("0")) if whole_spec.count("0") else ("" if whole == "0" else whole)
        )
        if "," in whole_spec:
            whole = _group(whole)
        return sign + whole + ("." + frac if frac else "") + ("%" if percent else "")
    return to_str(v)


def ps_format(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "{":
            if fmt[i + 1 : i + 2] == "{":
                out.append("{")
                i += 2
                continue
            end = fmt.find("}", i)
            m = (
                re.fullmatch(r"\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?", fmt[i + 1 : end])
                if end > 0
                else None
            )
            if m is None:
                raise PSRuntimeError(
                    "Error formatting a string: Input string was not in a correct format..",
                    category="InvalidOperation",
                    fqid="FormatError",
                )
            index = int(m.group(1))
            if index >= len(args):
                raise PSRuntimeError(
                    "Error formatting a string: Index (zero based) must be greater than or equal to zero and less than "
                    "the size of the argument list..",
                    category="InvalidOperation",
                    fqid="FormatError",
                )
            text = format_value(args[index], m.group(3) or "")
            width = int(m.group(2) or 0)
            if abs(width) > 10_000:
                width = 0
            text = text.rjust(width) if width > 0 else text.ljust(-width)
            out.append(text)
            i = end + 1
            continue
        if c == "}":
            if fmt[i + 1 : i + 2] == "}":
                out.append("}")
                i += 2
                continue
            raise PSRuntimeError(
                "Error formatting a string: Input string was not in a correct format..",
                category="InvalidOperation",
                fqid="FormatError",
            )
        out.append(c)
        i += 1
    return "".join(out)


# types -----------------------------------------------------------------------------------------------------
_TYPE_ALIASES = {
    "int": "int",
    "int32": "int",
    "int16": "int",
    "int64": "long",
    "long": "long",
    "byte": "int",
    "sbyte": "int",
    "uint16": "int",
    "uint32": "long",
    "uint64": "long",
    "uint": "long",
    "ulong": "long",
    "double": "double",
    "single": "double",
    "float": "double",
    "decimal": "double",
    "string": "string",
    "char": "char",
    "bool": "bool",
    "boolean": "bool",
    "switch": "bool",
    "switchparameter": "bool",
    "object": "object",
    "psobject": "psobject",
    "pscustomobject": "pscustomobject",
    "management.automation.pscustomobject": "pscustomobject",
    "management.automation.psobject": "psobject",
    "array": "array",
    "object[]": "array",
    "hashtable": "hashtable",
    "collections.hashtable": "hashtable",
    "ordered": "ordered",
    "scriptblock": "scriptblock",
    "management.automation.scriptblock": "scriptblock",
    "void": "void",
    "regex": "string",
    "text.regularexpressions.regex": "string",
    "version": "string",
    "guid": "string",
    "datetime": "string",
    "timespan": "string",
    "uri": "string",
    "securestring": "securestring",
    "security.securestring": "securestring",
    "math": "static",
    "environment": "static",
    "io.path": "static",
    "io.file": "static",
    "io.directory": "static",
    "convert": "static",
    "text.encoding": "static",
    "net.dns": "static",
    "management.automation.pscredential": "static",
    "pscredential": "static",
    "collections.arraylist": "arraylist",
    "collections.generic.list[string]": "arraylist",
    "collections.generic.list[object]": "arraylist",
    "collections.generic.list[int]": "arraylist",
    "type": "static",
}


def canonical_type(name: str) -> str | None:
    n = name.strip().lower().replace(" ", "")
    n = n.removeprefix("system.")
    if n.endswith("[]"):
        return "array"
    return _TYPE_ALIASES.get(n)


def type_not_found(name: str) -> PSRuntimeError:
    e = PSRuntimeError(
        f"Unable to find type [{name}].", category="InvalidOperation", target=name, fqid="TypeNotFound"
    )
    e.target_type = "TypeName"
    return e


def cast(name: str, v: Any) -> Any:
    kind = canonical_type(name)
    if kind is None:
        raise type_not_found(name)
    if name.strip().endswith("[]") and name.strip().lower() not in ("object[]", "system.object[]"):
        inner = name.strip()[:-2]
        return [cast(inner, x) for x in as_list(v)]
    if kind in ("int", "long"):
        if isinstance(v, list) and len(v) != 1:
            raise PSRuntimeError(
                f'Cannot convert the "{to_str(v)}" value of type "System.Object[]" to type "System.Int32".',
                category="InvalidArgument",
                fqid="ConvertToFinalInvalidCastException",
            )
        if isinstance(v, str) and v.strip() and parse_number(v) is None:
            raise cast_error(v, "System.Int32" if kind == "int" else "System.Int64")
        n = to_number(v)
        if isinstance(n, float):
            if n != n or abs(n) == float("inf"):
                raise cast_error(v, "System.Int32", "Value was either too large or too small for an Int32.")
            return round(n)
        return n
    if kind == "double":
        if isinstance(v, str) and v.strip() and parse_number(v) is None:
            raise cast_error(v, "System.Double")
        return float(to_number(v))
    if kind == "string":
        return to_str(v)
    if kind == "char":
        if isinstance(v, int) and not isinstance(v, bool):
            return chr(v) if 0 <= v <= 0xFFFF else ""
        s = to_str(v)
        if len(s) != 1:
            raise PSRuntimeError(
                f'Cannot convert value "{s}" to type "System.Char". Error: "String must be exactly one character long."',
                category="InvalidArgument",
                fqid="InvalidCastParseTargetInvocation",
            )
        return s
    if kind == "bool":
        return to_bool(v)
    if kind in ("object", "psobject"):
        return v
    if kind in ("array", "arraylist"):
        return list(as_list(v))
    if kind in ("hashtable", "ordered"):
        if isinstance(v, Hashtable):
            return v
        raise PSRuntimeError(
            f'Cannot convert the "{to_str(v)}" value of type "{type_name(v)}" to type "System.Collections.Hashtable".',
            category="InvalidArgument",
            fqid="ConvertToFinalInvalidCastException",
        )
    if kind == "pscustomobject":
        if isinstance(v, Hashtable):
            props = {to_str(k): x for k, x in v.items()}
            return PSObj(
                "System.Management.Automation.PSCustomObject", props, "table" if len(props) <= 4 else "list"
            )
        return v
    if kind == "void":
        return None
    if kind == "scriptblock":
        if isinstance(v, ScriptBlock):
            return v
        return ScriptBlock(to_str(v))
    if kind == "securestring":
        if isinstance(v, SecureString):
            return v
        raise PSRuntimeError(
            f'Cannot convert the "{to_str(v)}" value of type "{type_name(v)}" to type "System.Security.SecureString".',
            category="InvalidArgument",
            fqid="ConvertToFinalInvalidCastException",
        )
    raise type_not_found(name)


def is_type(v: Any, name: str) -> bool:
    kind = canonical_type(name)
    if kind is None:
        raise type_not_found(name)
    if v is None:
        return False
    checks: dict[str, Callable[[Any], bool]] = {
        "int": lambda x: isinstance(x, int) and not isinstance(x, bool) and -(2**31) <= x < 2**31,
        "long": lambda x: isinstance(x, int) and not isinstance(x, bool),
        "double": lambda x: isinstance(x, float),
        "string": lambda x: isinstance(x, str),
        "char": lambda x: isinstance(x, str) and len(x) == 1,
        "bool": lambda x: isinstance(x, bool),
        "object": lambda x: True,
        "psobject": lambda x: True,
        "array": lambda x: isinstance(x, list),
        "arraylist": lambda x: isinstance(x, list),
        "hashtable": lambda x: isinstance(x, Hashtable),
        "ordered": lambda x: isinstance(x, Hashtable),
        "pscustomobject": lambda x: isinstance(x, PSObj),
        "scriptblock": lambda x: isinstance(x, ScriptBlock),
        "securestring": lambda x: isinstance(x, SecureString),
    }
    check = checks.get(kind)
    return bool(check(v)) if check else False
