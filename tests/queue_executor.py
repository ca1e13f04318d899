"""A run executor in a process of its own, for the queue contract's takeover test.

``python -m tests.queue_executor REDIS_URL`` takes runs from the Redis queue and holds each
one until the process is killed, printing ``started RUN_ID RESUME`` as it takes it.
"""

from __future__ import annotations

import asyncio
import sys

from netra.runtime.bus import RedisBus
from netra.runtime.queue import RunHandle
from netra.runtime.saq_queue import SaqQueue

LEASE_S = 2


async def hold(handle: RunHandle) -> None:
    handle.started = True
    print("started", handle.run_id, handle.resume, flush=True)
    await asyncio.Event().wait()


async def main(url: str) -> None:
    bus = RedisBus(url)
    await bus.start()
    queue = SaqQueue(url, bus, hold, executes=True, concurrency=4, lease_s=LEASE_S, max_attempts=3)
    await queue.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
