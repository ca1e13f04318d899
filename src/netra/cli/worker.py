"""``netra worker``: execute runs from the distributed queue (not available yet)."""

from __future__ import annotations

import sys


def worker() -> int:
    print("netra worker: the distributed queue is not available yet", file=sys.stderr)
    return 2
