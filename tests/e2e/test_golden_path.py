"""The golden path: register → /ws → start_agent → streamed events → stored answer."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.e2e.checks import check_envelope, check_run_events, is_timestamp
from tests.e2e.clients import events_of, follow, open_header_ws, ping_drain, start_run
from tests.support import ServerProcess, open_ws, recv, register


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("auth", ["subprotocols", "authorization_header"])
async def test_a_greeting_streams_its_run_and_everything_is_readable_at_the_terminal_event(
    server: ServerProcess, http: httpx.AsyncClient, auth: str
) -> None:
    account = await register(http, "golden")
    if auth == "subprotocols":
        ws = await open_ws(server.ws_url, account.access_token)
        assert ws.subprotocol == "netra.v1", "the server must select netra.v1"
    else:
        ws = await open_header_ws(server.ws_url, account.access_token)
    async with ws:
        hello = await recv(ws)
        check_envelope(hello)
        assert hello["type"] == "connection_established", hello
        data = hello["data"]
        assert data["user_id"] == account.user_id
        assert data["protocol"] == "netra.v1"
        assert isinstance(data["connection_id"], str) and data["connection_id"]
        assert isinstance(data["heartbeat_interval_s"], int | float)
        assert data["heartbeat_interval_s"] > 0

        await ws.send('{"type": "start_agent", "message": "hello", "request_id": "golden-1"}')
        first = await recv(ws)
        assert first["type"] == "run_started", first
        assert first["seq"] == 1
        assert first["data"]["request_id"] == "golden-1"
        assert first["data"]["message"] == "hello"
        assert first["data"]["dataset_id"] is None  # this user has no data
        run_id, thread_id = first["run_id"], first["thread_id"]
        events = [first, *await follow(ws, run_id)]

        # The moment the terminal event arrives, everything is readable over HTTP.
        run = await http.get(f"/api/runs/{run_id}", headers=account.headers)
        stored = await events_of(http, account, run_id)
        messages = await http.get(f"/api/threads/{thread_id}/messages", headers=account.headers)

        check_run_events(events)
        terminal = events[-1]
        assert terminal["type"] == "run_completed", terminal
        answer = terminal["data"]["response"]["text"]

        assert run.status_code == 200, run.text
        body = run.json()
        assert body["id"] == run_id and body["thread_id"] == thread_id
        assert body["status"] == "completed", body
        assert set(body) >= {"created_at", "started_at", "finished_at"}
        for key in ("created_at", "started_at", "finished_at"):
            assert is_timestamp(body[key]), body
        assert _moment(body["created_at"]) <= _moment(body["started_at"])
        assert _moment(body["started_at"]) <= _moment(body["finished_at"])

        assert stored == events, "GET /api/runs/{id}/events differs from the live stream"

        assert messages.status_code == 200, messages.text
        listed = messages.json()["messages"]
        assert [(m["role"], m["content"], m["run_id"]) for m in listed] == [
            ("user", "hello", run_id),
            ("assistant", answer, run_id),
        ]
        for message in listed:
            assert set(message) == {"id", "role", "content", "run_id", "created_at"}, message
            assert is_timestamp(message["created_at"]), message

        threads = (await http.get("/api/threads", headers=account.headers)).json()["threads"]
        assert [thread["id"] for thread in threads] == [thread_id]
        assert set(threads[0]) == {"id", "title", "created_at", "updated_at"}

        assert await ping_drain(ws) == [], "messages after the terminal event"


async def test_a_second_message_continues_the_same_thread(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "golden")
    async with await open_ws(server.ws_url, account.access_token) as ws:
        assert (await recv(ws))["type"] == "connection_established"
        first = await start_run(ws, "hello")
        first_events = [first, *await follow(ws, first["run_id"])]
        thread_id = first["thread_id"]
        second = await start_run(ws, "hi again", thread_id=thread_id)
        assert second["thread_id"] == thread_id and second["run_id"] != first["run_id"]
        second_events = [second, *await follow(ws, second["run_id"])]
        check_run_events(second_events)
        assert second_events[-1]["type"] == "run_completed"

    listed = (await http.get(f"/api/threads/{thread_id}/messages", headers=account.headers)).json()[
        "messages"
    ]
    assert [(m["role"], m["run_id"]) for m in listed] == [
        ("user", first["run_id"]),
        ("assistant", first["run_id"]),
        ("user", second["run_id"]),
        ("assistant", second["run_id"]),
    ]
    assert listed[1]["content"] == first_events[-1]["data"]["response"]["text"]
    assert listed[3]["content"] == second_events[-1]["data"]["response"]["text"]


@pytest.mark.parametrize(
    "question",
    ["how much did we spend per model last month?", "how do we cut our costs?"],
)
async def test_a_cost_question_without_data_completes_with_how_to_load_data(
    server: ServerProcess, http: httpx.AsyncClient, question: str
) -> None:
    account = await register(http, "nodata")
    async with await open_ws(server.ws_url, account.access_token) as ws:
        assert (await recv(ws))["type"] == "connection_established"
        started = await start_run(ws, question)
        assert started["data"]["dataset_id"] is None
        events = [started, *await follow(ws, started["run_id"])]
    check_run_events(events)
    terminal = events[-1]
    assert terminal["type"] == "run_completed", f"never run_failed without data: {terminal}"
    text = terminal["data"]["response"]["text"].lower()
    assert "demo" in text, f"the answer does not mention the demo data: {text!r}"
    assert "upload" in text or "/api/datasets" in text, f"no way to load data in: {text!r}"


async def test_the_api_docs_load_nothing_from_other_sites(http):
    page = await http.get("/docs")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    script = await http.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    spec = await http.get("/openapi.json")
    assert "/api/threads/{thread_id}/runs" in spec.json()["paths"]
