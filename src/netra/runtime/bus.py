"""The event bus seam: deliver a user's events to every connection of that user.

``Bus`` is the interface; ``MemoryBus`` delivers within this process and ``RedisBus``
across processes (Redis pub/sub, one channel per user). A subscription is scoped to one
user by construction: nothing else can be read from it.
"""

from __future__ import annotations

import asyncio
import json
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

    @staticmethod
    def channel(user_id: str) -> str:
        return f"netra:user:{user_id}"

    async def start(self) -> None:
        await self._redis.ping()
        # A pub/sub connection needs one channel before it can be listened to.
        await self._pubsub.subscribe("netra:bus")
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
            if message is None or message["type"] != "message":
                continue
            channel = message["channel"].decode()
            user_id = channel.removeprefix("netra:user:")
            self._local.deliver(user_id, Delivery(**json.loads(message["data"])))


def create_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
