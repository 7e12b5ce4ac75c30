"""Timestamps as ARM writes them (ISO 8601, UTC, microseconds)."""

from __future__ import annotations

import datetime as dt


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="microseconds")
