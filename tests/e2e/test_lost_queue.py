"""Redis loses the queue (a restart without persistence), or is not there yet when the
processes start: no run is lost, only delayed, and no process needs a restart.

A real ``netra serve`` and ``netra worker`` processes on a database of their own and a
private ``redis-server`` without an append-only file, which the tests restart empty. The
workers reconcile every lease: an active run without a job is submitted again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.checks import check_run_events
from tests.e2e.clients import LONG_QUESTION, connected, follow, load_demo, ping_drain, start_run
from tests.support import (
    RedisProcess,
    ServerProcess,
    WorkerProcess,
    fresh_pg_database,
    recv,
    register,
)

LEASE_S = 2  # NETRA_RUN_LEASE_S: the workers reconcile this often
REQUEUE_BOUND_S = 30  # a lost run is submitted again within a few leases
DEMO_ROWS = 1_000_000  # the runs last 3-4 s (2 cores): long enough to kill a worker mid-run


@dataclass
class Deployment:
    redis: RedisProcess
    server: ServerProcess
    workers: list[WorkerProcess]

    def up(self) -> None:
        self.redis.start()
        self.server.start()

    def restart_redis_empty(self) -> None:
        """SIGTERM and start again: without persistence, every job is gone."""
        self.redis.stop()
        self.redis.start()

    def executor(self, run_id: str) -> WorkerProcess:
        holding = [w for w in self.workers if w.running and run_id in w.current_log()]
        assert len(holding) == 1, f"{len(holding)} live workers took {run_id}"
        return holding[0]


@pytest.fixture
def deployment(db_kind: str, tmp_path: Path) -> Iterator[Deployment]:
    if db_kind != "postgresql":
        pytest.skip("servers and workers share PostgreSQL: these run under --db postgresql")
    with fresh_pg_database() as url:
        yield from _deployment(url, tmp_path)


def _deployment(url: str, tmp_path: Path) -> Iterator[Deployment]:
    redis = RedisProcess(tmp_path, appendonly=False)
    env = {"NETRA_REDIS_URL": redis.url, "NETRA_RUN_LEASE_S": str(LEASE_S)}
    data = tmp_path / "data"
    server = ServerProcess(data, url, **env)
    workers = [  # at level info saq logs each job a worker takes: see Deployment.executor
        WorkerProcess(data, url, f"worker-{i}", NETRA_LOG_LEVEL="info", **env) for i in range(2)
    ]
    try:
        yield Deployment(redis, server, workers)
    finally:
        for process in [server, *workers]:
            if process.running:
                process.kill()
        redis.kill()


async def test_a_run_queued_when_redis_restarts_empty_runs_once_a_worker_starts(
    deployment: Deployment,
) -> None:
    await asyncio.to_thread(deployment.up)
    async with httpx.AsyncClient(base_url=deployment.server.url, timeout=30.0) as http:
        account = await register(http, "queued")
    async with await connected(deployment.server.ws_url, account) as ws:
        seen = [await start_run(ws, "hello")]
        run_id = seen[0]["run_id"]
        assert await ping_drain(ws, wait_s=LEASE_S) == [], "no worker runs: the run waits"
        await asyncio.to_thread(deployment.restart_redis_empty)
        worker = deployment.workers[0]
        await asyncio.to_thread(worker.start)
        seen += await follow(ws, run_id, wait_s=REQUEUE_BOUND_S)
    check_run_events(seen)
    assert seen[-1]["type"] == "run_completed", seen[-1]
    assert "run_resumed" not in [event["type"] for event in seen], "it had not started"
    assert "queue.requeued" in worker.current_log(), worker.current_log()[-2000:]


async def test_a_run_whose_worker_dies_as_redis_restarts_empty_is_taken_over(
    deployment: Deployment,
) -> None:
    """The run's executor and its job are both gone: the other worker resumes it."""
    await asyncio.to_thread(deployment.up)
    async with httpx.AsyncClient(base_url=deployment.server.url, timeout=60.0) as http:
        account = await register(http, "running")
        await load_demo(http, account, rows=DEMO_ROWS)
    await asyncio.gather(*(asyncio.to_thread(w.start) for w in deployment.workers))
    async with await connected(deployment.server.ws_url, account) as ws:
        seen = [await start_run(ws, LONG_QUESTION)]
        run_id = seen[0]["run_id"]
        while not (seen[-1]["type"] == "tool_executing" and seen[-1]["data"]["agent"] == "data"):
            seen.append(await recv(ws, 30))
        executor = deployment.executor(run_id)
        executor.kill()
        await asyncio.to_thread(deployment.restart_redis_empty)
        lost = time.monotonic()
        seen += await follow(ws, run_id, wait_s=60)
        requeue_s = time.monotonic() - lost
    check_run_events(seen)
    kinds = [event["type"] for event in seen]
    assert seen[-1]["type"] == "run_completed", seen[-1]
    assert kinds.count("run_resumed") == 1, kinds
    taker = deployment.executor(run_id)
    assert taker is not executor
    assert "Traceback" not in taker.current_log(), "Redis away: warning lines, no tracebacks"
    print(f"run taken over and completed {requeue_s:.1f} s after its job was lost")


async def test_a_server_and_a_worker_started_before_redis_wait_for_it(
    deployment: Deployment,
) -> None:
    """Started while Redis is down, both wait for it: the server answers 503 naming the bus
    and the queue, the worker logs that it waits; both take up their work once Redis starts."""
    serving = asyncio.create_task(asyncio.to_thread(deployment.server.start, 60))
    async with httpx.AsyncClient(base_url=deployment.server.url, timeout=5.0) as http:
        while True:
            assert not serving.done(), "the server was ready without Redis"
            try:
                ready = await http.get("/health/ready")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        assert ready.status_code == 503, ready.text
        assert set(ready.json()["unavailable"]) == {"bus", "queue"}, ready.json()
        worker = deployment.workers[0]
        working = asyncio.create_task(asyncio.to_thread(worker.start, 60))
        while "worker.waiting_for_redis" not in worker.current_log():
            assert not working.done(), "the worker was ready without Redis"
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        assert worker.running and not working.done(), worker.current_log()
        await asyncio.to_thread(deployment.redis.start)
        await asyncio.gather(serving, working)
        account = await register(http, "early")
    async with await connected(deployment.server.ws_url, account) as ws:
        seen = [await start_run(ws, "hello")]
        seen += await follow(ws, seen[0]["run_id"], wait_s=REQUEUE_BOUND_S)
    check_run_events(seen)
    assert seen[-1]["type"] == "run_completed", seen[-1]
