"""Per-user resource limits, private files, one log line per abusive socket, escaped answers.

Most tests run on a server of this module with small limits (``LIMITS``); the concurrent
import test runs on the session's server, with the default limits.
"""

from __future__ import annotations

import asyncio
import io
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from markdown_it import MarkdownIt
from websockets.exceptions import ConnectionClosed

from tests.e2e.checks import check_error_body
from tests.e2e.clients import close_code, connected, follow, start_run
from tests.support import Account, ServerProcess, open_ws, recv, register, send

LIMITS = {
    "NETRA_DATASET_MAX_ROWS": "1000",
    "NETRA_MAX_DATASETS_PER_USER": "2",
    "NETRA_USER_STORAGE_MAX_BYTES": "100000",  # two 100-row demos (~10 KB), not 5,000 rows
    "NETRA_MAX_SOCKETS_PER_USER": "2",
}
HEADER = "timestamp,model,input_tokens,output_tokens,cost_usd,feature,user,status\n"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    root = tmp_path_factory.mktemp("limited")
    process = ServerProcess(root / "data", f"sqlite+aiosqlite:///{root / 'netra.db'}", **LIMITS)
    request.addfinalizer(process.stop)
    process.start()
    return process


@pytest.fixture
async def client(limited: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=limited.url, timeout=60.0) as http:
        yield http


def _csv(rows: int, model: str = "gpt-4o") -> bytes:
    lines = [
        f"2025-06-{1 + i % 28:02d}T10:00:00Z,{model},1000,200,0.5,chat,u{i % 7},success\n"
        for i in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


async def _upload(http: httpx.AsyncClient, account: Account, content: bytes) -> httpx.Response:
    return await http.post(
        "/api/datasets",
        files={"file": ("usage.csv", io.BytesIO(content), "text/csv")},
        headers=account.headers,
    )


async def _demo(http: httpx.AsyncClient, account: Account, rows: int) -> httpx.Response:
    return await http.post("/api/datasets/demo", json={"rows": rows}, headers=account.headers)


async def _listed(http: httpx.AsyncClient, account: Account) -> list[dict[str, object]]:
    response = await http.get("/api/datasets", headers=account.headers)
    return response.json()["datasets"]  # type: ignore[no-any-return]


def _stored_files(server: ServerProcess, account: Account) -> list[Path]:
    folder = server.data_dir / "datasets" / account.user_id
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def test_an_upload_that_decodes_to_more_rows_than_the_limit_is_refused_and_leaves_nothing(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "rowful")
    response = await _upload(client, account, _csv(1500))  # ~100 KB, far under the byte limit
    assert response.status_code == 413, response.text
    check_error_body(response.json(), "payload_too_large")
    assert "1,000 usage rows" in response.json()["error"]["message"]
    assert await _listed(client, account) == []
    assert _stored_files(limited, account) == []

    accepted = await _upload(client, account, _csv(1000))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["rows"] == 1000


async def test_a_user_may_keep_only_so_many_datasets_and_so_many_bytes(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "hoarder")
    large = await _demo(client, account, 5000)  # ~220 KB: over the 100 KB quota alone
    assert large.status_code == 413, large.text
    check_error_body(large.json(), "payload_too_large")
    assert await _listed(client, account) == []
    assert _stored_files(limited, account) == []

    first = (await _demo(client, account, 100)).json()
    assert (await _demo(client, account, 100)).status_code == 201
    third = await _demo(client, account, 100)
    assert third.status_code == 409, third.text
    check_error_body(third.json(), "conflict")
    assert len(await _listed(client, account)) == 2

    other = await register(client, "neighbour")  # the limits are per user
    assert (await _demo(client, other, 100)).status_code == 201

    await client.delete(f"/api/datasets/{first['id']}", headers=account.headers)
    assert (await _demo(client, account, 100)).status_code == 201


async def test_a_second_import_of_a_user_while_one_runs_is_refused_with_rate_limited(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=120.0) as http:
        account = await register(http, "eager")
        other = await register(http, "patient")
        first = asyncio.create_task(_demo(http, account, 300_000))
        await asyncio.sleep(0.3)  # the first demo is being generated (several seconds)
        assert not first.done(), "the first demo ended too soon to judge"
        second, others = await asyncio.gather(_demo(http, account, 100), _demo(http, other, 100))
        assert second.status_code == 429, second.text
        check_error_body(second.json(), "rate_limited")
        assert others.status_code == 201, others.text  # another user is not held up
        assert (await first).status_code == 201
        assert (await _demo(http, account, 100)).status_code == 201  # free again


async def test_a_socket_beyond_the_users_limit_is_closed_with_1008_and_a_reason(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "tabby")
    other = await register(client, "other-tabs")
    first = await connected(limited.ws_url, account)
    second = await connected(limited.ws_url, account)
    extra = await open_ws(limited.ws_url, account.access_token)
    code, received = await close_code(extra)
    assert code == 1008 and received == [], (code, received)
    assert extra.close_reason == "too many connections for this user (limit 2)"

    async with await connected(limited.ws_url, other):  # another user is not counted
        pass
    await first.close()
    # A freed place is reused. The server answers the close frame before its handler has
    # let the socket go, so a reconnect at once may still be refused: allow it a moment.
    for _ in range(50):
        again = await open_ws(limited.ws_url, account.access_token)
        try:
            assert (await recv(again))["type"] == "connection_established"
            break
        except ConnectionClosed:
            assert again.close_code == 1008
            await asyncio.sleep(0.05)
    else:
        raise AssertionError("a closed socket's place was not freed")
    async with again:
        await send(again, {"type": "ping", "request_id": "still"})
        assert (await recv(again))["type"] == "pong"
    await second.close()


async def test_a_flood_of_frames_logs_a_few_lines_not_one_per_frame(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "flooder")
    ws = await connected(limited.ws_url, account)
    frame = json.dumps({"type": "ping"})
    try:
        for _ in range(20_000):
            await ws.send(frame)
    except ConnectionClosed:
        pass
    code, _ = await close_code(ws, wait_s=30)
    assert code == 1008
    await asyncio.sleep(1.0)  # the server logs the connection's end after closing
    lines = [line for line in limited.log().splitlines() if account.user_id in line]
    assert 1 <= len(lines) <= 4, f"{len(lines)} log lines for one socket: {lines[:5]}"
    assert any("ws.refused_messages" in line and "rate_limited" in line for line in lines)


async def test_html_in_a_model_name_is_escaped_in_the_answer_and_the_markdown_report(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "sneaky")
    assert (await _upload(client, account, _csv(50, model=EVIL))).status_code == 201
    async with await connected(limited.ws_url, account) as ws:
        run = await start_run(ws, "What did we spend per model?")
        events = await follow(ws, run["run_id"])
    assert events[-1]["type"] == "run_completed", events[-1]
    answer = events[-1]["data"]["response"]["text"]
    report = await client.get(
        f"/api/runs/{run['run_id']}/report", params={"format": "md"}, headers=account.headers
    )
    assert report.status_code == 200, report.text
    for text in (answer, report.text):
        html = MarkdownIt("commonmark").enable("table").render(text)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, html  # the model is named ...
        assert "<img" not in html, html  # ... as text, not as HTML


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_data_files_and_folders_are_private(
    limited: ServerProcess, client: httpx.AsyncClient
) -> None:
    account = await register(client, "private")
    assert (await _demo(client, account, 100)).status_code == 201
    data = limited.data_dir
    folders = [data, data / "datasets", data / "datasets" / account.user_id]
    assert {str(f): oct(_mode(f)) for f in folders} == {str(f): "0o700" for f in folders}
    database = Path(limited.database_url.removeprefix("sqlite+aiosqlite:///"))
    files = [data / "jwt_secret", *_stored_files(limited, account)]
    files += [p for p in database.parent.glob(f"{database.name}*")]
    assert len(files) >= 3
    assert {str(f): oct(_mode(f)) for f in files} == {str(f): "0o600" for f in files}
