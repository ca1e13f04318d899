"""Fixtures shared by every tier: the database under test and a real server process.

``pytest`` runs against SQLite; ``pytest --db postgresql`` against a fresh database created
on the machine's PostgreSQL for this run and dropped after it. Under CI=true a missing
PostgreSQL or Redis fails the run; elsewhere those tests are skipped with a loud reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    REDIS_URL,
    S3_ENV,
    RedisProcess,
    ServerProcess,
    create_pg_database,
    drop_pg_database,
    free_port,
    fresh_pg_database,
    service_available,
    skip_or_fail,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("NETRA_TEST_DB", "sqlite"),
        help="database the integration and end-to-end tests run against",
    )


def require_service(name: str, host: str, port: int) -> None:
    if not service_available(host, port):
        skip_or_fail(f"{name} is not reachable on {host}:{port}")


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_kind == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "netra.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real ``netra serve`` for the session; every test makes its own users."""
    process = ServerProcess(tmp_path_factory.mktemp("server"), database_url)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def fresh_server(tmp_path: Path, db_kind: str) -> Iterator[ServerProcess]:
    """A server of its own (with its own database), for tests that stop or kill it."""
    if db_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}"
        name = None
    else:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        name = f"netra_test_{uuid.uuid4().hex[:12]}"
        create_pg_database(name)
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    process = ServerProcess(tmp_path / "data", url)
    try:
        yield process
    finally:
        process.stop()
        if name:
            drop_pg_database(name)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's) in a child process on a free port; its
    throwaway credentials are in the environment, for this process and its servers."""
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not service_available("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the S3 server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        with pytest.MonkeyPatch.context() as env:
            for name, value in S3_ENV.items():
                env.setenv(name, value)
            yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own on a free port, so the test can stop it."""
    redis = RedisProcess(tmp_path)
    redis.start()
    assert redis.process is not None
    try:
        yield redis.process, redis.url
    finally:
        redis.kill()
