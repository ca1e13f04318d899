"""Assertions of the wire contract (PROTOCOL.md section 2), shared by the e2e tests.

Each check states one rule of the contract and fails with the offending message in view.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support import TERMINAL

ENVELOPE_KEYS = {"type", "id", "run_id", "thread_id", "seq", "ts", "data"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RUN_EVENT_TYPES = {
    "run_started",
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
    "message_delta",
    "run_resumed",
    *TERMINAL,
}
DATA_KEYS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional) data keys
    "run_started": ({"message", "dataset_id", "agents"}, {"request_id"}),
    "agent_started": ({"agent"}, set()),
    "agent_thinking": ({"agent", "text"}, set()),
    "tool_executing": ({"agent", "tool", "call_id", "args"}, set()),
    "tool_completed": ({"agent", "tool", "call_id", "duration_ms", "result"}, set()),
    "agent_completed": ({"agent", "duration_ms", "output"}, set()),
    "message_delta": ({"text"}, set()),
    "run_resumed": ({"agent", "attempt"}, set()),
    "run_completed": ({"response", "duration_ms"}, {"report_id"}),
    "run_failed": ({"error"}, set()),
    "run_cancelled": (set(), set()),
    "connection_established": (
        {"connection_id", "user_id", "protocol", "heartbeat_interval_s"},
        set(),
    ),
    "pong": (set(), {"request_id"}),
    "error": ({"code", "message"}, {"request_id"}),
}


def is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and TIMESTAMP.match(value) is not None


def check_envelope(message: dict[str, Any]) -> None:
    """One envelope for every server message; run fields null outside runs."""
    assert set(message) == ENVELOPE_KEYS, f"envelope keys {sorted(message)}: {message}"
    assert isinstance(message["id"], str) and message["id"], message
    assert is_timestamp(message["ts"]), f"ts is not RFC 3339 UTC with ms: {message}"
    assert isinstance(message["data"], dict), message
    kind = message["type"]
    assert kind in DATA_KEYS, f"unknown server message type: {message}"
    required, optional = DATA_KEYS[kind]
    keys = set(message["data"])
    assert required <= keys <= required | optional, f"{kind} data keys {sorted(keys)}: {message}"
    if kind in RUN_EVENT_TYPES:
        assert isinstance(message["run_id"], str) and message["run_id"], message
        assert isinstance(message["thread_id"], str) and message["thread_id"], message
        assert isinstance(message["seq"], int) and message["seq"] >= 1, message
    else:
        assert message["run_id"] is None and message["thread_id"] is None, message
        assert message["seq"] is None, message


def check_run_events(events: list[dict[str, Any]], *, complete: bool = True) -> None:
    """The events of one run obey the order of PROTOCOL.md "Run events".

    ``complete``: the list must end with the run's terminal event.
    """
    assert events, "no events"
    for event in events:
        check_envelope(event)
    types = [event["type"] for event in events]
    first = events[0]
    assert first["type"] == "run_started" and first["seq"] == 1, f"first event: {first}"
    seqs = [event["seq"] for event in events]
    assert seqs == list(range(1, len(events) + 1)), f"seq not 1,2,3… without gaps: {seqs}"
    assert len({event["id"] for event in events}) == len(events), "an event id repeats"
    run_id, thread_id = first["run_id"], first["thread_id"]
    for event in events:
        assert (event["run_id"], event["thread_id"]) == (run_id, thread_id), event
    terminals = [i for i, kind in enumerate(types) if kind in TERMINAL]
    if complete:
        assert terminals == [len(events) - 1], f"exactly one terminal event, last: {types}"
    else:
        assert terminals in ([], [len(events) - 1]), f"a terminal event before the end: {types}"

    plan = first["data"]["agents"]
    assert isinstance(plan, list) and plan and plan[0] == "triage", f"agents: {plan}"
    open_agent: str | None = None
    open_calls: dict[str, dict[str, Any]] = {}
    completed: list[str] = []
    deltas: list[str] = []
    for event in events[1:]:
        kind, data = event["type"], event["data"]
        where = f"seq {event['seq']} {kind} {data} in {types}"
        if kind == "agent_started":
            assert open_agent is None, f"agent started while {open_agent} is open: {where}"
            assert data["agent"] in plan and data["agent"] not in completed, where
            expected_next = plan[len(completed)]
            assert data["agent"] == expected_next, f"expected {expected_next} next: {where}"
            open_agent = data["agent"]
        elif kind in {"agent_thinking", "tool_executing", "tool_completed"}:
            assert data["agent"] == open_agent, f"event of an agent that is not open: {where}"
            if kind == "tool_executing":
                assert data["call_id"] not in open_calls, f"call_id reused: {where}"
                assert isinstance(data["args"], dict), where
                open_calls[data["call_id"]] = data
            elif kind == "tool_completed":
                call = open_calls.pop(data["call_id"], None)
                assert call is not None, f"tool_completed without tool_executing: {where}"
                assert call["tool"] == data["tool"], where
                assert isinstance(data["duration_ms"], int) and data["duration_ms"] >= 0, where
        elif kind == "agent_completed":
            assert data["agent"] == open_agent, f"completes an agent that is not open: {where}"
            assert not open_calls, f"agent completed with open tool calls {open_calls}: {where}"
            assert isinstance(data["duration_ms"], int) and data["duration_ms"] >= 0, where
            completed.append(open_agent)
            open_agent = None
        elif kind == "run_resumed":
            assert data["agent"] == open_agent, f"run_resumed names {data['agent']}: {where}"
            assert isinstance(data["attempt"], int) and data["attempt"] >= 2, where
            open_agent, open_calls = None, {}  # abandoned: the agent restarts
        elif kind == "message_delta":
            assert isinstance(data["text"], str), where
            deltas.append(data["text"])
        elif kind == "run_started":
            raise AssertionError(f"a second run_started: {where}")
    last = events[-1]
    if last["type"] == "run_completed":
        assert open_agent is None and not open_calls, f"completed with open work: {types}"
        assert completed == plan, f"completed agents {completed} != planned {plan}"
        text = last["data"]["response"]["text"]
        assert isinstance(text, str) and text, last
        assert isinstance(last["data"]["duration_ms"], int), last
        if deltas:
            assert "".join(deltas) == text, "message_delta pieces do not make the answer"
    elif last["type"] == "run_failed":
        error = last["data"]["error"]
        assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), last
    elif last["type"] == "run_cancelled":
        assert last["data"] == {}, last


def check_error_body(body: Any, code: str) -> None:
    """HTTP errors: ``{"error": {"code", "message", "details"?}}``."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, body
    assert error.get("code") == code, f"expected {code}: {body}"
    assert isinstance(error.get("message"), str) and error["message"], body
    if "details" in error:
        assert isinstance(error["details"], dict), body
