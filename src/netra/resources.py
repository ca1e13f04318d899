"""Resources: everything the lifespan builds once and tears down, passed explicitly.

Nothing here is a module global: ``open_resources`` builds them for one app instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from netra.agents import build_agents
from netra.agents.triage import plan_question
from netra.config import Settings
from netra.dataset_store import Datasets, Limits
from netra.db import Database
from netra.errors import Unavailable
from netra.metrics import Metrics
from netra.runtime.bus import Bus, create_bus
from netra.runtime.runner import Runner
from netra.storage import FolderStore, open_storage

log = structlog.get_logger(__name__)

# How often a process drops its cached copies of datasets deleted through another process.
CACHE_SWEEP_S = 600


@dataclass(slots=True)
class Resources:
    settings: Settings
    db: Database
    bus: Bus
    runner: Runner
    metrics: Metrics
    datasets: Datasets


@asynccontextmanager
async def open_resources(
    settings: Settings, *, resume: bool = True, executes: bool | None = None
) -> AsyncIterator[Resources]:
    """``executes``: run the queue's runs here (unset: ``NETRA_SERVE_EXECUTES``, which by
    default is true only without Redis, where this process is the only executor)."""
    if executes is None:
        executes = settings.serve_executes
        if executes is None:
            executes = settings.redis_url is None
    db = Database(settings.sqlalchemy_url, max_connections=settings.db_max_connections)
    bus = create_bus(settings.redis_url)
    await bus.start()
    limits = Limits(  # in the order of the fields
        settings.dataset_max_rows,
        settings.dataset_max_bytes,
        settings.max_datasets_per_user,
        settings.user_storage_max_bytes,
        settings.max_imports_per_user,
        settings.max_concurrent_imports,
    )
    datasets = Datasets(db, open_storage(settings), limits)
    llm = None
    if settings.llm_model:  # the model library is imported only when a model is configured
        from netra.questions.llm import language_model

        llm = language_model(settings)
    agents = build_agents(db, llm, lambda usage: resources.metrics.record_llm(usage))
    runner = Runner(settings, db, bus, agents, plan_question, datasets, executes=executes)
    resources = Resources(settings, db, bus, runner, Metrics(runner), datasets)
    background = [asyncio.create_task(resources.metrics.probe_bus(bus), name="bus-probe")]
    if datasets.files.caches:
        sweeping = _sweep_cache_every(datasets.files, CACHE_SWEEP_S)
        background.append(asyncio.create_task(sweeping, name="cache-sweep"))
    try:
        await runner.queue.start()
        try:
            # Only a lone process owns every active run; with Redis, the queue's leases
            # hand a lost executor's runs to another worker (docs/deployment.md).
            if resume and settings.redis_url is None:
                await runner.resume_interrupted()
            yield resources
        finally:
            await runner.queue.stop(settings.shutdown_grace_s)
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await bus.stop()
        await db.dispose()


async def _sweep_cache_every(files: FolderStore, period_s: float) -> None:
    """Drop the cached copies of datasets deleted elsewhere: at start, then every period."""
    while True:
        try:
            dropped = await asyncio.to_thread(files.sweep_cache)
            if dropped:
                log.info("storage.cache_swept", dropped=dropped)
        except Unavailable as exc:  # the store is away: the next period tries again
            log.warning("storage.cache_sweep_failed", error=str(exc))
        await asyncio.sleep(period_s)
