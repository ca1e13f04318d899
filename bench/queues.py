"""Run queue engines: saq (what `netra worker` runs) against arq, the runner-up (ADR 4).

Starts a private ``redis-server`` on a free port (no persistence) and, for each engine,
worker processes of this same script (``--worker``), each a separate Python process. saq is
configured as ``SaqQueue`` configures it (netra's sweep, timers, a heartbeat from the job
every lease/3); arq with its defaults except what is named below. Each job records, in
Redis, when it started (with its process id) and ended, or when it saw its cancellation.

- enqueue: N jobs enqueued one after another by one client, no worker running; jobs/s.
- latency: with one idle worker (concurrency 10), a job enqueued every 20 ms; time from
  before the enqueue call to the job's start, p50 / p99.
- throughput: N jobs of ``await asyncio.sleep(0.01)`` enqueued, then one worker at
  concurrency C started; jobs / (last end - first start), and the worker's CPU per job.
- takeover: worker A starts a long job; worker B is up; 1 s into the job A is SIGKILLed;
  seconds from the kill to the job's start in B (saq: heartbeat lease + sweep; arq: the
  job's ``in-progress`` key expires, ``job_timeout`` + 10 s after the job's start).
- cancel: a long job running for 1.5 s is aborted (saq ``Queue.abort``, arq ``Job.abort``);
  whether ``CancelledError`` reaches the job's coroutine, and seconds until it does.

    python bench/queues.py                          # 2000 jobs, concurrency 10
    python bench/queues.py --jobs 500 --takeovers 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis

LEASE_S = 10  # NETRA_RUN_LEASE_S's default
ARQ_JOB_TIMEOUT_S = 10  # arq's lease is the job timeout + 10 s; its default timeout is 300 s
LONG_MS = 600_000  # a job that runs until it is killed or cancelled
ENGINES = ("saq", "arq")

Work = Callable[..., Awaitable[None]]


def make_work(recorder: Any, beat: Callable[[Any], Coroutine[Any, Any, None]] | None) -> Work:
    """The one job of the benchmark: record its start, sleep ``ms``, record its end."""

    async def work(ctx: dict[str, Any], *, tag: str, ms: float) -> None:
        await recorder.rpush("bench:starts", f"{tag} {os.getpid()} {time.time()!r}")
        heartbeat = asyncio.create_task(beat(ctx)) if beat is not None else None
        try:
            await asyncio.sleep(ms / 1000)
        except asyncio.CancelledError:
            await recorder.rpush("bench:cancelled", f"{tag} {time.time()!r}")
            raise
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
        await recorder.rpush("bench:ends", f"{tag} {time.time()!r}")

    return work


async def run_saq_worker(url: str, concurrency: int) -> None:
    from saq.types import TimersDict

    from netra.runtime.saq_queue import _RunQueue, _Worker

    async def beat(ctx: dict[str, Any]) -> None:  # as SaqQueue._heartbeat
        while True:
            await asyncio.sleep(LEASE_S / 3)
            await ctx["job"].update()

    recorder = aioredis.from_url(url)
    queue = _RunQueue.from_url(url, name="bench")

    async def ready(ctx: dict[str, Any]) -> None:
        await recorder.rpush("bench:ready", os.getpid())

    worker = _Worker(
        queue,
        functions=[("work", make_work(recorder, beat))],
        concurrency=concurrency,
        timers=TimersDict(sweep=max(1, LEASE_S // 2), abort=1, schedule=1, worker_info=10),
        shutdown_grace_period_s=0,
        dequeue_timeout=1.0,
        startup=ready,
    )
    await worker.start()


async def run_arq_worker(url: str, concurrency: int, poll_delay: float) -> None:
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    recorder = aioredis.from_url(url)

    async def ready(ctx: dict[str, Any]) -> None:
        await recorder.rpush("bench:ready", os.getpid())

    worker = Worker(
        functions=[func(make_work(recorder, None), name="work")],  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(url),
        max_jobs=concurrency,
        job_timeout=ARQ_JOB_TIMEOUT_S,
        allow_abort_jobs=True,
        poll_delay=poll_delay,
        on_startup=ready,
        handle_signals=False,
    )
    await worker.main()


class Client:
    """Enqueues and aborts jobs of one engine."""

    def __init__(self, engine: str, url: str) -> None:
        self.engine = engine
        self.url = url
        self.queue: Any = None

    async def connect(self) -> None:
        if self.engine == "saq":
            from netra.runtime.saq_queue import _RunQueue

            self.queue = _RunQueue.from_url(self.url, name="bench")
            await self.queue.connect()
        else:
            from arq.connections import RedisSettings, create_pool

            self.queue = await create_pool(RedisSettings.from_dsn(self.url))

    async def close(self) -> None:
        if self.engine == "saq":
            await self.queue.disconnect()
        else:
            await self.queue.aclose()

    async def enqueue(self, tag: str, ms: float) -> None:
        if self.engine == "saq":  # as SaqQueue.submit
            await self.queue.enqueue(
                "work", key=tag, tag=tag, ms=ms, timeout=0, heartbeat=LEASE_S, retries=4
            )
        else:
            await self.queue.enqueue_job("work", tag=tag, ms=ms, _job_id=tag)

    async def abort(self, tag: str) -> None:
        if self.engine == "saq":
            await self.queue.abort(await self.queue.job(tag), error="cancelled")
        else:
            from arq.jobs import Job

            await Job(tag, self.queue).abort(timeout=10)


class Bench:
    def __init__(self, engine: str, url: str, args: argparse.Namespace) -> None:
        self.engine = engine
        self.url = url
        self.args = args
        self.redis = aioredis.from_url(url, decode_responses=True)
        self.client = Client(engine, url)
        self.workers: list[asyncio.subprocess.Process] = []

    async def start_worker(self, concurrency: int) -> asyncio.subprocess.Process:
        ready = await self.redis.llen("bench:ready")
        command = [sys.executable, __file__, "--worker", self.engine, "--redis", self.url]
        command += ["--concurrency", str(concurrency)]
        command += ["--arq-poll-delay", str(self.args.arq_poll_delay)]
        worker = await asyncio.create_subprocess_exec(*command)
        self.workers.append(worker)
        await self.wait_for("bench:ready", ready + 1, 30)
        return worker

    async def reset(self) -> None:
        """Kill this phase's workers; empty the private Redis."""
        for worker in self.workers:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()
        self.workers.clear()
        await self.redis.flushdb()

    async def records(self, key: str) -> list[list[str]]:
        return [line.split() for line in await self.redis.lrange(key, 0, -1)]

    async def wait_for(self, key: str, count: int, timeout: float) -> list[list[str]]:
        deadline = time.monotonic() + timeout
        while True:
            n = await self.redis.llen(key)
            if n >= count:
                return await self.records(key)
            assert time.monotonic() < deadline, f"{self.engine}: {n} of {count} {key}"
            await asyncio.sleep(0.005)

    async def enqueue_rate(self) -> float:
        n = self.args.jobs
        started = time.perf_counter()
        for i in range(n):
            await self.client.enqueue(f"e{i}", 0)
        return n / (time.perf_counter() - started)

    async def latency(self) -> dict[str, float]:
        await self.start_worker(10)
        sent: dict[str, float] = {}
        for i in range(self.args.samples):
            tag = f"l{i}"
            sent[tag] = time.time()
            await self.client.enqueue(tag, 0)
            await asyncio.sleep(0.02)
        starts = await self.wait_for("bench:starts", self.args.samples, 30)
        waits = sorted((float(t) - sent[tag]) * 1000 for tag, _, t in starts)
        return {"p50_ms": percentile(waits, 50), "p99_ms": percentile(waits, 99)}

    async def throughput(self) -> dict[str, float]:
        n = self.args.jobs
        for i in range(n):
            await self.client.enqueue(f"t{i}", 10)
        worker = await self.start_worker(self.args.concurrency)
        cpu = cpu_seconds(worker.pid)
        ends = await self.wait_for("bench:ends", n, 120)
        cpu = cpu_seconds(worker.pid) - cpu
        first = min(float(t) for _, _, t in await self.records("bench:starts"))
        last = max(float(t) for _, t in ends)
        return {"jobs_per_s": n / (last - first), "worker_cpu_ms_per_job": cpu * 1000 / n}

    async def takeover(self, i: int) -> dict[str, Any]:
        tag = f"k{i}"
        first = await self.start_worker(10)
        await self.client.enqueue(tag, LONG_MS)
        await self.wait_for("bench:starts", 1, 10)
        await self.start_worker(10)
        await asyncio.sleep(1.0)
        killed = time.time()
        first.kill()
        await first.wait()
        starts = await self.wait_for("bench:starts", 2, 120)
        await asyncio.sleep(2.0)  # a third start, if any, would be a double execution
        starts = await self.records("bench:starts")
        return {
            "seconds": round(float(starts[1][2]) - killed, 2),
            "starts": len(starts),
            "taken_by_other": starts[1][1] != str(first.pid),
        }

    async def cancel(self, i: int) -> float | None:
        tag = f"c{i}"
        await self.client.enqueue(tag, LONG_MS)
        await self.wait_for("bench:starts", i + 1, 10)
        await asyncio.sleep(1.5)
        asked = time.time()
        task = asyncio.create_task(self.client.abort(tag))
        deadline = time.monotonic() + 10
        seen = None
        while seen is None and time.monotonic() < deadline:
            records = await self.records("bench:cancelled")
            seen = next((t for done, t in records if done == tag), None)
            await asyncio.sleep(0.005)
        await asyncio.gather(task, return_exceptions=True)
        return None if seen is None else float(seen) - asked

    async def run(self) -> dict[str, Any]:
        await self.client.connect()
        result: dict[str, Any] = {"engine": self.engine}
        try:
            await self.reset()
            result["enqueue_jobs_per_s"] = round(await self.enqueue_rate())
            await self.reset()
            result["latency"] = rounded(await self.latency())
            await self.reset()
            result["throughput"] = rounded(await self.throughput())
            takeovers = []
            for i in range(self.args.takeovers):
                await self.reset()
                takeovers.append(await self.takeover(i))
            result["takeover"] = takeovers
            await self.reset()
            await self.start_worker(10)
            cancels = [await self.cancel(i) for i in range(self.args.cancels)]
            reached = [c for c in cancels if c is not None]
            result["cancel"] = {
                "reached": f"{len(reached)}/{len(cancels)}",
                "seconds": [round(c, 3) for c in reached],
            }
        finally:
            await self.reset()
            await self.client.close()
            await self.redis.aclose()
        return result


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in figures.items()}


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed"
    port = free_port()
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", directory],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"redis://127.0.0.1:{port}/0"
        assert server.poll() is None and time.monotonic() < deadline, "redis did not start"
        time.sleep(0.05)


async def bench(args: argparse.Namespace) -> None:
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        server, url = private_redis(directory)
        try:
            for engine in args.engines:
                print(json.dumps(await Bench(engine, url, args).run()), flush=True)
        finally:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200, help="latency samples")
    parser.add_argument("--takeovers", type=int, default=3)
    parser.add_argument("--cancels", type=int, default=5)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--arq-poll-delay", type=float, default=0.5, help="arq's default 0.5")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "saq":
        asyncio.run(run_saq_worker(args.redis, args.concurrency))
    elif args.worker == "arq":
        asyncio.run(run_arq_worker(args.redis, args.concurrency, args.arq_poll_delay))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
