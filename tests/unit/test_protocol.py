import json

import pytest

from netra.clock import rfc3339
from netra.protocol import (
    AgentStarted,
    Error,
    InvalidMessage,
    Ping,
    Pong,
    RunStarted,
    StartAgent,
    Subscribe,
    encode,
    parse_client,
)


def test_start_agent_is_parsed_with_its_optional_fields():
    message = parse_client(
        json.dumps({"type": "start_agent", "message": "hi", "thread_id": "t", "request_id": "r"})
    )
    assert message == StartAgent(type="start_agent", message="hi", thread_id="t", request_id="r")


def test_subscribe_defaults_after_seq_to_zero():
    assert parse_client('{"type": "subscribe", "run_id": "x"}') == Subscribe(
        type="subscribe", run_id="x", after_seq=0
    )


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        "{}",
        '{"type": "launch_missiles"}',
        '{"type": 7}',
        '{"type": "start_agent"}',
        '{"type": "start_agent", "message": ""}',
        '{"type": "start_agent", "message": 12}',
        '{"type": "start_agent", "message": "hi", "extra": 1}',
        '{"type": "subscribe", "run_id": "x", "after_seq": -1}',
        '{"type": "subscribe", "run_id": "x", "after_seq": "3"}',
        '{"type": "subscribe", "run_id": "x", "after_seq": 1.5}',
        '{"type": "stop_agent", "run_id": null}',
        '{"type": "ping", "request_id": 5}',
    ],
)
def test_malformed_frames_are_invalid_messages(frame):
    with pytest.raises(InvalidMessage):
        parse_client(frame)


def test_an_over_long_message_is_refused():
    with pytest.raises(InvalidMessage):
        parse_client(json.dumps({"type": "start_agent", "message": "x" * 16_001}))


def test_a_valid_request_id_is_kept_for_the_error_answer():
    with pytest.raises(InvalidMessage) as caught:
        parse_client('{"type": "ping", "request_id": "abc", "surprise": true}')
    assert caught.value.request_id == "abc"


def test_a_bad_request_id_is_not_echoed():
    for bad in (
        '{"type": "ping", "request_id": 5}',
        json.dumps({"type": "ping", "request_id": "x" * 129}),
    ):
        with pytest.raises(InvalidMessage) as caught:
            parse_client(bad)
        assert caught.value.request_id is None


def test_the_envelope_has_every_field_of_the_protocol():
    body = json.loads(encode(AgentStarted(agent="triage"), run_id="r", thread_id="t", seq=2))
    assert set(body) == {"type", "id", "run_id", "thread_id", "seq", "ts", "data"}
    assert body["type"] == "agent_started"
    assert body["id"].startswith("evt-")
    assert (body["run_id"], body["thread_id"], body["seq"]) == ("r", "t", 2)
    assert body["data"] == {"agent": "triage"}


def test_messages_outside_runs_have_null_run_fields():
    body = json.loads(encode(Pong(request_id="p")))
    assert (body["run_id"], body["thread_id"], body["seq"]) == (None, None, None)
    assert body["data"] == {"request_id": "p"}


def test_an_absent_request_id_is_left_out_not_null():
    assert "request_id" not in json.loads(encode(Error(code="x", message="y")))["data"]
    started = RunStarted(message="m", dataset_id=None, agents=["triage"])
    data = json.loads(encode(started, run_id="r", thread_id="t", seq=1))["data"]
    assert "request_id" not in data
    assert data["dataset_id"] is None


def test_timestamps_are_utc_with_milliseconds():
    from datetime import UTC, datetime, timedelta, timezone

    moment = datetime(2026, 11, 21, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339(moment) == "2026-11-21T10:00:00.123Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    ts = json.loads(encode(Pong()))["ts"]
    assert datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_ping_parses():
    assert parse_client(b'{"type": "ping"}') == Ping(type="ping")
