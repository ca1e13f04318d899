"""Malformed input: every bad frame gets ``error invalid_message``; the socket stays open.

Only an oversized frame closes the connection (1009); nothing a client sends ever
produces close code 1011. HTTP bodies that are not valid answer 422 ``invalid_request``.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.checks import check_envelope, check_error_body
from tests.e2e.clients import close_code, connected, ping_drain
from tests.support import PASSWORD, ServerProcess, recv, register

RID = "rid-ok"  # a valid request_id: echoed in the error
LONG = 16_001

Frame = str | bytes


def _bad_fields() -> list[dict[str, Any]]:
    """Messages of a known type with one bad field (the request_id itself is valid)."""
    cases: list[dict[str, Any]] = []
    for value in [5, 1.5, None, True, [], {}, ["hi"], {"text": "hi"}, "", "x" * LONG]:
        cases.append({"type": "start_agent", "message": value})
    cases.append({"type": "start_agent"})  # message missing
    for field in ("thread_id", "dataset_id"):
        for value in [5, 1.5, True, [], {}, ["id"]]:
            cases.append({"type": "start_agent", "message": "hello", field: value})
    for value in [5, 1.5, None, True, [], {}, ["run"]]:
        cases.append({"type": "stop_agent", "run_id": value})
        cases.append({"type": "subscribe", "run_id": value, "after_seq": 0})
    cases.append({"type": "stop_agent"})
    cases.append({"type": "subscribe"})
    cases.append({"type": "subscribe", "after_seq": 0})
    for value in [-1, -100, "3", "abc", 1.5, 2.0, None, True, False, [], {}, [1]]:
        cases.append({"type": "subscribe", "run_id": "some-run", "after_seq": value})
    for kind, required in [
        ("ping", {}),
        ("start_agent", {"message": "hello"}),
        ("stop_agent", {"run_id": "some-run"}),
        ("subscribe", {"run_id": "some-run", "after_seq": 0}),
    ]:
        for extra in ["extra", "Type", "requestId", "user_id", "run", "message_id"]:
            if extra in required:
                continue
            cases.append({"type": kind, **required, extra: "surprise"})
    for kind in [
        "pingx",
        "PING",
        "Ping",
        " ping",
        "ping ",
        "",
        "start",
        "start-agent",
        "stopAgent",
        "run_started",
        "pong",
        "error",
        "connection_established",
        "subscribe\u0000",
    ]:
        cases.append({"type": kind})
    for kind in [5, 0, None, True, [], {}, ["ping"], {"type": "ping"}]:
        cases.append({"type": kind})
    cases.append({})  # no type at all
    cases.append({"message": "hello"})
    return cases


def _frames() -> list[tuple[Frame, str | None]]:
    """(frame, the request_id the error must echo or None when it must be absent)."""
    frames: list[tuple[Frame, str | None]] = []
    # Not JSON, or JSON that is not an object: no request_id can be read.
    not_json = [
        "",
        " ",
        "not json",
        "{",
        "}",
        "{'type': 'ping'}",
        '{"type": "ping"',
        '{"type": ping}',
        "ping",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "3.14",
        '"ping"',
        '"{\\"type\\":\\"ping\\"}"',
        "[]",
        "[1, 2]",
        '[{"type": "ping"}]',
        '[{"type": "ping", "request_id": "r"}]',
        "NaN",
        "Infinity",
        '{"type": "ping"} trailing',
        '{"type": "ping"}{"type": "ping"}',
        "\u0000",
        "\ufeff",
        "\ud7ff",
        "{" * 100 + "}" * 100,
        "[" * 5000 + "]" * 5000,
    ]
    frames += [(text, None) for text in not_json]
    # Bad fields with a valid request_id (echoed), and the same without one (absent).
    for case in _bad_fields():
        frames.append((json.dumps({**case, "request_id": RID}), RID))
        frames.append((json.dumps(case), None))
    # A bad request_id: the error carries none, whatever else the message is.
    for value in [5, 0, 1.5, True, False, [], {}, ["r"], {"id": "r"}, "r" * 129]:
        for message in [
            {"type": "ping"},
            {"type": "pingx"},
            {"type": "subscribe", "run_id": "some-run"},
            {"type": "start_agent", "message": "hello"},
        ]:
            frames.append((json.dumps({**message, "request_id": value}), None))
    # Binary garbage, and binary frames that are not valid UTF-8 JSON.
    rng = random.Random(1009)
    for size in [1, 2, 7, 64, 500, 4096, 32_000]:
        for _ in range(3):
            frames.append((bytes(rng.randrange(256) for _ in range(size)), None))
    frames += [(b"\xff\xfe\xfd", None), (b"\x00" * 16, None), (b"\xc3\x28", None)]
    return frames


async def test_hundreds_of_malformed_frames_each_get_invalid_message_and_the_socket_stays_open(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    frames = _frames()
    assert len(frames) >= 250
    account = await register(http, "malformed")
    failures: list[str] = []
    ws = await connected(server.ws_url, account)
    try:
        for frame, echoed in frames:
            shown = frame[:80] if isinstance(frame, str) else frame[:24]
            try:
                await ws.send(frame)
                answer = await recv(ws)
            except ConnectionClosed:
                failures.append(f"{shown!r} closed the connection (code {ws.close_code})")
                ws = await connected(server.ws_url, account)  # go on with the other frames
                continue
            try:
                check_envelope(answer)
                assert answer["type"] == "error", answer
                assert answer["data"]["code"] == "invalid_message", answer
                if echoed is None:
                    assert "request_id" not in answer["data"], answer
                else:
                    assert answer["data"]["request_id"] == echoed, answer
            except AssertionError as exc:
                failures.append(f"{shown!r} answered {exc}")
        # Still open and still serving: ping gets pong, and nothing else was pending.
        assert await ping_drain(ws) == []
        await ws.send('{"type": "ping", "request_id": "still-here"}')
        pong = await recv(ws)
        assert pong["type"] == "pong" and pong["data"] == {"request_id": "still-here"}, pong
    finally:
        await ws.close()
    assert not failures, f"{len(failures)} of {len(frames)} frames:\n" + "\n".join(failures)
    threads = (await http.get("/api/threads", headers=account.headers)).json()["threads"]
    assert threads == [], "a malformed start_agent started a run"


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
async def test_a_frame_over_64_kib_closes_with_1009_and_one_at_the_limit_does_not(
    server: ServerProcess, http: httpx.AsyncClient, binary: bool
) -> None:
    account = await register(http, "bigframe")
    async with await connected(server.ws_url, account) as ws:
        at_limit = "x" * 65_536
        await ws.send(at_limit.encode() if binary else at_limit)
        answer = await recv(ws)
        assert answer["type"] == "error" and answer["data"]["code"] == "invalid_message", answer

        over = json.dumps({"type": "start_agent", "message": "y" * 70_000})
        await ws.send(over.encode() if binary else over)
        code, received = await close_code(ws)
        assert received == [], f"answers before the close: {received}"
        assert code == 1009, f"closed with {code}, expected 1009 (never 1011)"
    threads = (await http.get("/api/threads", headers=account.headers)).json()["threads"]
    assert threads == []


async def test_invalid_http_bodies_answer_422_invalid_request_naming_the_field(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "badbody")
    thread = (await http.post("/api/threads", json={}, headers=account.headers)).json()
    auth = account.headers
    cases: list[tuple[str, str, Any, dict[str, str], str]] = [
        ("POST", "/api/auth/register", {"password": PASSWORD}, {}, "email"),
        ("POST", "/api/auth/register", {"email": "a@b.co"}, {}, "password"),
        ("POST", "/api/auth/register", {"email": 5, "password": PASSWORD}, {}, "email"),
        ("POST", "/api/auth/register", {"email": "a@b.co", "password": "short"}, {}, "password"),
        ("POST", "/api/auth/register", {"email": "a@b.co", "password": "p" * 257}, {}, "password"),
        (
            "POST",
            "/api/auth/register",
            {"email": "a@b.co", "password": PASSWORD, "admin": True},
            {},
            "admin",
        ),
        (
            "POST",
            "/api/auth/register",
            {"email": "a@b.co", "password": PASSWORD, "name": 5},
            {},
            "name",
        ),
        ("POST", "/api/auth/login", {"email": "a@b.co"}, {}, "password"),
        ("POST", "/api/auth/login", {"email": ["a@b.co"], "password": PASSWORD}, {}, "email"),
        ("POST", "/api/auth/refresh", {}, {}, "refresh_token"),
        ("POST", "/api/auth/refresh", {"refresh_token": 5}, {}, "refresh_token"),
        ("POST", "/api/threads", {"title": 5}, auth, "title"),
        ("POST", "/api/threads", {"title": "t", "colour": "red"}, auth, "colour"),
        ("POST", f"/api/threads/{thread['id']}/runs", {}, auth, "message"),
        ("POST", f"/api/threads/{thread['id']}/runs", {"message": ""}, auth, "message"),
        ("POST", f"/api/threads/{thread['id']}/runs", {"message": 5}, auth, "message"),
        ("POST", f"/api/threads/{thread['id']}/runs", {"message": "x" * 16_001}, auth, "message"),
        (
            "POST",
            f"/api/threads/{thread['id']}/runs",
            {"message": "hi", "dataset_id": 5},
            auth,
            "dataset_id",
        ),
        (
            "POST",
            f"/api/threads/{thread['id']}/runs",
            {"message": "hi", "thread_id": "t"},
            auth,
            "thread_id",
        ),
        ("POST", "/api/datasets/demo", {"rows": "many"}, auth, "rows"),
        ("POST", "/api/datasets/demo", {"rows": 1000, "seed": "s"}, auth, "seed"),
        ("POST", "/api/datasets/demo", {"rows": 1000, "colour": "red"}, auth, "colour"),
    ]
    failures = []
    for method, path, body, headers, field in cases:
        response = await http.request(method, path, json=body, headers=headers)
        try:
            assert response.status_code == 422, response.status_code
            check_error_body(response.json(), "invalid_request")
            assert response.json()["error"]["details"]["field"] == field
        except (AssertionError, KeyError, ValueError) as exc:
            failures.append(f"{method} {path} {str(body)[:60]}: {response.text[:200]} ({exc})")
    assert not failures, "\n".join(failures)
    assert (await http.get("/api/threads", headers=auth)).json()["threads"] == [thread]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'"text"', b"\xff\xfe"],
    ids=["broken_json", "empty", "array", "string", "binary"],
)
async def test_a_body_that_is_not_a_json_object_answers_422_invalid_request(
    http: httpx.AsyncClient, body: bytes
) -> None:
    account = await register(http, "notjson")
    response = await http.post(
        "/api/threads",
        content=body,
        headers={**account.headers, "Content-Type": "application/json"},
    )
    if body == b"":
        # An empty body is an absent one: POST /api/threads takes {title?}.
        assert response.status_code in (201, 422), response.text
        return
    assert response.status_code == 422, response.text
    check_error_body(response.json(), "invalid_request")
    assert response.json()["error"]["details"]["field"] == "body", (
        f"no field of the body can be named, so details.field should be 'body': {response.text}"
    )


async def test_a_negative_after_seq_on_http_answers_422_naming_after_seq(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "afterseq")
    response = await http.get(
        "/api/runs/any-run/events", params={"after_seq": -1}, headers=account.headers
    )
    assert response.status_code == 422, response.text
    check_error_body(response.json(), "invalid_request")
    assert response.json()["error"]["details"]["field"] == "after_seq"
