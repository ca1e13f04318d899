"""Servers starting at once on a fresh PostgreSQL database migrate it one after another."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from netra.db.migrate import alembic_config
from tests.support import fresh_pg_database

STARTS = 3  # `netra migrate` processes started together


@pytest.fixture
def fresh_database(db_kind: str) -> Iterator[str]:
    if db_kind != "postgresql":
        pytest.skip("the migration lock is PostgreSQL's: this runs under --db postgresql")
    with fresh_pg_database() as url:
        yield url


def test_migrations_started_at_once_all_succeed_and_reach_head(fresh_database: str) -> None:
    env = {**os.environ, "NETRA_ENV": "test", "NETRA_DATABASE_URL": fresh_database}
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "netra.cli", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(STARTS)
    ]
    outputs = [process.communicate(timeout=120)[0].decode(errors="replace") for process in starts]
    assert [process.returncode for process in starts] == [0] * STARTS, "\n".join(outputs)
    head = ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()
    assert asyncio.run(_versions(fresh_database)) == [head]


async def _versions(url: str) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        versions = await conn.execute(text("select version_num from alembic_version"))
        found = [row[0] for row in versions]
    await engine.dispose()
    return found
