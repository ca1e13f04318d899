"""Users and sessions: register, log in, rotate refresh tokens, log out, authenticate.

A session is one login. Each refresh rotates its refresh token; presenting a token that
was already rotated away (reuse) revokes the whole session, as does logout. Access tokens
carry the session id, and ``authenticate`` refuses tokens of a revoked session at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from netra.auth.passwords import hash_password, verify_password
from netra.auth.tokens import (
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    read_access_token,
)
from netra.clock import as_utc, utc_now
from netra.config import Settings
from netra.db import Database, users
from netra.db import sessions as session_rows
from netra.errors import EmailTaken, InvalidCredentials, InvalidInput, Unauthorized
from netra.ids import new_id

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SessionRevoked(Unauthorized):
    """A refresh token was presented again: the session is revoked (its sockets must close)."""

    def __init__(self, user_id: str, session_id: str) -> None:
        super().__init__("the refresh token was already used; the session is revoked")
        self.user_id = user_id
        self.session_id = session_id


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request or connection acts for."""

    user_id: str
    session_id: str
    expires_at: float


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput("email: not a valid email address", field="email")
    return email


async def register(
    db: Database, settings: Settings, email: str, password: str, name: str | None
) -> dict[str, Any]:
    email = normalise_email(email)
    password_hash = await hash_password(password)

    def unit(conn: Connection) -> dict[str, Any]:
        if users.id_by_email(conn, email) is not None:
            raise EmailTaken("an account with this email already exists")
        user_id = new_id()
        display = (name or email.split("@")[0]).strip()[:200] or email.split("@")[0]
        users.add(conn, user_id, email, display, password_hash, utc_now())
        return _open_session(conn, settings, user_id)

    return await db.write(unit)


async def login(db: Database, settings: Settings, email: str, password: str) -> dict[str, Any]:
    row = await db.read(lambda conn: users.credentials(conn, email.strip().lower()))
    ok = await verify_password(row.password_hash if row else None, password)
    if row is None or not ok:
        raise InvalidCredentials("wrong email or password")
    return await db.write(lambda conn: _open_session(conn, settings, row.id))


async def refresh(db: Database, settings: Settings, refresh_token: str) -> dict[str, Any]:
    token_hash = hash_refresh_token(refresh_token)

    def unit(conn: Connection) -> dict[str, Any] | tuple[str, str]:
        now = utc_now()
        row = session_rows.refresh_token(conn, token_hash)
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
            raise Unauthorized("the refresh token is not valid")
        if not session_rows.claim_refresh_token(conn, token_hash, now):
            # used before: someone replayed it; end the session
            session_rows.revoke(conn, row.session_id, now, "refresh_token_reuse")
            return (row.user_id, row.session_id)  # commit the revocation, then refuse
        return _issue_pair(conn, settings, row.user_id, row.session_id)

    pair = await db.write(unit)
    if isinstance(pair, tuple):
        raise SessionRevoked(*pair)
    return pair


async def logout(db: Database, session_id: str) -> None:
    await db.write(lambda conn: session_rows.revoke_open(conn, session_id, utc_now(), "logout"))


async def authenticate(db: Database, settings: Settings, token: str) -> Principal:
    """Verify an access token and that its session is still open."""
    claims = read_access_token(settings.signing_key(), token)
    revoked = await db.read(
        lambda conn: session_rows.revoked_at(conn, claims.session_id, claims.user_id)
    )
    if revoked is None or revoked[0] is not None:
        raise Unauthorized("the session has ended")
    return Principal(claims.user_id, claims.session_id, claims.expires_at)


def _open_session(conn: Connection, settings: Settings, user_id: str) -> dict[str, Any]:
    now = utc_now()
    session_id = new_id()
    expires_at = now + timedelta(seconds=settings.refresh_token_ttl_s)
    session_rows.add(conn, session_id, user_id, now, expires_at)
    return _issue_pair(conn, settings, user_id, session_id)


def _issue_pair(
    conn: Connection, settings: Settings, user_id: str, session_id: str
) -> dict[str, Any]:
    refresh_token = new_refresh_token()
    session_rows.add_refresh_token(conn, hash_refresh_token(refresh_token), session_id, utc_now())
    return {
        "user": users.brief_json(conn, user_id),
        "access_token": issue_access_token(
            settings.signing_key(), user_id, session_id, settings.access_token_ttl_s
        ),
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": settings.access_token_ttl_s,
    }
