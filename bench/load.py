"""Load benchmark: N concurrent users, each running questions back to back over /ws.

Starts a fresh ``netra serve`` on the embedded defaults (SQLite, in-process bus and queue),
pinned to CPU 0 with ``taskset``; this client pins itself to CPU 1. Each user registers and
opens one WebSocket; once all are connected, every user repeats ``start_agent`` → read to
the terminal event (a closed loop). Runs sent during the first ``--warmup`` seconds are not
counted (the synchronised first round, a cold server); runs sent during the next
``--duration`` seconds are. Every event is stored by the server before it is delivered.

Reports runs/s, time-to-first-event (``start_agent`` sent → ``run_started`` received) and
time-to-completion (→ terminal event) percentiles, the server's CPU seconds per run
(utime+stime from /proc) and its resident memory (VmRSS at the end, VmHWM peak).

    python bench/load.py --users 50 --duration 20 --question "hello"
    BENCH_DIR=/dev/shm python bench/load.py ...   # the server's data folder elsewhere
    python bench/load.py --users 200 --duration 30 --demo-rows 20000 \
        --question "how do we cut costs?"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

TERMINAL = {"run_completed", "run_failed", "run_cancelled"}
PASSWORD = "benchmark-password-123"


@dataclass
class Stats:
    first_event: list[float] = field(default_factory=list)
    completion: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    events: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_memory_mib(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(data_dir: Path, port: int, cpu: str | None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NETRA_DATA_DIR": str(data_dir),
        "NETRA_LOG_LEVEL": "warning",
        "NETRA_MAX_RUNS_PER_USER": "3",
        "NETRA_AUTH_ATTEMPTS_PER_ADDRESS": "0",  # every simulated user comes from 127.0.0.1
    }
    env.pop("NETRA_DATABASE_URL", None)
    env.pop("NETRA_REDIS_URL", None)
    netra = shutil.which("netra") or str(Path(sys.executable).parent / "netra")
    command = [netra, "serve", "--port", str(port)]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=(data_dir / "server.log").open("wb")
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start: " + (data_dir / "server.log").read_text())


async def prepare_user(client: httpx.AsyncClient, index: int, demo_rows: int) -> str:
    response = await client.post(
        "/api/auth/register",
        json={"email": f"bench-{index}-{time.time_ns()}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    token = response.json()["access_token"]
    if demo_rows:
        demo = await client.post(
            "/api/datasets/demo",
            json={"rows": demo_rows, "seed": index},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        demo.raise_for_status()
    return token


async def user_loop(
    ws_url: str, token: str, question: str, window: Window, stats: Stats, single: bool
) -> None:
    """Run ``question`` back to back until the window closes; record runs sent inside it."""
    async with connect(
        ws_url, subprotocols=["netra.v1", f"bearer.{token}"], max_size=2**24, open_timeout=60
    ) as ws:
        json.loads(await ws.recv())  # connection_established
        window.ready += 1
        if window.ready == window.users:
            window.connected.set()
        await window.connected.wait()  # every user connected: go together
        while time.monotonic() < window.closes:
            sent = time.perf_counter()
            measured = window.opens <= time.monotonic() < window.closes
            await ws.send(json.dumps({"type": "start_agent", "message": question}))
            first = None
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 120))
                kind = message["type"]
                if first is None:
                    first = time.perf_counter() - sent
                if measured:
                    stats.events += 1
                if kind == "error":
                    if measured:
                        stats.errors.append(message["data"]["code"])
                    await asyncio.sleep(0.05)
                    break
                if kind in TERMINAL:
                    if measured:
                        stats.first_event.append(first)
                        stats.completion.append(time.perf_counter() - sent)
                        stats.outcomes[kind] = stats.outcomes.get(kind, 0) + 1
                    break
            if single and measured:
                return


@dataclass
class Window:
    """When runs count: from ``opens`` (after the warm-up) until ``closes``."""

    users: int
    ready: int = 0
    opens: float = 0.0
    closes: float = float("inf")
    connected: asyncio.Event = field(default_factory=asyncio.Event)


async def measure(args: argparse.Namespace, port: int, pid: int) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(8)

        async def prepared(index: int) -> str:
            async with semaphore:
                return await prepare_user(client, index, args.demo_rows)

        tokens = await asyncio.gather(*(prepared(i) for i in range(args.users)))
    stats = Stats()
    ws_url = f"ws://127.0.0.1:{port}/ws"
    window = Window(users=len(tokens))
    users = [
        asyncio.create_task(user_loop(ws_url, t, args.question, window, stats, args.single))
        for t in tokens
    ]
    await window.connected.wait()
    # Warm-up: every user runs from now on, but runs sent before the window opens are not
    # counted, so neither the first (synchronised) round nor a cold server is measured.
    window.opens = time.monotonic() + args.warmup
    window.closes = window.opens + args.duration
    await asyncio.sleep(args.warmup)
    cpu_before = proc_cpu_seconds(pid)
    client_before = proc_cpu_seconds(os.getpid())
    started = time.monotonic()
    if args.single:
        await asyncio.gather(*users)
    else:
        await asyncio.sleep(max(0.0, window.closes - time.monotonic()))
    cpu = proc_cpu_seconds(pid) - cpu_before
    client_cpu = proc_cpu_seconds(os.getpid()) - client_before
    await asyncio.gather(*users)  # the runs in flight end (not counted)
    elapsed = min(time.monotonic(), window.closes) - started
    rss, peak = proc_memory_mib(pid)
    runs = len(stats.completion)
    return {
        "users": args.users,
        "question": args.question,
        "demo_rows": args.demo_rows,
        "runs": runs,
        "outcomes": stats.outcomes,
        "errors": {code: stats.errors.count(code) for code in set(stats.errors)},
        "elapsed_s": round(elapsed, 2),
        "runs_per_s": round(runs / elapsed, 1),
        "events_per_run": round(stats.events / max(1, runs), 1),
        "first_event_ms": {
            f"p{q}": round(percentile(stats.first_event, q) * 1000, 1) for q in (50, 95, 99)
        },
        "completion_ms": {
            f"p{q}": round(percentile(stats.completion, q) * 1000, 1) for q in (50, 95, 99)
        },
        "completion_mean_ms": round(statistics.fmean(stats.completion) * 1000, 1) if runs else None,
        "server_cpu_ms_per_run": round(cpu / max(1, runs) * 1000, 2),
        "server_cpu_busy": round(cpu / elapsed, 2),
        "client_cpu_busy": round(client_cpu / elapsed, 2),
        "server_rss_mib": round(rss, 1),
        "server_peak_rss_mib": round(peak, 1),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of runs before measuring (not counted)"
    )
    parser.add_argument("--question", default="hello")
    parser.add_argument(
        "--demo-rows", type=int, default=0, help="demo dataset rows per user (0: none)"
    )
    parser.add_argument("--single", action="store_true", help="one measured run per user")
    parser.add_argument("--server-cpu", default="0", help="CPU list for taskset ('' to not pin)")
    parser.add_argument("--client-cpu", type=int, default=1)
    args = parser.parse_args()
    if args.client_cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.client_cpu})
    port = free_port()
    with tempfile.TemporaryDirectory(
        prefix="netra-bench-", dir=os.environ.get("BENCH_DIR")
    ) as folder:
        server = start_server(Path(folder), port, args.server_cpu or None)
        try:
            result = asyncio.run(measure(args, port, server.pid))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
