"""Hostile input over HTTP and WebSocket: oversized bodies, out-of-range numbers, bad text.

Each answer is a clear error of PROTOCOL.md's shape, never a 500 or an ``internal`` error,
and the server stays responsive.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.checks import check_error_body
from tests.e2e.clients import connected, new_request_id
from tests.support import ServerProcess, recv, register, send

BODY_LIMIT = 64 * 1024
OUT_OF_RANGE = [-1, 2**31, 2**63, 9223372036854775808]


def _unknown_keys(size: int) -> bytes:
    """A login body padded with unknown keys to about ``size`` bytes."""
    keys = size // 14  # each field is 14 bytes: "k00000000":0,
    fields = ",".join(f'"k{index:08d}":0' for index in range(keys))
    return ('{"email":"a@example.com","password":"p",' + fields + "}").encode()


def _field(response: httpx.Response) -> str:
    check_error_body(response.json(), "invalid_request")
    return str(response.json()["error"]["details"]["field"])


async def test_a_12_mb_login_body_is_refused_with_413_at_once_and_the_server_stays_live(
    http: httpx.AsyncClient,
) -> None:
    body = _unknown_keys(12 * 1024 * 1024)
    started = time.perf_counter()
    response = await http.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    took = time.perf_counter() - started
    assert response.status_code == 413, response.text[:300]
    check_error_body(response.json(), "payload_too_large")
    assert took < 2.0, f"refusing the body took {took:.2f} s: it was read or validated"
    started = time.perf_counter()
    assert (await http.get("/health/live")).status_code == 200
    assert time.perf_counter() - started < 0.5


async def test_a_chunked_body_over_the_limit_is_refused_with_413(
    http: httpx.AsyncClient,
) -> None:
    body = _unknown_keys(4 * BODY_LIMIT)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = await http.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:300]
    check_error_body(response.json(), "payload_too_large")


async def test_a_body_under_the_limit_full_of_unknown_keys_gets_a_quick_422(
    http: httpx.AsyncClient,
) -> None:
    body = _unknown_keys(BODY_LIMIT - 1024)
    assert len(body) < BODY_LIMIT
    started = time.perf_counter()
    response = await http.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    took = time.perf_counter() - started
    assert response.status_code == 422, response.text[:300]
    assert _field(response).startswith("k"), response.text
    assert len(response.content) < 1024, "the error should name one field, not all of them"
    assert took < 1.0, f"validating a 63 KiB body took {took:.2f} s"


@pytest.mark.parametrize("after_seq", OUT_OF_RANGE)
async def test_an_out_of_range_after_seq_on_http_answers_422_naming_after_seq(
    http: httpx.AsyncClient, after_seq: int
) -> None:
    account = await register(http, "range")
    response = await http.get(
        "/api/runs/any-run/events", params={"after_seq": after_seq}, headers=account.headers
    )
    assert response.status_code == 422, response.text
    assert _field(response) == "after_seq"


async def test_an_out_of_range_after_seq_in_subscribe_gets_invalid_message_not_internal(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "range-ws")
    async with await connected(server.ws_url, account) as ws:
        for after_seq in OUT_OF_RANGE:
            request_id = new_request_id("sub")
            await send(
                ws,
                {
                    "type": "subscribe",
                    "run_id": "any-run",
                    "after_seq": after_seq,
                    "request_id": request_id,
                },
            )
            reply = await recv(ws)
            assert reply["type"] == "error", reply
            assert reply["data"]["code"] == "invalid_message", reply
            assert reply["data"]["request_id"] == request_id, reply
            assert "after_seq" in reply["data"]["message"], reply


async def _refused_and_nothing_made(
    http: httpx.AsyncClient, collection: str, body: dict[str, object], field: str
) -> str:
    """POST ``body`` to ``/api/<collection>/...``: 422 naming ``field``, and nothing created."""
    account = await register(http, field)
    path = "/api/datasets/demo" if collection == "datasets" else f"/api/{collection}"
    response = await http.post(path, json=body, headers=account.headers)
    assert response.status_code == 422, response.text
    assert _field(response) == field
    listed = await http.get(f"/api/{collection}", headers=account.headers)
    assert listed.json()[collection] == [], f"a refused request created one of {collection}"
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize("seed", [-1, 2**32, 2**63])
async def test_an_out_of_range_demo_seed_answers_422_naming_seed(
    http: httpx.AsyncClient, seed: int
) -> None:
    await _refused_and_nothing_made(http, "datasets", {"rows": 100, "seed": seed}, "seed")


@pytest.mark.parametrize("title", ["bell\x07", "line\nbreak", "nul\x00", "c1\x85"])
async def test_a_thread_title_with_control_characters_answers_422_naming_title(
    http: httpx.AsyncClient, title: str
) -> None:
    message = await _refused_and_nothing_made(http, "threads", {"title": title}, "title")
    assert "control characters" in message


@pytest.mark.parametrize("password", ["password123", "Iloveyou1", "qwertyuiop", "tab\there!"])
async def test_a_common_password_or_one_with_control_characters_is_refused_at_register(
    http: httpx.AsyncClient, password: str
) -> None:
    email = f"weak-{new_request_id()}@example.com"
    response = await http.post("/api/auth/register", json={"email": email, "password": password})
    assert response.status_code == 422, response.text
    assert _field(response) == "password"
    login = await http.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 401, "a refused registration created the account"


async def test_an_uncommon_password_with_spaces_and_unicode_is_accepted(
    http: httpx.AsyncClient,
) -> None:
    email = f"strong-{new_request_id()}@example.com"
    password = "ünïcode passphrase with spaces"
    response = await http.post("/api/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    assert json.loads(response.text)["user"]["email"] == email
