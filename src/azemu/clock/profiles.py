"""Latency profiles: how the realistic duration of a long-running operation maps onto azemu's clock.

``instant``   every operation has finished by the client's first poll (the default), and no simulated wait
              inside a guest (Sysprep's 30-minute limit ...) makes a client wait either;
``realistic`` real Azure's durations (each resource kind declares them, read from recorded traffic);
``scaled:F``  real durations multiplied by F (``scaled:0.01`` = a hundred times faster).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyProfile:
    name: str
    factor: float

    @property
    def instant(self) -> bool:
        return self.factor == 0

    def scale(self, realistic_seconds: float) -> float:
        """Seconds on azemu's clock for something real Azure takes ``realistic_seconds`` to do."""
        return realistic_seconds * self.factor

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
