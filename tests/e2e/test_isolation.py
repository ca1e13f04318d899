"""Many users, several tabs each, all at once: each tab sees its user's runs and no one else's.

Every user has demo data of a seed of its own and every tab asks an analysis question, so
the runs analyse different data side by side: no dataset or figure of one user may reach
another user's tabs.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from tests.e2e.checks import check_envelope, check_run_events
from tests.e2e.clients import connected, events_of, ping_drain
from tests.support import TERMINAL, Account, ServerProcess, recv, register, send

USERS = 12
TABS = 2
QUESTIONS = ["how much did we spend per model?", "how do we cut our costs?"]
DEMO_ROWS = 5_000


def _usd(amount: float) -> str:
    """A figure as answers write it (DATA.md section 4)."""
    return f"${amount:,.2f}"


async def _demo(http: httpx.AsyncClient, account: Account, seed: int) -> dict[str, Any]:
    response = await http.post(
        "/api/datasets/demo",
        json={"rows": DEMO_ROWS, "seed": seed},
        headers=account.headers,
        timeout=180,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _collect(ws: ClientConnection, runs_expected: int) -> list[dict[str, Any]]:
    """Everything a tab receives until it has seen ``runs_expected`` runs end."""
    received: list[dict[str, Any]] = []
    ended: set[str] = set()
    deadline = time.monotonic() + 60
    while len(ended) < runs_expected:
        message = await recv(ws, max(0.1, deadline - time.monotonic()))
        check_envelope(message)
        received.append(message)
        if message["type"] in TERMINAL:
            ended.add(message["run_id"])
    return received


async def test_every_tab_gets_all_of_its_users_runs_live_and_nothing_of_other_users(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    accounts: list[Account] = await asyncio.gather(
        *(register(http, f"iso{i}") for i in range(USERS))
    )
    datasets = await asyncio.gather(*(_demo(http, a, 100 + u) for u, a in enumerate(accounts)))
    totals = [_usd(dataset["total_cost_usd"]) for dataset in datasets]
    assert len(set(totals)) == USERS, f"two seeds gave the same total: {totals}"
    tabs: list[list[ClientConnection]] = [
        list(await asyncio.gather(*(connected(server.ws_url, a) for _ in range(TABS))))
        for a in accounts
    ]
    try:
        request_ids = {(u, t): f"user{u}-tab{t}" for u in range(USERS) for t in range(TABS)}
        # Every tab of every user starts a run at the same moment.
        await asyncio.gather(
            *(
                send(
                    tabs[u][t],
                    {
                        "type": "start_agent",
                        "message": QUESTIONS[t % len(QUESTIONS)],
                        "request_id": request_ids[(u, t)],
                    },
                )
                for u in range(USERS)
                for t in range(TABS)
            )
        )
        received = await asyncio.gather(
            *(_collect(tabs[u][t], TABS) for u in range(USERS) for t in range(TABS))
        )
        # Anything still in flight arrives before the answer to a ping.
        late = await asyncio.gather(
            *(ping_drain(tabs[u][t]) for u in range(USERS) for t in range(TABS))
        )
    finally:
        await asyncio.gather(*(ws.close() for user_tabs in tabs for ws in user_tabs))

    per_tab = {
        (u, t): received[u * TABS + t] + late[u * TABS + t]
        for u in range(USERS)
        for t in range(TABS)
    }
    runs_of_user: dict[int, dict[str, str]] = {}  # user -> run_id -> thread_id
    for u in range(USERS):
        own_request_ids = {request_ids[(u, t)] for t in range(TABS)}
        for t in range(TABS):
            starts = [m for m in per_tab[(u, t)] if m["type"] == "run_started"]
            for start in starts:
                assert start["data"].get("request_id") in own_request_ids, (
                    f"user {u} tab {t} received another user's run_started: {start}"
                )
            seen = {m["run_id"]: m["thread_id"] for m in starts}
            assert len(seen) == TABS, f"user {u} tab {t} saw runs {seen}, expected {TABS}"
            runs_of_user.setdefault(u, seen)
            assert seen == runs_of_user[u], f"user {u}: tabs saw different runs"

    for u, account in enumerate(accounts):
        own = runs_of_user[u]
        for t in range(TABS):
            messages = per_tab[(u, t)]
            for message in messages:
                assert message["run_id"] in own, (
                    f"user {u} tab {t} received a frame of a run not its own: {message}"
                )
                assert message["thread_id"] == own[message["run_id"]], message
            for run_id in own:
                live = [m for m in messages if m["run_id"] == run_id]
                check_run_events(live)
                stored = await events_of(http, account, run_id)
                assert live == stored, f"user {u} tab {t}: live stream of {run_id} != stored"

    # What each user's tabs received names that user's data and no one else's.
    for u in range(USERS):
        for t in range(TABS):
            text = json.dumps(per_tab[(u, t)])
            starts = [m for m in per_tab[(u, t)] if m["type"] == "run_started"]
            assert {m["data"]["dataset_id"] for m in starts} == {datasets[u]["id"]}, starts
            assert totals[u] in text, f"user {u} tab {t}: its own total {totals[u]} is missing"
            for other in range(USERS):
                if other == u:
                    continue
                for foreign in (datasets[other]["id"], totals[other], accounts[other].user_id):
                    assert foreign not in text, f"user {u} tab {t} saw user {other}'s {foreign}"
