"""Client-side helpers for the e2e tests: WebSocket conversations, long runs, tokens.

Everything here talks to the real server through real ``httpx`` and ``websockets``
clients; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.checks import check_envelope
from tests.support import TERMINAL, Account, open_ws, recv, send

LONG_QUESTION = "how do we cut our costs?"  # triage → data → optimization → actions → reporting
DEMO_ROWS = 200_000


def new_request_id(prefix: str = "req") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def open_header_ws(url: str, token: str) -> ClientConnection:
    """A non-browser connection: ``Authorization: Bearer <token>``, no subprotocol."""
    return await connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
    )


async def connected(url: str, account: Account) -> ClientConnection:
    """Open a browser-style connection and consume its ``connection_established``."""
    ws = await open_ws(url, account.access_token)
    hello = await recv(ws)
    check_envelope(hello)
    assert hello["type"] == "connection_established", hello
    assert hello["data"]["user_id"] == account.user_id, hello
    return ws


async def ping_drain(ws: ClientConnection, wait_s: float = 10.0) -> list[dict[str, Any]]:
    """Send ``ping`` and return every message received before its ``pong``."""
    request_id = new_request_id("ping")
    await send(ws, {"type": "ping", "request_id": request_id})
    before: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while True:
        message = await recv(ws, max(0.1, deadline - time.monotonic()))
        check_envelope(message)
        if message["type"] == "pong" and message["data"].get("request_id") == request_id:
            return before
        before.append(message)


async def start_run(
    ws: ClientConnection, message: str, wait_s: float = 10.0, **fields: Any
) -> dict[str, Any]:
    """Send ``start_agent`` and return its ``run_started`` (seq 1, request_id echoed)."""
    request_id = new_request_id("start")
    await send(ws, {"type": "start_agent", "message": message, "request_id": request_id, **fields})
    deadline = time.monotonic() + wait_s
    while True:
        reply = await recv(ws, max(0.1, deadline - time.monotonic()))
        check_envelope(reply)
        if reply["type"] == "error" and reply["data"].get("request_id") == request_id:
            raise AssertionError(f"start_agent refused: {reply}")
        if reply["type"] == "run_started" and reply["data"].get("request_id") == request_id:
            assert reply["seq"] == 1, reply
            return reply


async def follow(ws: ClientConnection, run_id: str, wait_s: float = 60.0) -> list[dict[str, Any]]:
    """Every message up to this run's terminal event; each must be of this run."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while True:
        message = await recv(ws, max(0.1, deadline - time.monotonic()))
        check_envelope(message)
        assert message["run_id"] == run_id, f"a message of another run or none: {message}"
        events.append(message)
        if message["type"] in TERMINAL:
            return events


async def close_code(ws: ClientConnection, wait_s: float = 10.0) -> tuple[int | None, list[Any]]:
    """Wait for the server to close; return its close code and what arrived before."""
    received: list[Any] = []
    try:
        async with asyncio.timeout(wait_s):
            while True:
                received.append(await ws.recv())
    except ConnectionClosed:
        pass
    return ws.close_code, received


async def assert_ws_refused(url: str, **connect_kwargs: Any) -> None:
    """The handshake is refused (401/403) or the socket closes 4401 before any message."""
    try:
        ws = await connect(url, open_timeout=10, **connect_kwargs)
    except InvalidStatus as exc:
        assert exc.response.status_code in (401, 403), exc.response.status_code
        return
    try:
        code, received = await close_code(ws, wait_s=5.0)
        assert received == [], f"an unauthenticated connection received {received}"
        assert code == 4401, f"closed with {code}, expected 4401"
    finally:
        await ws.close()


async def events_of(http: httpx.AsyncClient, account: Account, run_id: str, after: int = 0) -> Any:
    response = await http.get(
        f"/api/runs/{run_id}/events", params={"after_seq": after}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def run_status(http: httpx.AsyncClient, account: Account, run_id: str) -> Any:
    response = await http.get(f"/api/runs/{run_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- runs that last ----------------------------------------------------------------------


async def load_demo(http: httpx.AsyncClient, account: Account, rows: int = DEMO_ROWS) -> Any:
    """Give the account realistic usage data, so a cost question takes a while.

    A demo that cannot be made fails the test: the runs that last, the limits and the
    ownership checks depend on it, and a skip would hide that they no longer ran.
    """
    response = await http.post(
        "/api/datasets/demo", json={"rows": rows}, headers=account.headers, timeout=180
    )
    assert response.status_code == 201, (
        f"POST /api/datasets/demo {{'rows': {rows}}} answered "
        f"{response.status_code}: {response.text[:300]}"
    )
    return response.json()


CANONICAL_CSV = """timestamp,model,input_tokens,output_tokens,cost_usd,feature,user,status
2025-06-01T10:00:00Z,gpt-4o,1000,200,0.5,chat,u1,success
2025-06-02T10:00:00Z,gpt-4o,500,100,0.25,chat,u2,success
2025-06-03T10:00:00Z,claude-sonnet-4-5,2000,100,1.25,summarize,u1,error
"""


async def upload(
    http: httpx.AsyncClient, account: Account, content: bytes, filename: str, **fields: str
) -> httpx.Response:
    """``POST /api/datasets`` with ``content`` as the file (multipart, as the page sends it)."""
    return await http.post(
        "/api/datasets",
        files={"file": (filename, io.BytesIO(content), "application/octet-stream")},
        data=fields,
        headers=account.headers,
    )


# --- tokens ------------------------------------------------------------------------------


def server_key(data_dir: Path) -> bytes:
    """The development signing key the server generated in its data folder."""
    return (data_dir / "jwt_secret").read_text().strip().encode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def sign(claims: dict[str, Any], key: bytes, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token: header and claims, empty signature."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def fresh_claims(token: str, **changes: Any) -> dict[str, Any]:
    """The claims of a real token with a new ``jti`` and current times, then ``changes``."""
    now = int(time.time())
    claims = {**claims_of(token), "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    claims.update(changes)
    return claims
