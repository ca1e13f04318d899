"""User accounts. Units of work: each takes the connection of a ``Database`` transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from netra.clock import rfc3339
from netra.db.tables import User


def id_by_email(conn: Connection, email: str) -> str | None:
    return conn.scalar(select(User.id).where(User.email == email))


def credentials(conn: Connection, email: str) -> Any:
    """The ``id`` and ``password_hash`` of the account with this (normalised) email."""
    return conn.execute(select(User.id, User.password_hash).where(User.email == email)).first()


def add(
    conn: Connection, user_id: str, email: str, name: str, password_hash: str, now: datetime
) -> None:
    conn.execute(
        insert(User),
        {
            "id": user_id,
            "email": email,
            "name": name,
            "password_hash": password_hash,
            "created_at": now,
        },
    )


def brief_json(conn: Connection, user_id: str) -> dict[str, Any]:
    """The user as a token response names it: ``id``, ``email``, ``name``."""
    user = conn.execute(select(User.id, User.email, User.name).where(User.id == user_id)).one()
    return {"id": user.id, "email": user.email, "name": user.name}


def user_json(conn: Connection, user_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(User.id, User.email, User.name, User.created_at).where(User.id == user_id)
    ).one()
    return {
        "id": row.id,
        "email": row.email,
        "name": row.name,
        "created_at": rfc3339(row.created_at),
    }
