"""Restarts: SIGTERM closes sockets with 1001 and exits 0; SIGKILL loses no stored event.

Each test runs a server of its own (``fresh_server``), stops or kills it, starts it again
on the same data and checks what a reconnecting client finds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from tests.e2e.checks import check_run_events
from tests.e2e.clients import (
    LONG_QUESTION,
    close_code,
    connected,
    events_of,
    follow,
    load_demo,
    ping_drain,
    try_load_demo,
)
from tests.support import TERMINAL, Account, ServerProcess, recv, register, send

QUIET_EXIT_S = 5.0  # no run going: the process should be gone almost at once
BUSY_EXIT_S = 10.0  # runs going: shutdown grace (3 s by default) plus a margin


@asynccontextmanager
async def _client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        yield client


async def _sigterm(server: ServerProcess) -> tuple[int | None, float]:
    started = time.monotonic()
    code = await asyncio.to_thread(server.stop)
    return code, time.monotonic() - started


async def _replay(server: ServerProcess, account: Account, run_id: str, after: int) -> Any:
    """Reconnect, subscribe after ``after`` and return everything up to the terminal event."""
    async with await connected(server.ws_url, account) as ws:
        await send(ws, {"type": "subscribe", "run_id": run_id, "after_seq": after})
        rest = await follow(ws, run_id, wait_s=60)
        assert await ping_drain(ws) == []
    return rest


async def test_sigterm_closes_sockets_with_1001_exits_0_and_a_restart_keeps_every_event(
    fresh_server: ServerProcess,
) -> None:
    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        account = await register(http, "sigterm")
        ws = await connected(fresh_server.ws_url, account)
        idle = await connected(fresh_server.ws_url, account)
        await send(ws, {"type": "start_agent", "message": "hello", "request_id": "r"})
        started = await _first(ws)
        run_id = started["run_id"]
        events = [started, *await follow(ws, run_id, wait_s=30)]
        assert await ping_drain(idle) == events, "the other tab receives the run live too"

        stopping = asyncio.create_task(_sigterm(fresh_server))
        closes = await asyncio.gather(close_code(ws), close_code(idle))
        exit_code, elapsed = await stopping
    for code, received in closes:
        assert code == 1001, f"the socket closed with {code}, expected 1001"
        assert received == [], received
    assert exit_code == 0, f"exit code {exit_code}\n{fresh_server.log()[-3000:]}"
    assert elapsed < QUIET_EXIT_S, f"the process took {elapsed:.1f}s to exit"

    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        assert await events_of(http, account, run_id) == events
        run = (await http.get(f"/api/runs/{run_id}", headers=account.headers)).json()
        assert run["status"] == "completed", run
    assert await _replay(fresh_server, account, run_id, 0) == events
    assert await _replay(fresh_server, account, run_id, 2) == events[2:]


async def _first(ws: Any) -> dict[str, Any]:
    started = await recv(ws)
    assert started["type"] == "run_started", started
    return started


async def test_sigterm_during_a_run_then_restart_lets_a_client_subscribe_to_the_rest(
    fresh_server: ServerProcess,
) -> None:
    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        account = await register(http, "sigterm")
        await load_demo(http, account)
        ws = await connected(fresh_server.ws_url, account)
        await send(ws, {"type": "start_agent", "message": LONG_QUESTION})
        seen = [await _first(ws)]
        run_id = seen[0]["run_id"]
        seen.append(await recv(ws))
        stopping = asyncio.create_task(_sigterm(fresh_server))
        code, received = await close_code(ws, wait_s=BUSY_EXIT_S)
        exit_code, elapsed = await stopping
    for message in received:  # events delivered before the close are of this run, in order
        seen.append(json.loads(message))
    assert code == 1001, f"the socket closed with {code}, expected 1001"
    assert exit_code == 0, f"exit code {exit_code}\n{fresh_server.log()[-3000:]}"
    assert elapsed < BUSY_EXIT_S, f"the process took {elapsed:.1f}s to exit"
    check_run_events(seen, complete=False)

    await asyncio.to_thread(fresh_server.start)
    rest = await _replay(fresh_server, account, run_id, seen[-1]["seq"])
    events = seen + rest
    check_run_events(events)
    async with _client(fresh_server) as http:
        assert await events_of(http, account, run_id) == events


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_killed_server_loses_no_stored_event_and_the_run_resumes_or_ends_after_restart(
    fresh_server: ServerProcess,
) -> None:
    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        account = await register(http, "sigkill")
        # A run that lasts when demo data can be made; a greeting killed at once otherwise.
        has_data = await try_load_demo(http, account) is not None
        ws = await connected(fresh_server.ws_url, account)
        await send(ws, {"type": "start_agent", "message": LONG_QUESTION if has_data else "hello"})
        seen = [await _first(ws)]
        run_id = seen[0]["run_id"]
        if has_data:
            while len(seen) < 3 and seen[-1]["type"] not in TERMINAL:
                seen.append(await recv(ws))
    fresh_server.kill()
    killed_at = datetime.now().astimezone()
    await ws.close()
    check_run_events(seen, complete=False)

    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        stored_now = await events_of(http, account, run_id)
        assert stored_now[: len(seen)] == seen, "an event delivered before the kill was lost"
    rest = await _replay(fresh_server, account, run_id, seen[-1]["seq"])
    async with _client(fresh_server) as http:
        stored = await events_of(http, account, run_id)
        run = (await http.get(f"/api/runs/{run_id}", headers=account.headers)).json()
    assert stored == seen + rest, "the replay after restart differs from the stored events"
    check_run_events(stored)
    assert run["status"] in {"completed", "failed", "cancelled"}, run
    kinds = [event["type"] for event in stored]
    if "run_resumed" not in kinds:
        terminal_at = _moment(stored[-1]["ts"])
        assert terminal_at <= killed_at, (
            f"the run ended after the kill ({terminal_at} > {killed_at}) without run_resumed: "
            f"{kinds}"
        )
