"""Sign-in limits: failed logins per account and attempts per client address answer 429."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.checks import check_error_body
from tests.support import PASSWORD, ServerProcess, register


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    server = ServerProcess(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}",
        NETRA_LOGIN_FAILURES_PER_ACCOUNT="3",
        NETRA_AUTH_ATTEMPTS_PER_ADDRESS="8",
        NETRA_AUTH_WINDOW_S="600",
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
            yield client
    finally:
        server.stop()


def _rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    check_error_body(response.json(), "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 600, response.headers
    assert response.json()["error"]["details"]["retry_after_s"] == retry_after


async def test_an_account_is_locked_after_its_failed_logins_and_others_are_not(
    limited: httpx.AsyncClient,
) -> None:
    victim = await register(limited, "victim")  # address attempt 1
    other = await register(limited, "other")  # 2
    wrong = {"email": victim.email, "password": "not the password"}
    for _ in range(3):  # 3, 4, 5
        assert (await limited.post("/api/auth/login", json=wrong)).status_code == 401
    _rate_limited(await limited.post("/api/auth/login", json=wrong))  # 6
    right = {"email": victim.email, "password": PASSWORD}
    _rate_limited(await limited.post("/api/auth/login", json=right))  # 7: locked, not guessed
    fine = await limited.post("/api/auth/login", json={"email": other.email, "password": PASSWORD})
    assert fine.status_code == 200, fine.text  # 8


async def test_a_client_address_is_limited_across_accounts_and_registrations(
    limited: httpx.AsyncClient,
) -> None:
    account = await register(limited, "address")  # 1
    for index in range(7):  # 2..8, each to another account: no account limit is reached
        wrong = {"email": f"nobody-{index}@example.com", "password": "not the password"}
        assert (await limited.post("/api/auth/login", json=wrong)).status_code == 401
    right = {"email": account.email, "password": PASSWORD}
    _rate_limited(await limited.post("/api/auth/login", json=right))
    new = {"email": "late@example.com", "password": PASSWORD}
    _rate_limited(await limited.post("/api/auth/register", json=new))
