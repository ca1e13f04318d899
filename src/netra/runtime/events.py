"""The event log: every run event gets its ``seq``, is stored, and only then is published.

A run's ``Emitter`` numbers its events 1, 2, 3, … and submits each one as a unit of work
(the database commits the events of all runs together, in small batches). The run goes on
working meanwhile: the emitter's publisher publishes each event on the bus once its commit
has landed, strictly in ``seq`` order. If a store fails, nothing after it is published and
the run's next ``emit`` raises, so the run ends with ``run_failed``. Terminal events are
written after every earlier event is stored, together with the run's final status, its
assistant message and its report, guarded so a run ends exactly once, and published after
every earlier event.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from netra.clock import utc_now
from netra.db import Database, Rows
from netra.db import events as event_rows
from netra.db import runs as run_rows
from netra.protocol import TERMINAL_TYPES, RunEventData, RunStarted, encode, event_type
from netra.runtime.bus import Bus, Delivery

# Extra writes a terminal event commits with it (assistant message, report).
FinalWrites = Callable[[Connection], None]


class Emitter:
    """Numbers, stores and publishes the events of one run: the only writer of event rows.

    ``begin`` stores ``run_started`` inside the admission's transaction, ``emit`` every
    event of the run's work, ``finish`` its one terminal event.
    """

    def __init__(
        self,
        db: Database,
        bus: Bus,
        *,
        user_id: str,
        thread_id: str,
        run_id: str,
        last_seq: int,
        attempt: int = 1,
    ) -> None:
        """``attempt``: the run's attempt this emitter writes for (a run taken over by
        another executor has a later one: this emitter can no longer end it)."""
        self.db = db
        self.bus = bus
        self.user_id = user_id
        self.thread_id = thread_id
        self.run_id = run_id
        self.attempt = attempt
        self.seq = last_seq
        self._last_store: asyncio.Future[Any] | None = None
        self._outbox: deque[tuple[asyncio.Future[Any], dict[str, Any]]] = deque()
        self._publisher: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    @classmethod
    def for_run(cls, db: Database, bus: Bus, run: Any, *, last_seq: int) -> Emitter:
        """The emitter of a stored ``run`` row whose last stored event is ``last_seq``."""
        return cls(
            db,
            bus,
            user_id=run.user_id,
            thread_id=run.thread_id,
            run_id=run.id,
            last_seq=last_seq,
            attempt=run.attempt,
        )

    def _row(self, data: RunEventData, ts: datetime | None = None) -> dict[str, Any]:
        self.seq += 1
        body = encode(data, run_id=self.run_id, thread_id=self.thread_id, seq=self.seq, ts=ts)
        return {"run_id": self.run_id, "seq": self.seq, "type": event_type(data), "body": body}

    async def publish(self, row: dict[str, Any]) -> None:
        """Deliver a stored event row to the user's connections."""
        delivery = Delivery(type=row["type"], body=row["body"], run_id=self.run_id, seq=row["seq"])
        await self.bus.publish(self.user_id, delivery)

    def begin(self, conn: Connection, data: RunStarted, *, ts: datetime) -> dict[str, Any]:
        """Store ``run_started`` as seq 1 in the admission's transaction ``conn``.

        Returns its row, for ``publish`` once that transaction has committed.
        """
        if self.seq != 0:
            raise ValueError("run_started is a run's first event")
        row = self._row(data, ts)
        conn.execute(event_rows.insert_event, row)
        return row

    async def emit(self, data: RunEventData, *, state: dict[str, Any] | None = None) -> None:
        """Submit the event (with the run's resumable ``state``); it is published once stored."""
        if event_type(data) in TERMINAL_TYPES:
            raise ValueError("terminal events go through Emitter.finish")
        if self._failure is not None:
            raise self._failure
        row = self._row(data)
        unit = Rows.of(event_rows.insert_event, row)
        if state is not None:
            unit += Rows.of(run_rows.save_state, {"run": self.run_id, "new_state": state})
        self._last_store = self.db.submit(unit)
        self._outbox.append((self._last_store, row))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_stored())

    async def _publish_stored(self) -> None:
        """Publish queued events in order, each once its commit has landed."""
        while self._outbox:
            stored, row = self._outbox[0]
            try:
                await asyncio.shield(stored)
            except Exception as exc:
                self._failure = exc
                self._outbox.clear()  # nothing after a lost event may be delivered
                return
            self._outbox.popleft()
            await self.publish(row)

    async def settled(self) -> None:
        """Wait (uncancellably) until every submitted event is stored and published."""
        if self._last_store is not None:
            await asyncio.wait([self._last_store])
        if self._publisher is not None:
            await asyncio.wait([self._publisher])

    async def finish(
        self,
        data: RunEventData,
        status: str,
        *,
        error: dict[str, Any] | None = None,
        writes: FinalWrites | None = None,
    ) -> bool:
        """Store the terminal event with the final status (and ``writes``), then publish it.

        Returns False, storing nothing, when the run had already ended or another executor
        has taken it over (a later attempt). Waits for the run's previous event to be
        committed first, so the log never has a hole.
        """
        await self.settled()
        run_id = self.run_id
        if self._failure is not None:  # number the end after what was really stored
            self.seq = await self.db.read(lambda conn: event_rows.last_seq(conn, run_id))
        row = self._row(data)

        def unit(conn: Connection) -> bool:
            ended = conn.execute(
                run_rows.end_run,
                {
                    "run": run_id,
                    "run_attempt": self.attempt,
                    "new_status": status,
                    "new_error": error,
                    "ended_at": utc_now(),
                },
            )
            if ended.rowcount != 1:
                return False
            conn.execute(event_rows.insert_event, row)
            if writes is not None:
                writes(conn)
            return True

        try:
            ended = await self.db.write(unit)
        except BaseException:
            self.seq -= 1  # nothing was stored: the next end takes this number
            raise
        if not ended:
            self.seq -= 1
            return False
        await self.publish(row)
        return True
