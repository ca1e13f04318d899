"""Quality of the screens: a phone-sized layout, no layout shift while events stream, and
the screenshots kept in docs/screenshots (refreshed with NETRA_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    LONG_QUESTION,
    PHONE,
    OpenPage,
    api_account,
    api_demo,
    ask,
    load_demo,
    sign_in,
    sign_up,
    stray_values,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

LAYOUT_SHIFTS = """() => {
  window.__shift = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
  }).observe({type: 'layout-shift', buffered: false});
}"""


def overflows(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))


def test_a_phone_sized_screen_fits_and_the_menu_holds_data_and_threads(
    new_page: OpenPage, page_errors: list[str]
) -> None:
    page = new_page(viewport=PHONE)
    assert not overflows(page)
    sign_up(page, "phone")
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    load_demo(page)
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    ask(page, "Where does our money go by model?")
    run = page.locator(".turn .run").last
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator(".report .chart").first).to_be_visible()
    assert not overflows(page)
    width = page.locator(".report").evaluate("el => el.getBoundingClientRect().width")
    assert width <= PHONE["width"]
    assert stray_values(page) == []
    assert page_errors == []


def test_streaming_events_cause_no_layout_shift(new_page: OpenPage) -> None:
    page = new_page()
    sign_up(page, "jank")
    load_demo(page)
    page.evaluate(LAYOUT_SHIFTS)
    ask(page, LONG_QUESTION)
    run = page.locator(".turn .run").last
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator(".report")).to_be_visible()
    page.wait_for_timeout(300)
    shift = page.evaluate("window.__shift")
    assert shift < 0.05, f"cumulative layout shift {shift:.3f} while the run streamed"


@pytest.mark.skipif(
    os.environ.get("NETRA_SCREENSHOTS") != "1",
    reason="refreshes docs/screenshots only when NETRA_SCREENSHOTS=1",
)
def test_refresh_the_screenshots_of_the_main_screens(
    new_page: OpenPage, http: httpx.Client
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(viewport=DESKTOP)
    page.get_by_label("Email").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "sign-in.png")

    account = api_account(http, "Dana")
    api_demo(http, account)
    sign_in(page, account.email)
    page.locator(".dataset-name").wait_for()
    page.screenshot(path=SCREENSHOTS / "new-thread.png")
    ask(page, LONG_QUESTION)
    run = page.locator(".turn .run").last
    run.locator('.step[data-agent="optimization"]').wait_for(timeout=60_000)
    page.screenshot(path=SCREENSHOTS / "live-run.png")
    expect(run).to_have_attribute("data-status", "completed", timeout=90_000)
    expect(page.locator(".report .chart svg").first).to_be_visible()
    run.get_by_role("button", name="Hide steps").click()
    page.locator(".answer").scroll_into_view_if_needed()
    page.locator(".answer").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=SCREENSHOTS / "answer.png")
    page.locator(".report").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=SCREENSHOTS / "report.png")

    phone = new_page(viewport=PHONE)
    sign_in(phone, account.email)
    phone.locator("#thread-list .thread").first.dispatch_event("click")
    expect(phone.locator(".turn .run").last).to_have_attribute("data-status", "completed")
    phone.locator(".report").evaluate("el => el.scrollIntoView({block: 'start'})")
    phone.screenshot(path=SCREENSHOTS / "phone-report.png")
    phone.get_by_role("button", name="Menu").click()
    phone.wait_for_timeout(300)
    phone.screenshot(path=SCREENSHOTS / "phone-menu.png")


UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    'button, a[href], input, select, textarea, [role="tab"], summary')]
  .filter((el) => el.getClientRects().length > 0 || el.id === 'file-input')
  .filter((el) => {
    const byId = (el.getAttribute('aria-labelledby') || '').split(' ')
      .map((id) => document.getElementById(id)?.textContent || '').join('');
    const name = el.getAttribute('aria-label') || byId
      || [...(el.labels || [])].map((label) => label.textContent).join('')
      || el.textContent || el.getAttribute('title') || '';
    return name.trim() === '';
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def test_every_control_has_a_name(new_page: OpenPage) -> None:
    page = new_page()
    page.get_by_label("Email").first.wait_for()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    sign_up(page, "labels")
    load_demo(page)
    ask(page, "Where does our money go by model?")
    expect(page.locator(".report")).to_be_visible(timeout=60_000)
    assert page.evaluate(UNNAMED_CONTROLS) == []
