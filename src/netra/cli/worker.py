"""``netra worker``: execute runs from the distributed queue until SIGTERM or SIGINT.

It needs ``NETRA_REDIS_URL`` (the queue and the bus) and the servers' database and
storage root. On a signal it stops taking runs, lets running ones finish for
``NETRA_SHUTDOWN_GRACE_S`` and hands the rest back to the queue, then exits 0.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import structlog

from netra.config import Settings
from netra.resources import open_resources

log = structlog.get_logger(__name__)


def worker(settings: Settings, concurrency: int | None) -> int:
    if settings.redis_url is None:
        print("netra worker: set NETRA_REDIS_URL (the queue workers share)", file=sys.stderr)
        return 2
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    asyncio.run(_work(settings))
    return 0


async def _work(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with open_resources(settings, resume=False, executes=True):
        print(f"netra worker: executing up to {settings.worker_concurrency} runs", flush=True)
        log.info("worker.started", concurrency=settings.worker_concurrency)
        await stopping.wait()
        log.info("worker.stopping", grace_s=settings.shutdown_grace_s)
