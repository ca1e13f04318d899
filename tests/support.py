"""Test support: a real server subprocess, real HTTP and WebSocket clients, databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
TERMINAL = {"run_completed", "run_failed", "run_cancelled"}
PASSWORD = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(missing: str) -> None:
    """Skip loudly for a missing service, tool or browser; under CI=true, fail instead."""
    if IN_CI:
        pytest.fail(f"{missing} (CI=true: nothing may be skipped for what is missing)")
    pytest.skip(f"SKIPPED LOUDLY: {missing}; install or start it to run these tests")


def service_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def start_redis(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """A private redis-server on ``port`` (the tests that kill Redis kill this one)."""
    redis = RedisProcess(data_dir, port=port)
    redis.start()
    assert redis.process is not None
    return redis.process


def create_pg_database(name: str) -> None:
    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the block; its asyncpg URL."""
    name = f"netra_test_{uuid.uuid4().hex[:12]}"
    create_pg_database(name)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_pg_database(name)


def drop_pg_database(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Throwaway credentials for the local S3 server; the AWS SDK reads them from the environment.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "netra-test",
    "AWS_SECRET_ACCESS_KEY": "netra-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def new_bucket(endpoint: str) -> str:
    name = f"netra-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


class NetraProcess:
    """A ``netra`` command as a child process on a data folder, logging to a file of its own."""

    def __init__(self, data_dir: Path, database_url: str, name: str, **env: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.extra_env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{name}.log"
        self._log_from = 0  # where this start's output begins in the log

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        env = {
            **os.environ,
            "NETRA_ENV": "test",
            "NETRA_DATA_DIR": str(self.data_dir),
            "NETRA_DATABASE_URL": self.database_url,
            "NETRA_LOG_LEVEL": "warning",
            # Every test signs in from 127.0.0.1; tests of the limit set their own.
            "NETRA_AUTH_ATTEMPTS_PER_ADDRESS": "0",
            **self.extra_env,
        }
        if "NETRA_REDIS_URL" not in self.extra_env:
            env.pop("NETRA_REDIS_URL", None)
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "netra.cli", *self.command()],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command()[0]} exited early:\n{self.log()}")
            if self.ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.command()[0]} did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def current_log(self) -> str:
        """The output of the process started last."""
        return self.log()[self._log_from :]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, as an operator would; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: the process is lost without any chance to clean up."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


class ServerProcess(NetraProcess):
    """``netra serve`` as a child process on a free port, with its own data folder."""

    def __init__(self, data_dir: Path, database_url: str, **env: str) -> None:
        self.port = free_port()
        super().__init__(data_dir, database_url, f"server-{self.port}", **env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def command(self) -> list[str]:
        return ["serve", "--port", str(self.port)]

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


class WorkerProcess(NetraProcess):
    """``netra worker``: executes runs from the Redis queue (``NETRA_REDIS_URL`` in ``env``)."""

    def command(self) -> list[str]:
        return ["worker"]

    def ready(self) -> bool:
        return "netra worker: executing" in self.current_log()


class RedisProcess:
    """A ``redis-server`` of the test's own on a free port, which it may stop and restart.

    ``appendonly``: every write goes to an append-only file in ``directory``, so what was
    queued survives a restart.
    """

    def __init__(
        self, directory: Path, *, appendonly: bool = False, port: int | None = None
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            skip_or_fail("redis-server is not installed (apt-get install redis-server)")
        self.binary = str(binary)
        self.directory = directory
        self.appendonly = appendonly
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--dir", str(self.directory)),
                *("--appendonly", "yes" if self.appendonly else "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not service_available("127.0.0.1", self.port):
            assert self.process.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: redis-server writes what it holds (with ``appendonly``) and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@dataclass
class Account:
    email: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(client: httpx.AsyncClient, name: str = "tester") -> Account:
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(email, body["user"]["id"], body["access_token"], body["refresh_token"])


async def open_ws(url: str, token: str, **kwargs: Any) -> ClientConnection:
    """A browser-style connection: subprotocols ``netra.v1`` and ``bearer.<token>``."""
    return await connect(
        url, subprotocols=["netra.v1", f"bearer.{token}"], open_timeout=10, **kwargs
    )


async def recv(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def recv_until_terminal(
    ws: ClientConnection, run_id: str | None = None, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Every message up to and including the terminal event of ``run_id`` (any run if None)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = await recv(ws, max(0.1, deadline - time.monotonic()))
        events.append(message)
        if message["type"] in TERMINAL and (run_id is None or message["run_id"] == run_id):
            return events


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))
