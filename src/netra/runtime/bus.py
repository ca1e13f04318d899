"""The event bus seam: deliver a user's events to every connection of that user.

``Bus`` is the interface; ``MemoryBus`` delivers within this process and ``RedisBus``
across processes (Redis pub/sub, one channel per user). A subscription is scoped to one
user by construction: nothing else can be read from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

SUBSCRIPTION_BUFFER = 10_000
# The topic of notices to run executors (``cancel_run``), subscribed to like a user's: it is
# never a user id (those are UUIDs), so no user's connection can read it.
EXECUTORS = "executors"
# A notice to every subscription after the bus lost its connection: deliveries may have
# been missed while it was away, so a reader catches up from the event log.
GAP = "bus_gap"
REDIS_TIMEOUT_S = 2.0
PUBLISH_TIMEOUT_S = 2.0
PUBLISH_BATCH = 256  # messages sent in one pipeline at most
LISTEN_POLL_S = 0.5
PING_EVERY_S = 1.0
SILENCE_S = 3.0
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 2.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """A run event (``body`` is its wire JSON) or a control notice (``session_revoked``)."""

    type: str
    body: str
    run_id: str | None = None
    seq: int | None = None


class Subscription:
    """A bounded inbox of one user's deliveries for one connection, read by one reader.

    A deque and a future, not an ``asyncio.Queue`` (three deques): every idle socket holds
    one (docs/benchmarks.md).
    """

    __slots__ = ("_items", "_waiter", "overflowed", "user_id")

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.overflowed = False
        self._items: deque[Delivery] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, delivery: Delivery) -> None:
        if len(self._items) >= SUBSCRIPTION_BUFFER:
            self.overflowed = True  # the reader closes the connection; the client replays
            return
        self._items.append(delivery)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Delivery:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> None: ...
    async def publish(self, user_id: str, delivery: Delivery) -> None:
        """Deliver to the user's subscriptions; never raises (the event is stored first:
        a lost delivery is caught up from the log after a ``GAP`` notice)."""
        ...

    def subscribe(self, user_id: str) -> AbstractAsyncContextManager[Subscription]: ...


class MemoryBus:
    """In-process fan-out; also the local half of RedisBus."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscriptions.clear()

    async def ping(self) -> None:
        return None

    async def publish(self, user_id: str, delivery: Delivery) -> None:
        self.deliver(user_id, delivery)

    def deliver(self, user_id: str, delivery: Delivery) -> None:
        for subscription in self._subscriptions.get(user_id, ()):
            subscription.put(delivery)

    def user_ids(self) -> list[str]:
        return list(self._subscriptions)

    def subscriptions(self) -> list[Subscription]:
        return [s for subscribers in self._subscriptions.values() for s in subscribers]

    def add(self, user_id: str) -> tuple[Subscription, bool]:
        """Register a subscription; True when it is the user's first in this process."""
        subscription = Subscription(user_id)
        subscribers = self._subscriptions.setdefault(user_id, set())
        subscribers.add(subscription)
        return subscription, len(subscribers) == 1

    def discard(self, subscription: Subscription) -> bool:
        """Unregister; True when the user has no subscription left in this process."""
        subscribers = self._subscriptions.get(subscription.user_id)
        if subscribers is None:
            return False
        subscribers.discard(subscription)
        if subscribers:
            return False
        del self._subscriptions[subscription.user_id]
        return True

    @asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[Subscription]:
        subscription, _ = self.add(user_id)
        try:
            yield subscription
        finally:
            self.discard(subscription)


class RedisBus:
    """Redis pub/sub: channel ``netra:user:{id}``; one listening connection per process.

    Redis may go away (killed, restarted, hung): ``publish`` then gives up within
    ``PUBLISH_TIMEOUT_S`` without raising (the event is already stored) and publishes
    nothing more until the bus is reconnected, and ``ping`` fails meanwhile. The reader
    pings its connection every ``PING_EVERY_S`` and calls it lost after ``SILENCE_S``
    without an answer; it reconnects with backoff, subscribes again to every channel this
    process follows and hands each subscription a ``GAP`` notice: deliveries may have been
    missed, read them from the event log.
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._local = MemoryBus()
        self._reader: asyncio.Task[None] | None = None
        # Redis failed a call: the reader reconnects, publishing pauses until it has.
        self._lost = asyncio.Event()
        self._outgoing: deque[tuple[str, str, asyncio.Future[None]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self.reconnects = 0

    @staticmethod
    def channel(user_id: str) -> str:
        return f"netra:user:{user_id}"

    async def start(self) -> None:
        """Connect; a Redis not answering yet is waited for by the reader, as for a loss."""
        try:
            # A pub/sub connection needs one channel before it can be listened to.
            await asyncio.wait_for(self._pubsub.subscribe("netra:bus"), REDIS_TIMEOUT_S)
        except Exception as exc:
            log.warning("bus.redis_unavailable_at_start", error=repr(exc), retrying=True)
            self._lost.set()
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def stop(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> None:
        if self._lost.is_set():
            from redis.exceptions import ConnectionError as RedisConnectionError

            raise RedisConnectionError("the bus is reconnecting to Redis")
        await asyncio.wait_for(self._redis.ping(), REDIS_TIMEOUT_S)

    async def publish(self, user_id: str, delivery: Delivery) -> None:
        """Returns once Redis has the message (or the bus has given up on it).

        Messages published while a send is in flight wait for it and go together, in the
        order of their ``publish`` calls, in one pipeline: one round trip instead of one per
        event under load.
        """
        if self._lost.is_set():
            return  # reconnecting: the subscribers catch up from the log after the gap
        sent = asyncio.get_running_loop().create_future()
        self._outgoing.append((self.channel(user_id), json.dumps(asdict(delivery)), sent))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_outgoing(), name="redis-bus-sender")
        await sent

    async def _send_outgoing(self) -> None:
        while self._outgoing:
            batch = [
                self._outgoing.popleft() for _ in range(min(PUBLISH_BATCH, len(self._outgoing)))
            ]
            if not self._lost.is_set():
                pipeline = self._redis.pipeline(transaction=False)
                for channel, message, _ in batch:
                    pipeline.publish(channel, message)
                try:
                    await asyncio.wait_for(pipeline.execute(), PUBLISH_TIMEOUT_S)
                except Exception as exc:  # stored already: subscribers catch up after the gap
                    log.warning("bus.publish_failed", error=repr(exc), messages=len(batch))
                    self._lost.set()
            for _, _, sent in batch:
                if not sent.done():  # a cancelled publisher's message went all the same
                    sent.set_result(None)

    @asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[Subscription]:
        subscription, first = self._local.add(user_id)
        try:
            if first:
                await self._follow(self.channel(user_id))
            yield subscription
        finally:
            if self._local.discard(subscription):
                with contextlib.suppress(Exception):  # a lost connection follows nothing
                    await asyncio.wait_for(
                        self._pubsub.unsubscribe(self.channel(user_id)), REDIS_TIMEOUT_S
                    )

    async def _follow(self, channel: str) -> None:
        try:
            await asyncio.wait_for(self._pubsub.subscribe(channel), REDIS_TIMEOUT_S)
        except Exception as exc:  # the reconnection subscribes to it
            log.warning("bus.subscribe_failed", error=repr(exc))
            self._lost.set()

    async def _read(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus.redis_lost", error=repr(exc))
            self._lost.set()
            await self._reconnect()
            self.reconnects += 1
            log.info("bus.redis_back", reconnects=self.reconnects)
            for subscription in self._local.subscriptions():
                subscription.put(Delivery(type=GAP, body=""))

    async def _listen(self) -> None:
        heard = pinged = time.monotonic()
        while not self._lost.is_set():
            message = await self._pubsub.get_message(timeout=LISTEN_POLL_S)
            now = time.monotonic()
            if message is not None:
                heard = now
                if message["type"] == "message":
                    channel = message["channel"].decode()
                    user_id = channel.removeprefix("netra:user:")
                    self._local.deliver(user_id, Delivery(**json.loads(message["data"])))
                continue
            if now - heard > SILENCE_S:
                raise ConnectionError(f"no answer from Redis for {SILENCE_S} s")
            if now - pinged >= PING_EVERY_S:
                pinged = now
                await asyncio.wait_for(self._pubsub.ping(), REDIS_TIMEOUT_S)

    async def _reconnect(self) -> None:
        """A new pub/sub connection following every channel of this process's users."""
        delay = RECONNECT_MIN_S
        while True:
            await asyncio.sleep(delay)
            old, self._pubsub = self._pubsub, self._redis.pubsub(ignore_subscribe_messages=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.aclose(), REDIS_TIMEOUT_S)
            channels = [self.channel(user_id) for user_id in self._local.user_ids()]
            try:
                await asyncio.wait_for(
                    self._pubsub.subscribe("netra:bus", *channels), REDIS_TIMEOUT_S
                )
                self._lost.clear()
                return
            except Exception as exc:
                log.debug("bus.reconnect_failed", error=repr(exc))
            delay = min(delay * 2, RECONNECT_MAX_S)


def create_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
