"""What keeps a guest's CPUs busy: its busy processes, as guest state on azemu's clock.

A busy process (``stress-ng --cpu 2 --timeout 300s``, ``yes > /dev/null &``, a PowerShell busy loop) is a
record of how many cores it keeps busy from when to when; one whose end is open runs until it is killed
or the guest boots again. Nothing runs in the background: the load at any moment is read from the
records, so a metric computed for a past minute after the clock jumped ahead is what it was then.
Ended processes are kept for a day (what the metrics look back on), then forgotten.
"""

from __future__ import annotations

import json
from typing import Any

from azemu.guest.machine import Guest

PATHS = {"Linux": "/proc/azemu/busy.json", "Windows": "C:/Windows/Temp/azemu/busy.json"}
KEEP_SECONDS = 86_400.0
IDLE_PERCENT = 1.2  # what an idle guest shows (agents, timers)


def _path(guest: Guest) -> str:
    return PATHS["Windows" if guest.os_type == "Windows" else "Linux"]


def processes(guest: Guest) -> list[dict[str, Any]]:
    try:
        found = json.loads(guest.fs.read_text(_path(guest), "[]") or "[]")
    except ValueError:
        return []
    return [p for p in found if isinstance(p, dict)]


def _save(guest: Guest, procs: list[dict[str, Any]], now: float) -> None:
    kept = [p for p in procs if p.get("end") is None or float(p["end"]) > now - KEEP_SECONDS]
    guest.fs.write(_path(guest), json.dumps(kept, separators=(",", ":")), 0o600, mtime=now)


def start(guest: Guest, name: str, cores: float, at: float, seconds: float | None) -> int:
    """A process keeping ``cores`` busy from ``at`` for ``seconds`` (None: until killed); its pid."""
    procs = processes(guest)
    pid = max([int(p.get("pid", 0)) for p in procs] + [1000]) + 1
    procs.append(
        {
            "pid": pid,
            "name": name,
            "cores": float(cores),
            "start": at,
            "end": at + seconds if seconds else None,
        }
    )
    _save(guest, procs, at)
    return pid


def running(guest: Guest, at: float) -> list[dict[str, Any]]:
    return [
        p
        for p in processes(guest)
        if float(p["start"]) <= at and (p.get("end") is None or float(p["end"]) > at)
    ]


def stop(guest: Guest, at: float, *, name: str | None = None, pid: int | None = None) -> int:
    """End the running processes named ``name`` (or with ``pid``); how many were running."""
    procs = processes(guest)
    ended = 0
    for p in procs:
        alive = float(p["start"]) <= at and (p.get("end") is None or float(p["end"]) > at)
        if alive and ((name is not None and p["name"] == name) or (pid is not None and int(p["pid"]) == pid)):
            p["end"] = at
            ended += 1
    if ended:
        _save(guest, procs, at)
    return ended


def stop_all(guest: Guest, at: float) -> None:
    """A boot: no process survives it."""
    procs = processes(guest)
    if any(p.get("end") is None or float(p["end"]) > at for p in procs):
        for p in procs:
            if p.get("end") is None or float(p["end"]) > at:
                p["end"] = max(at, float(p["start"]))
        _save(guest, procs, at)


def busy_cores(procs: list[dict[str, Any]], t0: float, t1: float) -> float:
    """The average number of busy cores over ``[t0, t1)``."""
    if t1 <= t0:
        return 0.0
    total = 0.0
    for p in procs:
        start = max(t0, float(p["start"]))
        end = min(t1, float(p["end"]) if p.get("end") is not None else t1)
        if end > start:
            total += float(p["cores"]) * (end - start)
    return total / (t1 - t0)


def percent(procs: list[dict[str, Any]], cores: int, t0: float, t1: float) -> float:
    """``Percentage CPU`` over ``[t0, t1)`` of a guest with ``cores`` vCPUs."""
    every = [{**p, "cores": cores * abs(float(p["cores"]))} if float(p["cores"]) < 0 else p for p in procs]
    busy = busy_cores(every, t0, t1) / max(1, cores) * 100.0
    return round(min(100.0, IDLE_PERCENT + busy), 2)
