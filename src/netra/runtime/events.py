"""The event log: every run event gets its ``seq``, is stored, and only then is published.

``EventLog`` owns one writer task that commits the events of all runs in small batches
(group commit: one transaction for whatever arrived while the previous one was being
written), so storing each event before delivering it stays cheap under load. A run's
``Emitter`` numbers its events 1, 2, 3, … and awaits each store before publishing.
Terminal events are written in their own transaction together with the run's final
status, its assistant message and its report, guarded so a run ends exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from netra.db import Database
from netra.db.tables import ACTIVE_STATUSES, Run, RunEvent
from netra.protocol import TERMINAL_TYPES, RunEventData, encode, event_type, utc_now
from netra.runtime.bus import Bus, Delivery

log = structlog.get_logger(__name__)

BATCH_MAX = 512

# Extra writes a terminal event commits with it (status, message, report).
FinalWrites = Callable[[AsyncConnection], Awaitable[None]]


@dataclass(slots=True)
class _Pending:
    event: dict[str, Any]
    state: dict[str, Any] | None
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class EventLog:
    def __init__(self, db: Database, bus: Bus) -> None:
        self.db = db
        self.bus = bus
        self._inbox: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_batches(), name="event-log-writer")

    async def stop(self) -> None:
        if self._writer is not None:
            await self._inbox.join()
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)

    def store(
        self, event: dict[str, Any], state: dict[str, Any] | None = None
    ) -> asyncio.Future[None]:
        """Queue one event row (and the run's resumable state); the future resolves on commit."""
        pending = _Pending(event, state)
        self._inbox.put_nowait(pending)
        return pending.done

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < BATCH_MAX and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                async with self.db.write() as conn:
                    await conn.execute(insert(RunEvent), [item.event for item in batch])
                    for item in batch:
                        if item.state is not None:
                            await conn.execute(
                                update(Run)
                                .where(Run.id == item.event["run_id"])
                                .values(state=item.state)
                            )
            except Exception as exc:  # the run that awaits it turns this into run_failed
                log.exception("event_log.write_failed", batch=len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
            else:
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)
            finally:
                for _ in batch:
                    self._inbox.task_done()


class Emitter:
    """Numbers, stores and publishes the events of one run (one emitter per run)."""

    def __init__(
        self, log_: EventLog, *, user_id: str, thread_id: str, run_id: str, last_seq: int
    ) -> None:
        self._log = log_
        self.user_id = user_id
        self.thread_id = thread_id
        self.run_id = run_id
        self.seq = last_seq
        self._last_store: asyncio.Future[None] | None = None

    def _row(self, data: RunEventData) -> dict[str, Any]:
        self.seq += 1
        body = encode(data, run_id=self.run_id, thread_id=self.thread_id, seq=self.seq)
        return {"run_id": self.run_id, "seq": self.seq, "type": event_type(data), "body": body}

    async def _publish(self, row: dict[str, Any]) -> None:
        delivery = Delivery(type=row["type"], body=row["body"], run_id=self.run_id, seq=row["seq"])
        await self._log.bus.publish(self.user_id, delivery)

    async def emit(self, data: RunEventData, *, state: dict[str, Any] | None = None) -> None:
        if event_type(data) in TERMINAL_TYPES:
            raise ValueError("terminal events go through Emitter.finish")
        row = self._row(data)
        self._last_store = self._log.store(row, state)
        await asyncio.shield(self._last_store)  # a cancelled run still gets its event stored
        await self._publish(row)

    async def finish(
        self, data: RunEventData, status: str, *, error: dict[str, Any] | None = None,
        writes: FinalWrites | None = None,
    ) -> bool:
        """Store the terminal event with the final status (and ``writes``), then publish it.

        Returns False, storing nothing, when the run had already ended. Waits for the
        run's previous event to be committed first, so the log never has a hole.
        """
        if self._last_store is not None:
            await asyncio.wait([self._last_store])
        row = self._row(data)
        async with self._log.db.write() as conn:
            ended = await conn.execute(
                update(Run)
                .where(Run.id == self.run_id, Run.status.in_(ACTIVE_STATUSES))
                .values(status=status, error=error, finished_at=utc_now())
            )
            if ended.rowcount != 1:
                self.seq -= 1
                return False
            await conn.execute(insert(RunEvent).values(row))
            if writes is not None:
                await writes(conn)
        await self._publish(row)
        return True
