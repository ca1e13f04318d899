"""The database seam: run units of work against SQLite or PostgreSQL.

A unit is a plain function ``unit(conn: Connection) -> T`` of SQLAlchemy Core statements.
The same units run on both databases:

- ``await db.read(unit)`` runs it in a read transaction;
- ``await db.write(unit)`` queues it for the writer, which commits whatever units arrived
  together in ONE transaction (group commit); a unit that raises is rolled back alone and
  its caller gets the exception. The call returns once the transaction holding the unit has
  committed. ``db.submit(unit)`` queues it and returns that future at once.
- Two lanes: units somebody waits on (``write``: admissions, logins, a run's end) go into the
  next batch ahead of background units (``submit``: the event log of running runs), and a
  batch holding urgent units takes few background ones, so it commits quickly even when the
  event log is busy.
- A ``Rows.of(statement, *params)`` unit is data, not code: the writer sends all the rows of
  a batch's ``Rows`` units that share a statement in one ``executemany`` (an event log row
  costs ~8 µs instead of ~25 µs through a statement of its own).

SQLite (embedded) runs units on the synchronous pysqlite driver in worker threads: one
writer thread (a batch costs one thread hop and one commit, however many units it holds)
and a few reader threads (WAL: readers never wait for the writer). The WAL is checkpointed
by a reader thread at most once a second, not by the commit that happens to cross
SQLite's threshold: that commit, and every unit queued behind it, waited for the copy.
PostgreSQL runs the same units through the async engine (asyncpg) with ``run_sync``.

Pooled PostgreSQL connections are not pinged before each use (a round trip per transaction,
~8 % of a worker's CPU under load): a connection that turns out dead on its first statement
(PostgreSQL restarted since it was pooled) is dropped with the rest of the pool, and the
read, or the batch before its COMMIT, runs again once on a new connection. A batch that
loses its connection during COMMIT is not run again (it may have committed).

A PostgreSQL that is down or hung fails a caller within seconds, never a hang: connecting is
bounded (``PG_CONNECT_TIMEOUT_S``), every statement too (``PG_STATEMENT_TIMEOUT_S``, on the
server and on the client), waiting for a pooled connection too; ``read`` and ``write``
raise ``Unavailable`` for a connection or timeout error, and the next call connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Executable, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import create_async_engine

from netra.errors import Unavailable
from netra.repeats import Repeats

log = structlog.get_logger(__name__)

T = TypeVar("T")
Unit = Callable[[Connection], T]
BATCH_MAX = 128
BATCH_MAX_WITH_URGENT = 32  # background units that may share a batch with urgent ones
_Runner = Callable[[Connection, "list[_Pending]"], None]
SQLITE_READERS = 3
CHECKPOINT_INTERVAL_S = 1.0
PG_CONNECT_TIMEOUT_S = 2.0
PG_STATEMENT_TIMEOUT_S = 3.0
PG_POOL_TIMEOUT_S = 3.0
PG_POOL_KEPT = 10  # PostgreSQL connections kept open; up to ``max_connections`` in all


@dataclass(frozen=True, slots=True)
class Rows:
    """A unit that only executes statements with rows of parameters (batchable).

    ``Rows.of(statement, *params)``; ``a + b`` is one unit doing both, in that order.
    """

    writes: tuple[tuple[Executable, tuple[dict[str, Any], ...]], ...]

    @classmethod
    def of(cls, statement: Executable, *params: dict[str, Any]) -> Rows:
        return cls(((statement, params),))

    def __add__(self, other: Rows) -> Rows:
        return Rows(self.writes + other.writes)

    def __call__(self, conn: Connection) -> None:
        for statement, params in self.writes:
            for row in params:
                conn.execute(statement, row)


@dataclass(slots=True)
class _Pending:
    unit: Unit[Any]
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    result: Any = None
    error: BaseException | None = None


class Database:
    def __init__(self, url: str, *, max_connections: int = 30) -> None:
        """``max_connections``: this process's PostgreSQL connections at most (not SQLite)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._urgent: deque[_Pending] = deque()
        self._background: deque[_Pending] = deque()
        self._arrived: asyncio.Event | None = None  # set while a lane holds units
        self._idle: asyncio.Event | None = None  # set when everything queued is committed
        self._writer: asyncio.Task[None] | None = None
        self._checkpoint: asyncio.Future[None] | None = None
        self._checkpointed_at = 0.0
        self._outage = Repeats()  # batches failed because the database is away
        if self.is_sqlite:
            _private_sqlite_files(url)
            self._sync = create_engine(
                url.replace("sqlite+aiosqlite://", "sqlite://", 1),
                pool_size=SQLITE_READERS + 1,
                max_overflow=0,
            )
            _configure_sqlite(self._sync)
            self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="db-write")
            self._read_threads = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="db-read")
        else:
            kept = min(PG_POOL_KEPT, max_connections)
            self._async = create_async_engine(
                url,
                pool_size=kept,
                max_overflow=max_connections - kept,
                pool_timeout=PG_POOL_TIMEOUT_S,
                connect_args={
                    "timeout": PG_CONNECT_TIMEOUT_S,
                    "command_timeout": PG_STATEMENT_TIMEOUT_S,
                    "server_settings": {
                        "statement_timeout": str(int(PG_STATEMENT_TIMEOUT_S * 1000))
                    },
                },
            )

    # --- reads -------------------------------------------------------------------------

    async def read(self, unit: Unit[T]) -> T:
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._read_threads, self._read_sync, unit)
        try:
            try:
                async with self._async.connect() as conn:
                    return await conn.run_sync(unit)
            except Exception as exc:
                if not _stale(exc):
                    raise
            async with self._async.connect() as conn:  # the pool was from before a restart
                return await conn.run_sync(unit)
        except Exception as exc:
            unavailable = _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _read_sync(self, unit: Unit[T]) -> T:
        with self._sync.connect() as conn:
            try:
                return unit(conn)
            finally:
                conn.rollback()

    # --- writes ------------------------------------------------------------------------

    def submit(self, unit: Unit[T], *, urgent: bool = False) -> asyncio.Future[T]:
        """Queue ``unit`` for a group commit; the future resolves after the commit."""
        if self._arrived is None or self._idle is None:
            self._arrived, self._idle = asyncio.Event(), asyncio.Event()
            self._writer = asyncio.create_task(self._write_batches(), name="db-writer")
        pending = _Pending(unit)
        (self._urgent if urgent else self._background).append(pending)
        self._arrived.set()
        self._idle.clear()
        return pending.future

    async def write(self, unit: Unit[T]) -> T:
        # Shielded: a cancelled caller still has its unit committed (or failed) as queued.
        try:
            return await asyncio.shield(self.submit(unit, urgent=True))
        except Exception as exc:
            unavailable = None if self.is_sqlite else _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _next_batch(self) -> list[_Pending]:
        batch = [self._urgent.popleft() for _ in range(min(BATCH_MAX, len(self._urgent)))]
        room = BATCH_MAX - len(batch) if not batch else BATCH_MAX_WITH_URGENT
        batch.extend(self._background.popleft() for _ in range(min(room, len(self._background))))
        return batch

    async def _write_batches(self) -> None:
        assert self._arrived is not None and self._idle is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._urgent and not self._background:
                self._idle.set()
                self._arrived.clear()
                await self._arrived.wait()
            batch = self._next_batch()
            try:
                try:
                    await self._commit(loop, batch, _run_units)
                except _UnitFailed:
                    if len(batch) > 1:  # keep the others: again, one savepoint per unit
                        await self._commit(loop, batch, _run_units_isolated)
            except Exception as exc:  # the commit itself failed: every unit failed
                if self.is_sqlite or _unavailable(exc) is None:
                    log.exception("db.batch_failed", units=len(batch))
                elif (seen := self._outage.count(type(exc).__name__)) is not None:
                    # The database is away: a line for the 1st, 10th, 100th... failure.
                    log.warning("db.batch_failed", units=len(batch), error=repr(exc), times=seen)
                for item in batch:
                    item.error = item.error or exc
            for item in batch:
                if not item.future.done():
                    if item.error is not None:
                        item.future.set_exception(item.error)
                    else:
                        item.future.set_result(item.result)
            if self.is_sqlite:
                self._checkpoint_when_due(loop)

    def _checkpoint_when_due(self, loop: asyncio.AbstractEventLoop) -> None:
        """Checkpoint the WAL on a reader thread, one at a time, at most once a second."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        if time.monotonic() - self._checkpointed_at < CHECKPOINT_INTERVAL_S:
            return
        self._checkpointed_at = time.monotonic()
        self._checkpoint = loop.run_in_executor(self._read_threads, self._checkpoint_sync)

    def _checkpoint_sync(self) -> None:
        try:
            with self._sync.connect() as conn:
                # PASSIVE: copies what it can without waiting for (or blocking) the writer.
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next one tries again
            log.exception("db.checkpoint_failed")

    async def _commit(
        self, loop: asyncio.AbstractEventLoop, batch: list[_Pending], run: _Runner
    ) -> None:
        if self.is_sqlite:
            await loop.run_in_executor(self._write_thread, self._commit_sync, batch, run)
            return
        for first_try in (True, False):
            async with self._async.connect() as conn:
                try:
                    await conn.begin()
                    await conn.run_sync(run, batch)
                except Exception as exc:
                    if not (first_try and _stale(exc)):
                        raise
                    for item in batch:  # the pool was from before a restart: once more
                        item.error, item.result = None, None
                    continue
                await conn.commit()  # not run again if it fails: it may have committed
                return

    def _commit_sync(self, batch: list[_Pending], run: _Runner) -> None:
        with self._sync.connect() as conn:
            conn.execution_options(netra_write=True)
            with conn.begin():
                run(conn, batch)

    # --- operations --------------------------------------------------------------------

    async def ping(self) -> None:
        await self.read(lambda conn: conn.execute(text("SELECT 1")).scalar())

    def connections(self) -> dict[str, int]:
        """This process's pooled connections: lent out ("in_use") and waiting ("idle")."""
        pool: Any = (self._sync if self.is_sqlite else self._async).pool
        return {"in_use": pool.checkedout(), "idle": pool.checkedin()}

    async def dispose(self) -> None:
        if self._writer is not None:
            assert self._idle is not None
            await self._idle.wait()  # every queued unit committed
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        if self.is_sqlite:
            self._write_thread.shutdown(wait=True)
            self._read_threads.shutdown(wait=True)
            self._sync.dispose()
        else:
            await self._async.dispose()


def _unavailable(exc: Exception) -> Unavailable | None:
    """``Unavailable`` for an error of reaching PostgreSQL, else None."""
    lost = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    if lost or isinstance(
        exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError)
    ):
        return Unavailable(
            "the database is unavailable; try again shortly",
            dependency="database",
            retry_after_s=2,
        )
    return None


def _stale(exc: BaseException) -> bool:
    """A pooled connection was found dead (the pool is invalidated with it)."""
    cause = exc.__cause__ if isinstance(exc, _UnitFailed) else exc
    return isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated


class _UnitFailed(Exception):
    """A unit raised: roll the transaction back (its error is on the item)."""


def _run_units(conn: Connection, batch: list[_Pending]) -> None:
    """Run the units of a batch in one transaction.

    Optimistic first: no savepoints, and the ``Rows`` units grouped by statement into one
    ``executemany`` each (statements in the order they first appear, rows in unit order).
    If anything raises, the transaction is rolled back and, when the batch had other units,
    the writer runs it again with one savepoint per unit (``_run_units_isolated``), so only
    the failing unit fails.
    """
    grouped: dict[Executable, list[dict[str, Any]]] = {}
    for item in batch:
        if isinstance(item.unit, Rows):
            for statement, params in item.unit.writes:
                grouped.setdefault(statement, []).extend(params)
    try:
        for statement, rows in grouped.items():
            conn.execute(statement, rows)
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


def _private_sqlite_files(url: str) -> None:
    """Make the SQLite file the server account's alone (0600) before SQLite opens it.

    SQLite creates the ``-wal`` and ``-shm`` files with the database file's mode; ones left
    by an earlier version are narrowed here too.
    """
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(name, 0o600)


def _configure_sqlite(engine: Any) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is emitted below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # the Database checkpoints (see above)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writes take the lock up front, so another process (``netra ingest``) waits on
        # busy_timeout instead of failing a lock upgrade.
        immediate = conn.get_execution_options().get("netra_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
