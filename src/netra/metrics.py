"""Prometheus metrics, in a registry of this app instance (no process-global collectors).

Most values are read when scraped. ``sample()`` (awaited before each render) asks the queue
and the database for theirs; ``probe_bus()`` runs beside the process and keeps the bus lag.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING
from uuid import uuid4

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from netra.db import runs as run_rows
from netra.db.tables import ACTIVE_STATUSES
from netra.runtime.bus import Bus, Delivery, Subscription

if TYPE_CHECKING:
    from netra.db import Database
    from netra.questions.usage import ModelUsage
    from netra.runtime.queue import RunQueue
    from netra.runtime.runner import Runner

log = structlog.get_logger(__name__)

SAMPLE_TIMEOUT_S = 2.0  # a scrape does not wait longer for the queue or the database
BUS_PROBE_INTERVAL_S = 5.0
BUS_PROBE_TIMEOUT_S = 10.0  # a probe not back by then counts as lost: lag +Inf


class _QueueCounts(Collector):
    """``netra_run_takeovers_total`` and ``netra_runs_requeued_total``: read from the
    queue's counts at each scrape."""

    def __init__(self, queue: RunQueue) -> None:
        self._queue = queue

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "netra_run_takeovers",
            "runs this process resumed after their executor was lost",
            value=self._queue.takeovers,
        )
        yield CounterMetricFamily(
            "netra_runs_requeued",
            "active runs this process submitted again after Redis lost their job",
            value=self._queue.requeued,
        )


class Metrics:
    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "netra_http_requests",
            "HTTP requests answered",
            ["method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "netra_http_request_seconds", "HTTP request duration", registry=self.registry
        )
        self.ws_connections = Gauge(
            "netra_ws_connections", "open WebSocket connections", registry=self.registry
        )
        self.ws_messages = Counter(
            "netra_ws_messages", "client WebSocket messages", ["type"], registry=self.registry
        )
        self.ws_errors = Counter(
            "netra_ws_errors", "error messages sent", ["code"], registry=self.registry
        )
        runs = Gauge("netra_runs_active", "runs executing in this process", registry=self.registry)
        runs.set_function(lambda: len(runner.queue))
        finished = Gauge(
            "netra_runs_finished", "runs ended by this process", ["status"], registry=self.registry
        )
        for status in ("completed", "failed", "cancelled"):
            finished.labels(status).set_function(partial(runner.finished_runs.__getitem__, status))

        self.llm_tokens = Counter(
            "netra_llm_tokens",
            "tokens of the configured language model (NETRA_LLM_MODEL)",
            ["model", "direction"],
            registry=self.registry,
        )
        self.llm_cost = Counter(
            "netra_llm_cost_usd",
            "priced cost of the configured language model, USD",
            ["model"],
            registry=self.registry,
        )

        self.registry.register(_QueueCounts(runner.queue))
        self.queue_depth = Gauge(
            "netra_queue_depth",
            "runs submitted and not yet taken by an executor (NaN: the queue did not answer)",
            registry=self.registry,
        )
        self.runs_by_state = Gauge(
            "netra_runs_by_state",
            "active runs in the database, by state (NaN: the database did not answer)",
            ["state"],
            registry=self.registry,
        )
        self.bus_lag = Gauge(
            "netra_bus_lag_seconds",
            "time the last probe took through the bus and back (+Inf: it did not come back)",
            registry=self.registry,
        )
        db_connections = Gauge(
            "netra_db_connections",
            "this process's pooled database connections, by state (in_use, idle)",
            ["state"],
            registry=self.registry,
        )
        for state in ("in_use", "idle"):
            db_connections.labels(state).set_function(partial(_connections, runner.db, state))

    async def sample(self) -> None:
        """Read the queue depth and the active runs by state (each bounded in time)."""
        try:
            depth = float(await asyncio.wait_for(self._runner.queue.depth(), SAMPLE_TIMEOUT_S))
        except Exception as exc:
            log.warning("metrics.queue_depth_failed", error=type(exc).__name__)
            depth = math.nan
        self.queue_depth.set(depth)
        try:
            read = self._runner.db.read(run_rows.active_by_status)
            found = await asyncio.wait_for(read, SAMPLE_TIMEOUT_S)
            counts = {state: float(count) for state, count in found.items()}
        except Exception as exc:
            log.warning("metrics.runs_by_state_failed", error=type(exc).__name__)
            counts = dict.fromkeys(ACTIVE_STATUSES, math.nan)
        for state, count in counts.items():
            self.runs_by_state.labels(state).set(count)

    async def probe_bus(self, bus: Bus, interval_s: float = BUS_PROBE_INTERVAL_S) -> None:
        """Publish a probe on a topic of this process's own and time its arrival, forever."""
        topic = f"probe:{uuid4().hex}"  # never a user id (those are UUIDs with dashes)
        while True:
            try:
                async with bus.subscribe(topic) as inbox:
                    while True:
                        self.bus_lag.set(await _probe(bus, topic, inbox))
                        await asyncio.sleep(interval_s)
            except Exception as exc:  # the subscription failed: probe again after a pause
                if _cancelling():
                    raise
                log.warning("metrics.bus_probe_failed", error=type(exc).__name__)
                self.bus_lag.set(math.inf)
                await asyncio.sleep(interval_s)

    def record_llm(self, usage: ModelUsage) -> None:
        """Count one question's model usage (a model the catalog cannot price adds no cost)."""
        self.llm_tokens.labels(usage.model, "input").inc(usage.input_tokens)
        self.llm_tokens.labels(usage.model, "output").inc(usage.output_tokens)
        self.llm_cost.labels(usage.model).inc(usage.cost_usd or 0.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _cancelling() -> bool:
    """True in a cancelled task whose cancellation a failing cleanup turned into an error
    (an unsubscribe while Redis is gone): the task must still end."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _connections(db: Database, state: str) -> float:
    return db.connections()[state]


async def _probe(bus: Bus, topic: str, inbox: Subscription) -> float:
    """Seconds one probe took from publish to delivery; +Inf when lost or unpublishable."""
    mark = uuid4().hex
    sent = time.perf_counter()
    try:
        async with asyncio.timeout(BUS_PROBE_TIMEOUT_S):
            await bus.publish(topic, Delivery(type="probe", body=mark))
            while (await inbox.get()).body != mark:
                pass  # an earlier probe that came back late
    except Exception as exc:
        if _cancelling():
            raise
        log.warning("metrics.bus_probe_lost", error=type(exc).__name__)
        return math.inf
    return time.perf_counter() - sent
