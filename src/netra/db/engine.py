"""The database seam: run units of work against SQLite or PostgreSQL.

A unit is a plain function ``unit(conn: Connection) -> T`` of SQLAlchemy Core statements.
The same units run on both databases:

- ``await db.read(unit)`` runs it in a read transaction;
- ``await db.write(unit)`` queues it for the writer, which commits whatever units arrived
  together in ONE transaction (group commit), each inside its own savepoint so a unit that
  raises is rolled back alone and its caller gets the exception. The call returns once the
  transaction holding the unit has committed. ``db.submit(unit)`` queues it and returns that
  future at once.
- A ``Rows(statement, params)`` unit is data, not code: the writer sends all the ``Rows`` of
  a batch that share a statement in one ``executemany`` (an event log row costs ~8 µs
  instead of ~25 µs through a statement of its own).

SQLite (embedded) runs units on the synchronous pysqlite driver in worker threads: one
writer thread (a batch costs one thread hop and one commit, however many units it holds)
and a few reader threads (WAL: readers never wait for the writer). PostgreSQL runs the
same units through the async engine (asyncpg) with ``run_sync``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Executable, create_engine, event, text
from sqlalchemy.ext.asyncio import create_async_engine

log = structlog.get_logger(__name__)

T = TypeVar("T")
Unit = Callable[[Connection], T]
BATCH_MAX = 256
_Runner = Callable[[Connection, "list[_Pending]"], None]
SQLITE_READERS = 3


@dataclass(frozen=True, slots=True)
class Rows:
    """A unit that only executes ``statement`` with each of ``params`` (batchable)."""

    statement: Executable
    params: tuple[dict[str, Any], ...]

    def __call__(self, conn: Connection) -> None:
        for row in self.params:
            conn.execute(self.statement, row)


@dataclass(slots=True)
class _Pending:
    unit: Unit[Any]
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    result: Any = None
    error: BaseException | None = None


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._inbox: asyncio.Queue[_Pending] | None = None
        self._writer: asyncio.Task[None] | None = None
        if self.is_sqlite:
            self._sync = create_engine(
                url.replace("sqlite+aiosqlite://", "sqlite://", 1),
                pool_size=SQLITE_READERS + 1,
                max_overflow=0,
            )
            _configure_sqlite(self._sync)
            self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="db-write")
            self._read_threads = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="db-read")
        else:
            self._async = create_async_engine(
                url, pool_size=10, max_overflow=20, pool_pre_ping=True
            )

    # --- reads -------------------------------------------------------------------------

    async def read(self, unit: Unit[T]) -> T:
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._read_threads, self._read_sync, unit)
        async with self._async.connect() as conn:
            return await conn.run_sync(unit)

    def _read_sync(self, unit: Unit[T]) -> T:
        with self._sync.connect() as conn:
            try:
                return unit(conn)
            finally:
                conn.rollback()

    # --- writes ------------------------------------------------------------------------

    def submit(self, unit: Unit[T]) -> asyncio.Future[T]:
        """Queue ``unit`` for the next group commit; the future resolves after the commit."""
        if self._inbox is None:
            self._inbox = asyncio.Queue()
            self._writer = asyncio.create_task(self._write_batches(), name="db-writer")
        pending = _Pending(unit)
        self._inbox.put_nowait(pending)
        return pending.future

    async def write(self, unit: Unit[T]) -> T:
        # Shielded: a cancelled caller still has its unit committed (or failed) as queued.
        return await asyncio.shield(self.submit(unit))

    async def _write_batches(self) -> None:
        assert self._inbox is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < BATCH_MAX and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                try:
                    await self._commit(loop, batch, _run_units)
                except _UnitFailed:
                    if len(batch) > 1:  # keep the others: again, one savepoint per unit
                        await self._commit(loop, batch, _run_units_isolated)
            except Exception as exc:  # the commit itself failed: every unit failed
                log.exception("db.batch_failed", units=len(batch))
                for item in batch:
                    item.error = item.error or exc
            for item in batch:
                if not item.future.done():
                    if item.error is not None:
                        item.future.set_exception(item.error)
                    else:
                        item.future.set_result(item.result)
                self._inbox.task_done()

    async def _commit(
        self, loop: asyncio.AbstractEventLoop, batch: list[_Pending], run: _Runner
    ) -> None:
        if self.is_sqlite:
            await loop.run_in_executor(self._write_thread, self._commit_sync, batch, run)
        else:
            async with self._async.begin() as conn:
                await conn.run_sync(run, batch)

    def _commit_sync(self, batch: list[_Pending], run: _Runner) -> None:
        with self._sync.connect() as conn:
            conn.execution_options(netra_write=True)
            with conn.begin():
                run(conn, batch)

    # --- operations --------------------------------------------------------------------

    async def ping(self) -> None:
        await self.read(lambda conn: conn.execute(text("SELECT 1")).scalar())

    async def dispose(self) -> None:
        if self._writer is not None:
            assert self._inbox is not None
            await self._inbox.join()  # every queued unit committed
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if self.is_sqlite:
            self._write_thread.shutdown(wait=True)
            self._read_threads.shutdown(wait=True)
            self._sync.dispose()
        else:
            await self._async.dispose()


class _UnitFailed(Exception):
    """A unit raised: roll the transaction back (its error is on the item)."""


def _run_units(conn: Connection, batch: list[_Pending]) -> None:
    """Run the units of a batch in one transaction.

    Optimistic first: no savepoints, and the ``Rows`` units grouped by statement into one
    ``executemany`` each. If anything raises, the transaction is rolled back and, when the
    batch had other units, the writer runs it again with one savepoint per unit
    (``_run_units_isolated``), so only the failing unit fails.
    """
    grouped: dict[Executable, list[dict[str, Any]]] = {}
    for item in batch:
        if isinstance(item.unit, Rows):
            grouped.setdefault(item.unit.statement, []).extend(item.unit.params)
    try:
        for statement, params in grouped.items():
            conn.execute(statement, params)
    except Exception as exc:
        for item in batch:
            if isinstance(item.unit, Rows):
                item.error = exc
        raise _UnitFailed from exc
    for item in batch:
        if isinstance(item.unit, Rows):
            continue
        try:
            item.result = item.unit(conn)
        except Exception as exc:
            item.error = exc
            raise _UnitFailed from exc


def _run_units_isolated(conn: Connection, batch: list[_Pending]) -> None:
    for item in batch:
        item.error = None
        savepoint = conn.begin_nested()
        try:
            item.result = item.unit(conn)
        except Exception as exc:
            savepoint.rollback()
            item.error = exc
        else:
            savepoint.commit()


def _configure_sqlite(engine: Any) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is emitted below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writes take the lock up front, so another process (``netra ingest``) waits on
        # busy_timeout instead of failing a lock upgrade.
        immediate = conn.get_execution_options().get("netra_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
