"""Fixtures shared by every tier: the database under test and a real server process.

``pytest`` runs against SQLite; ``pytest --db postgresql`` against a fresh database created
on the machine's PostgreSQL for this run and dropped after it. Under CI=true a missing
PostgreSQL or Redis fails the run; elsewhere those tests are skipped with a loud reason.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    REDIS_URL,
    ServerProcess,
    create_pg_database,
    drop_pg_database,
    free_port,
    service_available,
    skip_or_fail,
    start_redis,
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
    name = f"netra_test_{uuid.uuid4().hex[:12]}"
    create_pg_database(name)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_pg_database(name)


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


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own on a free port, so the test can stop it."""
    port = free_port()
    server = start_redis(port, tmp_path)
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()
