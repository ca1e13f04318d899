"""Fixtures of the end-to-end tier: an HTTP client on the session's real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import ServerProcess


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        yield client
