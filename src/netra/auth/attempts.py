"""Sign-in attempt limits: a sliding window of attempts per key (an account, an address).

``Attempts`` is the seam; ``MemoryAttempts`` keeps the windows in this process, which is
right for the embedded mode and per server when scaled out (each server then allows the
limit on its own). A Redis implementation of the same three methods would share them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Protocol

from netra.errors import RateLimited

MAX_KEYS = 100_000  # windows kept at once; the least recently touched go first


class Attempts(Protocol):
    async def check(self, key: str, limit: int, window_s: float) -> None:
        """Raise ``RateLimited`` (with ``retry_after_s``) when ``key`` has ``limit`` attempts."""

    async def add(self, key: str, window_s: float) -> None:
        """Count one attempt of ``key`` now."""

    async def take(self, key: str, limit: int, window_s: float) -> None:
        """``check`` then ``add``: an attempt that is refused is not counted."""


class MemoryAttempts:
    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._windows: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def _window(self, key: str, window_s: float) -> deque[float]:
        now = time.monotonic()
        stamps = self._windows.pop(key, None) or deque()
        while stamps and stamps[0] <= now - window_s:
            stamps.popleft()
        self._windows[key] = stamps  # re-inserted: the most recently touched is last
        if len(self._windows) > self._max_keys:
            del self._windows[next(iter(self._windows))]
        return stamps

    async def check(self, key: str, limit: int, window_s: float) -> None:
        if limit <= 0:
            return
        stamps = self._window(key, window_s)
        if len(stamps) >= limit:
            wait = stamps[len(stamps) - limit] + window_s - time.monotonic()
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(
                f"too many attempts; try again in {retry_after} s", retry_after_s=retry_after
            )

    async def add(self, key: str, window_s: float) -> None:
        self._window(key, window_s).append(time.monotonic())

    async def take(self, key: str, limit: int, window_s: float) -> None:
        await self.check(key, limit, window_s)
        if limit > 0:
            await self.add(key, window_s)
