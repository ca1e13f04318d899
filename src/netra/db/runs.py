"""Runs, their event log and their reports, always scoped by owner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from netra.db import Database
from netra.db.tables import ACTIVE_STATUSES, Report, Run, RunEvent
from netra.errors import NotFound, NotReady
from netra.protocol import rfc3339


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


async def get(conn: AsyncConnection, user_id: str, run_id: str) -> Any:
    row = (
        await conn.execute(select(Run).where(Run.id == run_id, Run.user_id == user_id))
    ).first()
    if row is None:
        raise NotFound("no such run")
    return row


async def fetch(db: Database, user_id: str, run_id: str) -> Any:
    async with db.read() as conn:
        return await get(conn, user_id, run_id)


async def active_count(conn: AsyncConnection, user_id: str) -> int:
    return await conn.scalar(
        select(func.count()).where(Run.user_id == user_id, Run.status.in_(ACTIVE_STATUSES))
    ) or 0


def active_in_thread(thread_id: str) -> Any:
    return select(Run.id).where(Run.thread_id == thread_id, Run.status.in_(ACTIVE_STATUSES))


async def events_after(db: Database, run_id: str, after_seq: int) -> list[tuple[int, str, str]]:
    """(seq, type, wire JSON) of every stored event of the run with seq > after_seq."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(RunEvent.seq, RunEvent.type, RunEvent.body)
            .where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
            .order_by(RunEvent.seq)
        )
        return [(row.seq, row.type, row.body) for row in rows]


async def report(db: Database, user_id: str, run_id: str) -> Any:
    async with db.read() as conn:
        run = await get(conn, user_id, run_id)
        row = (await conn.execute(select(Report).where(Report.run_id == run_id))).first()
    if row is not None:
        return row
    if run.status in ACTIVE_STATUSES:
        raise NotReady("the run has not finished yet")
    raise NotFound("this run produced no report")
