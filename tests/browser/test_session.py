"""Tokens in the page: refreshed before they expire, and the WebSocket renewed with them,
so a user (and a run on screen) never notices an access token ending."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, ask, sign_up
from tests.support import ServerProcess

ACCESS_TTL_S = 10  # the shortest the server allows; the page refreshes at 5 s


@pytest.fixture
def short_token_server(tmp_path: Path, db_kind: str) -> Iterator[ServerProcess]:
    if db_kind != "sqlite":
        pytest.skip("the page's token handling does not depend on the database")
    server = ServerProcess(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}",
        NETRA_ACCESS_TOKEN_TTL_S=str(ACCESS_TTL_S),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser, short_token_server: ServerProcess) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=short_token_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    yield page
    context.close()


def test_tokens_are_refreshed_before_they_expire_and_the_socket_follows(page: Page) -> None:
    refreshes: list[int] = []
    page.on(
        "response",
        lambda response: (
            refreshes.append(response.status)
            if response.url.endswith("/api/auth/refresh")
            else None
        ),
    )
    closes: list[int] = []
    page.on(
        "websocket",
        lambda ws: ws.on("close", lambda _: closes.append(1)),
    )
    sign_up(page, "tokens")
    connection = page.locator("#connection")
    # Three access-token lifetimes: without refreshing, every call would now be refused.
    for _ in range(3 * ACCESS_TTL_S):
        page.wait_for_timeout(1_000)
        assert connection.get_attribute("data-state") == "open", "the connection dropped"
    assert len(refreshes) >= 4 and set(refreshes) == {200}, refreshes
    assert closes, "the socket was never renewed with a new token"

    ask(page, "hello, what can you do?")
    run = page.locator(".turn .run").last
    expect(run).to_have_attribute("data-status", "completed")
    page.get_by_role("link", name="New thread", exact=True).click()
    expect(page.locator("#thread-list .thread")).to_have_count(1)
