"""azemu's clock: wall time plus an offset that tests can advance, and the active latency profile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from azemu.clock.profiles import INSTANT, LatencyProfile


class Clock:
    def __init__(self, profile: LatencyProfile = INSTANT) -> None:
        self._offset = 0.0
        self._profile = profile
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    @property
    def profile(self) -> LatencyProfile:
        return self._profile

    @profile.setter
    def profile(self, value: LatencyProfile) -> None:
        self._profile = value

    def advance(self, seconds: float) -> None:
        """Move azemu's clock forward; due work runs at once."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
