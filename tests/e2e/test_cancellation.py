"""Stop: a running run ends with ``run_cancelled`` within 1 s; a finished run is left alone."""

from __future__ import annotations

import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from tests.e2e.checks import check_error_body, check_run_events
from tests.e2e.clients import (
    LONG_QUESTION,
    connected,
    events_of,
    follow,
    load_demo,
    ping_drain,
    run_status,
    start_run,
)
from tests.support import TERMINAL, ServerProcess, recv, register, send

STOP_WITHIN_S = 1.0


async def _until_a_tool_runs(ws: ClientConnection, run_id: str) -> list[dict[str, Any]]:
    """The run's events up to its first ``tool_executing``: work is under way."""
    received: list[dict[str, Any]] = []
    while not received or received[-1]["type"] != "tool_executing":
        message = await recv(ws, 30)
        assert message["run_id"] == run_id, message
        assert message["type"] not in TERMINAL, f"the run ended before any tool ran: {message}"
        received.append(message)
    return received


async def test_stop_agent_ends_a_running_run_with_run_cancelled_within_one_second(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "stop")
    await load_demo(http, account)
    async with await connected(server.ws_url, account) as ws:
        started = await start_run(ws, LONG_QUESTION)
        run_id = started["run_id"]
        working = await _until_a_tool_runs(ws, run_id)  # stop it in the middle of a tool
        await send(ws, {"type": "stop_agent", "run_id": run_id, "request_id": "stop-1"})
        sent_at = time.monotonic()
        rest = await follow(ws, run_id, wait_s=10)
        elapsed = time.monotonic() - sent_at
        assert await ping_drain(ws) == [], "stop_agent got an answer or events followed"
    events = [started, *working, *rest]
    check_run_events(events)
    assert events[-1]["type"] == "run_cancelled", f"the run ended {events[-1]['type']}"
    assert elapsed < STOP_WITHIN_S, f"run_cancelled came {elapsed:.3f}s after stop_agent"
    run = await run_status(http, account, run_id)
    assert run["status"] == "cancelled" and run["finished_at"], run
    assert await events_of(http, account, run_id) == events


async def test_stop_agent_on_a_finished_run_gets_no_answer_and_changes_nothing(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "stop")
    async with await connected(server.ws_url, account) as ws:
        started = await start_run(ws, "hello")
        run_id = started["run_id"]
        events = [started, *await follow(ws, run_id)]
        before = await run_status(http, account, run_id)
        await send(ws, {"type": "stop_agent", "run_id": run_id, "request_id": "late-stop"})
        assert await ping_drain(ws) == [], "a stop of a finished run must get no answer"
    assert await run_status(http, account, run_id) == before
    assert before["status"] == "completed"
    assert await events_of(http, account, run_id) == events


async def test_http_cancel_ends_a_running_run_with_run_cancelled_within_one_second(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "cancel")
    await load_demo(http, account)
    async with await connected(server.ws_url, account) as ws:
        thread = (await http.post("/api/threads", json={}, headers=account.headers)).json()
        response = await http.post(
            f"/api/threads/{thread['id']}/runs",
            json={"message": LONG_QUESTION},
            headers=account.headers,
        )
        assert response.status_code == 202, response.text
        run = response.json()
        assert run["thread_id"] == thread["id"] and run["status"] in {"queued", "running"}, run
        live_start = await _until_a_tool_runs(ws, run["id"])
        cancel = await http.post(f"/api/runs/{run['id']}/cancel", headers=account.headers)
        sent_at = time.monotonic()
        assert cancel.status_code == 202, cancel.text
        assert cancel.json()["id"] == run["id"]
        rest = await follow(ws, run["id"], wait_s=10)
        elapsed = time.monotonic() - sent_at
    events = live_start + rest
    check_run_events(events)
    assert events[-1]["type"] == "run_cancelled", f"the run ended {events[-1]['type']}"
    assert elapsed < STOP_WITHIN_S, f"run_cancelled came {elapsed:.3f}s after the cancel"
    assert (await run_status(http, account, run["id"]))["status"] == "cancelled"
    assert await events_of(http, account, run["id"]) == events


async def test_http_cancel_of_a_finished_run_answers_202_and_leaves_it_completed(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "cancel")
    async with await connected(server.ws_url, account) as ws:
        thread = (await http.post("/api/threads", json={}, headers=account.headers)).json()
        response = await http.post(
            f"/api/threads/{thread['id']}/runs",
            json={"message": "hello"},
            headers=account.headers,
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]
        events = await follow(ws, run_id)
        cancel = await http.post(f"/api/runs/{run_id}/cancel", headers=account.headers)
        assert cancel.status_code == 202, cancel.text
        assert cancel.json()["status"] == "completed", cancel.json()
        assert await ping_drain(ws) == []
    assert events[-1]["type"] == "run_completed"
    assert await events_of(http, account, run_id) == events


async def test_cancel_of_an_unknown_run_is_not_found(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "cancel")
    response = await http.post("/api/runs/no-such-run/cancel", headers=account.headers)
    assert response.status_code == 404
    check_error_body(response.json(), "not_found")


RACE_ROUNDS = 8


async def test_a_stop_sent_right_after_the_start_always_ends_the_run_within_one_second(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """However early a stop arrives (even before the run executes), the run ends.

    A greeting may finish before the stop reaches it (``run_completed``, and the stop
    does nothing) or be cancelled (``run_cancelled``); it must never stay going.
    Half the rounds stop over the WebSocket, half cancel over HTTP.
    """
    account = await register(http, "race")
    async with await connected(server.ws_url, account) as ws:
        for round_ in range(RACE_ROUNDS):
            if round_ % 2 == 0:
                started = await start_run(ws, "hello")
                run_id = started["run_id"]
                await send(ws, {"type": "stop_agent", "run_id": run_id})
                sent_at = time.monotonic()
                received = [started]
            else:
                thread = (await http.post("/api/threads", json={}, headers=account.headers)).json()
                response = await http.post(
                    f"/api/threads/{thread['id']}/runs",
                    json={"message": "hello"},
                    headers=account.headers,
                )
                assert response.status_code == 202, response.text
                run_id = response.json()["id"]
                cancel = await http.post(f"/api/runs/{run_id}/cancel", headers=account.headers)
                sent_at = time.monotonic()
                assert cancel.status_code == 202, cancel.text
                received = []
            try:
                received += await follow(ws, run_id, wait_s=5)
            except TimeoutError:
                run = await run_status(http, account, run_id)
                stored = [e["type"] for e in await events_of(http, account, run_id)]
                raise AssertionError(
                    f"round {round_}: the run never ended after the stop; status "
                    f"{run['status']}, stored events {stored}"
                ) from None
            elapsed = time.monotonic() - sent_at
            check_run_events(received)
            assert received[-1]["type"] in {"run_cancelled", "run_completed"}, received[-1]
            assert elapsed < STOP_WITHIN_S, f"round {round_}: ended {elapsed:.3f}s after the stop"
            assert await events_of(http, account, run_id) == received
