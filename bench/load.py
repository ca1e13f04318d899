"""Load benchmark: N concurrent users, each running questions back to back over /ws.

``--mode embedded`` (default) starts a fresh ``netra serve`` on the embedded defaults (SQLite,
in-process bus and queue), pinned to CPU 0 with ``taskset``; this client pins itself to CPU 1.
``--mode cluster`` starts ``--servers`` ``netra serve`` and ``--workers`` ``netra worker`` on a
fresh PostgreSQL database and a private redis-server (bench/deployments.py), nothing pinned;
user i registers on and connects to server i mod S. Each user registers and
opens one WebSocket; once all are connected, every user repeats ``start_agent`` → read to
the terminal event (a closed loop). Runs sent during the first ``--warmup`` seconds are not
counted (the synchronised first round, a cold server); runs sent during the next
``--duration`` seconds are. Every event is stored by the server before it is delivered.

Reports runs/s, time-to-first-event (``start_agent`` sent → ``run_started`` received) and
time-to-completion (→ terminal event) percentiles, the server's CPU seconds per run
(utime+stime from /proc) and its resident memory (VmRSS at the end, VmHWM peak).

``--idle N`` opens N idle authenticated WebSockets (one user each) to the first server
instead, and reports that server's resident memory growth per socket.

    python bench/load.py --users 50 --duration 20 --question "hello"
    BENCH_DIR=/dev/shm python bench/load.py ...   # the server's data folder elsewhere
    python bench/load.py --users 200 --duration 30 --demo-rows 20000 \
        --question "how do we cut costs?"
    python bench/load.py --mode cluster --users 1000 --servers 2 --workers 2
    python bench/load.py --mode cluster --idle 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from deployments import Deployment, cluster, embedded, proc_cpu_seconds, proc_memory_kib
from websockets.asyncio.client import ClientConnection, connect

TERMINAL = {"run_completed", "run_failed", "run_cancelled"}
PASSWORD = "benchmark-password-123"


@dataclass
class Stats:
    first_event: list[float] = field(default_factory=list)
    completion: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    completed_users: set[int] = field(default_factory=set)
    events: int = 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


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


async def register(ports: list[int], users: int, demo_rows: int) -> list[str]:
    """Register ``users`` users, user i on server i mod len(ports); their access tokens."""
    clients = [
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            limits=httpx.Limits(max_connections=50),
        )
        for port in ports
    ]
    semaphore = asyncio.Semaphore(8)

    async def prepared(index: int) -> str:
        async with semaphore:
            return await prepare_user(clients[index % len(ports)], index, demo_rows)

    try:
        return await asyncio.gather(*(prepared(i) for i in range(users)))
    finally:
        for client in clients:
            await client.aclose()


def open_socket(port: int, token: str) -> connect:
    return connect(
        f"ws://127.0.0.1:{port}/ws",
        subprotocols=["netra.v1", f"bearer.{token}"],  # type: ignore[list-item]
        max_size=2**24,
        open_timeout=120,
    )


async def user_loop(
    index: int, port: int, token: str, question: str, window: Window, stats: Stats, single: bool
) -> None:
    """Run ``question`` back to back until the window closes; record runs sent inside it."""
    async with open_socket(port, token) as ws:
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
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), window.patience))
                except TimeoutError:
                    stats.errors.append(f"no event for {window.patience:g} s")
                    return
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
                        if kind == "run_completed":
                            stats.completed_users.add(index)
                    break
            if single and measured:
                return


@dataclass
class Window:
    """When runs count: from ``opens`` (after the warm-up) until ``closes``."""

    users: int
    patience: float  # seconds a user waits for a run's next event
    ready: int = 0
    opens: float = 0.0
    closes: float = float("inf")
    connected: asyncio.Event = field(default_factory=asyncio.Event)


def ms(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(values, q) * 1000, 1) for q in (50, 95, 99)}


def machine() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load} at the end"
    )


async def measure(args: argparse.Namespace, deployment: Deployment) -> dict[str, object]:
    ports = deployment.ports
    tokens = await register(ports, args.users, args.demo_rows)
    stats = Stats()
    window = Window(users=len(tokens), patience=args.event_timeout)
    users = [
        asyncio.create_task(
            user_loop(i, ports[i % len(ports)], t, args.question, window, stats, args.single)
        )
        for i, t in enumerate(tokens)
    ]
    await window.connected.wait()
    # Warm-up: every user runs from now on, but runs sent before the window opens are not
    # counted, so neither the first (synchronised) round nor a cold server is measured.
    window.opens = time.monotonic() + args.warmup
    window.closes = window.opens + args.duration
    await asyncio.sleep(args.warmup)
    servers = [process.pid for _, process in deployment.servers]
    workers = [process.pid for process in deployment.workers]
    services = await deployment.service_pids()
    cpu_before = {pid: proc_cpu_seconds(pid) for pid in servers + workers + services}
    client_before = proc_cpu_seconds(os.getpid())
    started = time.monotonic()
    if args.single:
        await asyncio.gather(*users)
    else:
        await asyncio.sleep(max(0.0, window.closes - time.monotonic()))
    cpu = {  # a PostgreSQL backend may have closed in the meantime
        pid: proc_cpu_seconds(pid) - before
        for pid, before in cpu_before.items()
        if Path(f"/proc/{pid}").exists()
    }
    service_cpu = sum(cpu.get(pid, 0.0) for pid in services)
    client_cpu = proc_cpu_seconds(os.getpid()) - client_before
    await asyncio.gather(*users)  # the runs in flight end (not counted)
    elapsed = min(time.monotonic(), window.closes) - started
    memory = [proc_memory_kib(pid) for pid in servers]
    runs = len(stats.completion)
    server_cpu = sum(cpu[pid] for pid in servers)
    worker_cpu = sum(cpu[pid] for pid in workers)
    return {
        "mode": args.mode,
        "servers": len(servers),
        "workers": len(workers),
        "users": args.users,
        "users_with_a_completed_run": len(stats.completed_users),
        # no error, every run completed and, with --single, every user's
        "all_completed": not stats.errors
        and set(stats.outcomes) <= {"run_completed"}
        and (not args.single or len(stats.completed_users) == args.users),
        "question": args.question,
        "demo_rows": args.demo_rows,
        "runs": runs,
        "outcomes": stats.outcomes,
        "errors": {code: stats.errors.count(code) for code in set(stats.errors)},
        "elapsed_s": round(elapsed, 2),
        "runs_per_s": round(runs / elapsed, 1),
        "events_per_run": round(stats.events / max(1, runs), 1),
        "first_event_ms": ms(stats.first_event),
        "completion_ms": ms(stats.completion),
        "completion_mean_ms": round(statistics.fmean(stats.completion) * 1000, 1) if runs else None,
        "server_cpu_ms_per_run": round(server_cpu / max(1, runs) * 1000, 2),
        "server_cpu_busy": round(server_cpu / elapsed, 2),
        "worker_cpu_ms_per_run": round(worker_cpu / max(1, runs) * 1000, 2) if workers else None,
        "worker_cpu_busy": round(worker_cpu / elapsed, 2) if workers else None,
        "client_cpu_busy": round(client_cpu / elapsed, 2),
        # Redis and this database's PostgreSQL backends (those open at the window's start)
        "services_cpu_ms_per_run": round(service_cpu / max(1, runs) * 1000, 2)
        if services
        else None,
        "services_cpu_busy": round(service_cpu / elapsed, 2) if services else None,
        "server_rss_mib": [round(rss / 1024, 1) for rss, _ in memory],
        "server_peak_rss_mib": [round(peak / 1024, 1) for _, peak in memory],
        "machine": machine(),
    }


async def settled_rss(pid: int, seconds: float) -> int:
    """The server's VmRSS (KiB) after ``seconds`` with nothing asked of it."""
    await asyncio.sleep(seconds)
    return proc_memory_kib(pid)[0]


async def idle(args: argparse.Namespace, deployment: Deployment) -> dict[str, object]:
    """Open ``args.idle`` authenticated WebSockets to the first server and leave them idle."""
    port, process = deployment.servers[0]
    tokens = await register([port], args.idle, 0)
    sockets: list[ClientConnection] = []
    semaphore = asyncio.Semaphore(50)

    async def opened(token: str) -> ClientConnection:
        async with semaphore:
            ws = await open_socket(port, token)
            json.loads(await ws.recv())  # connection_established: authenticated, subscribed
            return ws

    # A first few sockets, closed again, so what every socket's first use loads is in "before".
    warm = await asyncio.gather(*(opened(token) for token in tokens[:20]))
    await asyncio.gather(*(ws.close() for ws in warm))
    gc.collect()
    before = await settled_rss(process.pid, args.settle)
    sockets = await asyncio.gather(*(opened(token) for token in tokens))
    after = await settled_rss(process.pid, args.settle)
    await asyncio.gather(*(ws.close() for ws in sockets))
    closed = await settled_rss(process.pid, args.settle)
    return {
        "mode": args.mode,
        "idle_sockets": len(sockets),
        "server_rss_before_mib": round(before / 1024, 1),
        "server_rss_open_mib": round(after / 1024, 1),
        "server_rss_closed_mib": round(closed / 1024, 1),
        "kib_per_idle_socket": round((after - before) / len(sockets), 1),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["embedded", "cluster"], default="embedded")
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
    parser.add_argument(
        "--event-timeout", type=float, default=120.0, help="seconds to wait for a next event"
    )
    parser.add_argument("--idle", type=int, default=0, help="N idle sockets instead of runs")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before reading RSS")
    parser.add_argument(
        "--server-cpu", default="0", help="embedded: CPU list for taskset ('' to not pin)"
    )
    parser.add_argument("--client-cpu", type=int, default=1, help="embedded: -1 to not pin")
    parser.add_argument("--servers", type=int, default=2, help="cluster: netra serve processes")
    parser.add_argument("--workers", type=int, default=2, help="cluster: netra worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=10, help="cluster: per worker")
    parser.add_argument(
        "--db-connections", type=int, default=20, help="cluster: NETRA_DB_MAX_CONNECTIONS"
    )
    args = parser.parse_args()
    if args.mode == "embedded" and args.client_cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.client_cpu})
    with tempfile.TemporaryDirectory(
        prefix="netra-bench-", dir=os.environ.get("BENCH_DIR")
    ) as folder:
        data_dir = Path(folder)
        deployment: AbstractContextManager[Deployment] = (
            embedded(data_dir, args.server_cpu or None)
            if args.mode == "embedded"
            else cluster(
                data_dir, args.servers, args.workers, args.worker_concurrency, args.db_connections
            )
        )
        with deployment as started:
            result = asyncio.run(idle(args, started) if args.idle else measure(args, started))
    print(json.dumps(result, indent=2))
    if result.get("all_completed") is False:
        sys.exit(1)


if __name__ == "__main__":
    main()
