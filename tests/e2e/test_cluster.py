"""A cluster of real processes: two ``netra serve``, two ``netra worker``, PostgreSQL, Redis.

The servers only admit runs and hold sockets; the workers execute runs from the Redis
queue; all share the database and one ``NETRA_DATA_DIR``. Redis is a private
``redis-server`` with an append-only file, so the tests may restart it. Processes a test
kills or stops are started again before the next test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.e2e.checks import check_run_events
from tests.e2e.clients import (
    LONG_QUESTION,
    connected,
    events_of,
    follow,
    load_demo,
    ping_drain,
    run_status,
    start_run,
)
from tests.support import (
    TERMINAL,
    Account,
    NetraProcess,
    RedisProcess,
    ServerProcess,
    WorkerProcess,
    recv,
    register,
    send,
)

LEASE_S = 2  # NETRA_RUN_LEASE_S: a killed worker's run is taken over a few seconds later
GRACE_S = 2  # NETRA_SHUTDOWN_GRACE_S
TAKEOVER_BOUND_S = 30  # issue 12: a lost run is taken over within 30 s
EXIT_BOUND_S = GRACE_S + 5  # SIGTERM: the grace plus a margin for closing down
DEMO_ROWS = 1_000_000  # the largest demo: the data agent's analysis is open long enough to kill


@dataclass
class Cluster:
    redis: RedisProcess
    servers: list[ServerProcess]
    workers: list[WorkerProcess]

    def up(self) -> None:
        """Start again every process a test stopped (the first server migrates, so first)."""
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()
        first, *rest = [*self.servers, *self.workers]
        if not first.running:
            first.start()
        _start_all([p for p in rest if not p.running])

    def executor(self, run_id: str) -> WorkerProcess:
        """The live worker executing ``run_id`` now (saq logs each job it takes)."""
        holding = [w for w in self.workers if w.running and run_id in w.current_log()]
        assert len(holding) == 1, f"{len(holding)} live workers took {run_id}"
        return holding[0]


def _start_all(processes: list[NetraProcess]) -> None:
    async def start() -> None:
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))

    asyncio.run(start())


@pytest.fixture(scope="module")
def running_cluster(
    db_kind: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if db_kind != "postgresql":
        pytest.skip("a cluster needs PostgreSQL and Redis: these run under --db postgresql")
    root = tmp_path_factory.mktemp("cluster")
    redis = RedisProcess(root, appendonly=True)
    env = {
        "NETRA_REDIS_URL": redis.url,
        "NETRA_RUN_LEASE_S": str(LEASE_S),
        "NETRA_SHUTDOWN_GRACE_S": str(GRACE_S),
    }
    data = root / "data"
    servers = [ServerProcess(data, database_url, **env) for _ in range(2)]
    workers = [
        WorkerProcess(data, database_url, f"worker-{i}", NETRA_LOG_LEVEL="info", **env)
        for i in range(2)
    ]
    cluster = Cluster(redis, servers, workers)
    try:
        cluster.up()
        yield cluster
    finally:
        for process in [*servers, *workers]:
            if process.running:
                process.kill()
        redis.kill()


@pytest.fixture
def cluster(running_cluster: Cluster) -> Cluster:
    running_cluster.up()
    return running_cluster


@pytest.fixture(scope="module")
def analyst(running_cluster: Cluster) -> Account:
    """A user with the largest demo, whose cost questions run long enough to interrupt."""

    async def make() -> Account:
        async with _http(running_cluster.servers[0]) as http:
            account = await register(http, "analyst")
            await load_demo(http, account, rows=DEMO_ROWS)
            return account

    return asyncio.run(make())


@asynccontextmanager
async def _http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        yield client


async def _until(ws: ClientConnection, seen: list[dict[str, Any]], kind: str, agent: str) -> None:
    """Receive into ``seen`` until the run has an event ``kind`` of ``agent``."""
    while not (seen[-1]["type"] == kind and seen[-1]["data"].get("agent") == agent):
        seen.append(await recv(ws, 30))
        assert seen[-1]["type"] not in TERMINAL, f"the run ended too early: {seen}"


async def _stored(server: ServerProcess, account: Account, run_id: str) -> Any:
    async with _http(server) as http:
        return await events_of(http, account, run_id), await run_status(http, account, run_id)


def _kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


async def test_a_run_started_on_one_server_runs_on_a_worker_and_is_followed_from_the_other(
    cluster: Cluster, analyst: Account
) -> None:
    a, b = cluster.servers
    async with await connected(a.ws_url, analyst) as on_a:
        seen_a = [await start_run(on_a, LONG_QUESTION)]
        started = seen_a[0]
        run_id = started["run_id"]
        seen_a.append(await recv(on_a))
        # A connection opened after the run started receives it only through `subscribe`.
        async with await connected(b.ws_url, analyst) as on_b:
            await send(on_b, {"type": "subscribe", "run_id": run_id, "after_seq": 0})
            seen_a += await follow(on_a, run_id)
            seen_b = await follow(on_b, run_id)
            assert await ping_drain(on_a) == [] and await ping_drain(on_b) == []
    check_run_events(seen_a)
    assert seen_b == seen_a, "the other server's client saw the run differently"
    assert "run_resumed" not in _kinds(seen_a)
    assert cluster.executor(run_id) in cluster.workers
    stored, run = await _stored(b, analyst, run_id)
    assert stored == seen_a and run["status"] == "completed", run
    async with _http(b) as http:
        response = await http.get(
            f"/api/threads/{started['thread_id']}/messages", headers=analyst.headers
        )
    messages = response.json()["messages"]
    answer = seen_a[-1]["data"]["response"]["text"]
    assert [(m["role"], m["content"]) for m in messages][-1] == ("assistant", answer), messages


async def test_a_worker_killed_mid_run_hands_the_run_to_the_other_worker(
    cluster: Cluster, analyst: Account
) -> None:
    a = cluster.servers[0]
    async with await connected(a.ws_url, analyst) as ws:
        seen = [await start_run(ws, LONG_QUESTION)]
        run_id = seen[0]["run_id"]
        await _until(ws, seen, "tool_executing", "data")
        executor = cluster.executor(run_id)
        executor.kill()
        killed = time.monotonic()
        await _until(ws, seen, "run_resumed", "data")
        takeover_s = time.monotonic() - killed
        rest = await follow(ws, run_id, wait_s=60)
    events = seen + rest
    check_run_events(events)
    stored, run = await _stored(a, analyst, run_id)
    assert stored == events and run["status"] == "completed", run
    assert _kinds(events).count("run_resumed") == 1, _kinds(events)
    assert seen[-1]["data"] == {"agent": "data", "attempt": 2}, seen[-1]
    assert cluster.executor(run_id) is not executor
    assert takeover_s < TAKEOVER_BOUND_S, f"taken over after {takeover_s:.1f} s"
    print(f"takeover after SIGKILL: {takeover_s:.1f} s")
