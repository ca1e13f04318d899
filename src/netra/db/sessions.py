"""Login sessions and their refresh tokens (stored as hashes). Units of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from netra.db.tables import RefreshToken, Session


def add(
    conn: Connection, session_id: str, user_id: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(Session),
        {
            "id": session_id,
            "user_id": user_id,
            "created_at": now,
            "expires_at": expires_at,
            "revoked_at": None,
            "revoked_reason": None,
        },
    )


def add_refresh_token(conn: Connection, token_hash: str, session_id: str, now: datetime) -> None:
    conn.execute(
        insert(RefreshToken),
        {"token_hash": token_hash, "session_id": session_id, "created_at": now, "used_at": None},
    )


def refresh_token(conn: Connection, token_hash: str) -> Any:
    """The token's ``session_id`` and ``used_at``, with its session's ``user_id``,
    ``revoked_at`` and ``expires_at``."""
    return conn.execute(
        select(
            RefreshToken.session_id,
            RefreshToken.used_at,
            Session.user_id,
            Session.revoked_at,
            Session.expires_at,
        )
        .join(Session, Session.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == token_hash)
    ).first()


def claim_refresh_token(conn: Connection, token_hash: str, now: datetime) -> bool:
    """Mark the token used; False when it was used before."""
    claimed = conn.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    return claimed.rowcount == 1


def revoke(conn: Connection, session_id: str, now: datetime, reason: str) -> None:
    conn.execute(
        update(Session)
        .where(Session.id == session_id)
        .values(revoked_at=now, revoked_reason=reason)
    )


def revoke_open(conn: Connection, session_id: str, now: datetime, reason: str) -> None:
    """Revoke the session unless it already is (the first reason stays)."""
    conn.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def revoked_at(conn: Connection, session_id: str, user_id: str) -> Any:
    """One row, ``revoked_at``, when the session exists and is the user's; else None."""
    return conn.execute(
        select(Session.revoked_at).where(Session.id == session_id, Session.user_id == user_id)
    ).first()
