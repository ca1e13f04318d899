"""Admission: let a run in, or refuse it, in one transaction.

The thread (new or owned), the limits (``too_many_runs``, ``rate_limited``,
``thread_busy``), the user's message, the run with its plan and its ``run_started`` event
at seq 1 are stored together; then the run is queued and the event published.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Protocol

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from netra.clock import utc_now
from netra.config import Settings
from netra.db import Database, threads
from netra.db import runs as run_rows
from netra.errors import NotFound, RateLimited, ThreadBusy, TooManyRuns, Unavailable
from netra.ids import new_id
from netra.protocol import ErrorBody, RunFailed, RunStarted
from netra.questions.plan import QuestionPlan
from netra.runtime.bus import Bus
from netra.runtime.events import Emitter
from netra.runtime.queue import RunQueue
from netra.runtime.state import RunState

log = structlog.get_logger(__name__)

TITLE_MAX = 60
RATE_WINDOW = timedelta(seconds=60)


NO_DATA_AGENTS = ["triage", "reporting"]  # a run without a dataset says how to load one


class Planner(Protocol):
    """The question as first read and the agents that answer it over a dataset, in order
    (triage's ``plan_question``). It runs before the admission's transaction, which the
    single writer thread executes: it must be fast (well under a millisecond)."""

    def __call__(self, message: str) -> tuple[QuestionPlan, list[str]]: ...


class Admission:
    def __init__(
        self, settings: Settings, db: Database, bus: Bus, queue: RunQueue, planner: Planner
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.queue = queue
        self.planner = planner

    async def start(
        self,
        user_id: str,
        message: str,
        *,
        thread_id: str | None = None,
        dataset_id: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Admit a run; return its row. Raises NotFound, ThreadBusy, TooManyRuns, RateLimited."""
        run_id = new_id()
        question, agents_with_data = self.planner(message)

        def admit(conn: Connection) -> tuple[Any, Emitter, dict[str, Any]]:
            if not self.db.is_sqlite:  # serialise one user's admissions (SQLite's writes are)
                run_rows.lock_user(conn, user_id)  # before the counts below: they see its runs
            per_minute = self.settings.runs_per_minute_per_user
            checks = run_rows.admission_checks(
                conn,
                user_id,
                since=utc_now() - RATE_WINDOW if per_minute else None,
                dataset_id=dataset_id,
                thread_id=thread_id,
            )
            if dataset_id is not None and checks.dataset is None:
                raise NotFound("no such dataset")
            self._check_limits(checks.active, checks.recent)
            thread = thread_id
            if thread is None:
                thread = threads.create(conn, user_id, message[:TITLE_MAX])["id"]
            elif checks.thread is None:
                raise NotFound("no such thread")
            elif checks.thread_run is not None:
                raise ThreadBusy("a run of this thread is still going")
            dataset = checks.dataset
            plan = agents_with_data if dataset is not None else list(NO_DATA_AGENTS)
            state = RunState(message=message, question=question, plan=plan)
            now = utc_now()
            starts_now = self.queue.starts_at_admission
            values = {
                "id": run_id,
                "user_id": user_id,
                "thread_id": thread,
                "dataset_id": dataset,
                "message": message,
                "request_id": request_id,
                "status": "running" if starts_now else "queued",
                "error": None,
                "state": state.model_dump(mode="json"),
                "attempt": 1,
                "created_at": now,
                "started_at": now if starts_now else None,
                "finished_at": None,
            }
            try:
                conn.execute(run_rows.insert_run, values)
            except IntegrityError:  # the partial unique index: another run took the thread
                raise ThreadBusy("a run of this thread is still going") from None
            threads.add_message(conn, thread, "user", message, run_id, touch=thread_id is not None)
            run = SimpleNamespace(**values)  # the row as stored, without an ORM object
            emitter = Emitter.for_run(self.db, self.bus, run, last_seq=0)
            started = RunStarted(
                request_id=request_id, message=message, dataset_id=dataset, agents=plan
            )
            return run, emitter, emitter.begin(conn, started, ts=now)

        run, emitter, started_row = await self.db.write(admit)
        # Once stored, the run must start whatever happens to the caller (a closed socket,
        # a bus that fails): queue it first, then announce it, shielded from cancellation.
        try:
            await asyncio.shield(self.queue.submit(run_id, run=run))
        except Exception as exc:
            await self._unqueued(run, emitter, exc)
            raise Unavailable(
                "the run queue is unavailable; try again shortly",
                dependency="queue",
                retry_after_s=2,
            ) from None
        await asyncio.shield(emitter.publish(started_row))
        log.info("run.admitted", run_id=run_id, user_id=user_id)
        return run

    async def _unqueued(self, run: Any, emitter: Emitter, exc: Exception) -> None:
        """End a stored run that could not be queued (its queue is down): nothing runs it."""
        cause = exc.__cause__ or exc  # Unavailable wraps what Redis raised
        log.warning("run.not_queued", run_id=run.id, error=repr(cause))
        error = {"code": "unavailable", "message": "the run queue was unavailable"}
        await emitter.finish(RunFailed(error=ErrorBody(**error)), "failed", error=error)

    def _check_limits(self, active: int, recent: int | None) -> None:
        """``active``: the user's runs going; ``recent``: those created in the last minute
        (None without a rate limit)."""
        if active >= self.settings.max_runs_per_user:
            raise TooManyRuns(
                f"at most {self.settings.max_runs_per_user} runs may be going at once"
            )
        per_minute = self.settings.runs_per_minute_per_user
        if per_minute and recent is not None and recent >= per_minute:
            raise RateLimited(f"at most {per_minute} runs a minute")
