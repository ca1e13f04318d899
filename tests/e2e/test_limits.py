"""Limits: three runs at once per user (``too_many_runs``), one run per thread (``thread_busy``)."""

from __future__ import annotations

from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from tests.e2e.checks import check_envelope, check_error_body
from tests.e2e.clients import (
    LONG_QUESTION,
    connected,
    follow,
    load_demo,
    ping_drain,
    run_status,
    start_run,
)
from tests.support import TERMINAL, ServerProcess, recv, register, send


async def _answer_to(ws: ClientConnection, request_id: str) -> tuple[dict[str, Any], list[Any]]:
    """The direct answer (``data.request_id``) to a message, and the other messages meanwhile."""
    others = []
    while True:
        message = await recv(ws)
        check_envelope(message)
        if message["data"].get("request_id") == request_id:
            return message, others
        others.append(message)


async def _stop_all(ws: ClientConnection, run_ids: list[str]) -> None:
    for run_id in run_ids:
        await send(ws, {"type": "stop_agent", "run_id": run_id})
    ended: set[str] = set()
    while ended != set(run_ids):
        message = await recv(ws, timeout=15)
        if message["type"] in TERMINAL:
            ended.add(message["run_id"])


async def test_a_fourth_concurrent_run_is_refused_with_too_many_runs_over_ws_and_http(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "limits")
    await load_demo(http, account)
    async with await connected(server.ws_url, account) as ws:
        runs = [await start_run(ws, LONG_QUESTION) for _ in range(3)]
        run_ids = [run["run_id"] for run in runs]
        await send(ws, {"type": "start_agent", "message": "hello", "request_id": "fourth"})
        answer, meanwhile = await _answer_to(ws, "fourth")
        ended_before = [m for m in meanwhile if m["type"] in TERMINAL]
        assert not ended_before, f"a run ended before the 4th start; cannot judge: {ended_before}"
        assert answer["type"] == "error", f"a 4th concurrent run was admitted: {answer}"
        assert answer["data"]["code"] == "too_many_runs", answer
        assert answer["run_id"] is None and answer["seq"] is None, answer

        thread = (await http.post("/api/threads", json={}, headers=account.headers)).json()
        response = await http.post(
            f"/api/threads/{thread['id']}/runs",
            json={"message": "hello"},
            headers=account.headers,
        )
        statuses = [(await run_status(http, account, r))["status"] for r in run_ids]
        assert all(s in {"queued", "running"} for s in statuses), statuses
        assert response.status_code == 429, response.text
        check_error_body(response.json(), "too_many_runs")
        await _stop_all(ws, run_ids)

        # Once runs end, the user may start again.
        again = await start_run(ws, "hello")
        assert (await follow(ws, again["run_id"]))[-1]["type"] == "run_completed"
    messages = (
        await http.get(f"/api/threads/{thread['id']}/messages", headers=account.headers)
    ).json()["messages"]
    assert messages == [], "a refused run must leave no message behind"


async def test_a_message_on_a_thread_whose_run_still_goes_is_refused_with_thread_busy(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "busy")
    await load_demo(http, account)
    async with await connected(server.ws_url, account) as ws:
        started = await start_run(ws, LONG_QUESTION)
        run_id, thread_id = started["run_id"], started["thread_id"]
        await send(
            ws,
            {
                "type": "start_agent",
                "message": "and then?",
                "thread_id": thread_id,
                "request_id": "second",
            },
        )
        answer, meanwhile = await _answer_to(ws, "second")
        assert all(m["type"] not in TERMINAL for m in meanwhile), "the run ended: cannot judge"
        assert answer["type"] == "error" and answer["data"]["code"] == "thread_busy", answer

        response = await http.post(
            f"/api/threads/{thread_id}/runs",
            json={"message": "and then?"},
            headers=account.headers,
        )
        assert (await run_status(http, account, run_id))["status"] in {"queued", "running"}
        assert response.status_code == 409, response.text
        check_error_body(response.json(), "thread_busy")
        await _stop_all(ws, [run_id])

        # Refused, not queued: no other run appeared, and the thread takes a new message now.
        assert await ping_drain(ws) == []
        again = await start_run(ws, "hello", thread_id=thread_id)
        assert (await follow(ws, again["run_id"]))[-1]["type"] == "run_completed"
    messages = (
        await http.get(f"/api/threads/{thread_id}/messages", headers=account.headers)
    ).json()["messages"]
    assert [(m["role"], m["content"]) for m in messages if m["role"] == "user"] == [
        ("user", LONG_QUESTION),
        ("user", "hello"),
    ], "a refused message must not be stored"
