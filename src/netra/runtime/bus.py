"""The event bus seam: deliver a user's events to every connection of that user.

``Bus`` is the interface; ``MemoryBus`` delivers within this process and ``RedisBus``
across processes (Redis pub/sub, one channel per user). A subscription is scoped to one
user by construction: nothing else can be read from it.
"""

from __future__ import annotations

import asyncio
import json
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
# A notice to every subscription of a process whose Redis connection came back: what was
# published while it was away is lost, so connections catch up from the event log.
RECONNECTED = "bus_reconnected"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A run event (``body`` is its wire JSON) or a control notice (``session_revoked``)."""

    type: str
    body: str
    run_id: str | None = None
    seq: int | None = None


class Subscription:
    """A bounded inbox of one user's deliveries for one connection."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(SUBSCRIPTION_BUFFER)
        self.overflowed = False

    def put(self, delivery: Delivery) -> None:
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.overflowed = True  # the reader closes the connection; the client replays

    async def get(self) -> Delivery:
        return await self._queue.get()


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> None: ...
    async def publish(self, user_id: str, delivery: Delivery) -> None: ...
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

    def deliver_to_all(self, delivery: Delivery) -> None:
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.put(delivery)

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
    """Redis pub/sub: channel ``netra:user:{id}``; one listening connection per process."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._local = MemoryBus()
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._reconnected = False

    @staticmethod
    def channel(user_id: str) -> str:
        return f"netra:user:{user_id}"

    async def start(self) -> None:
        await self._redis.ping()
        # A pub/sub connection needs one channel before it can be listened to.
        await self._pubsub.subscribe("netra:bus")
        # Called at each reconnection, after the pub/sub connection has subscribed again.
        connection = self._pubsub.connection
        assert connection is not None  # subscribing connected it
        connection.register_connect_callback(self._on_reconnect)
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def publish(self, user_id: str, delivery: Delivery) -> None:
        await self._redis.publish(self.channel(user_id), json.dumps(asdict(delivery)))

    @asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[Subscription]:
        subscription, first = self._local.add(user_id)
        try:
            if first:
                await self._pubsub.subscribe(self.channel(user_id))
            yield subscription
        finally:
            if self._local.discard(subscription):
                await self._pubsub.unsubscribe(self.channel(user_id))

    def _on_reconnect(self, connection: object) -> None:
        self._reconnected = True

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus.redis_read_failed")
                await asyncio.sleep(0.5)
                continue
            if self._reconnected:
                self._reconnected = False
                log.info("bus.redis_reconnected")
                self._local.deliver_to_all(Delivery(type=RECONNECTED, body=""))
            if message is None or message["type"] != "message":
                continue
            channel = message["channel"].decode()
            user_id = channel.removeprefix("netra:user:")
            self._local.deliver(user_id, Delivery(**json.loads(message["data"])))


def create_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
