""".NET text formatting that ARM functions inherit: composite format strings, numeric and date format
specifiers, ISO 8601 durations.

ARM is written in C#, so ``format('{0:N0}', 8175133)`` gives ``8,175,133`` (docs example), ``utcNow('u')`` gives
``2019-03-05 17:53:18Z`` and ``dateTimeAdd(t, 'P1M')`` adds 30 days (the duration goes through
``XmlConvert.ToTimeSpan``, which counts a month as 30 days and a year as 365; docs: adding ``P1M`` to
2023-01-31 gives 2023-03-02). The invariant culture's numbers and the en-US date patterns are used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from .values import format_float, to_display


class FormatError(ValueError):
    """A composite format string .NET would reject; the message is .NET's."""


# --- composite formatting: "{index[,alignment][:formatString]}" --------------------------------------------

_INDEX_RANGE = (
    "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
)
_BAD_FORMAT = "Input string was not in a correct format."


def composite_format(fmt: str, args: Sequence[Any]) -> str:
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "}":
            if i + 1 < n and fmt[i + 1] == "}":
                out.append("}")
                i += 2
                continue
            raise FormatError(_BAD_FORMAT)
        if c != "{":
            out.append(c)
            i += 1
            continue
        if i + 1 < n and fmt[i + 1] == "{":
            out.append("{")
            i += 2
            continue
        end = fmt.find("}", i)
        if end < 0:
            raise FormatError(_BAD_FORMAT)
        item = fmt[i + 1 : end]
        i = end + 1
        spec = ""
        if ":" in item:
            item, spec = item.split(":", 1)
        align = 0
        if "," in item:
            item, align_text = item.split(",", 1)
            try:
                align = int(align_text.strip())
            except ValueError:
                raise FormatError(_BAD_FORMAT) from None
        item = item.strip()
        if not item.isdigit():
            raise FormatError(_BAD_FORMAT)
        index = int(item)
        if index >= len(args):
            raise FormatError(_INDEX_RANGE)
        text = format_value(args[index], spec)
        if align > 0:
            text = text.rjust(align)
        elif align < 0:
            text = text.ljust(-align)
        out.append(text)
    return "".join(out)


def format_value(v: Any, spec: str) -> str:
    if spec and type(v) in (int, float):
        return format_number(v, spec)
    return to_display(v)


# --- numbers ------------------------------------------------------------------------------------------------

_STANDARD = re.compile(r"^([CcDdEeFfGgNnPpXxRr])(\d{0,2})$")


def format_number(v: int | float, spec: str) -> str:
    m = _STANDARD.match(spec)
    if not m:
        return _custom_number(v, spec)
    kind, digits = m.group(1), m.group(2)
    prec = int(digits) if digits else None
    k = kind.upper()
    if k == "D":
        if type(v) is not int:
            raise FormatError("Format specifier was invalid.")
        body = str(abs(v)).zfill(prec or 0)
        return ("-" if v < 0 else "") + body
    if k == "X":
        if type(v) is not int:
            raise FormatError("Format specifier was invalid.")
        text = format(v & 0xFFFFFFFFFFFFFFFF if v < 0 else v, "x" if kind == "x" else "X")
        return text.zfill(prec or 0)
    if k == "N":
        return _fixed(v, 2 if prec is None else prec, grouping=True)
    if k == "F":
        return _fixed(v, 2 if prec is None else prec, grouping=False)
    if k == "C":
        return "¤" + _fixed(v, 2 if prec is None else prec, grouping=True)  # invariant culture currency sign
    if k == "P":
        return _fixed(v * 100, 2 if prec is None else prec, grouping=True) + " %"
    if k == "E":
        p = 6 if prec is None else prec
        mant, exp = f"{v:.{p}e}".split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}{'e' if kind == 'e' else 'E'}{sign}{exp.lstrip('+-').zfill(3)}"
    # G and R
    if type(v) is int and k == "G" and prec is None:
        return str(v)
    if prec:
        text = f"{v:.{prec}g}"
        return text.replace("e", "E" if kind == "G" else "e")
    return str(v) if type(v) is int else format_float(float(v))


def _round(v: int | float, places: int) -> Decimal:
    d = Decimal(v) if type(v) is int else Decimal(repr(v))
    # .NET Core rounds half away from zero when formatting
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _fixed(v: int | float, places: int, *, grouping: bool) -> str:
    d = _round(v, places)
    text = f"{abs(d):,.{places}f}" if grouping else f"{abs(d):.{places}f}"
    return ("-" if d < 0 else "") + text


def _custom_number(v: int | float, spec: str) -> str:
    """Custom numeric formats: ``0`` and ``#`` placeholders, ``.``, ``,`` grouping, ``%``, quoted literals."""
    pattern = spec.split(";")[0]
    if not any(ch in pattern for ch in "0#"):
        return pattern
    percent = "%" in pattern
    value = v * 100 if percent else v
    int_part, _, frac_part = pattern.partition(".")
    placeholders_frac = [c for c in frac_part if c in "0#"]
    min_frac = len([c for c in placeholders_frac if c == "0"])
    max_frac = len(placeholders_frac)
    grouping = "," in int_part.strip(",")
    min_int = len([c for c in int_part if c == "0"])
    d = Decimal(value) if type(value) is int else Decimal(repr(value))
    d = (
        d.quantize(Decimal(1).scaleb(-max_frac), rounding=ROUND_HALF_UP)
        if max_frac
        else d.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    neg = d < 0
    text = f"{abs(d):.{max_frac}f}"
    ip, _, fp = text.partition(".")
    fp = fp.rstrip("0")
    fp = fp.ljust(min_frac, "0")
    ip = ip.lstrip("0").rjust(min_int, "0") if ip != "0" or min_int else ""
    if grouping and ip:
        ip = f"{int(ip):,}".rjust(min_int, "0")
    number = ip + ("." + fp if fp else "")
    # keep literal characters around the placeholders (prefix and suffix)
    first = min(pattern.find(c) for c in "0#" if c in pattern)
    last = max(pattern.rfind(c) for c in "0#" if c in pattern)
    prefix, suffix = _literal(pattern[:first]), _literal(pattern[last + 1 :])
    return ("-" if neg else "") + prefix + (number or "0" if min_int else number) + suffix


def _literal(s: str) -> str:
    return s.replace("'", "").replace('"', "").replace("\\", "")


# --- dates --------------------------------------------------------------------------------------------------

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Standard date patterns (en-US culture, which ARM's documented outputs show: utcNow('d') is '3/5/2019').
_STANDARD_DATE = {
    "d": "M/d/yyyy",
    "D": "dddd, MMMM d, yyyy",
    "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt",
    "g": "M/d/yyyy h:mm tt",
    "G": "M/d/yyyy h:mm:ss tt",
    "m": "MMMM d",
    "M": "MMMM d",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "h:mm tt",
    "T": "h:mm:ss tt",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "y": "MMMM yyyy",
    "Y": "MMMM yyyy",
}

_DATE_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\\.|y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|K|z+|g+|.", re.DOTALL)


def _date_token(tok: str, dt: datetime) -> str:
    c, n = tok[0], len(tok)
    if c in "'\"":
        return tok[1:-1]
    if c == "\\":
        return tok[1:]
    if c == "y":
        return (
            str(dt.year % 100).zfill(2)
            if n == 2
            else (str(dt.year % 100) if n == 1 else str(dt.year).zfill(n))
        )
    if c == "M":
        if n >= 4:
            return _MONTHS[dt.month - 1]
        if n == 3:
            return _MONTHS[dt.month - 1][:3]
        return str(dt.month).zfill(n)
    if c == "d":
        if n >= 4:
            return _DAYS[dt.weekday()]
        if n == 3:
            return _DAYS[dt.weekday()][:3]
        return str(dt.day).zfill(n)
    if c == "H":
        return str(dt.hour).zfill(min(n, 2))
    if c == "h":
        return str(dt.hour % 12 or 12).zfill(min(n, 2))
    if c == "m":
        return str(dt.minute).zfill(min(n, 2))
    if c == "s":
        return str(dt.second).zfill(min(n, 2))
    if c in "fF":
        digits = str(dt.microsecond).zfill(6) + "0"
        out = digits[:n]
        return out.rstrip("0") if c == "F" else out
    if c == "t":
        ampm = "AM" if dt.hour < 12 else "PM"
        return ampm[:1] if n == 1 else ampm
    if c == "K":
        return "Z" if dt.utcoffset() == timedelta(0) else _offset(dt, 3)
    if c == "z":
        return _offset(dt, n)
    if c == "g":
        return "A.D."
    return tok


def _offset(dt: datetime, n: int) -> str:
    off = dt.utcoffset() or timedelta(0)
    total = int(off.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    h, m = divmod(abs(total), 60)
    if n == 1:
        return f"{sign}{h}"
    if n == 2:
        return f"{sign}{h:02d}"
    return f"{sign}{h:02d}:{m:02d}"


def format_datetime(dt: datetime, fmt: str) -> str:
    """``DateTime.ToString(fmt)`` for standard (one letter) and custom .NET date format strings."""
    if len(fmt) == 1:
        if fmt not in _STANDARD_DATE:
            raise FormatError(_BAD_FORMAT)
        if fmt in "rRu":
            dt = dt.astimezone(UTC)
        fmt = _STANDARD_DATE[fmt]
    return "".join(_date_token(t, dt) for t in _DATE_TOKEN.findall(fmt))


def iso_utc(dt: datetime) -> str:
    """How a date-time value reads in a template result: ``2023-03-02T00:00:00Z`` (fraction only if any)."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += "." + str(dt.microsecond).zfill(6).rstrip("0")
    return text + "Z"


_ISO_DATE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 date-time (``2020-04-07 14:53:14Z``, ``2020-04-07T14:53:14.5+02:00``, ``2020-04-07``)."""
    m = _ISO_DATE.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        dt = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro
        )
    except ValueError:
        return None
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (dt - sign * offset).replace(tzinfo=UTC)
    return dt.replace(tzinfo=UTC)


_DURATION = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration as ``XmlConvert.ToTimeSpan`` reads it (a year is 365 days, a month 30)."""
    m = _DURATION.match(text)
    if not m or text in ("P", "-P") or text.endswith("T"):
        return None
    neg, y, mo, w, d, h, mi, s = m.groups()
    delta = timedelta(
        days=int(y or 0) * 365 + int(mo or 0) * 30 + int(w or 0) * 7 + int(d or 0),
        hours=int(h or 0),
        minutes=int(mi or 0),
        seconds=float(s or 0),
    )
    return -delta if neg else delta


def banker_round(x: float) -> int:
    """``Math.Round`` (half to even), as .NET converts doubles to integers."""
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
