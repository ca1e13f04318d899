"""``netra worker``: execute runs from the distributed queue until SIGTERM or SIGINT.

It needs ``NETRA_REDIS_URL`` (the queue and the bus) and the servers' database and
storage root. On a signal it stops taking runs, lets running ones finish for
``NETRA_SHUTDOWN_GRACE_S`` and hands the rest back to the queue, then exits 0. Started
while Redis is down, it waits for Redis (logging ``worker.waiting_for_redis`` once). With
``NETRA_WORKER_METRICS_PORT`` set it serves ``/metrics`` and ``/health/*`` (the server's
routes, same token rule) on ``NETRA_HOST`` at that port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from netra.api import errors as api_errors
from netra.api import health
from netra.config import Settings
from netra.resources import Resources, open_resources
from netra.runtime.bus import REDIS_TIMEOUT_S
from netra.server import exempt_startup_objects_from_gc

log = structlog.get_logger(__name__)


def worker(settings: Settings, concurrency: int | None) -> int:
    redis_url = settings.redis_url
    if redis_url is None:
        print("netra worker: set NETRA_REDIS_URL (the queue workers share)", file=sys.stderr)
        return 2
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_work(settings, redis_url))
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (as for ``netra serve``, through uvicorn): every event of a
    run crosses a socket twice in a worker (PostgreSQL, Redis), and uvloop's transports
    cost less per send than asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _work(settings: Settings, redis_url: str) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    if not await _redis_answers(redis_url, stopping):
        return  # stopped while waiting
    async with open_resources(settings, resume=False, executes=True) as resources:
        exempt_startup_objects_from_gc()
        print(f"netra worker: executing up to {settings.worker_concurrency} runs", flush=True)
        log.info("worker.started", concurrency=settings.worker_concurrency)
        async with _metrics_server(resources):
            await stopping.wait()
        log.info("worker.stopping", grace_s=settings.shutdown_grace_s)


async def _redis_answers(url: str, stopping: asyncio.Event) -> bool:
    """Wait until Redis answers (each second, one log line); False if stopped first.

    Taking runs before the bus is connected would leave their events unpublished."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S)
    try:
        waiting = False
        while not stopping.is_set():
            try:
                await asyncio.wait_for(redis.ping(), REDIS_TIMEOUT_S)
                return True
            except Exception as exc:
                if not waiting:
                    log.warning("worker.waiting_for_redis", error=repr(exc), retry_every_s=1)
                waiting = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 1.0)
        return False
    finally:
        await redis.aclose()


class _MetricsServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the worker's own handlers stop it, then this server


@contextlib.asynccontextmanager
async def _metrics_server(resources: Resources) -> AsyncIterator[None]:
    port = resources.settings.worker_metrics_port
    if port is None:
        yield
        return
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api_errors.install(app)
    app.include_router(health.router)
    app.state.resources = resources
    host = resources.settings.host
    listening = socket.create_server((host, port))  # a port in use fails the start here
    server = _MetricsServer(uvicorn.Config(app, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve([listening]), name="worker-metrics")
    port = listening.getsockname()[1]
    print(f"netra worker: metrics at http://{host}:{port}/metrics", flush=True)
    try:
        yield
    finally:
        server.should_exit = True
        await serving
