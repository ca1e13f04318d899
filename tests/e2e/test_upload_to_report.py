"""Upload a usage file over HTTP, ask about it over the WebSocket, read the stored report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.clients import CANONICAL_CSV, upload
from tests.support import open_ws, recv, recv_until_terminal, register, send

SAMPLES = Path(__file__).parents[1] / "unit" / "ingest" / "samples"


async def test_an_uploaded_file_is_summarised_and_answers_questions(server, http):
    account = await register(http, "uploader")
    response = await upload(http, account, CANONICAL_CSV.encode(), "usage.csv", name="June")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["name"] == "June"
    assert dataset["rows"] == 3
    assert dataset["total_cost_usd"] == pytest.approx(2.0)
    assert dataset["models"] == ["claude-sonnet-4-5", "gpt-4o"]
    assert dataset["period"] == {
        "start": "2025-06-01T10:00:00.000Z",
        "end": "2025-06-03T10:00:00.000Z",
    }

    ws = await open_ws(server.ws_url, account.access_token)
    await recv(ws)
    await send(ws, {"type": "start_agent", "message": "What did we spend per feature?"})
    events = await recv_until_terminal(ws, timeout=60)
    await ws.close()
    done = events[-1]
    assert done["type"] == "run_completed", done
    assert events[0]["data"]["dataset_id"] == dataset["id"]
    answer = done["data"]["response"]["text"]
    assert "$2.00" in answer  # the total: 0.50 + 0.25 + 1.25, billed costs as given
    assert "| chat | $0.75 |" in answer and "| summarize | $1.25 |" in answer
    report = (await http.get(f"/api/runs/{done['run_id']}/report", headers=account.headers)).json()
    assert report["totals"]["cost_usd"] == pytest.approx(2.0)
    assert report["totals"]["requests"] == 3


@pytest.mark.parametrize(
    "sample",
    [
        "litellm_spendlogs.csv",
        "openai_usage.jsonl",
        "langfuse_observations.jsonl",
        "helicone_requests.csv",
    ],
)
async def test_each_known_export_uploads_as_a_dataset(http, sample):
    account = await register(http, "exporter")
    response = await upload(http, account, (SAMPLES / sample).read_bytes(), sample)
    assert response.status_code == 201, response.text
    assert response.json()["rows"] > 0


async def test_a_bad_file_is_refused_whole_with_its_line_and_nothing_is_kept(http):
    account = await register(http, "careless")
    bad = CANONICAL_CSV + "2025-06-04T10:00:00Z,gpt-4o,lots,100,0.1,chat,u1,success\n"
    response = await upload(http, account, bad.encode(), "usage.csv")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_dataset"
    assert error["details"]["line"] == 5
    assert error["details"]["column"] == "input_tokens"
    listed = await http.get("/api/datasets", headers=account.headers)
    assert listed.json() == {"datasets": []}


async def test_an_upload_without_a_file_part_is_a_clear_error(http):
    account = await register(http, "formless")
    response = await http.post(
        "/api/datasets",
        data={"name": "nothing"},
        files={"other": ("x", b"y")},
        headers=account.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "file"


async def test_another_users_dataset_cannot_be_read_used_or_deleted(server, http):
    owner = await register(http, "owner")
    intruder = await register(http, "intruder")
    dataset = (await upload(http, owner, CANONICAL_CSV.encode(), "usage.csv")).json()
    for method, path in (
        ("GET", f"/api/datasets/{dataset['id']}"),
        ("DELETE", f"/api/datasets/{dataset['id']}"),
    ):
        response = await http.request(method, path, headers=intruder.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    ws = await open_ws(server.ws_url, intruder.access_token)
    await recv(ws)
    await send(
        ws,
        {
            "type": "start_agent",
            "message": "spend per model?",
            "dataset_id": dataset["id"],
            "request_id": "steal",
        },
    )
    error = await recv(ws)
    await ws.close()
    assert error["type"] == "error"
    assert error["data"] == {
        "code": "not_found",
        "message": "no such dataset",
        "request_id": "steal",
    }
    still = await http.get(f"/api/datasets/{dataset['id']}", headers=owner.headers)
    assert still.status_code == 200


async def test_an_upload_over_the_limit_is_refused_with_413_and_leaves_nothing(tmp_path):
    import httpx

    from tests.support import ServerProcess

    small = ServerProcess(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}",
        NETRA_UPLOAD_MAX_BYTES="4096",
    )
    small.start()
    try:
        async with httpx.AsyncClient(base_url=small.url, timeout=30) as client:
            account = await register(client, "bulky")
            big = CANONICAL_CSV.encode() * 200  # ~50 KB, over the 4 KiB limit
            response = await upload(client, account, big, "usage.csv")
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"
            listed = await client.get("/api/datasets", headers=account.headers)
            assert listed.json() == {"datasets": []}
        leftovers = [p for p in (tmp_path / "data" / "datasets").rglob("*") if p.is_file()]
        assert leftovers == []
    finally:
        small.stop()


async def test_a_malformed_multipart_body_is_a_clear_422(http):
    account = await register(http, "garbled")
    response = await http.post(
        "/api/datasets",
        content=b"this is not a multipart body at all\r\n--xyz--",
        headers={**account.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "file"
    too_many = (
        b"".join(
            b'--xyz\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i
            for i in range(40)
        )
        + b"--xyz--\r\n"
    )
    response = await http.post(
        "/api/datasets",
        content=too_many,
        headers={**account.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 422
