"""Runs, their event log and their reports, always scoped by owner. Units of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from netra.clock import rfc3339
from netra.db.tables import ACTIVE_STATUSES, RUN_IS_ACTIVE, Report, Run, RunEvent
from netra.errors import NotFound, NotReady


def run_json(row: Any) -> dict[str, Any]:
    body = {
        "id": row.id,
        "thread_id": row.thread_id,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "started_at": rfc3339(row.started_at),
        "finished_at": rfc3339(row.finished_at),
    }
    if row.error:
        body["error"] = row.error
    return body


# Prebuilt writes: the hot path binds parameters instead of building a statement per call.
insert_run = insert(Run)
insert_event = insert(RunEvent)
insert_report = insert(Report)

_owned = select(Run).where(Run.id == bindparam("run"), Run.user_id == bindparam("user"))
_active_count = select(func.count()).where(Run.user_id == bindparam("user"), RUN_IS_ACTIVE)
_active_in_thread = select(Run.id).where(Run.thread_id == bindparam("thread"), RUN_IS_ACTIVE)
_events_after = (
    select(RunEvent.seq, RunEvent.type, RunEvent.body)
    .where(RunEvent.run_id == bindparam("run"), RunEvent.seq > bindparam("after"))
    .order_by(RunEvent.seq)
)


def get(conn: Connection, user_id: str, run_id: str) -> Any:
    row = conn.execute(_owned, {"run": run_id, "user": user_id}).first()
    if row is None:
        raise NotFound("no such run")
    return row


def active_count(conn: Connection, user_id: str) -> int:
    return conn.scalar(_active_count, {"user": user_id}) or 0


def active_in_thread(conn: Connection, thread_id: str) -> list[str]:
    return list(conn.scalars(_active_in_thread, {"thread": thread_id}))


def last_seq(conn: Connection, run_id: str) -> int:
    return conn.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id)) or 0


def events_after(conn: Connection, run_id: str, after_seq: int) -> list[tuple[int, str, str]]:
    """(seq, type, wire JSON) of every stored event of the run with seq > after_seq."""
    rows = conn.execute(_events_after, {"run": run_id, "after": after_seq})
    return [(row.seq, row.type, row.body) for row in rows]


def report(conn: Connection, user_id: str, run_id: str) -> Any:
    run = get(conn, user_id, run_id)
    row = conn.execute(select(Report).where(Report.run_id == run_id)).first()
    if row is not None:
        return row
    if run.status in ACTIVE_STATUSES:
        raise NotReady("the run has not finished yet")
    raise NotFound("this run produced no report")
