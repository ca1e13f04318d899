"""Another user's thread, run or dataset is answered exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.checks import check_envelope, check_error_body
from tests.e2e.clients import connected, events_of, follow, load_demo, ping_drain, start_run
from tests.support import Account, ServerProcess, recv, register, send

MISSING = "00000000-0000-4000-8000-000000000000"


async def _answers(
    http: httpx.AsyncClient, account: Account, requests: list[tuple[str, str, Any]]
) -> list[tuple[int, Any]]:
    answers = []
    for method, path, body in requests:
        response = await http.request(method, path, json=body, headers=account.headers)
        answers.append((response.status_code, response.json() if response.content else None))
    return answers


def _thread_and_run_requests(thread_id: str, run_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/api/threads/{thread_id}", None),
        ("GET", f"/api/threads/{thread_id}/messages", None),
        ("POST", f"/api/threads/{thread_id}/runs", {"message": "hello"}),
        ("DELETE", f"/api/threads/{thread_id}", None),
        ("GET", f"/api/runs/{run_id}", None),
        ("GET", f"/api/runs/{run_id}/events", None),
        ("GET", f"/api/runs/{run_id}/events?after_seq=2", None),
        ("POST", f"/api/runs/{run_id}/cancel", None),
        ("GET", f"/api/runs/{run_id}/report", None),
    ]


async def test_another_users_threads_and_runs_answer_404_exactly_like_missing_ones(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    owner = await register(http, "owner")
    intruder = await register(http, "intruder")
    async with await connected(server.ws_url, owner) as ws:
        started = await start_run(ws, "hello")
        events = [started, *await follow(ws, started["run_id"])]
    thread_id, run_id = started["thread_id"], started["run_id"]

    theirs = await _answers(http, intruder, _thread_and_run_requests(thread_id, run_id))
    missing = await _answers(http, intruder, _thread_and_run_requests(MISSING, MISSING))
    for (status, body), request in zip(
        theirs, _thread_and_run_requests(thread_id, run_id), strict=True
    ):
        assert status == 404, f"{request}: {status} {body}"
        check_error_body(body, "not_found")
    assert theirs == missing, "another user's ids must be answered exactly as missing ones"

    listed = (await http.get("/api/threads", headers=intruder.headers)).json()["threads"]
    assert listed == []
    # The owner's thread and run are untouched by the attempts.
    assert (await http.get(f"/api/threads/{thread_id}", headers=owner.headers)).status_code == 200
    assert await events_of(http, owner, run_id) == events
    messages = (await http.get(f"/api/threads/{thread_id}/messages", headers=owner.headers)).json()[
        "messages"
    ]
    assert [m["role"] for m in messages] == ["user", "assistant"]


async def test_another_users_dataset_answers_404_exactly_like_a_missing_one(
    http: httpx.AsyncClient,
) -> None:
    owner = await register(http, "owner")
    intruder = await register(http, "intruder")
    dataset = await load_demo(http, owner, rows=1_000)

    def requests(dataset_id: str) -> list[tuple[str, str, Any]]:
        return [
            ("GET", f"/api/datasets/{dataset_id}", None),
            ("DELETE", f"/api/datasets/{dataset_id}", None),
        ]

    theirs = await _answers(http, intruder, requests(dataset["id"]))
    missing = await _answers(http, intruder, requests(MISSING))
    for status, body in theirs:
        assert status == 404, body
        check_error_body(body, "not_found")
    assert theirs == missing
    thread = (await http.post("/api/threads", json={}, headers=intruder.headers)).json()
    theirs_run = await http.post(
        f"/api/threads/{thread['id']}/runs",
        json={"message": "hello", "dataset_id": dataset["id"]},
        headers=intruder.headers,
    )
    missing_run = await http.post(
        f"/api/threads/{thread['id']}/runs",
        json={"message": "hello", "dataset_id": MISSING},
        headers=intruder.headers,
    )
    assert theirs_run.status_code == 404, theirs_run.text
    check_error_body(theirs_run.json(), "not_found")
    assert theirs_run.json() == missing_run.json()
    assert (await http.get("/api/datasets", headers=intruder.headers)).json()["datasets"] == []
    owned = await http.get(f"/api/datasets/{dataset['id']}", headers=owner.headers)
    assert owned.status_code == 200, "the intruder's DELETE must not remove the owner's data"


async def _error_for(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    await send(ws, message)
    answer = await recv(ws)
    check_envelope(answer)
    return answer


async def test_subscribe_stop_and_start_on_another_users_ids_answer_not_found_over_ws(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    owner = await register(http, "owner")
    intruder = await register(http, "intruder")
    async with await connected(server.ws_url, owner) as ws:
        started = await start_run(ws, "hello")
        events = [started, *await follow(ws, started["run_id"])]
    run_id, thread_id = started["run_id"], started["thread_id"]

    async with await connected(server.ws_url, intruder) as ws:
        attempts = [
            ({"type": "subscribe", "run_id": "{}", "after_seq": 0}, "run"),
            ({"type": "stop_agent", "run_id": "{}"}, "run"),
            ({"type": "start_agent", "message": "hello", "thread_id": "{}"}, "thread"),
        ]
        for template, kind in attempts:
            real = run_id if kind == "run" else thread_id
            answers = []
            for target in (real, MISSING):
                message = {
                    key: (target if value == "{}" else value) for key, value in template.items()
                }
                answers.append(await _error_for(ws, {**message, "request_id": "mine"}))
            for answer in answers:
                assert answer["type"] == "error", f"{template['type']} answered {answer}"
                assert answer["data"]["code"] == "not_found", answer
                assert answer["data"]["request_id"] == "mine", answer
                assert answer["run_id"] is None and answer["thread_id"] is None, answer
            assert answers[0]["data"] == answers[1]["data"], (
                f"{template['type']}: another user's id answered unlike a missing one"
            )
        assert await ping_drain(ws) == [], "the intruder received something of the run"
    assert await events_of(http, owner, run_id) == events
    threads = (await http.get("/api/threads", headers=intruder.headers)).json()["threads"]
    assert threads == [], "start_agent on another user's thread must not create anything"
