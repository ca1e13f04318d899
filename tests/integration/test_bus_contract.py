"""The event bus contract, run against the in-process and the Redis implementation."""

import asyncio
import time
import uuid

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from netra.runtime.bus import GAP, PUBLISH_TIMEOUT_S, Delivery, RedisBus
from tests.support import start_redis
from tests.tcp_proxy import TcpProxy


def _user() -> str:
    return f"user-{uuid.uuid4().hex}"


async def _next(subscription, timeout=2.0):
    return await asyncio.wait_for(subscription.get(), timeout)


async def _settle(bus):
    await asyncio.sleep(0.05 if type(bus).__name__ == "RedisBus" else 0)


async def test_a_subscriber_receives_its_users_events_in_order(bus):
    user = _user()
    async with bus.subscribe(user) as subscription:
        await _settle(bus)
        for seq in range(1, 6):
            await bus.publish(user, Delivery("agent_started", f"body-{seq}", "run", seq))
        received = [await _next(subscription) for _ in range(5)]
    assert [d.seq for d in received] == [1, 2, 3, 4, 5]
    assert received[0] == Delivery("agent_started", "body-1", "run", 1)


async def test_every_subscription_of_a_user_receives_each_event(bus):
    user = _user()
    async with bus.subscribe(user) as first, bus.subscribe(user) as second:
        await _settle(bus)
        await bus.publish(user, Delivery("run_started", "b", "r", 1))
        assert (await _next(first)).body == "b"
        assert (await _next(second)).body == "b"


async def test_no_event_crosses_to_another_user(bus):
    alice, bob = _user(), _user()
    async with bus.subscribe(alice) as alice_sub, bus.subscribe(bob) as bob_sub:
        await _settle(bus)
        await bus.publish(alice, Delivery("run_started", "for-alice", "r1", 1))
        await bus.publish(bob, Delivery("run_started", "for-bob", "r2", 1))
        assert (await _next(alice_sub)).body == "for-alice"
        assert (await _next(bob_sub)).body == "for-bob"
        await asyncio.sleep(0.1)
        assert not alice_sub._items and not bob_sub._items


async def test_after_unsubscribing_nothing_more_arrives(bus):
    user = _user()
    async with bus.subscribe(user) as subscription:
        await _settle(bus)
    await bus.publish(user, Delivery("run_started", "late", "r", 1))
    await asyncio.sleep(0.1)
    assert not subscription._items


async def test_control_notices_travel_like_events(bus):
    user = _user()
    async with bus.subscribe(user) as subscription:
        await _settle(bus)
        await bus.publish(user, Delivery("session_revoked", "session-1"))
        notice = await _next(subscription)
    assert (notice.type, notice.body, notice.run_id, notice.seq) == (
        "session_revoked",
        "session-1",
        None,
        None,
    )


async def test_the_bus_answers_its_health_check(bus):
    await bus.ping()


async def test_a_redis_bus_whose_server_is_gone_fails_its_health_check(private_redis):
    server, url = private_redis
    bus = RedisBus(url)
    await bus.start()
    try:
        await bus.ping()
        server.terminate()
        server.wait(10)
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(bus.ping(), 30)
    finally:
        await bus.stop()


async def _gap_then_live(bus, subscription, user, seq):
    """After an outage: a GAP notice first, then live deliveries again."""
    notice = await _next(subscription, 20)
    assert notice.type == GAP, notice
    await bus.publish(user, Delivery("agent_started", "after", "run", seq))
    assert (await _next(subscription)).seq == seq


async def test_a_redis_bus_survives_a_redis_restart_and_signals_the_gap(private_redis, tmp_path):
    server, url = private_redis
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    bus = RedisBus(url)
    await bus.start()
    restarted = None
    user = _user()
    try:
        async with bus.subscribe(user) as subscription:
            await _settle(bus)
            await bus.publish(user, Delivery("agent_started", "before", "run", 1))
            assert (await _next(subscription)).seq == 1
            server.kill()
            server.wait()
            started = time.monotonic()
            await bus.publish(user, Delivery("agent_started", "lost", "run", 2))  # no raise
            assert time.monotonic() - started < PUBLISH_TIMEOUT_S + 0.5
            restarted = start_redis(port, tmp_path)
            await _gap_then_live(bus, subscription, user, 3)
    finally:
        await bus.stop()
        if restarted is not None:
            restarted.kill()
            restarted.wait()


async def test_a_redis_bus_gives_up_on_a_hung_redis_and_resumes(private_redis):
    _, url = private_redis
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    proxy = await TcpProxy(host, int(port)).start()
    bus = RedisBus(f"redis://127.0.0.1:{proxy.port}/0")
    await bus.start()
    user = _user()
    try:
        async with bus.subscribe(user) as subscription:
            await _settle(bus)
            proxy.pause()
            started = time.monotonic()
            await bus.publish(user, Delivery("agent_started", "lost", "run", 1))
            assert time.monotonic() - started < PUBLISH_TIMEOUT_S + 0.5
            with pytest.raises(RedisConnectionError):  # down until it has reconnected
                await bus.ping()
            proxy.restore()
            await _gap_then_live(bus, subscription, user, 2)
    finally:
        await bus.stop()
        await proxy.stop()
