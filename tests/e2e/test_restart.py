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
    run_status,
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


def _open_agent(events: list[dict[str, Any]]) -> str | None:
    """The agent that had started and not completed at the end of ``events``."""
    open_agent = None
    for event in events:
        if event["type"] == "agent_started":
            open_agent = event["data"]["agent"]
        elif event["type"] == "agent_completed":
            open_agent = None
    return open_agent


async def test_a_server_killed_mid_run_keeps_every_stored_event_and_resumes_the_open_agent(
    fresh_server: ServerProcess,
) -> None:
    await asyncio.to_thread(fresh_server.start)
    async with _client(fresh_server) as http:
        account = await register(http, "sigkill")
        # The largest demo the server allows: the data agent's analysis lasts long enough
        # (about 0.5 s) for the kill to land while it is open.
        await load_demo(http, account, rows=1_000_000)
        ws = await connected(fresh_server.ws_url, account)
        await send(ws, {"type": "start_agent", "message": LONG_QUESTION})
        seen = [await _first(ws)]
        run_id = seen[0]["run_id"]
        while not (seen[-1]["type"] == "tool_executing" and seen[-1]["data"]["agent"] == "data"):
            seen.append(await recv(ws))
            assert seen[-1]["type"] not in TERMINAL, f"the run ended before the kill: {seen}"
    fresh_server.kill()
    await ws.close()
    check_run_events(seen, complete=False)

    await asyncio.to_thread(fresh_server.start)
    rest = await _replay(fresh_server, account, run_id, seen[-1]["seq"])
    async with _client(fresh_server) as http:
        stored = await events_of(http, account, run_id)
        run = await run_status(http, account, run_id)
    assert stored[: len(seen)] == seen, "an event delivered before the kill was lost"
    assert stored == seen + rest, "the replay after restart differs from the stored events"
    check_run_events(stored)
    kinds = [event["type"] for event in stored]
    assert kinds.count("run_resumed") == 1, f"the run was not resumed once: {kinds}"
    resumed_at = kinds.index("run_resumed")
    before_kill = stored[:resumed_at]
    assert not any(kind in TERMINAL for kind in kinds[:resumed_at]), kinds
    open_agent = _open_agent(before_kill)
    assert open_agent is not None, f"no agent was open when the server was killed: {kinds}"
    resumed = stored[resumed_at]
    assert resumed["data"] == {"agent": open_agent, "attempt": 2}, resumed
    # Only the open agent runs again; the agents completed before the kill do not.
    completed_before = [e["data"]["agent"] for e in before_kill if e["type"] == "agent_completed"]
    started_after = [
        e["data"]["agent"] for e in stored[resumed_at:] if e["type"] == "agent_started"
    ]
    assert started_after[0] == open_agent, started_after
    assert not set(completed_before) & set(started_after), (completed_before, started_after)
    assert sum(kind in TERMINAL for kind in kinds) == 1, kinds
    assert kinds[-1] == "run_completed", kinds
    assert run["status"] == "completed", run
