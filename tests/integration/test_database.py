"""The database seam's writer on the database under test: its two lanes, its checkpoints."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from netra.db import Database, engine


async def test_a_unit_somebody_waits_on_commits_ahead_of_queued_background_units(db):
    ran: list[tuple[str, object]] = []  # (unit, the connection of its batch)

    def background(index):
        def unit(conn):
            ran.append((f"background {index}", conn))

        return unit

    def urgent(conn):
        ran.append(("urgent", conn))

    futures = [db.submit(background(index)) for index in range(3 * engine.BATCH_MAX)]
    await db.write(urgent)
    await asyncio.gather(*futures)
    assert ran[0][0] == "urgent"
    assert [unit for unit, _ in ran[1:]] == [f"background {i}" for i in range(3 * engine.BATCH_MAX)]
    # …and its batch took only a few background units along, so it committed quickly.
    urgent_batch = [unit for unit, conn in ran if conn is ran[0][1]]
    assert len(urgent_batch) == 1 + engine.BATCH_MAX_WITH_URGENT


async def test_dispose_waits_for_every_queued_unit(migrated_url):
    database = Database(migrated_url)
    done: list[int] = []
    for index in range(engine.BATCH_MAX + 10):
        database.submit(lambda conn, index=index: done.append(index))
    await database.dispose()
    assert len(done) == engine.BATCH_MAX + 10


async def test_sqlite_wal_is_checkpointed_off_the_commit_path(migrated_url, db_kind, monkeypatch):
    if db_kind != "sqlite":
        pytest.skip("a SQLite write-ahead log: not on PostgreSQL")
    monkeypatch.setattr(engine, "CHECKPOINT_INTERVAL_S", 0.0)
    path = Path(migrated_url.split("///", 1)[1])
    database = Database(migrated_url)
    try:
        autocheckpoint = await database.read(
            lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        )
        assert autocheckpoint == 0  # commits never copy the log themselves
        await database.write(
            lambda conn: conn.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
        )
        before = path.stat().st_size
        for _ in range(5):
            await database.write(
                lambda conn: conn.execute(
                    text("INSERT INTO filler VALUES (:body)"), [{"body": "x" * 4000}] * 50
                )
            )
        assert database._checkpoint is not None
        await database._checkpoint
        await database.write(lambda conn: None)  # a checkpoint that starts after the inserts
        await database._checkpoint
        # The pages went from the log into the database file, by the checkpointer.
        assert path.stat().st_size > before + 500_000
    finally:
        await database.write(lambda conn: conn.execute(text("DROP TABLE filler")))
        await database.dispose()


async def test_postgresql_connections_stay_within_the_configured_maximum(migrated_url, db_kind):
    if db_kind != "postgresql":
        pytest.skip("a PostgreSQL connection pool: not on SQLite")
    database = Database(migrated_url, max_connections=2)
    held: set[int] = set()
    try:

        def read(conn):
            held.add(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
            conn.exec_driver_sql("SELECT pg_sleep(0.2)")

        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(database.read(read) for _ in range(4)))
        assert len(held) == 2  # four reads, two connections: two of them waited
        assert asyncio.get_running_loop().time() - started >= 0.4
    finally:
        await database.dispose()


async def test_connections_dropped_by_postgresql_are_replaced_without_failing_a_call(
    migrated_url, db_kind
):
    """Pooled connections are not pinged before use: one that PostgreSQL dropped (a restart,
    an idle timeout) fails its first statement, and that read or batch runs again on a new
    connection instead of failing its callers."""
    if db_kind != "postgresql":
        pytest.skip("a PostgreSQL connection pool: not on SQLite")
    database = Database(migrated_url, max_connections=4)
    admin = Database(migrated_url, max_connections=1)

    def backend(conn):
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    async def drop_pooled_connections() -> set[int]:
        pids = set(await asyncio.gather(*(database.read(backend) for _ in range(3))))
        pids.add(await database.write(backend))
        terminate = text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
            " FROM unnest(CAST(:pids AS int[])) pid"
        )
        dropped = await admin.write(lambda conn: conn.execute(terminate, {"pids": list(pids)}))
        assert dropped.scalar() == len(pids)
        await asyncio.sleep(0.2)  # the backends are gone; the pool still holds their sockets
        return pids

    try:
        await database.write(lambda conn: conn.execute(text("CREATE TABLE dropped (n INT)")))
        pids = await drop_pooled_connections()
        assert await database.read(backend) not in pids

        await drop_pooled_connections()
        await database.write(lambda conn: conn.execute(text("INSERT INTO dropped VALUES (1)")))
        rows = await database.read(lambda conn: conn.execute(text("SELECT n FROM dropped")).all())
        assert [tuple(row) for row in rows] == [(1,)]
    finally:
        await admin.write(lambda conn: conn.execute(text("DROP TABLE IF EXISTS dropped")))
        await admin.dispose()
        await database.dispose()
