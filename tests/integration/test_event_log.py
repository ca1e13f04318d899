"""The event log on the database under test: seq, store-then-publish, one terminal event."""

import asyncio
import json
import uuid

from sqlalchemy import insert, select

from netra.clock import utc_now
from netra.db.events import events_after
from netra.db.runs import claim
from netra.db.tables import Run, RunEvent, Thread, User
from netra.protocol import (
    AgentStarted,
    AgentThinking,
    Response,
    RunCancelled,
    RunCompleted,
)
from netra.runtime.bus import MemoryBus
from netra.runtime.events import Emitter


def _run_values(user_id, thread_id, status="running"):
    now = utc_now()
    return dict(
        id=str(uuid.uuid4()),
        user_id=user_id,
        thread_id=thread_id,
        dataset_id=None,
        message="m",
        request_id=None,
        status=status,
        error=None,
        state=None,
        attempt=1,
        created_at=now,
        started_at=now,
        finished_at=None,
    )


async def _run(db) -> tuple[str, str, str]:
    user_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
    run = _run_values(user_id, thread_id)
    now = utc_now()

    def unit(conn):
        conn.execute(
            insert(User),
            dict(id=user_id, email=f"{user_id}@x.io", name="n", password_hash=None, created_at=now),
        )
        conn.execute(
            insert(Thread),
            dict(id=thread_id, user_id=user_id, title="t", created_at=now, updated_at=now),
        )
        conn.execute(insert(Run), run)

    await db.write(unit)
    return user_id, thread_id, run["id"]


def _stored(db, run_id, after=0):
    return db.read(lambda conn: events_after(conn, run_id, after))


async def test_events_are_numbered_from_one_and_stored_before_they_are_published(db):
    bus = MemoryBus()
    user_id, thread_id, run_id = await _run(db)
    stored_when_published = []
    original = bus.publish

    async def checking_publish(user, delivery):
        rows = await _stored(db, run_id, delivery.seq - 1)
        stored_when_published.append(bool(rows) and rows[0][0] == delivery.seq)
        await original(user, delivery)

    bus.publish = checking_publish
    emitter = Emitter(db, bus, user_id=user_id, thread_id=thread_id, run_id=run_id, last_seq=0)
    async with bus.subscribe(user_id) as subscription:
        for index in range(5):
            await emitter.emit(AgentThinking(agent="data", text=f"step {index}"))
        await emitter.finish(RunCompleted(response=Response(text="ok"), duration_ms=1), "completed")
        seqs = [(await subscription.get()).seq for _ in range(6)]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert all(stored_when_published)
    stored = await _stored(db, run_id)
    assert [seq for seq, _, _ in stored] == [1, 2, 3, 4, 5, 6]
    assert json.loads(stored[-1][2])["type"] == "run_completed"


async def test_concurrent_runs_are_group_committed_without_mixing_sequences(db):
    bus = MemoryBus()
    runs = [await _run(db) for _ in range(20)]

    async def drive(user_id, thread_id, run_id):
        emitter = Emitter(db, bus, user_id=user_id, thread_id=thread_id, run_id=run_id, last_seq=0)
        for _ in range(10):
            await emitter.emit(AgentStarted(agent="data"))
        await emitter.settled()

    await asyncio.gather(*(drive(*run) for run in runs))
    for _, _, run_id in runs:
        assert [seq for seq, _, _ in await _stored(db, run_id)] == list(range(1, 11))


async def test_a_run_ends_exactly_once(db):
    user_id, thread_id, run_id = await _run(db)
    emitter = Emitter(
        db, MemoryBus(), user_id=user_id, thread_id=thread_id, run_id=run_id, last_seq=0
    )
    first = await emitter.finish(RunCancelled(), "cancelled")
    second = await emitter.finish(
        RunCompleted(response=Response(text="x"), duration_ms=1), "completed"
    )
    assert (first, second) == (True, False)
    status = await db.read(lambda conn: conn.scalar(select(Run.status).where(Run.id == run_id)))
    types = await db.read(
        lambda conn: list(conn.scalars(select(RunEvent.type).where(RunEvent.run_id == run_id)))
    )
    assert status == "cancelled"
    assert types == ["run_cancelled"]


async def test_a_second_active_run_on_a_thread_is_refused_by_the_database(db):
    import pytest
    from sqlalchemy.exc import IntegrityError

    user_id, thread_id, _ = await _run(db)
    second = _run_values(user_id, thread_id, status="queued")
    with pytest.raises(IntegrityError):
        await db.write(lambda conn: conn.execute(insert(Run), second))


async def test_a_failing_unit_does_not_spoil_the_units_committed_with_it(db):
    user_id, thread_id, _ = await _run(db)
    duplicate = _run_values(user_id, thread_id, status="queued")
    fine = [_run_values(user_id, str(uuid.uuid4()), status="completed") for _ in range(5)]

    def insert_thread_and_run(values):
        def unit(conn):
            now = utc_now()
            conn.execute(
                insert(Thread),
                dict(
                    id=values["thread_id"],
                    user_id=user_id,
                    title="t",
                    created_at=now,
                    updated_at=now,
                ),
            )
            conn.execute(insert(Run), values)

        return unit

    results = await asyncio.gather(
        *(db.write(insert_thread_and_run(v)) for v in fine[:2]),
        db.write(lambda conn: conn.execute(insert(Run), duplicate)),
        *(db.write(insert_thread_and_run(v)) for v in fine[2:]),
        return_exceptions=True,
    )
    from sqlalchemy.exc import IntegrityError

    assert isinstance(results[2], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 2] == [None] * 5
    stored = await db.read(
        lambda conn: set(
            conn.scalars(select(Run.id).where(Run.id.in_([v["id"] for v in [*fine, duplicate]])))
        )
    )
    assert stored == {v["id"] for v in fine}


async def test_batched_rows_commit_together_and_a_bad_row_fails_alone(db):
    from netra.db import Rows

    _, _, run_id = await _run(db)
    good = [
        Rows.of(insert(RunEvent), {"run_id": run_id, "seq": s, "type": "x", "body": "{}"})
        for s in (1, 2, 3)
    ]
    duplicate = Rows.of(insert(RunEvent), {"run_id": run_id, "seq": 2, "type": "x", "body": "{}"})
    futures = [db.submit(unit) for unit in (good[0], good[1], duplicate, good[2])]
    results = await asyncio.gather(*futures, return_exceptions=True)
    from sqlalchemy.exc import IntegrityError

    assert isinstance(results[2], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 2] == [None, None, None]
    assert [seq for seq, _, _ in await _stored(db, run_id)] == [1, 2, 3]


async def test_an_executor_whose_run_was_taken_over_cannot_end_it(db):
    """A superseded executor (its lease lapsed while it still ran) ends nothing: the run is
    ended once, by the attempt that took it over."""
    user_id, thread_id, run_id = await _run(db)
    ids = dict(user_id=user_id, thread_id=thread_id, run_id=run_id)
    superseded = Emitter(db, MemoryBus(), **ids, last_seq=0, attempt=1)
    await db.write(lambda conn: claim(conn, run_id, utc_now(), resume=True))  # attempt 2
    current = Emitter(db, MemoryBus(), **ids, last_seq=0, attempt=2)

    done = RunCompleted(response=Response(text="x"), duration_ms=1)
    assert await superseded.finish(done, "completed") is False
    assert await current.finish(RunCancelled(), "cancelled") is True
    stored = await _stored(db, run_id)
    assert [(seq, kind) for seq, kind, _ in stored] == [(1, "run_cancelled")]
