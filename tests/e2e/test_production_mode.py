"""What a production server shows: HSTS, no open /metrics or /docs; no query tokens in logs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.support import ServerProcess, open_ws, recv, register

SECRET = "a-production-signing-key-of-at-least-32-characters"
METRICS_TOKEN = "metrics-" + uuid.uuid4().hex


def _server(tmp_path: Path, **env: str) -> ServerProcess:
    return ServerProcess(tmp_path / "data", f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}", **env)


@pytest.fixture
def production(tmp_path: Path) -> Iterator[ServerProcess]:
    server = _server(
        tmp_path, NETRA_ENV="production", NETRA_JWT_SECRET=SECRET, NETRA_LOG_LEVEL="warning"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_production_answers_carry_hsts_and_hide_metrics_and_docs(
    production: ServerProcess,
) -> None:
    with httpx.Client(base_url=production.url) as http:
        for path in ("/", "/health/live", "/api/auth/me"):
            hsts = http.get(path).headers.get("strict-transport-security", "")
            assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000
        for path in ("/metrics", "/docs", "/openapi.json"):
            assert http.get(path).status_code == 404, path


def test_production_metrics_need_their_token_and_docs_can_be_turned_on(tmp_path: Path) -> None:
    server = _server(
        tmp_path,
        NETRA_ENV="production",
        NETRA_JWT_SECRET=SECRET,
        NETRA_METRICS_TOKEN=METRICS_TOKEN,
        NETRA_DOCS_ENABLED="true",
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/metrics").status_code == 401
            wrong = {"Authorization": "Bearer not-the-token"}
            assert http.get("/metrics", headers=wrong).status_code == 401
            right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            metrics = http.get("/metrics", headers=right)
            assert metrics.status_code == 200 and "netra_" in metrics.text, metrics.text[:200]
            assert http.get("/docs").status_code == 200
            assert http.get("/openapi.json").json()["info"]["title"] == "Netra Apex"
    finally:
        server.stop()


def test_a_development_server_sends_no_hsts(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/health/live")
    assert "strict-transport-security" not in response.headers


async def test_a_token_in_a_websocket_query_string_never_reaches_the_log(tmp_path: Path) -> None:
    server = _server(tmp_path, NETRA_LOG_LEVEL="info")
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            account = await register(http, "querylog")
        query_secret = "query-" + uuid.uuid4().hex
        url = f"{server.ws_url}?token={query_secret}&access_token={query_secret}"
        async with await open_ws(url, account.access_token) as ws:  # accepted
            assert (await recv(ws))["type"] == "connection_established"
        with pytest.raises(InvalidStatus):  # refused (the query is no way to sign in)
            async with await open_ws(url, "not-a-token"):
                pass
    finally:
        server.stop()
    log = server.log()
    assert "WebSocket /ws" in log, "uvicorn logged no handshake: the check proves nothing"
    assert query_secret not in log
