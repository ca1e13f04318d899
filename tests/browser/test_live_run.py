"""The golden path in the browser: a question, its agents live, the answer and the report;
a reload mid-run, stop, and what a second user (or a second tab) sees."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LONG_QUESTION,
    OpenPage,
    api_account,
    api_demo,
    api_get,
    ask,
    load_demo,
    shown_seqs,
    sign_in,
    sign_up,
    stored_seqs,
    stray_values,
)

ALL_AGENTS = ["triage", "data", "optimization", "actions", "reporting"]

# Records, in the page, when each step appears and when the run ends, to tell a live run
# (steps spread over the run) from a replay after the fact (everything at once).
TIMELINE = """() => {
  window.__timeline = [];
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === 1 && node.matches('.step[data-agent]')) {
          window.__timeline.push({what: 'step', agent: node.dataset.agent, t: performance.now()});
        }
      }
      if (record.type === 'attributes' && record.target.matches('.run')) {
        window.__timeline.push({what: record.target.dataset.status, t: performance.now()});
      }
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['data-status']});
}"""


def last_run(page: Page) -> tuple[str, object]:
    run = page.locator(".turn .run").last
    run.locator(".step").first.wait_for()
    run_id = run.get_attribute("data-run-id")
    assert run_id
    return run_id, page.locator(f'.run[data-run-id="{run_id}"]')


def money(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text))


def test_a_cost_question_shows_its_agents_live_then_the_answer_and_the_report(
    new_page: OpenPage, page_errors: list[str]
) -> None:
    page = new_page()
    sign_up(page, "golden")
    welcome = page.locator(".welcome")
    expect(welcome).to_contain_text("No usage data is loaded yet")
    load_demo(page)
    expect(welcome).not_to_contain_text("No usage data is loaded yet")
    assert stray_values(page) == []
    summary = page.locator(".dataset-summary")
    for fact in ("Rows", "Period", "Spend", "Models"):
        expect(summary).to_contain_text(fact)
    assert page.locator(".dataset-summary .chip").count() >= 3

    page.evaluate(TIMELINE)
    ask(page, LONG_QUESTION)
    _, run = last_run(page)
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)

    agents = run.locator(".step[data-agent]").evaluate_all("els => els.map(e => e.dataset.agent)")
    assert agents == ALL_AGENTS
    assert run.locator(".thought").count() >= len(ALL_AGENTS)
    tools = run.locator(".tool")
    assert tools.count() >= 5
    for i in range(tools.count()):
        tool = tools.nth(i)
        expect(tool).to_have_attribute("data-state", "done")
        expect(tool.locator(".tool-time")).to_have_text(re.compile(r"\d+(\.\d)? (ms|s)"))
        expect(tool.locator(".tool-args")).not_to_be_empty()
        expect(tool.locator(".tool-result")).not_to_be_empty()
    # Each step collapsed when its agent completed.
    heads = run.locator(".step-head")
    assert heads.evaluate_all("els => els.map(e => e.getAttribute('aria-expanded'))") == [
        "false"
    ] * len(ALL_AGENTS)

    answer = run.locator(".answer")
    expect(answer).to_contain_text("a month")
    expect(answer.locator("strong").first).to_contain_text("$")

    report = page.locator(".report")
    expect(report).to_be_visible()
    expect(report.locator(".total").first).to_contain_text("Spend")
    titles = report.locator("figure.chart figcaption").all_inner_texts()
    assert titles == ["Spend by day", "Spend by model", "Monthly savings by recommendation"]
    assert report.locator(".chart svg").count() == 3
    savings = [money(text) for text in report.locator(".rec-saving").all_inner_texts()]
    assert savings and savings == sorted(savings, reverse=True)
    report.locator(".evidence summary").first.click()
    expect(report.locator(".evidence dl").first).to_be_visible()

    # Live: the steps appeared one after another while the run was going, not at the end.
    timeline = page.evaluate("window.__timeline")
    steps = [entry for entry in timeline if entry["what"] == "step"]
    done = next(entry["t"] for entry in timeline if entry["what"] == "completed")
    assert [entry["agent"] for entry in steps] == ALL_AGENTS
    assert all(entry["t"] < done for entry in steps)
    assert steps[-1]["t"] - steps[0]["t"] > 20, f"all steps appeared at once: {steps}"
    assert stray_values(page) == []
    assert page_errors == []


def test_a_reload_mid_run_continues_the_run_without_gaps_or_duplicates(
    new_page: OpenPage, http: httpx.Client, page_errors: list[str]
) -> None:
    account = api_account(http, "reload")
    api_demo(http, account)
    page = new_page()
    sign_in(page, account.email)
    ask(page, LONG_QUESTION)
    run_id, run = last_run(page)
    before = shown_seqs(page, run_id)
    assert api_get(http, account, f"/api/runs/{run_id}")["status"] == "running"

    page.reload()
    run = page.locator(f'.run[data-run-id="{run_id}"]')
    expect(run).to_be_visible()
    expect(run).to_have_attribute("data-status", "running")  # still going, and followed live
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)
    after = shown_seqs(page, run_id)
    assert after == stored_seqs(http, account, run_id)
    assert len(after) == len(set(after)) and after[: len(before)] == before
    expect(page.locator(".report")).to_be_visible()
    assert page_errors == []


def test_stop_cancels_the_run(new_page: OpenPage, http: httpx.Client) -> None:
    account = api_account(http, "stop")
    api_demo(http, account)
    page = new_page()
    sign_in(page, account.email)
    ask(page, LONG_QUESTION)
    run_id, run = last_run(page)
    expect(page.get_by_role("button", name="Ask", exact=True)).to_be_disabled()
    run.get_by_role("button", name="Stop", exact=True).click()
    expect(run).to_have_attribute("data-status", "cancelled", timeout=3_000)
    expect(run.locator(".run-status")).to_have_text("Stopped")
    expect(run.get_by_role("button", name="Stop", exact=True)).to_be_hidden()
    assert api_get(http, account, f"/api/runs/{run_id}")["status"] == "cancelled"
    expect(page.get_by_role("button", name="Ask", exact=True)).to_be_enabled()
    assert run.locator('.step[data-state="running"]').count() == 0


def test_a_second_user_sees_nothing_of_the_first(
    new_page: OpenPage, http: httpx.Client, page_errors: list[str]
) -> None:
    first = api_account(http, "first")
    api_demo(http, first)
    page = new_page()
    sign_in(page, first.email)
    ask(page, LONG_QUESTION)
    run_id, _ = last_run(page)
    thread_id = api_get(http, first, f"/api/runs/{run_id}")["thread_id"]

    other = new_page()  # another browser context: another person
    sign_up(other, "second")
    expect(other.locator("#thread-list")).to_contain_text("No threads yet")
    expect(other.locator(".dataset-summary")).to_contain_text("No usage data yet")
    other.goto(f"/#/threads/{thread_id}")
    expect(other.locator(".conversation")).to_contain_text("does not exist, or it is not yours")
    expect(page.locator(f'.run[data-run-id="{run_id}"]')).to_have_attribute(
        "data-status", "completed", timeout=60_000
    )
    other.wait_for_timeout(300)
    assert other.locator(".turn").count() == 0
    assert other.locator(".thread").count() == 0
    assert LONG_QUESTION not in other.locator("body").inner_text()
    assert page_errors == []


def test_two_tabs_of_one_user_show_the_same_run(new_page: OpenPage, page_errors: list[str]) -> None:
    first = new_page()
    sign_up(first, "tabs")
    load_demo(first)
    second = new_page(context=first.context)
    # The HttpOnly refresh cookie is the browser's: a new tab is signed in already.
    expect(second.get_by_role("button", name="Sign out")).to_be_visible()

    ask(first, LONG_QUESTION)
    run_id, _ = last_run(first)
    running = second.locator("#thread-list .thread").first
    expect(running).to_contain_text(LONG_QUESTION)
    row = running.element_handle()
    running.click()
    for page in (first, second):
        expect(page.locator(f'.run[data-run-id="{run_id}"]')).to_have_attribute(
            "data-status", "completed", timeout=60_000
        )
    # The run's events re-rendered the list: its row is updated in place, not replaced
    # (a row replaced between mouse down and up would lose a click).
    expect(running).not_to_have_class("thread running")
    assert row.evaluate("link => link.isConnected")
    assert shown_seqs(first, run_id) == shown_seqs(second, run_id)

    # A follow-up asked in the second tab appears live in the first one.
    ask(second, "Where does our money go by model?")
    follow_up = first.locator(".turn").nth(1)
    expect(follow_up.locator(".message.user")).to_contain_text("Where does our money go")
    expect(follow_up.locator(".run")).to_have_attribute("data-status", "completed", timeout=60_000)
    assert page_errors == []


def test_a_refused_question_says_why_and_keeps_its_text(
    new_page: OpenPage, http: httpx.Client
) -> None:
    account = api_account(http, "limits")
    api_demo(http, account)
    page = new_page()
    sign_in(page, account.email)
    for _ in range(3):  # the server's default limit of runs going at once
        page.get_by_role("link", name="New thread", exact=True).click()
        ask(page, LONG_QUESTION)
        last_run(page)
    page.get_by_role("link", name="New thread", exact=True).click()
    ask(page, "And by feature?")
    status = page.locator("#composer-status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("as many runs going as the server allows")
    expect(page.get_by_label("Ask about your AI spend")).to_have_value("And by feature?")
    assert page.locator(".turn").count() == 0
