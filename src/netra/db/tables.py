"""The relational schema: one class per table (SQLAlchemy 2.0 typed declarative).

Queries use these classes with Core-style statements (``insert(Run)``, ``select(Run)``)
on async connections; there is no ORM session or lazy loading anywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE_STATUSES = ("queued", "running")
# The same as SQL, with literal values: a statement using it compiles once (an IN over
# bound values is rendered again at every execution).
RUN_IS_ACTIVE = text("status IN ('queued', 'running')")

Id = String(36)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: OAuth-only user
    created_at: Mapped[datetime]


class Session(Base):
    """A login: its refresh tokens rotate within it; revoking it ends them all."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """Only the SHA-256 of a refresh token is stored; ``used_at`` set = rotated away."""

    __tablename__ = "refresh_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Thread(Base):
    __tablename__ = "threads"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (Index(None, "user_id", "updated_at"),)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(Id)
    created_at: Mapped[datetime]
    __table_args__ = (Index(None, "thread_id", "created_at"),)


class Dataset(Base):
    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    total_cost_usd: Mapped[float] = mapped_column(Float)
    models: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    __table_args__ = (Index(None, "user_id", "created_at"),)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    dataset_id: Mapped[str | None] = mapped_column(Id)
    message: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[dict[str, Any] | None]
    # Outputs of the agents that completed, so a resumed run restarts only the open agent.
    state: Mapped[dict[str, Any] | None]
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    __table_args__ = (
        Index(None, "user_id", "status"),
        # At most one active run per thread, enforced by the database (thread_busy).
        Index(
            "uq_runs_active_thread",
            "thread_id",
            unique=True,
            sqlite_where=RUN_IS_ACTIVE,
            postgresql_where=RUN_IS_ACTIVE,
        ),
        # Counts of active runs by state (netra_runs_by_state) read this index alone.
        Index(
            "ix_runs_active_status",
            "status",
            sqlite_where=RUN_IS_ACTIVE,
            postgresql_where=RUN_IS_ACTIVE,
        ),
    )


class RunEvent(Base):
    """The event log: ``body`` is the event's wire JSON, stored before it is published."""

    __tablename__ = "run_events"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[str] = mapped_column(Id, index=True)
    body: Mapped[dict[str, Any]]
    markdown: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
