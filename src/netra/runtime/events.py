"""The event log: every run event gets its ``seq``, is stored, and only then is published.

A run's ``Emitter`` numbers its events 1, 2, 3, … and writes each one as a unit of work
(``Database.write`` commits the events of all runs together, in small batches), then
publishes it on the bus. Terminal events are written together with the run's final
status, its assistant message and its report, guarded so a run ends exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from netra.db import Database
from netra.db.tables import ACTIVE_STATUSES, Run, RunEvent
from netra.protocol import TERMINAL_TYPES, RunEventData, encode, event_type, utc_now
from netra.runtime.bus import Bus, Delivery

# Extra writes a terminal event commits with it (assistant message, report).
FinalWrites = Callable[[Connection], None]

# Prebuilt statements: the hot path binds parameters instead of building SQL per call.
_insert_event = insert(RunEvent)
_save_state = update(Run).where(Run.id == bindparam("run")).values(state=bindparam("new_state"))
_end_run = (
    update(Run)
    .where(Run.id == bindparam("run"), Run.status.in_(ACTIVE_STATUSES))
    .values(
        status=bindparam("new_status"),
        error=bindparam("new_error", type_=Run.error.type),
        finished_at=bindparam("ended_at", type_=Run.finished_at.type),
    )
)


class Emitter:
    """Numbers, stores and publishes the events of one run (one emitter per run)."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        user_id: str,
        thread_id: str,
        run_id: str,
        last_seq: int,
    ) -> None:
        self.db = db
        self.bus = bus
        self.user_id = user_id
        self.thread_id = thread_id
        self.run_id = run_id
        self.seq = last_seq
        self._last_store: asyncio.Future[Any] | None = None

    def _row(self, data: RunEventData) -> dict[str, Any]:
        self.seq += 1
        body = encode(data, run_id=self.run_id, thread_id=self.thread_id, seq=self.seq)
        return {"run_id": self.run_id, "seq": self.seq, "type": event_type(data), "body": body}

    async def _publish(self, row: dict[str, Any]) -> None:
        delivery = Delivery(type=row["type"], body=row["body"], run_id=self.run_id, seq=row["seq"])
        await self.bus.publish(self.user_id, delivery)

    async def emit(
        self,
        data: RunEventData,
        *,
        state: dict[str, Any] | None = None,
        also: Callable[[Connection], None] | None = None,
    ) -> None:
        """Store the event (with the run's resumable ``state`` and ``also``), then publish."""
        if event_type(data) in TERMINAL_TYPES:
            raise ValueError("terminal events go through Emitter.finish")
        row = self._row(data)
        run_id = self.run_id

        def unit(conn: Connection) -> None:
            conn.execute(_insert_event, row)
            if state is not None:
                conn.execute(_save_state, {"run": run_id, "new_state": state})
            if also is not None:
                also(conn)

        # A cancelled run still gets this event stored: the write is shielded.
        self._last_store = asyncio.ensure_future(self.db.write(unit))
        await asyncio.shield(self._last_store)
        await self._publish(row)

    async def finish(
        self,
        data: RunEventData,
        status: str,
        *,
        error: dict[str, Any] | None = None,
        writes: FinalWrites | None = None,
    ) -> bool:
        """Store the terminal event with the final status (and ``writes``), then publish it.

        Returns False, storing nothing, when the run had already ended. Waits for the
        run's previous event to be committed first, so the log never has a hole.
        """
        if self._last_store is not None:
            await asyncio.wait([self._last_store])
        row = self._row(data)
        run_id = self.run_id

        def unit(conn: Connection) -> bool:
            ended = conn.execute(
                _end_run,
                {"run": run_id, "new_status": status, "new_error": error, "ended_at": utc_now()},
            )
            if ended.rowcount != 1:
                return False
            conn.execute(_insert_event, row)
            if writes is not None:
                writes(conn)
            return True

        if not await self.db.write(unit):
            self.seq -= 1
            return False
        await self._publish(row)
        return True
