"""Threads and their messages, always scoped by owner: another user's thread is not found.

Every function is a unit of work over a SQLAlchemy ``Connection`` (see ``db/engine.py``).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from netra.clock import rfc3339, utc_now
from netra.db.tables import Message, Thread
from netra.errors import NotFound
from netra.ids import new_id

DEFAULT_TITLE = "New conversation"
_insert_thread = insert(Thread)
_insert_message = insert(Message)
_touch = (
    update(Thread)
    .where(Thread.id == bindparam("thread"))
    .values(updated_at=bindparam("now", type_=Thread.updated_at.type))
)
_owned = select(Thread).where(Thread.id == bindparam("thread"), Thread.user_id == bindparam("user"))


def thread_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def create(conn: Connection, user_id: str, title: str | None) -> dict[str, Any]:
    now = utc_now()
    values = {
        "id": new_id(),
        "user_id": user_id,
        "title": (title or DEFAULT_TITLE).strip()[:200] or DEFAULT_TITLE,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(_insert_thread, values)
    return thread_json(SimpleNamespace(**values))


def get(conn: Connection, user_id: str, thread_id: str) -> Any:
    row = conn.execute(_owned, {"thread": thread_id, "user": user_id}).first()
    if row is None:
        raise NotFound("no such thread")
    return row


def list_for(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Thread)
        .where(Thread.user_id == user_id)
        .order_by(Thread.updated_at.desc(), Thread.created_at.desc())
    )
    return [thread_json(row) for row in rows]


def remove(conn: Connection, user_id: str, thread_id: str) -> None:
    get(conn, user_id, thread_id)
    conn.execute(delete(Thread).where(Thread.id == thread_id))


def add_message(
    conn: Connection,
    thread_id: str,
    role: str,
    content: str,
    run_id: str | None,
    *,
    touch: bool = True,
) -> None:
    """Add a message; ``touch`` moves the thread's ``updated_at`` (not needed when new)."""
    now = utc_now()
    conn.execute(
        _insert_message,
        {
            "id": new_id(),
            "thread_id": thread_id,
            "role": role,
            "content": content,
            "run_id": run_id,
            "created_at": now,
        },
    )
    if touch:
        conn.execute(_touch, {"thread": thread_id, "now": now})


def messages(conn: Connection, user_id: str, thread_id: str) -> list[dict[str, Any]]:
    get(conn, user_id, thread_id)
    rows = conn.execute(
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
