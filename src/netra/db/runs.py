"""Runs, their event log and their reports, always scoped by owner. Units of work."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, insert, literal, select, update

from netra.clock import rfc3339
from netra.db.tables import ACTIVE_STATUSES, RUN_IS_ACTIVE, Dataset, Report, Run, Thread, User
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
insert_report = insert(Report)
save_state = update(Run).where(Run.id == bindparam("run")).values(state=bindparam("new_state"))
end_run = (  # only an active run ends, so it ends once; and only by its current attempt
    update(Run)
    .where(Run.id == bindparam("run"), RUN_IS_ACTIVE, Run.attempt == bindparam("run_attempt"))
    .values(
        status=bindparam("new_status"),
        error=bindparam("new_error", type_=Run.error.type),
        finished_at=bindparam("ended_at", type_=Run.finished_at.type),
    )
)

_owned = select(Run).where(Run.id == bindparam("run"), Run.user_id == bindparam("user"))
_active_count = select(func.count()).where(Run.user_id == bindparam("user"), RUN_IS_ACTIVE)
_active_in_thread = select(Run.id).where(Run.thread_id == bindparam("thread"), RUN_IS_ACTIVE)
_lock_user = select(User.id).where(User.id == bindparam("user")).with_for_update()
_created_since = select(func.count()).where(
    Run.user_id == bindparam("user"), Run.created_at > bindparam("since", type_=Run.created_at.type)
)
_ids_since = (
    select(Run.id)
    .where(
        Run.user_id == bindparam("user"),
        Run.created_at >= bindparam("since", type_=Run.created_at.type),
    )
    .order_by(Run.created_at)
)
_earlier_turns = (
    select(Run.message, Run.state)
    .where(
        Run.thread_id == bindparam("thread"),
        Run.status == "completed",
        Run.created_at < select(Run.created_at).where(Run.id == bindparam("run")).scalar_subquery(),
    )
    .order_by(Run.created_at.desc())
    .limit(bindparam("turns"))
)
_active_ids = select(Run.id).where(RUN_IS_ACTIVE)
_active_before = select(Run.id, Run.status).where(
    RUN_IS_ACTIVE, Run.created_at < bindparam("before")
)
_active_by_status = select(Run.status, func.count()).where(RUN_IS_ACTIVE).group_by(Run.status)
_started = {
    "status": "running",
    "started_at": func.coalesce(Run.started_at, bindparam("now", type_=Run.started_at.type)),
}
# A claim returns the claimed row in the same statement (one round trip to PostgreSQL).
_claim = (
    update(Run)
    .where(Run.id == bindparam("run"), Run.status == "queued")
    .values(**_started)
    .returning(*Run.__table__.c)
)
_resume = (
    update(Run)
    .where(Run.id == bindparam("run"), RUN_IS_ACTIVE)
    .values(**_started, attempt=Run.attempt + 1)
    .returning(*Run.__table__.c)
)


def get(conn: Connection, user_id: str, run_id: str) -> Any:
    row = conn.execute(_owned, {"run": run_id, "user": user_id}).first()
    if row is None:
        raise NotFound("no such run")
    return row


def active_in_thread(conn: Connection, thread_id: str) -> list[str]:
    return list(conn.scalars(_active_in_thread, {"thread": thread_id}))


def lock_user(conn: Connection, user_id: str) -> None:
    """Serialise one user's admissions until the transaction ends (PostgreSQL row lock)."""
    conn.execute(_lock_user, {"user": user_id})


@cache
def _admission_checks(dataset_given: bool, thread_given: bool, counts_recent: bool) -> Any:
    user, thread = bindparam("user", type_=String), bindparam("thread", type_=String)
    dataset = select(Dataset.id).where(Dataset.user_id == user)
    if dataset_given:
        dataset = dataset.where(Dataset.id == bindparam("dataset"))
    else:
        dataset = dataset.order_by(Dataset.created_at.desc()).limit(1)
    owned_thread = select(Thread.id).where(Thread.id == thread, Thread.user_id == user)
    columns = {
        "dataset": dataset,
        "active": _active_count,
        "recent": _created_since if counts_recent else None,
        "thread": owned_thread if thread_given else None,
        # At most one: the partial unique index on a thread's active runs.
        "thread_run": _active_in_thread if thread_given else None,
    }
    return select(
        *(
            (literal(None) if query is None else query.scalar_subquery()).label(name)
            for name, query in columns.items()
        )
    )


def admission_checks(
    conn: Connection,
    user_id: str,
    *,
    since: datetime | None,
    dataset_id: str | None,
    thread_id: str | None,
) -> Any:
    """What an admission checks, in one statement (one round trip to PostgreSQL).

    A row of: ``dataset`` (``dataset_id`` if the user owns it, or the user's newest
    dataset's id when none is given; None if neither), ``active`` (the user's active runs),
    ``recent`` (the user's runs created after ``since``; None without ``since``: a count
    that reads every run of the user), ``thread`` (``thread_id`` if the user owns it) and
    ``thread_run`` (its active run's id, if any).
    """
    statement = _admission_checks(dataset_id is not None, thread_id is not None, since is not None)
    params = {"user": user_id, "since": since, "dataset": dataset_id, "thread": thread_id}
    return conn.execute(statement, params).one()


def ids_since(conn: Connection, user_id: str, since: datetime) -> list[str]:
    """The user's runs created at or after ``since``, oldest first."""
    return list(conn.scalars(_ids_since, {"user": user_id, "since": since}))


def claim(conn: Connection, run_id: str, now: datetime, *, resume: bool) -> Any | None:
    """Mark the run running (a resume counts an attempt); its row, or None if not claimable."""
    return conn.execute(_resume if resume else _claim, {"run": run_id, "now": now}).first()


def earlier_turns(conn: Connection, thread_id: str, run_id: str, turns: int) -> list[Any]:
    """The last ``turns`` completed runs of the thread before ``run_id`` (message and stored
    state), oldest first: the thread's earlier questions and how each was read."""
    found = conn.execute(_earlier_turns, {"thread": thread_id, "run": run_id, "turns": turns})
    return list(reversed(found.all()))


def active_ids(conn: Connection) -> list[str]:
    return list(conn.scalars(_active_ids))


def active_before(conn: Connection, before: datetime) -> list[tuple[str, str]]:
    """The id and status of each active run created before ``before``."""
    return [(row.id, row.status) for row in conn.execute(_active_before, {"before": before})]


def active_by_status(conn: Connection) -> dict[str, int]:
    """How many runs are in each active state (both states present, 0 when none)."""
    counts = dict.fromkeys(ACTIVE_STATUSES, 0)
    counts.update({status: count for status, count in conn.execute(_active_by_status).all()})
    return counts


def report(conn: Connection, user_id: str, run_id: str) -> Any:
    run = get(conn, user_id, run_id)
    row = conn.execute(select(Report).where(Report.run_id == run_id)).first()
    if row is not None:
        return row
    if run.status in ACTIVE_STATUSES:
        raise NotReady("the run has not finished yet")
    raise NotFound("this run produced no report")
