"""Connection resilience: a visible state, reconnect with backoff, and `subscribe` from the
last seq so a run on screen continues without gaps or duplicates."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    LONG_QUESTION,
    OpenPage,
    api_account,
    api_demo,
    api_get,
    ask,
    shown_seqs,
    sign_in,
    stored_seqs,
)
from tests.support import ServerProcess


def follow_to_the_end(page: Page, run_id: str) -> None:
    expect(page.locator(f'.run[data-run-id="{run_id}"]')).to_have_attribute(
        "data-status", "completed", timeout=90_000
    )


def start_long_run(page: Page) -> str:
    ask(page, LONG_QUESTION)
    run = page.locator(".turn .run").last
    run.locator(".step").first.wait_for()
    run_id = run.get_attribute("data-run-id")
    assert run_id
    return run_id


def test_a_network_drop_shows_offline_then_the_run_continues_without_gaps(
    new_page: OpenPage, http: httpx.Client, page_errors: list[str]
) -> None:
    account = api_account(http, "offline")
    api_demo(http, account)
    page = new_page()
    sign_in(page, account.email)
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-state", "open")
    expect(connection).to_contain_text("Live")
    run_id = start_long_run(page)

    page.context.set_offline(True)
    expect(connection).to_have_attribute("data-state", "offline")
    expect(connection).to_contain_text("Offline")
    page.wait_for_timeout(1_500)  # the run goes on on the server meanwhile
    page.context.set_offline(False)
    expect(connection).to_have_attribute("data-state", "open", timeout=15_000)

    follow_to_the_end(page, run_id)
    assert shown_seqs(page, run_id) == stored_seqs(http, account, run_id)
    assert page_errors == []


@pytest.fixture
def restart_page(browser: Browser, fresh_server: ServerProcess) -> Iterator[Page]:
    fresh_server.start()
    context = browser.new_context(viewport=DESKTOP, base_url=fresh_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    yield page
    context.close()


def test_a_server_restart_mid_run_reconnects_and_the_run_completes_on_screen(
    restart_page: Page, fresh_server: ServerProcess
) -> None:
    page = restart_page
    with httpx.Client(base_url=fresh_server.url, timeout=180) as http:
        account = api_account(http, "restart")
        api_demo(http, account)
    sign_in(page, account.email)
    run_id = start_long_run(page)

    fresh_server.stop()
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-state", "reconnecting")
    expect(connection).to_contain_text("Reconnecting")
    fresh_server.start()
    expect(connection).to_have_attribute("data-state", "open", timeout=30_000)

    follow_to_the_end(page, run_id)
    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        assert api_get(http, account, f"/api/runs/{run_id}")["status"] == "completed"
        assert shown_seqs(page, run_id) == stored_seqs(http, account, run_id)
    expect(page.locator(".report")).to_be_visible()
