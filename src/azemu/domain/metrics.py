"""Platform metrics: ``Percentage CPU`` of a virtual machine, a scale set instance or a scale set, per time
grain, computed from the guests' busy processes (guest/cpuload.py) as the VM service mirrors them.

A scale set's value per grain combines its running instances with the statistic (Average, Min, Max,
Sum); a series then aggregates grains (average, minimum, maximum, total, count) as Azure Monitor does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from azemu.domain import sizes
from azemu.domain.timefmt import iso
from azemu.domain.vm_lifecycle import AZURE as VM_TABLE
from azemu.guest import cpuload
from azemu.state.records import ResourceRecord

CPU = "Percentage CPU"
GRAIN = 60.0


def cores_of(vm: ResourceRecord) -> int:
    size = sizes.find(str(vm.body["properties"]["hardwareProfile"]["vmSize"]))
    return size.cores if size is not None else 2


def running(vm: ResourceRecord) -> bool:
    return VM_TABLE.fact(vm.state, "power") == "running" or vm.state in ("running",)


def vm_percent(vm: ResourceRecord, t0: float, t1: float) -> float | None:
    """One VM's Percentage CPU over ``[t0, t1)``; None when it is not running (no data)."""
    if not running(vm):
        return None
    born = float((vm.internal.get("vmss") or {}).get("created") or vm.created_at)  # a scale-out's own time
    if born >= t1:
        return None
    return cpuload.percent(list(vm.internal.get("load") or []), cores_of(vm), t0, t1)


def combine(values: Sequence[float], statistic: str) -> float | None:
    """Instances' values of one grain combined by ``statistic``."""
    if not values:
        return None
    s = statistic.lower()
    if s in ("max", "maximum"):
        return max(values)
    if s in ("min", "minimum"):
        return min(values)
    if s in ("sum", "total"):
        return sum(values)
    if s == "count":
        return float(len(values))
    return sum(values) / len(values)


def grains(start: float, end: float, grain: float = GRAIN) -> list[tuple[float, float]]:
    first = math.floor(start / grain) * grain
    out = []
    t = first
    while t < end:
        out.append((t, t + grain))
        t += grain
    return out


def scale_set_value(members: Sequence[ResourceRecord], t0: float, t1: float, statistic: str) -> float | None:
    values = [v for m in members if (v := vm_percent(m, t0, t1)) is not None]
    return combine(values, statistic)


def aggregate(values: Sequence[float], aggregation: str) -> float | None:
    """Grains of a window combined by a time aggregation (Average, Minimum, Maximum, Total, Count, Last)."""
    if not values:
        return None
    a = aggregation.lower()
    if a == "last":
        return values[-1]
    return combine(values, a)


def series(
    members: Sequence[ResourceRecord],
    start: float,
    end: float,
    interval: float,
    aggregations: Sequence[str],
) -> list[dict[str, Any]]:
    """Azure Monitor's ``timeseries[].data`` for a resource (one VM, or a scale set's instances)."""
    out = []
    for t0, t1 in grains(start, end, interval):
        point: dict[str, Any] = {"timeStamp": iso(t0).replace("+00:00", "Z")}
        per_grain = [
            v for g0, g1 in grains(t0, t1) if (v := scale_set_value(members, g0, g1, "Average")) is not None
        ]
        for agg in aggregations:
            key = {
                "average": "average",
                "minimum": "minimum",
                "maximum": "maximum",
                "total": "total",
                "count": "count",
            }.get(agg.lower())
            if key is None:
                continue
            value = aggregate(per_grain, agg)
            if value is not None:
                point[key] = round(value, 4)
        out.append(point)
    return out
