"""The job runner: wakes when scheduled work falls due on azemu's clock and hands it to a callback."""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from collections.abc import Callable

from azemu.clock.clock import Clock

log = logging.getLogger("azemu.jobs")


class JobRunner:
    def __init__(self, clock: Clock, on_due: Callable[[str], None]) -> None:
        self.clock = clock
        self.on_due = on_due
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        clock.on_advance(self._advanced)

    def schedule(self, job_id: str, due_at: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (due_at, job_id))
        self.wake()

    def _advanced(self) -> None:
        """The clock moved: on the event loop's own thread (an admin request) due work runs before the
        request is answered, as ``Clock.advance`` promises; from elsewhere the loop is woken for it."""
        loop = self._loop
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop is not None and current is loop:
            self.run_due()
        else:
            self.wake()

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def run_due(self) -> int:
        """Run every job that is due now; returns how many ran."""
        ran = 0
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > self.clock.now():
                    return ran
                _, job_id = heapq.heappop(self._heap)
            try:
                self.on_due(job_id)
            except Exception:  # a job's failure is recorded by its owner; the runner keeps going
                log.exception("job %s failed", job_id)
            ran += 1

    def next_due(self) -> float | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    async def run_forever(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            self.run_due()
            nxt = self.next_due()
            timeout = None if nxt is None else max(0.0, nxt - self.clock.now())
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass
