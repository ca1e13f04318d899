"""The WebSocket gateway ``/ws``: one ``Connection`` per socket, bound to one user.

Delivery rules (PROTOCOL.md "Delivery and isolation"):
- a connection reads only its own user's bus channel;
- it follows a run live when it sees that run's ``run_started`` (seq 1), or after it
  sends ``subscribe``; events of runs it does not follow are ignored;
- per followed run it remembers the last ``seq`` sent: an older or equal one is a
  duplicate and dropped; a newer one after a hole is preceded by the hole, read from the
  event log, so every event reaches the client exactly once and in order.

A client mistake gets an ``error`` and the socket stays open; only sustained abuse
(1008), an oversized frame (1009), the end of the session (4401) or server shutdown
(1001) close it. A message needing a dependency that is down gets ``error``
``unavailable`` and the socket stays open; a handshake while the database is down gets
that ``error`` and close 1013 (try again later). After the bus lost Redis (a ``GAP``
notice), the runs followed and those started since the connection opened are caught up
from the event log, each event once, in order.
A user's socket beyond ``max_sockets_per_user`` on this server is accepted and closed at
once with 1008 and a reason saying so.

An abusive connection logs one line per kind (its first refused message, its closing for
abuse) and, when it ends, one line counting what was refused: never one per frame.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import structlog
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from netra.auth.sessions import Principal, authenticate
from netra.clock import utc_now
from netra.db import events as event_rows
from netra.db import runs as run_rows
from netra.db import sessions
from netra.errors import NetraError, Unauthorized, Unavailable
from netra.ids import new_id
from netra.protocol import (
    PROTOCOL,
    TERMINAL_TYPES,
    ConnectionEstablished,
    Error,
    InvalidMessage,
    Ping,
    Pong,
    StartAgent,
    StopAgent,
    Subscribe,
    encode,
    parse_client,
)
from netra.resources import Resources
from netra.runtime.bus import GAP, Delivery, Subscription

log = structlog.get_logger(__name__)
router = APIRouter()

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_UNAUTHORIZED = 4401
BURST_SECONDS = 10  # the message rate is averaged over this window
ABUSE_REJECTIONS = 1000  # rejected messages in ABUSE_WINDOW_S that close with 1008
ABUSE_WINDOW_S = 60.0
ENDED_RUNS_KEPT = 256
CLOSE_TIMEOUT_S = 2.0  # a client that stopped reading cannot hold shutdown up


class Gateway:
    """The open connections of this process, so shutdown can close them with 1001."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self._per_user: Counter[str] = Counter()

    def admit(self, connection: Connection, limit: int) -> bool:
        """Count ``connection`` in, unless its user already has ``limit`` sockets here."""
        user_id = connection.principal.user_id
        if self._per_user[user_id] >= limit:
            return False
        self._per_user[user_id] += 1
        self.connections.add(connection)
        return True

    def release(self, connection: Connection) -> None:
        self.connections.discard(connection)
        user_id = connection.principal.user_id
        self._per_user[user_id] -= 1
        if not self._per_user[user_id]:
            del self._per_user[user_id]

    async def close_all(self, code: int = CLOSE_GOING_AWAY) -> None:
        closing = [
            asyncio.wait_for(connection.close(code, "server shutting down"), CLOSE_TIMEOUT_S)
            for connection in self.connections
        ]
        await asyncio.gather(*closing, return_exceptions=True)


def _offered_token(websocket: WebSocket) -> str | None:
    for protocol in websocket.scope.get("subprotocols", []):
        if protocol.startswith("bearer."):
            return protocol.removeprefix("bearer.")
    scheme, _, token = (websocket.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    resources: Resources = websocket.app.state.resources
    token = _offered_token(websocket)
    try:
        if token is None:
            raise Unauthorized("no access token")
        principal = await authenticate(resources.db, resources.settings, token)
    except Unauthorized:
        await websocket.close(code=CLOSE_UNAUTHORIZED)  # before accept: HTTP 403, no events
        return
    except Unavailable as exc:
        await _refuse_unavailable(websocket, exc)
        return
    offered = websocket.scope.get("subprotocols", [])
    subprotocol = PROTOCOL if PROTOCOL in offered else None
    gateway: Gateway = websocket.app.state.gateway
    connection = Connection(websocket, principal, resources)
    limit = resources.settings.max_sockets_per_user
    if not gateway.admit(connection, limit):
        log.warning("ws.too_many_sockets", user_id=principal.user_id, limit=limit)
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(
            code=CLOSE_POLICY, reason=f"too many connections for this user (limit {limit})"
        )
        return
    resources.metrics.ws_connections.inc()
    try:
        await websocket.accept(subprotocol=subprotocol)
        await connection.serve()
    finally:
        gateway.release(connection)
        resources.metrics.ws_connections.dec()


async def _refuse_unavailable(websocket: WebSocket, exc: Unavailable) -> None:
    """Accept only to say why: ``error`` ``unavailable``, then close 1013."""
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    await websocket.send_text(encode(Error(code=exc.code, message=exc.message)))
    await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="a dependency is unavailable")


async def _session_open(resources: Resources, principal: Principal) -> bool:
    found = await resources.db.read(
        lambda conn: sessions.revoked_at(conn, principal.session_id, principal.user_id)
    )
    return found is not None and found.revoked_at is None


class Connection:
    def __init__(self, websocket: WebSocket, principal: Principal, resources: Resources) -> None:
        self.websocket = websocket
        self.principal = principal
        self.resources = resources
        self.id = f"conn-{new_id()}"
        self.following: dict[str, int] = {}  # run_id -> last seq sent
        self._opened_at = utc_now()
        self._ended: list[str] = []  # lists, not deques: an idle socket holds them empty
        self._runs_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._closed = asyncio.Event()
        settings = resources.settings
        self._rate = settings.ws_messages_per_second
        self._tokens = self._rate * BURST_SECONDS
        self._refilled = time.monotonic()
        self._rejections: list[float] = []
        self._expiring: asyncio.Task[None] | None = None
        self._refused: Counter[str] = Counter()  # error code -> messages refused
        self._log = log.bind(connection_id=self.id, user_id=principal.user_id)

    # --- lifecycle ---------------------------------------------------------------------

    async def serve(self) -> None:
        async with self.resources.bus.subscribe(self.principal.user_id) as subscription:
            # A logout published between the handshake's check and this subscription would
            # be missed: check the session once more now that notices reach us.
            try:
                session_open = await _session_open(self.resources, self.principal)
            except Unavailable as exc:
                await self.send(encode(Error(code=exc.code, message=exc.message)))
                await self.close(CLOSE_TRY_AGAIN_LATER, "a dependency is unavailable")
                return
            if not session_open:
                await self.close(CLOSE_UNAUTHORIZED, "session logged out")
                return
            await self.send(
                encode(
                    ConnectionEstablished(
                        connection_id=self.id,
                        user_id=self.principal.user_id,
                        heartbeat_interval_s=self.resources.settings.heartbeat_interval_s,
                    )
                )
            )
            # A timer, not a task: an idle socket holds less (docs/benchmarks.md).
            expiry = asyncio.get_running_loop().call_later(
                max(0.0, self.principal.expires_at - time.time()), self._expire
            )
            tasks = [
                asyncio.create_task(self._read()),
                asyncio.create_task(self._pump(subscription)),
                asyncio.create_task(self._closed.wait()),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                expiry.cancel()
                for task in tasks:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for result in results:
                    if isinstance(result, Exception) and not isinstance(
                        result, WebSocketDisconnect
                    ):
                        self._log.error("ws.task_failed", error=repr(result))
                if self._refused:
                    self._log.warning("ws.refused_messages", **self._refused)

    async def close(self, code: int, reason: str = "") -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self.websocket.application_state == WebSocketState.CONNECTED:
            try:
                async with self._send_lock:
                    await self.websocket.close(code=code, reason=reason)
            except Exception:  # already gone
                pass

    async def send(self, text: str) -> None:
        async with self._send_lock:
            if self._closed.is_set():
                return
            await self.websocket.send_text(text)

    def _expire(self) -> None:
        self._expiring = asyncio.create_task(self.close(CLOSE_UNAUTHORIZED, "access token expired"))

    # --- client messages ---------------------------------------------------------------

    async def _read(self) -> None:
        while not self._closed.is_set():  # frames already queued are not served once closed
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("text")
            if frame is None:
                frame = message.get("bytes") or b""
            if not self._take_token():
                await self._reject("rate_limited", "too many messages; slow down", None)
                continue
            try:
                request = parse_client(frame)
            except InvalidMessage as exc:
                await self._reject("invalid_message", exc.message, exc.request_id)
                continue
            self.resources.metrics.ws_messages.labels(request.type).inc()
            try:
                await self._handle(request)
            except NetraError as exc:
                await self._reject(exc.code, exc.message, request.request_id)
            except Exception:
                self._log.exception("ws.message_failed", message_type=request.type)
                await self._reject(
                    "internal",
                    "the message could not be served; it has been logged",
                    request.request_id,
                )

    async def _handle(self, request: StartAgent | StopAgent | Subscribe | Ping) -> None:
        user_id = self.principal.user_id
        runner = self.resources.runner
        match request:
            case Ping():
                await self.send(encode(Pong(request_id=request.request_id)))
            case StartAgent():
                await runner.start(
                    user_id,
                    request.message,
                    thread_id=request.thread_id,
                    dataset_id=request.dataset_id,
                    request_id=request.request_id,
                )
            case StopAgent():
                await runner.cancel(user_id, request.run_id)
            case Subscribe():
                await self.resources.db.read(  # ownership: another user's run is not found
                    lambda conn: run_rows.get(conn, user_id, request.run_id)
                )
                async with self._runs_lock:
                    self.following[request.run_id] = request.after_seq
                    await self._send_from_log(request.run_id)

    def _take_token(self) -> bool:
        now = time.monotonic()
        capacity = self._rate * BURST_SECONDS
        self._tokens = min(capacity, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def _reject(self, code: str, message: str, request_id: str | None) -> None:
        self.resources.metrics.ws_errors.labels(code).inc()
        self._refused[code] += 1
        if code == "rate_limited" and self._refused[code] == 1:
            self._log.warning("ws.rate_limited")
        now = time.monotonic()
        self._rejections.append(now)
        while self._rejections and self._rejections[0] < now - ABUSE_WINDOW_S:
            self._rejections.pop(0)
        if len(self._rejections) > ABUSE_REJECTIONS:
            if not self._closed.is_set():
                self._log.warning("ws.closed_for_abuse")
            await self.close(CLOSE_POLICY, "too many rejected messages")
            return
        await self.send(encode(Error(code=code, message=message, request_id=request_id)))

    # --- run events --------------------------------------------------------------------

    async def _pump(self, subscription: Subscription) -> None:
        while True:
            delivery = await subscription.get()
            if subscription.overflowed:
                # This client fell too far behind; it reconnects and replays from the log.
                await self.close(CLOSE_GOING_AWAY, "too far behind; reconnect and subscribe")
                return
            try:
                await self._deliver(delivery)
            except Unavailable:  # the database is away: the next hole or GAP reads the log
                self._log.warning("ws.catch_up_failed", delivery=delivery.type)

    async def _deliver(self, delivery: Delivery) -> None:
        if delivery.type == "session_revoked":
            if delivery.body == self.principal.session_id:
                await self.close(CLOSE_UNAUTHORIZED, "session logged out")
            return
        if delivery.type == GAP:
            await self._catch_up()
            return
        run_id, seq = delivery.run_id, delivery.seq
        if run_id is None or seq is None:
            return
        async with self._runs_lock:
            last = self.following.get(run_id)
            if last is None:
                if seq != 1:
                    return  # started before this connection: only `subscribe` follows it
                last = self.following[run_id] = 0
            if seq <= last:
                return  # already sent (replayed)
            if seq > last + 1:
                await self._send_from_log(run_id)  # fill the hole, this event included
                return
            await self.send(delivery.body)
            self._sent(run_id, seq, delivery.type)

    async def _catch_up(self) -> None:
        """After a bus gap: the runs followed, and those started since this connection
        opened (their ``run_started`` may be what was missed), from the event log."""
        user_id = self.principal.user_id
        started = await self.resources.db.read(
            lambda conn: run_rows.ids_since(conn, user_id, self._opened_at)
        )
        async with self._runs_lock:
            for run_id in started:
                self.following.setdefault(run_id, 0)
            for run_id in [r for r in self.following if r not in self._ended]:
                await self._send_from_log(run_id)

    async def _send_from_log(self, run_id: str) -> None:
        """Send every stored event after the last one sent; caller holds ``_runs_lock``."""
        after = self.following[run_id]
        for seq, kind, body in await self.resources.db.read(
            lambda conn: event_rows.events_after(conn, run_id, after)
        ):
            await self.send(body)
            self._sent(run_id, seq, kind)

    def _sent(self, run_id: str, seq: int, kind: str) -> None:
        self.following[run_id] = seq
        if kind in TERMINAL_TYPES:  # keep a few ended runs to recognise late duplicates
            self._ended.append(run_id)
            if len(self._ended) > ENDED_RUNS_KEPT:
                self.following.pop(self._ended.pop(0), None)
