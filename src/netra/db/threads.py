"""Threads and their messages, always scoped by owner: another user's thread is not found."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from netra.db import Database
from netra.db.tables import Message, Thread
from netra.errors import NotFound
from netra.protocol import new_id, rfc3339, utc_now

DEFAULT_TITLE = "New conversation"


def thread_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


async def create(conn: AsyncConnection, user_id: str, title: str | None) -> dict[str, Any]:
    now = utc_now()
    values = {
        "id": new_id(),
        "user_id": user_id,
        "title": (title or DEFAULT_TITLE).strip()[:200] or DEFAULT_TITLE,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(insert(Thread).values(values))
    return thread_json(Thread(**values))


async def get(conn: AsyncConnection, user_id: str, thread_id: str) -> Any:
    row = (
        await conn.execute(
            select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such thread")
    return row


async def list_for(db: Database, user_id: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(Thread)
            .where(Thread.user_id == user_id)
            .order_by(Thread.updated_at.desc(), Thread.created_at.desc())
        )
        return [thread_json(row) for row in rows]


async def remove(conn: AsyncConnection, user_id: str, thread_id: str) -> None:
    await get(conn, user_id, thread_id)
    await conn.execute(delete(Thread).where(Thread.id == thread_id))


async def add_message(
    conn: AsyncConnection, thread_id: str, role: str, content: str, run_id: str | None
) -> None:
    now = utc_now()
    await conn.execute(
        insert(Message).values(
            id=new_id(), thread_id=thread_id, role=role, content=content, run_id=run_id,
            created_at=now,
        )
    )
    await conn.execute(update(Thread).where(Thread.id == thread_id).values(updated_at=now))


async def messages(db: Database, user_id: str, thread_id: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        await get(conn, user_id, thread_id)
        rows = await conn.execute(
            select(Message)
            .where(Message.thread_id == thread_id)
            .order_by(Message.created_at, Message.role.desc())
        )
        return [
            {
                "id": row.id,
                "role": row.role,
                "content": row.content,
                "run_id": row.run_id,
                "created_at": rfc3339(row.created_at),
            }
            for row in rows
        ]
