"""The run queue contract, run against the in-process and the Redis (saq) implementation.

A queue takes submitted runs to an executor once, lets ``cancel`` reach the execution
wherever it runs, lets ``stop`` finish runs within the grace period and hands the rest
back, for the next executor to resume. The Redis queue also takes over the runs of an
executor that died (its lease lapses), tested with a real process killed by SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from netra.errors import Unavailable
from netra.runtime.bus import RedisBus
from netra.runtime.queue import MemoryQueue, RunHandle, RunQueue
from netra.runtime.saq_queue import REDIS_CALL_S, SaqQueue
from tests.queue_executor import LEASE_S
from tests.support import start_redis

TAKEOVER_BOUND_S = 30  # issue 12: a lost run is taken over within 30 s


class Executions:
    """The executor side of the seam: records what it was given and how each ended."""

    def __init__(self) -> None:
        self.started: list[tuple[str, bool]] = []
        self.ended: dict[str, str] = {}
        self.release = asyncio.Event()

    async def __call__(self, handle: RunHandle) -> None:
        handle.started = True  # as the Runner does, once it is executing
        self.started.append((handle.run_id, handle.resume))
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.ended[handle.run_id] = "cancelled" if handle.stop_reason == "cancel" else "stopped"
            if handle.stop_reason == "cancel":
                return  # the Runner ends a cancelled run and returns
            raise
        self.ended[handle.run_id] = "done"

    async def until(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"not in {timeout} s: {self.started} {self.ended}"
            await asyncio.sleep(0.02)


MakeQueue = Callable[[Executions], Any]


@pytest.fixture(params=["memory", "redis"])
async def make_queue(request: pytest.FixtureRequest) -> AsyncIterator[MakeQueue]:
    """Start queues of one implementation (several: the processes that share its runs)."""
    async with AsyncExitStack() as stack:
        url = request.getfixturevalue("private_redis")[1] if request.param == "redis" else None

        async def make(executions: Executions) -> RunQueue:
            queue: RunQueue
            if url is None:
                queue = MemoryQueue(executions)
            else:
                bus = RedisBus(url)
                await bus.start()
                stack.push_async_callback(bus.stop)
                queue = SaqQueue(
                    url, bus, executions, executes=True, concurrency=4, lease_s=2, max_attempts=3
                )
            await queue.start()
            stack.push_async_callback(queue.stop, 0)
            return queue

        yield make


def _run_id() -> str:
    return uuid.uuid4().hex


async def test_a_submitted_run_is_delivered_once_then_only_as_a_retry(make_queue):
    """Delivery is at least once: saq's sweep may retry a job it catches between its
    dequeue and its start (tobymao/saq#277). A retry is always marked as a resume, which
    the Runner's database claim refuses for a run that has ended (test_runner.py)."""
    executions = Executions()
    queue = await make_queue(executions)
    run = _run_id()
    await queue.submit(run)
    await queue.submit(run)  # a repeated submission (a retried request) changes nothing
    await executions.until(lambda: executions.started)
    assert len(queue) == 1 and await queue.depth() == 0
    executions.release.set()
    await executions.until(lambda: run in executions.ended)
    await asyncio.sleep(0.5)
    assert executions.started[0] == (run, False)
    assert all(resume for _, resume in executions.started[1:])
    assert executions.ended == {run: "done"}


async def test_every_run_is_executed_by_one_executor_of_several(make_queue):
    first, second = Executions(), Executions()
    queue = await make_queue(first)
    await make_queue(second)
    first.release.set()
    second.release.set()
    runs = [_run_id() for _ in range(12)]
    for run in runs:
        await queue.submit(run)
    await first.until(lambda: len(first.ended) + len(second.ended) >= len(runs))
    await asyncio.sleep(0.5)
    assert sorted([*first.ended, *second.ended]) == sorted(runs)
    assert not set(first.ended) & set(second.ended)


async def test_cancel_reaches_the_running_execution(make_queue):
    executions = Executions()
    queue = await make_queue(executions)
    run = _run_id()
    await queue.submit(run)
    await executions.until(lambda: executions.started)
    assert await queue.cancel(run) is True
    await executions.until(lambda: run in executions.ended)
    assert executions.ended[run] == "cancelled"


async def test_cancel_reaches_a_run_executing_in_another_process_of_the_queue(make_queue):
    holder, other = Executions(), Executions()
    await make_queue(holder)
    queue = await make_queue(other)
    run = _run_id()
    await queue.submit(run)
    await holder.until(lambda: holder.started or other.started)
    executing = holder if holder.started else other
    assert await queue.cancel(run) is True
    await executing.until(lambda: run in executing.ended)
    assert executing.ended[run] == "cancelled"


async def test_cancel_of_a_run_no_executor_holds_is_refused(make_queue):
    queue = await make_queue(Executions())
    assert await queue.cancel(_run_id()) is False


async def test_stop_lets_runs_finish_within_the_grace_period(make_queue):
    executions = Executions()
    queue = await make_queue(executions)
    run = _run_id()
    await queue.submit(run)
    await executions.until(lambda: executions.started)
    asyncio.get_running_loop().call_later(0.2, executions.release.set)
    await queue.stop(5.0)
    assert executions.ended == {run: "done"}


async def test_stop_hands_back_runs_that_outlast_the_grace_period(make_queue):
    executions = Executions()
    queue = await make_queue(executions)
    run = _run_id()
    await queue.submit(run)
    await executions.until(lambda: executions.started)
    await queue.stop(0.2)
    assert executions.ended == {run: "stopped"}  # not ended: resumable

    successor = Executions()
    next_queue = await make_queue(successor)
    # The embedded server resubmits what it finds active at its next start; the Redis
    # queue already holds the handed-back run (the submission is idempotent).
    await next_queue.submit(run, resume=True)
    await successor.until(lambda: successor.started)
    assert successor.started == [(run, True)]
    successor.release.set()


async def test_a_run_whose_executor_dies_is_taken_over(private_redis):
    """A worker killed with SIGKILL mid-run: its lease lapses and another executor
    resumes the run (the embedded queue's equivalent, a killed server resuming at its
    next start, is tests/e2e/test_restart.py)."""
    url = private_redis[1]
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.queue_executor", url, stdout=asyncio.subprocess.PIPE
    )
    bus = RedisBus(url)
    await bus.start()
    submitter = SaqQueue(
        url, bus, Executions(), executes=False, concurrency=1, lease_s=LEASE_S, max_attempts=3
    )
    await submitter.start()
    survivor = None
    try:
        assert doomed.stdout is not None
        assert await asyncio.wait_for(doomed.stdout.readline(), 10) == b"ready\n"
        run = _run_id()
        await submitter.submit(run)
        line = await asyncio.wait_for(doomed.stdout.readline(), 10)
        assert line.decode().split() == ["started", run, "False"]
        doomed.kill()
        await doomed.wait()
        killed_at = time.monotonic()

        executions = Executions()
        survivor = SaqQueue(
            url, bus, executions, executes=True, concurrency=4, lease_s=LEASE_S, max_attempts=3
        )
        await survivor.start()
        await executions.until(lambda: executions.started, timeout=TAKEOVER_BOUND_S)
        assert executions.started == [(run, True)]
        assert time.monotonic() - killed_at < TAKEOVER_BOUND_S
        assert survivor.takeovers == 1
        executions.release.set()
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()
        if survivor is not None:
            await survivor.stop(0)
        await submitter.stop(0)
        await bus.stop()


async def test_a_waiting_run_counts_in_the_queue_depth(private_redis):
    url = private_redis[1]
    bus = RedisBus(url)
    await bus.start()
    queue = SaqQueue(
        url, bus, Executions(), executes=False, concurrency=1, lease_s=LEASE_S, max_attempts=3
    )
    await queue.start()
    try:
        for _ in range(3):
            await queue.submit(_run_id())
        assert await queue.depth() == 3
    finally:
        await queue.stop(0)
        await bus.stop()


async def test_a_redis_queue_refuses_quickly_while_redis_is_away_then_resumes(
    private_redis, tmp_path
):
    server, url = private_redis
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    bus = RedisBus(url)
    await bus.start()
    executions = Executions()
    executions.release.set()
    queue = SaqQueue(
        url, bus, executions, executes=True, concurrency=2, lease_s=LEASE_S, max_attempts=3
    )
    await queue.start()
    restarted = None
    try:
        server.kill()
        server.wait()
        await asyncio.sleep(1.5)  # the worker's polls fail meanwhile
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await queue.submit(_run_id())
        with pytest.raises(Unavailable):
            await queue.cancel(_run_id())
        assert time.monotonic() - started < 2 * REDIS_CALL_S + 1
        restarted = start_redis(port, tmp_path)
        run = _run_id()
        await queue.submit(run)  # the same queue, its worker still polling: no restart
        await executions.until(lambda: run in executions.ended, timeout=15)
    finally:
        await queue.stop(0)
        await bus.stop()
        if restarted is not None:
            restarted.kill()
            restarted.wait()
