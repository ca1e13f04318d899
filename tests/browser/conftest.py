"""Browser tests: Playwright driving Debian's Chromium, headless, against a real server.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (installed by
``.ci/run``). Without it these tests are skipped with a loud reason, except under CI=true,
where a missing browser is a failure. Every test here carries the ``browser`` marker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support import PASSWORD, Account, ServerProcess, skip_or_fail

CHROMIUM = Path(os.environ.get("NETRA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

OpenPage = Callable[..., Page]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps its event loop marked as running
    # while it is started, which would stop the async (pytest-asyncio) tests that follow.
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught exceptions and unexpected console errors of the pages a test opened."""
    return []


@pytest.fixture
def app_url(server: ServerProcess) -> str:
    return server.url


@pytest.fixture
def new_page(browser: Browser, app_url: str, page_errors: list[str]) -> Iterator[OpenPage]:
    """Open the app in a fresh browser context (its own storage), or in ``context``."""
    contexts: list[BrowserContext] = []

    def open_page(
        viewport: dict[str, int] = DESKTOP, context: BrowserContext | None = None, path: str = "/"
    ) -> Page:
        if context is None:
            context = browser.new_context(viewport=viewport, base_url=app_url)
            contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: page_errors.append(f"pageerror: {error}"))
        page.on("console", lambda message: _console(message.type, message.text, page_errors))
        page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _console(kind: str, text: str, errors: list[str]) -> None:
    # The browser logs the failed requests the page handles itself (a refused file, a wrong
    # password, a socket to a stopped server) as console errors: those are expected.
    expected = "Failed to load resource" in text or "WebSocket connection" in text
    if kind == "error" and not expected:
        errors.append(f"console: {text}")


def fresh_email(name: str = "browser") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, name: str = "browser") -> str:
    """Create an account through the page's form; returns the email."""
    email = fresh_email(name)
    page.get_by_role("tab", name="Create account").click()
    page.get_by_label("Name").fill(name)
    page.locator("#register-email").fill(email)
    page.locator("#register-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()
    return email


def sign_in(page: Page, email: str) -> None:
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for()


def load_demo(page: Page) -> None:
    page.locator("#data-panel").get_by_role("button", name="Load demo data").click()
    page.locator(".upload-status[data-kind=success]").wait_for(timeout=60_000)


def ask(page: Page, question: str) -> None:
    page.get_by_label("Ask about your AI spend").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()


# --- the API beside the page: accounts and large demo data for tests that need long runs ---

LONG_QUESTION = "How do we cut our AI costs?"  # triage → data → optimization → actions → reporting
LONG_RUN_ROWS = 1_000_000  # the most the demo makes by default: a run of several seconds


@pytest.fixture
def http(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=180) as client:
        yield client


def api_account(http: httpx.Client, name: str = "api") -> Account:
    email = fresh_email(name)
    response = http.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(email, body["user"]["id"], body["access_token"], body["refresh_token"])


def api_demo(http: httpx.Client, account: Account, rows: int = LONG_RUN_ROWS) -> dict[str, Any]:
    response = http.post("/api/datasets/demo", json={"rows": rows}, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_get(http: httpx.Client, account: Account, path: str) -> Any:
    response = http.get(path, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def shown_seqs(page: Page, run_id: str) -> list[int]:
    """The seq of every step, thought and tool call the page shows for a run, in page order."""
    values = page.locator(f'.run[data-run-id="{run_id}"] [data-seq]').evaluate_all(
        "elements => elements.map(element => element.dataset.seq)"
    )
    return [int(value) for value in values]


def stored_seqs(http: httpx.Client, account: Account, run_id: str) -> list[int]:
    """The seq of every event the page should show as an element, from the server's log.

    Steps, thoughts and tool calls are shown; a ``run_resumed`` is shown as a note and
    discards the unfinished step of the agent that was open (PROTOCOL.md).
    """
    events = api_get(http, account, f"/api/runs/{run_id}/events")["events"]
    shown: list[int] = []
    open_step: list[int] = []
    for event in events:
        kind = event["type"]
        if kind == "agent_started":
            open_step = [event["seq"]]
            shown.append(event["seq"])
        elif kind in ("agent_thinking", "tool_executing"):
            open_step.append(event["seq"])
            shown.append(event["seq"])
        elif kind == "agent_completed":
            open_step = []
        elif kind == "run_resumed":
            shown = [seq for seq in shown if seq not in open_step]
            open_step = []
            shown.append(event["seq"])
    return shown


STRAY_VALUES = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (/^(null|undefined|NaN)$|\\b(undefined|NaN)\\b|\\[object Object\\]/.test(node.data.trim())) {
      found.push(`${node.parentElement.className}: ${node.data.trim().slice(0, 80)}`);
    }
  }
  return found;
}"""


def stray_values(page: Page) -> list[str]:
    """Text that betrays a rendering slip: "null", "undefined", "NaN", "[object Object]"."""
    return list(page.evaluate(STRAY_VALUES))
