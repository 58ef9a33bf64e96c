"""Readiness and drain state shared by the HTTP layer and the server runner.

One instance per worker process. The runner calls ``begin_drain()`` on SIGTERM;
the HTTP layer answers ``/ready`` with 503 and refuses new agent work from then
on, while the request-context middleware counts requests in flight so the
runner knows when the drain is complete.
"""

from __future__ import annotations

import asyncio
import time


class Lifecycle:
    def __init__(self) -> None:
        self.started_at = time.monotonic()
        self.ready = False
        self.draining = False
        self.in_flight = 0

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started_at, 3)

    def mark_ready(self) -> None:
        self.ready = True

    def mark_not_ready(self) -> None:
        self.ready = False

    def begin_drain(self) -> None:
        self.draining = True

    def request_started(self) -> None:
        self.in_flight += 1

    def request_finished(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    async def wait_idle(self, limit_seconds: float, poll_interval: float = 0.05) -> bool:
        """Wait until no request is in flight; False when ``limit_seconds`` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        while self.in_flight > 0:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(poll_interval)
        return True

    def reset(self) -> None:
        """Back to the initial state (tests, and a fresh app in the same process)."""
        self.started_at = time.monotonic()
        self.ready = False
        self.draining = False
        self.in_flight = 0


state = Lifecycle()
