"""Integration fixtures: a migrated database of the kind under test, and both buses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from netra.db import Database
from netra.db.migrate import upgrade
from netra.runtime.bus import MemoryBus, RedisBus


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    yield database
    await database.dispose()


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[MemoryBus | RedisBus]:
    implementation = (
        MemoryBus() if request.param == "memory" else RedisBus(request.getfixturevalue("redis_url"))
    )
    await implementation.start()
    yield implementation
    await implementation.stop()
