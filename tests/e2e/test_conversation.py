"""A conversation in one thread on the demo data, through the real server and WebSocket:
each answer leads with the figure asked for, computed independently here with DuckDB over
the demo's priced rows; follow-ups are read against the thread's previous question."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from netra import analytics
from tests.support import open_ws, recv, recv_until_terminal, register, send

LEAD_MONEY = re.compile(r"\*\*\$(\d{1,3}(?:,\d{3})*\.\d{2})\*\*")
LAST_WEEK = (date(2025, 6, 23), date(2025, 6, 29))  # the demo ends Mon Jun 30 2025


@pytest.fixture(scope="module")
def demo_spend(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Spend of the rows a filter keeps in a window, over the same demo (seed 0) priced by
    the engine's ``usage`` view: plain SQL, not the question plan's code."""
    path = tmp_path_factory.mktemp("demo") / "demo.parquet"
    analytics.write_demo(path, 20_000, 0)

    def spend(condition: str, window: tuple[date, date]) -> float:
        with analytics.open_dataset(Path(path)) as con:
            found = con.execute(
                f"SELECT sum(cost) FROM usage WHERE {condition} AND day BETWEEN ? AND ?",
                list(window),
            ).fetchone()
        assert found is not None
        return float(found[0])

    return spend


async def _ask(ws: Any, question: str, thread_id: str | None) -> list[dict[str, Any]]:
    message: dict[str, Any] = {"type": "start_agent", "message": question}
    if thread_id:
        message["thread_id"] = thread_id
    await send(ws, message)
    events = await recv_until_terminal(ws, timeout=60)
    assert events[-1]["type"] == "run_completed", events[-1]
    return events


def _answer(events: list[dict[str, Any]]) -> str:
    return str(events[-1]["data"]["response"]["text"])


def _lead_usd(answer: str) -> float:
    found = LEAD_MONEY.search(answer.split("\n")[0])
    assert found, f"the answer does not lead with a $ figure: {answer}"
    return float(found[1].replace(",", ""))


def _thinking(events: list[dict[str, Any]], agent: str) -> str:
    return " ".join(
        e["data"]["text"]
        for e in events
        if e["type"] == "agent_thinking" and e["data"]["agent"] == agent
    )


async def test_a_conversation_about_the_demo_data(server, http, demo_spend):
    account = await register(http, "conversation")
    created = await http.post(
        "/api/datasets/demo", json={"rows": 20_000, "seed": 0}, headers=account.headers
    )
    assert created.status_code == 201, created.text
    ws = await open_ws(server.ws_url, account.access_token)
    try:
        await recv(ws)
        events = await _ask(ws, "What did we spend on Claude last week?", None)
        thread = events[-1]["thread_id"]
        answer = _answer(events)
        claude = demo_spend("model LIKE 'claude%'", LAST_WEEK)
        assert _lead_usd(answer) == pytest.approx(claude, abs=0.005)
        assert "Jun 23-29 (last week)" in answer.split("\n")[0]
        assert "Read as: spend on claude-" in _thinking(events, "triage")
        triage_done = next(
            e for e in events if e["type"] == "agent_completed" and e["data"]["agent"] == "triage"
        )
        assert triage_done["data"]["output"]["next"] == ["data", "reporting"]
        tools = [e["data"]["tool"] for e in events if e["type"] == "tool_completed"]
        assert tools[0] == "read_vocabulary" and "answer_question" in tools

        events = await _ask(ws, "and on gpt-4o?", thread)
        gpt4o = demo_spend("model IN ('gpt-4o', 'gpt-4o-2024-08-06')", LAST_WEEK)
        assert _lead_usd(_answer(events)) == pytest.approx(gpt4o, abs=0.005)
        assert "Jun 23-29 (last week)" in _answer(events).split("\n")[0]

        events = await _ask(ws, "break that down by user", thread)
        answer = _answer(events)
        assert "| user | spend |" in answer
        report = await http.get(f"/api/runs/{events[-1]['run_id']}/report", headers=account.headers)
        body = report.json()
        assert body["table"]["columns"] == ["user", "spend"]
        assert sum(row[1] for row in body["table"]["rows"]) == pytest.approx(gpt4o, abs=0.01)
        assert body["charts"][0]["type"] == "bar"

        events = await _ask(ws, "why did costs jump on June 25?", thread)
        answer = _answer(events)
        assert "on Jun 25" in answer.split("\n")[0]
        assert "The change came mostly from" in answer

        events = await _ask(ws, "waht did we spnd per modle", thread)
        answer = _answer(events)
        assert "| model | spend |" in answer and "gpt-4o" in answer

        events = await _ask(ws, "What was our revenue last quarter?", thread)
        answer = _answer(events)
        assert answer.startswith("I can't answer that yet.")
        suggestions = events[-1]["data"]["response"]["suggestions"]
        assert 2 <= len(suggestions) <= 3 and all(s in answer for s in suggestions)
        assert "$" not in answer

        events = await _ask(ws, "hello", thread)
        assert "Netra Apex" in _answer(events)
        assert "suggestions" not in events[-1]["data"]["response"]
    finally:
        await ws.close()


async def test_a_name_the_data_does_not_hold_is_declined_without_figures(server, http):
    account = await register(http, "missing-name")
    created = await http.post(
        "/api/datasets/demo", json={"rows": 20_000, "seed": 0}, headers=account.headers
    )
    assert created.status_code == 201, created.text
    ws = await open_ws(server.ws_url, account.access_token)
    try:
        await recv(ws)
        events = await _ask(ws, "How much did we spend on mistral-large last week?", None)
        answer = _answer(events)
        assert answer.startswith("I have no figures for that: 'mistral-large' is not in this data")
        assert "$" not in answer and not re.search(r"\d[\d,]*\.\d", answer)
        suggestions = events[-1]["data"]["response"]["suggestions"]
        assert 2 <= len(suggestions) <= 3 and all(s in answer for s in suggestions)
        tools = [e["data"]["tool"] for e in events if e["type"] == "tool_completed"]
        assert "answer_question" not in tools  # nothing was computed for it
        assert "not in the data: mistral-large" in _thinking(events, "triage")

        events = await _ask(ws, suggestions[0], events[-1]["thread_id"])  # answerable
        assert _lead_usd(_answer(events)) > 0
    finally:
        await ws.close()
