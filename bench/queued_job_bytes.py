"""Redis memory per queued run (docs/deployment.md, "Sizing").

``python bench/queued_job_bytes.py [JOBS]`` starts a redis-server of its own (appendonly on,
as in compose.yaml), submits JOBS runs to the run queue with no worker taking them, and
prints the growth of Redis's ``used_memory`` per queued run.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from redis.asyncio import Redis

from netra.runtime.bus import RedisBus
from netra.runtime.saq_queue import SaqQueue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(url: str, jobs: int) -> None:
    redis = Redis.from_url(url)
    bus = RedisBus(url)
    await bus.start()

    async def nothing(handle: object) -> None:
        raise AssertionError("no run executes here")

    queue = SaqQueue(url, bus, nothing, executes=False, concurrency=1, lease_s=10, max_attempts=3)
    await queue.start()
    before = (await redis.info("memory"))["used_memory"]
    started = time.perf_counter()
    for _ in range(jobs):
        await queue.submit(str(uuid.uuid4()))
    took = time.perf_counter() - started
    after = (await redis.info("memory"))["used_memory"]
    assert await queue.depth() == jobs
    sample = (await redis.keys("saq:job:*"))[0]
    print(
        f"{jobs} queued runs: used_memory +{after - before} B, {(after - before) / jobs:.0f} B "
        f"per run (MEMORY USAGE of one job key: {await redis.memory_usage(sample)} B); "
        f"submitted at {jobs / took:.0f}/s"
    )
    await queue.stop(0)
    await bus.stop()
    await redis.aclose()


def main(jobs: int = 10_000) -> None:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed"
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--appendonly", "yes", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            asyncio.run(measure(f"redis://127.0.0.1:{port}/0", jobs))
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main(*[int(value) for value in sys.argv[1:2]])
