"""The processes a benchmark runs against, started fresh and stopped (by their pid) after.

- ``embedded``: one ``netra serve`` on the defaults (SQLite, in-process bus and queue).
- ``cluster``: ``netra serve`` ×S and ``netra worker`` ×W on the machine's PostgreSQL (a
  fresh database, dropped after) and a private ``redis-server`` on a free port, sharing one
  data folder and signing key, as docs/deployment.md describes.

Also what the benchmarks read from ``/proc`` about those processes.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
NETRA = shutil.which("netra") or str(Path(sys.executable).parent / "netra")


@dataclass
class Deployment:
    servers: list[tuple[int, subprocess.Popen[bytes]]]  # (port, process)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    redis_pid: int | None = None
    database: str | None = None  # the PostgreSQL database's name

    async def service_pids(self) -> list[int]:
        """The redis-server's and this database's PostgreSQL backends' pids (cluster)."""
        if self.database is None or self.redis_pid is None:
            return []
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
            )
        finally:
            await conn.close()
        return [self.redis_pid, *(row["pid"] for row in rows)]

    @property
    def ports(self) -> list[int]:
        return [port for port, _ in self.servers]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def base_env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "NETRA_DATA_DIR": str(data_dir),
        "NETRA_LOG_LEVEL": "warning",
        "NETRA_MAX_RUNS_PER_USER": "3",
        "NETRA_AUTH_ATTEMPTS_PER_ADDRESS": "0",  # every simulated user comes from 127.0.0.1
    }
    for name in ("NETRA_DATABASE_URL", "NETRA_REDIS_URL", "NETRA_SERVE_EXECUTES"):
        env.pop(name, None)
    return env


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped with SIGTERM (then SIGKILL) when the block ends."""
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start:\n" + log.read_text()[-4000:])


def server_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_server(
    stack: ExitStack, env: dict[str, str], data_dir: Path, index: int, cpu: str | None
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    command = [NETRA, "serve", "--port", str(port)]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    log = data_dir / f"server-{index}.log"
    process = stack.enter_context(running(command, env, log))
    wait_until(lambda: server_ready(port), process, log, f"server {index}")
    return port, process


def start_worker(
    stack: ExitStack, env: dict[str, str], data_dir: Path, index: int
) -> subprocess.Popen[bytes]:
    log = data_dir / f"worker-{index}.log"
    process = stack.enter_context(running([NETRA, "worker"], env, log))
    wait_until(lambda: b"executing up to" in log.read_bytes(), process, log, f"worker {index}")
    return process


@contextmanager
def embedded(data_dir: Path, cpu: str | None) -> Iterator[Deployment]:
    with ExitStack() as stack:
        yield Deployment([start_server(stack, base_env(data_dir), data_dir, 0, cpu)])


def _admin(statement: str) -> None:
    async def execute() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(execute())


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped after; yields its URL."""
    name = f"netra_bench_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        host = PG_ADMIN_DSN.removeprefix("postgresql://").rsplit("/", 1)[0]
        yield f"postgresql+asyncpg://{host}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def private_redis(data_dir: Path) -> Iterator[tuple[str, int]]:
    """A redis-server of the benchmark's own on a free port (never the shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir"]
    log = data_dir / "redis.log"
    with running([*command, str(data_dir)], dict(os.environ), log) as process:

        def answers() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        wait_until(answers, process, log, "redis-server")
        yield f"redis://127.0.0.1:{port}/0", process.pid


@contextmanager
def cluster(
    data_dir: Path, servers: int, workers: int, concurrency: int, db_connections: int
) -> Iterator[Deployment]:
    with ExitStack() as stack:
        database_url = stack.enter_context(pg_database())
        redis_url, redis_pid = stack.enter_context(private_redis(data_dir))
        env = {
            **base_env(data_dir),
            "NETRA_DATABASE_URL": database_url,
            "NETRA_REDIS_URL": redis_url,
            "NETRA_JWT_SECRET": secrets.token_urlsafe(48),  # one key: any server takes a token
            "NETRA_DB_MAX_CONNECTIONS": str(db_connections),
            "NETRA_WORKER_CONCURRENCY": str(concurrency),
        }
        # One after the other: the first migrates the fresh database.
        deployment = Deployment(
            [start_server(stack, env, data_dir, i, None) for i in range(servers)]
        )
        deployment.workers = [start_worker(stack, env, data_dir, i) for i in range(workers)]
        deployment.redis_pid, deployment.database = redis_pid, database_url.rsplit("/", 1)[1]
        yield deployment
