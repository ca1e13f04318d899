"""The ``netra.v1`` wire contract (PROTOCOL.md section 2) as typed models.

Client messages are strict models in one discriminated union, parsed by ``parse_client``.
Server messages share one envelope; ``encode`` is the only serializer. Event payloads are
small frozen models, one per event type, so an event is data before it is JSON.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import to_json

from netra.clock import rfc3339, utc_now

PROTOCOL = "netra.v1"
REQUEST_ID_MAX = 128
MESSAGE_MAX = 16_000
SEQ_MAX = 2**31 - 1  # the event log's seq is a 32-bit integer column


# --- client messages -------------------------------------------------------------------

RequestId = Annotated[StrictStr, Field(max_length=REQUEST_ID_MAX)]


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    request_id: RequestId | None = None


class StartAgent(_ClientMessage):
    type: Literal["start_agent"]
    message: Annotated[StrictStr, Field(min_length=1, max_length=MESSAGE_MAX)]
    thread_id: StrictStr | None = None
    dataset_id: StrictStr | None = None


class StopAgent(_ClientMessage):
    type: Literal["stop_agent"]
    run_id: StrictStr


class Subscribe(_ClientMessage):
    type: Literal["subscribe"]
    run_id: StrictStr
    after_seq: Annotated[StrictInt, Field(ge=0, le=SEQ_MAX)] = 0


class Ping(_ClientMessage):
    type: Literal["ping"]


ClientMessage = Annotated[StartAgent | StopAgent | Subscribe | Ping, Field(discriminator="type")]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = frozenset({"start_agent", "stop_agent", "subscribe", "ping"})


class InvalidMessage(Exception):
    """A client frame that is not a valid message; ``request_id`` is echoed when it was valid."""

    def __init__(self, message: str, request_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


def parse_client(frame: str | bytes) -> StartAgent | StopAgent | Subscribe | Ping:
    try:
        raw = json.loads(frame)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidMessage("the message is not valid JSON", None) from None
    if not isinstance(raw, dict):
        raise InvalidMessage("the message must be a JSON object", None)
    request_id = raw.get("request_id")
    valid_request_id = (
        request_id if isinstance(request_id, str) and len(request_id) <= REQUEST_ID_MAX else None
    )
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        shown = kind if isinstance(kind, str) else json.dumps(kind)
        raise InvalidMessage(
            f"unknown message type {shown[:64]!r}; expected one of "
            + ", ".join(sorted(CLIENT_TYPES)),
            valid_request_id,
        )
    try:
        return _client_adapter.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"][1:]) or "message"
        raise InvalidMessage(f"{field}: {error['msg']}", valid_request_id) from None


# --- server messages -------------------------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True)


# "request_id?" in the contract: absent, not null, when there is none.
EchoedRequestId = Annotated[str | None, Field(exclude_if=lambda value: value is None)]


class RunStarted(_Data):
    request_id: EchoedRequestId = None
    message: str
    dataset_id: str | None
    agents: list[str]


class AgentStarted(_Data):
    agent: str


class AgentThinking(_Data):
    agent: str
    text: str


class ToolExecuting(_Data):
    agent: str
    tool: str
    call_id: str
    args: dict[str, Any]


class ToolCompleted(_Data):
    agent: str
    tool: str
    call_id: str
    duration_ms: int
    result: Any


class AgentCompleted(_Data):
    agent: str
    duration_ms: int
    output: Any


class RunResumed(_Data):
    agent: str | None
    attempt: int


class Response(_Data):
    text: str
    # Questions the answer offers instead of one it could not answer: absent when none.
    suggestions: Annotated[list[str], Field(exclude_if=lambda value: not value)] = []


class RunCompleted(_Data):
    response: Response
    report_id: str | None = None
    duration_ms: int


class ErrorBody(_Data):
    code: str
    message: str


class RunFailed(_Data):
    error: ErrorBody


class RunCancelled(_Data):
    pass


EVENT_TYPES: dict[type[_Data], str] = {
    RunStarted: "run_started",
    AgentStarted: "agent_started",
    AgentThinking: "agent_thinking",
    ToolExecuting: "tool_executing",
    ToolCompleted: "tool_completed",
    AgentCompleted: "agent_completed",
    RunResumed: "run_resumed",
    RunCompleted: "run_completed",
    RunFailed: "run_failed",
    RunCancelled: "run_cancelled",
}
TERMINAL_TYPES = frozenset({"run_completed", "run_failed", "run_cancelled"})
RunEventData = (
    RunStarted
    | AgentStarted
    | AgentThinking
    | ToolExecuting
    | ToolCompleted
    | AgentCompleted
    | RunResumed
    | RunCompleted
    | RunFailed
    | RunCancelled
)


class ConnectionEstablished(_Data):
    connection_id: str
    user_id: str
    protocol: str = PROTOCOL
    heartbeat_interval_s: float


class Pong(_Data):
    request_id: EchoedRequestId = None


class Error(_Data):
    code: str
    message: str
    request_id: EchoedRequestId = None


_MESSAGE_TYPES: dict[type[_Data], str] = EVENT_TYPES | {
    ConnectionEstablished: "connection_established",
    Pong: "pong",
    Error: "error",
}


def encode(
    data: _Data,
    *,
    run_id: str | None = None,
    thread_id: str | None = None,
    seq: int | None = None,
    ts: datetime | None = None,
) -> str:
    """The one serializer: the envelope of PROTOCOL.md around ``data``, as JSON text."""
    envelope = {
        "type": _MESSAGE_TYPES[type(data)],
        "id": "evt-" + os.urandom(16).hex(),
        "run_id": run_id,
        "thread_id": thread_id,
        "seq": seq,
        "ts": rfc3339(ts or utc_now()),
        "data": data,
    }
    return to_json(envelope).decode()


def event_type(data: _Data) -> str:
    return _MESSAGE_TYPES[type(data)]
