"""Date functions: ``utcNow``, ``dateTimeAdd``, ``dateTimeFromEpoch``, ``dateTimeToEpoch``, plus ``newGuid``.

``utcNow`` and ``newGuid`` read the clock and a GUID source from the environment (:meth:`Env.now`,
:meth:`Env.new_guid` when the host provides them), so results are deterministic under test. Deployments
restrict both to parameter default values (see :mod:`.deployment`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .. import dotnet
from ..errors import ExpressionError, see
from .table import Invocation, fn, want_int, want_str


def env_now(inv: Invocation) -> datetime:
    now = getattr(inv.env, "now", None)
    return now() if callable(now) else datetime.now(UTC)


def env_new_guid(inv: Invocation) -> str:
    new = getattr(inv.env, "new_guid", None)
    return str(new()) if callable(new) else str(uuid.uuid4())


def _format(name: str, dt: datetime, fmt: str) -> str:
    try:
        return dotnet.format_datetime(dt, fmt)
    except dotnet.FormatError:
        # azemu wording
        raise ExpressionError(
            f"The template function '{name}' has an invalid parameter. The format '{fmt}' is not a valid date time "
            f"format string. {see()}"
        ) from None


@fn("utcNow", 0, 1)
def utc_now(inv: Invocation, args: Sequence[Any]) -> Any:
    fmt = want_str("utcNow", args, 0) if args else "yyyyMMddTHHmmssZ"
    return _format("utcNow", env_now(inv).astimezone(UTC), fmt)


@fn("newGuid", 0, 0)
def new_guid(inv: Invocation, args: Sequence[Any]) -> Any:
    return env_new_guid(inv)


def _invalid(which: str, value: str, kind: str) -> ExpressionError:
    # Real: "The template function 'dateTimeAdd' has an invalid parameter. The second parameter 'PTASDIONS1D' is not a
    # valid ISO8601 Duration string. Please see https://aka.ms/arm-syntax-functions ."
    return ExpressionError(
        f"The template function 'dateTimeAdd' has an invalid parameter. The {which} parameter '{value}' is not a valid "
        f"ISO8601 {kind} string. Please see https://aka.ms/arm-syntax-functions ."
    )


@fn("dateTimeAdd", 2, 3)
def date_time_add(inv: Invocation, args: Sequence[Any]) -> Any:
    base_text = want_str("dateTimeAdd", args, 0)
    duration_text = want_str("dateTimeAdd", args, 1)
    base = dotnet.parse_datetime(base_text)
    if base is None:
        raise _invalid("first", base_text, "DateTime")
    delta = dotnet.parse_duration(duration_text)
    if delta is None:
        raise _invalid("second", duration_text, "Duration")
    result = base + delta
    if len(args) == 3:
        return _format("dateTimeAdd", result, want_str("dateTimeAdd", args, 2))
    return dotnet.iso_utc(result)


@fn("dateTimeFromEpoch", 1, 1)
def date_time_from_epoch(inv: Invocation, args: Sequence[Any]) -> Any:
    seconds = want_int("dateTimeFromEpoch", args, 0)
    if not 0 <= seconds <= 253402300799:  # DateTime.MaxValue
        # azemu wording
        raise ExpressionError(
            f"The template function 'dateTimeFromEpoch' has an invalid parameter. The epoch time '{seconds}' is outside "
            f"the range of valid date time values. {see()}"
        )
    return dotnet.iso_utc(datetime.fromtimestamp(seconds, UTC))


@fn("dateTimeToEpoch", 1, 1)
def date_time_to_epoch(inv: Invocation, args: Sequence[Any]) -> Any:
    text = want_str("dateTimeToEpoch", args, 0)
    dt = dotnet.parse_datetime(text)
    if dt is None:
        raise ExpressionError(
            f"The template function 'dateTimeToEpoch' has an invalid parameter. The first parameter '{text}' is not a "
            f"valid ISO8601 DateTime string. {see()}"
        )
    return int(dt.timestamp())


SPECS = [utc_now, new_guid, date_time_add, date_time_from_epoch, date_time_to_epoch]
