"""Reconnect and ``subscribe``: every missed event exactly once, in order; nothing unasked."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from tests.e2e.checks import check_run_events
from tests.e2e.clients import (
    LONG_QUESTION,
    connected,
    events_of,
    follow,
    load_demo,
    new_request_id,
    ping_drain,
    run_status,
    start_run,
)
from tests.support import ServerProcess, recv, register, send


async def _subscribe(
    ws: ClientConnection, run_id: str, after_seq: int | None, wait_s: float = 60.0
) -> list[dict[str, Any]]:
    """Send ``subscribe`` and return what it brings, up to the run's terminal event."""
    message: dict[str, Any] = {
        "type": "subscribe",
        "run_id": run_id,
        "request_id": new_request_id(),
    }
    if after_seq is not None:
        message["after_seq"] = after_seq
    await send(ws, message)
    return await follow(ws, run_id, wait_s)


async def test_subscribe_replays_a_finished_run_from_after_seq_to_its_terminal_event_each_time(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "replay")
    ws = await connected(server.ws_url, account)
    async with ws:
        started = await start_run(ws, "hello")
        live = [started, *await follow(ws, started["run_id"])]
    check_run_events(live)
    run_id = started["run_id"]

    async with await connected(server.ws_url, account) as again:
        assert await ping_drain(again) == [], "a new connection received an old run unasked"
        assert await _subscribe(again, run_id, 0) == live
        assert await ping_drain(again) == [], "events after the terminal event of a replay"
        assert await _subscribe(again, run_id, None) == live, "after_seq defaults to 0"
        assert await _subscribe(again, run_id, 3) == live[3:]
        assert await _subscribe(again, run_id, 3) == live[3:], "sent again, it replays again"
        # Nothing is left to replay after the terminal event: subscribe brings nothing.
        await send(again, {"type": "subscribe", "run_id": run_id, "after_seq": len(live)})
        assert await ping_drain(again) == []


async def _disconnect_mid_run_and_resubscribe(
    server: ServerProcess, http: httpx.AsyncClient, message: str, account: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ws = await connected(server.ws_url, account)
    started = await start_run(ws, message)
    seen = [started, await recv(ws)]  # run_started and the first agent event
    await ws.close()  # the client drops; the run goes on

    async with await connected(server.ws_url, account) as again:
        assert await ping_drain(again) == [], "a reconnected socket got events before subscribe"
        missed = await _subscribe(again, started["run_id"], seen[-1]["seq"])
        assert await ping_drain(again) == [], "duplicates after the terminal event"
    return seen, missed


async def test_a_client_that_drops_mid_run_gets_every_missed_event_once_after_subscribe(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "drop")
    await load_demo(http, account)
    seen, missed = await _disconnect_mid_run_and_resubscribe(server, http, LONG_QUESTION, account)
    events = seen + missed
    check_run_events(events)
    assert events[-1]["type"] == "run_completed", "closing the socket must not cancel the run"
    assert await events_of(http, account, seen[0]["run_id"]) == events


async def test_a_client_that_drops_during_a_short_run_gets_the_rest_once_after_subscribe(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "drop")
    seen, missed = await _disconnect_mid_run_and_resubscribe(server, http, "hello", account)
    events = seen + missed
    check_run_events(events)
    assert events[-1]["type"] == "run_completed"
    assert await events_of(http, account, seen[0]["run_id"]) == events


async def test_a_connection_opened_after_a_run_started_gets_nothing_of_it_until_it_subscribes(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "late")
    # The largest demo the server allows: the run must still be going after the late
    # connection is open (about 0.5 s of analysis, against the 0.05 s waited below).
    await load_demo(http, account, rows=1_000_000)
    first = await connected(server.ws_url, account)
    async with first:
        started = await start_run(first, LONG_QUESTION)
        run_id = started["run_id"]
        async with await connected(server.ws_url, account) as late:
            await asyncio.sleep(0.05)  # the run goes on meanwhile
            unasked = await ping_drain(late)
            assert unasked == [], f"received events of a run it did not subscribe to: {unasked}"
            status = (await run_status(http, account, run_id))["status"]
            assert status in {"queued", "running"}, (
                f"the run already ended ({status}): this test needs it still going"
            )
            # Subscribing mid-run: the stored events, then the live ones, each once.
            followed = await _subscribe(late, run_id, 0)
            assert await ping_drain(late) == []
        original = [started, *await follow(first, run_id)]
    check_run_events(followed)
    assert followed == original, "the subscriber's stream differs from the starter's"
    assert await events_of(http, account, run_id) == followed
