"""From demo data to a stored report: the answers are narrow, and every figure is the report's.

DATA.md section 4: money in answer text is written ``$12,345.67`` and every money figure in
the answer equals one in the report rounded to cents.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import open_ws, recv, recv_until_terminal, register, send

MONEY = re.compile(r"\$(\d{1,3}(?:,\d{3})*\.\d{2,})")  # $0.0132: as many decimals as written


def _money_in(value: Any, key: str = "") -> set[float]:
    """Every money field of the report (its key names ``usd``), as the answer writes it.

    Only money: a request count or a token total that happens to equal a figure does not
    vouch for it. A plan's headline figures and table cells are the answer's own figures.
    """
    found: set[float] = set()
    if isinstance(value, dict):
        for name, item in value.items():
            found |= _money_in(item, "table" if "table" in (name, key) else name)
    elif isinstance(value, list):
        for item in value:
            found |= _money_in(item, key)
    elif (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and ("usd" in key or key in ("value", "table"))
    ):
        found.add(abs(value))  # the answer writes a sign before the $: -$0.53
    return found


def _writes(value: float, figure: str) -> bool:
    """Whether ``figure`` ("1,234.56", "0.0132") is ``value`` at the precision written."""
    decimals = len(figure.partition(".")[2])
    return f"{value:,.{decimals}f}" == figure


@pytest.fixture
async def demo_user(http):
    account = await register(http, "analyst")
    response = await http.post("/api/datasets/demo", json={"seed": 7}, headers=account.headers)
    assert response.status_code == 201, response.text
    return account, response.json()


async def _ask(server, account, question: str) -> list[dict[str, Any]]:
    ws = await open_ws(server.ws_url, account.access_token)
    try:
        await recv(ws)
        await send(ws, {"type": "start_agent", "message": question})
        return await recv_until_terminal(ws, timeout=60)
    finally:
        await ws.close()


@pytest.mark.parametrize(
    "question",
    [
        "How do we cut our AI costs?",
        "What did we spend per model?",
        "Which feature cost the most last week?",
        "Why did costs jump on June 25?",
        "What did we spend per feature?",
        "What did user u3 cost us?",
    ],
)
async def test_every_money_figure_of_an_answer_is_in_its_report(server, http, demo_user, question):
    account, _ = demo_user
    events = await _ask(server, account, question)
    done = events[-1]
    assert done["type"] == "run_completed", done
    report = await http.get(f"/api/runs/{done['run_id']}/report", headers=account.headers)
    assert report.status_code == 200
    body = report.json()
    assert body["id"] == done["data"]["report_id"]
    answer = done["data"]["response"]["text"]
    figures = set(MONEY.findall(answer))
    assert figures, f"the answer has no money figure to check: {answer}"
    money = _money_in(body)
    unknown = {figure for figure in figures if not any(_writes(value, figure) for value in money)}
    assert not unknown, f"not money fields of the report: {unknown}"


async def test_a_cost_question_brings_ranked_priced_recommendations_and_a_plan(
    server, http, demo_user
):
    account, dataset = demo_user
    events = await _ask(server, account, "How do we cut our AI costs?")
    kinds = [e["type"] for e in events]
    agents = [e["data"]["agent"] for e in events if e["type"] == "agent_started"]
    assert agents == ["triage", "data", "optimization", "actions", "reporting"]
    assert kinds.count("tool_executing") == kinds.count("tool_completed") >= 5
    report = (
        await http.get(f"/api/runs/{events[-1]['run_id']}/report", headers=account.headers)
    ).json()
    assert report["dataset_id"] == dataset["id"]
    assert abs(report["totals"]["cost_usd"] - dataset["total_cost_usd"]) < 0.01
    savings = [item["monthly_savings_usd"] for item in report["recommendations"]]
    assert savings == sorted(savings, reverse=True)
    assert {item["kind"] for item in report["recommendations"]} == {
        "response_cache",
        "model_routing",
        "prompt_caching",
        "batch_api",
        "error_waste",
    }
    assert 0 < report["total_monthly_savings_usd"]
    assert report["action_plan"] and all(step["steps"] for step in report["action_plan"])
    assert {chart["id"] for chart in report["charts"]} >= {
        "spend_by_day",
        "spend_by_model",
        "savings_by_recommendation",
    }
    markdown = await http.get(
        f"/api/runs/{events[-1]['run_id']}/report",
        params={"format": "md"},
        headers=account.headers,
    )
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text == events[-1]["data"]["response"]["text"]


async def test_a_narrow_question_gets_a_narrow_answer(server, http, demo_user):
    account, _ = demo_user
    events = await _ask(server, account, "What is the p95 latency of gpt-4o?")
    assert [e["data"]["agent"] for e in events if e["type"] == "agent_started"] == [
        "triage",
        "data",
        "reporting",
    ]
    answer = events[-1]["data"]["response"]["text"]
    assert answer.startswith("P95 latency on gpt-4o and gpt-4o-2024-08-06 over the whole period")
    assert re.search(r"\*\*[\d,]+ ms\*\*", answer.split("\n")[0]), answer
    assert "save about" not in answer  # no recommendations for a latency question


async def test_a_greeting_produces_no_report(server, http):
    account = await register(http, "greeter")
    events = await _ask(server, account, "hello")
    assert events[-1]["type"] == "run_completed"
    assert events[-1]["data"].get("report_id") is None
    report = await http.get(f"/api/runs/{events[-1]['run_id']}/report", headers=account.headers)
    assert report.status_code == 404
    assert report.json()["error"]["code"] == "not_found"
