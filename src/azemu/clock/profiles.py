"""Latency profiles: how long each long-running operation takes on azemu's clock.

``instant``   every operation has finished by the client's first poll (the default);
``realistic`` real Azure's durations (read from recorded traffic, see docs/latency.md);
``scaled:F``  real durations multiplied by F (``scaled:0.01`` = a hundred times faster).
"""

from __future__ import annotations

from dataclasses import dataclass

# Seconds real Azure takes, per operation kind ("<resource type>.<action>").
REALISTIC_SECONDS: dict[str, float] = {
    "resourceGroups.delete": 20.0,
    "virtualMachines.create": 45.0,
    "virtualMachines.start": 10.0,
    "virtualMachines.powerOff": 31.0,
    "virtualMachines.deallocate": 30.0,
    "virtualMachines.restart": 73.0,
    "virtualMachines.redeploy": 124.0,
    "virtualMachines.delete": 31.0,
    "virtualMachines.runCommand": 31.0,
    "images.create": 31.0,
    "images.delete": 31.0,
    "snapshots.create": 6.0,
    "disks.create": 5.0,
    "disks.beginGetAccess": 0.5,
    "galleries.create": 1.0,
    "galleries.delete": 1.0,
    "galleries/images.create": 1.0,
    "galleries/images.delete": 1.0,
    "galleries/images/versions.create": 480.0,
    "galleries/images/versions.delete": 122.0,
}
DEFAULT_SECONDS = 5.0


@dataclass(frozen=True)
class LatencyProfile:
    name: str
    factor: float

    def duration(self, kind: str) -> float:
        if self.factor == 0:
            return 0.0
        return REALISTIC_SECONDS.get(kind, DEFAULT_SECONDS) * self.factor

    def __str__(self) -> str:
        return f"scaled:{self.factor:g}" if self.name == "scaled" else self.name


INSTANT = LatencyProfile("instant", 0.0)
REALISTIC = LatencyProfile("realistic", 1.0)


def parse_profile(text: str) -> LatencyProfile:
    """``instant`` | ``realistic`` | ``scaled:<factor>`` (factor > 0)."""
    value = text.strip().lower()
    if value == "instant":
        return INSTANT
    if value == "realistic":
        return REALISTIC
    if value.startswith("scaled:"):
        try:
            factor = float(value.split(":", 1)[1])
        except ValueError:
            factor = -1.0
        if factor > 0 and factor == factor and factor != float("inf"):
            return LatencyProfile("scaled", factor)
    raise ValueError(f"invalid latency profile {text!r}: use instant, realistic or scaled:<factor>")
