"""/metrics of a real server and a real ``netra worker``: the operational values move.

Queue depth and runs by state follow a run through queued, running and its end; a run
resumed after its executor was killed counts as a takeover; the bus probe reports a lag,
and +Inf (with the queue depth NaN) once Redis is gone.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.clients import LONG_QUESTION, connected, follow, load_demo, start_run
from tests.support import ServerProcess, free_port, register

Samples = dict[tuple[str, str], float]  # (name, state label or "") -> value


def scrape(url: str) -> Samples:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, sample.labels.get("state", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def until(url: str, check: Callable[[Samples], bool], timeout: float = 30.0) -> Samples:
    """Scrape ``url`` until ``check`` holds; fail with the last scrape after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await asyncio.to_thread(scrape, url)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, f"not in {timeout} s: {sorted(samples.items())}"
        await asyncio.sleep(0.1)


class WorkerProcess:
    """``netra worker`` as a child process, with its /metrics on a free port."""

    def __init__(self, server: ServerProcess, redis_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = server.data_dir.parent / f"worker-{self.port}.log"
        env = {
            **os.environ,
            "NETRA_ENV": "test",
            "NETRA_DATA_DIR": str(server.data_dir),
            "NETRA_DATABASE_URL": server.database_url,
            "NETRA_REDIS_URL": redis_url,
            "NETRA_LOG_LEVEL": "warning",
            "NETRA_RUN_LEASE_S": "2",
            "NETRA_WORKER_METRICS_PORT": str(self.port),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "netra.cli", "worker"],
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not self._ready():
            assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"the worker did not start:\n{self.log()}"
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def workers(
    private_redis: tuple[subprocess.Popen[bytes], str],
) -> Iterator[Callable[[ServerProcess], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(server: ServerProcess) -> WorkerProcess:
        started.append(WorkerProcess(server, private_redis[1]))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def active(samples: Samples) -> tuple[float, float]:
    return samples["netra_runs_by_state", "queued"], samples["netra_runs_by_state", "running"]


async def test_an_embedded_server_counts_its_run_and_a_takeover_after_sigkill(
    fresh_server: ServerProcess,
) -> None:
    await asyncio.to_thread(fresh_server.start)
    before = await until(fresh_server.url, lambda s: s["netra_bus_lag_seconds", ""] > 0)
    assert before["netra_bus_lag_seconds", ""] < 1.0, "an in-process bus answers at once"
    assert before["netra_queue_depth", ""] == 0 and active(before) == (0, 0)
    assert before["netra_run_takeovers_total", ""] == 0
    assert before["netra_db_connections", "in_use"] >= 0

    async with httpx.AsyncClient(base_url=fresh_server.url, timeout=30) as http:
        account = await register(http, "metrics")
        await load_demo(http, account)
        async with await connected(fresh_server.ws_url, account) as ws:
            run_id = (await start_run(ws, LONG_QUESTION))["run_id"]
            running = await until(fresh_server.url, lambda s: active(s) == (0, 1))
            assert running["netra_ws_connections", ""] == 1
            await asyncio.to_thread(fresh_server.kill)  # lost mid-run: resumed at the start

    await asyncio.to_thread(fresh_server.start)
    resumed = await until(fresh_server.url, lambda s: s["netra_run_takeovers_total", ""] == 1)
    assert resumed["netra_run_takeovers_total", ""] == 1
    async with httpx.AsyncClient(base_url=fresh_server.url, timeout=30) as http:
        await _until_ended(http, account.headers, run_id)
    assert active(await asyncio.to_thread(scrape, fresh_server.url)) == (0, 0)


async def test_a_queued_run_a_worker_and_a_takeover_after_the_worker_is_killed(
    private_redis: tuple[subprocess.Popen[bytes], str],  # first: it outlives the processes
    fresh_server: ServerProcess,
    workers: Callable[[ServerProcess], WorkerProcess],
) -> None:
    fresh_server.extra_env.update(NETRA_REDIS_URL=private_redis[1], NETRA_RUN_LEASE_S="2")
    await asyncio.to_thread(fresh_server.start)
    url = fresh_server.url
    lag = (await until(url, lambda s: s["netra_bus_lag_seconds", ""] > 0))[
        "netra_bus_lag_seconds", ""
    ]
    assert lag < 1.0, f"a probe through an idle local Redis took {lag} s"

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        account = await register(http, "metrics")
        await load_demo(http, account)
        async with await connected(fresh_server.ws_url, account) as ws:
            run_id = (await start_run(ws, LONG_QUESTION))["run_id"]
            # No worker yet: the run waits in the queue.
            queued = await until(url, lambda s: s["netra_queue_depth", ""] == 1)
            assert active(queued) == (1, 0)

            first = await asyncio.to_thread(workers, fresh_server)
            taken = await until(first.url, lambda s: active(s) == (0, 1), timeout=15)
            assert taken["netra_queue_depth", ""] == 0
            first.process.kill()  # SIGKILL mid-run: its lease lapses
            first.process.wait()
            killed_at = time.monotonic()

            second = await asyncio.to_thread(workers, fresh_server)
            events = await follow(ws, run_id, wait_s=90)
        took = time.monotonic() - killed_at
    types = [event["type"] for event in events]
    assert "run_resumed" in types and types[-1] == "run_completed", types
    after = await asyncio.to_thread(scrape, second.url)
    assert after["netra_run_takeovers_total", ""] == 1, f"{took:.1f} s after the kill"
    assert active(after) == (0, 0) and after["netra_queue_depth", ""] == 0
    assert (await asyncio.to_thread(scrape, url))["netra_run_takeovers_total", ""] == 0


async def _until_ended(http: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> None:
    deadline = time.monotonic() + 60
    while (await http.get(f"/api/runs/{run_id}", headers=headers)).json()["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, "the resumed run did not end"
        await asyncio.sleep(0.2)


async def test_a_lost_redis_shows_as_an_unanswered_queue_and_a_lost_probe(
    private_redis: tuple[subprocess.Popen[bytes], str],
    fresh_server: ServerProcess,
) -> None:
    redis, redis_url = private_redis
    fresh_server.extra_env.update(NETRA_REDIS_URL=redis_url)
    await asyncio.to_thread(fresh_server.start)
    url = fresh_server.url
    await until(url, lambda s: 0 < s["netra_bus_lag_seconds", ""] < 1)
    redis.kill()
    redis.wait()
    lost = await until(url, lambda s: s["netra_bus_lag_seconds", ""] == math.inf, timeout=20)
    assert math.isnan(lost["netra_queue_depth", ""])
    assert active(lost) == (0, 0), "the database still answers"
