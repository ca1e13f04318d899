"""``Repeats``: which occurrences of a repeating failure to log, so an outage logs a few
lines with a count instead of a traceback each time."""

from __future__ import annotations

import math
import time

QUIET_S = 60.0  # a failure not seen for this long starts a new count


class Repeats:
    """Counts each kind of failure; ``count`` returns the count when this occurrence should
    be logged (the first after a quiet ``QUIET_S``, then the 10th, 100th, ...), else None."""

    def __init__(self, quiet_s: float = QUIET_S) -> None:
        self._quiet_s = quiet_s
        self._counts: dict[str, tuple[int, float]] = {}

    def count(self, kind: str) -> int | None:
        now = time.monotonic()
        seen, last = self._counts.get(kind, (0, -math.inf))
        seen = 1 if now - last > self._quiet_s else seen + 1
        self._counts[kind] = (seen, now)
        return seen if seen == 10 ** (len(str(seen)) - 1) else None
