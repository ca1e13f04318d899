"""``netra worker``: execute runs from the distributed queue until SIGTERM or SIGINT.

It needs ``NETRA_REDIS_URL`` (the queue and the bus) and the servers' database and
storage root. On a signal it stops taking runs, lets running ones finish for
``NETRA_SHUTDOWN_GRACE_S`` and hands the rest back to the queue, then exits 0. With
``NETRA_WORKER_METRICS_PORT`` set it serves ``/metrics`` and ``/health/*`` (the server's
routes, same token rule) on ``NETRA_HOST`` at that port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from netra.api import errors as api_errors
from netra.api import health
from netra.config import Settings
from netra.resources import Resources, open_resources

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
    async with open_resources(settings, resume=False, executes=True) as resources:
        print(f"netra worker: executing up to {settings.worker_concurrency} runs", flush=True)
        log.info("worker.started", concurrency=settings.worker_concurrency)
        async with _metrics_server(resources):
            await stopping.wait()
        log.info("worker.stopping", grace_s=settings.shutdown_grace_s)


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
