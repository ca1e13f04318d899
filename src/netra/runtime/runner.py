"""The Runner: admits runs, executes them with a fresh orchestrator, cancels and resumes them.

Admission (``start``) is one transaction: the thread (new or owned), the limits
(``too_many_runs``, ``thread_busy``), the user's message, the run with its plan, and its
``run_started`` event at seq 1; then the event is published and the run queued.
Execution (``execute``) builds a ``RunContext`` and an ``Orchestrator`` for that run
alone and always ends the run with exactly one terminal event.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from netra.agents.base import Agent
from netra.agents.state import RunState
from netra.agents.triage import classify
from netra.clock import utc_now
from netra.config import Settings
from netra.dataset_store import Datasets
from netra.db import Database, threads
from netra.db import datasets as dataset_rows
from netra.db import runs as run_rows
from netra.db.tables import ACTIVE_STATUSES, RUN_IS_ACTIVE, Run, User
from netra.errors import NetraError, RateLimited, ThreadBusy, TooManyRuns
from netra.ids import new_id
from netra.protocol import (
    ErrorBody,
    Response,
    RunCancelled,
    RunCompleted,
    RunFailed,
    RunResumed,
    RunStarted,
    encode,
)
from netra.runtime.bus import Bus, Delivery
from netra.runtime.context import DatasetRef, RunContext
from netra.runtime.events import Emitter
from netra.runtime.orchestrator import Orchestrator
from netra.runtime.queue import MemoryQueue, RunHandle

log = structlog.get_logger(__name__)

TITLE_MAX = 60

_lock_user = select(User.id).where(User.id == bindparam("user")).with_for_update()
_run_row = select(Run).where(Run.id == bindparam("run"))
_started = {
    "status": "running",
    "started_at": func.coalesce(Run.started_at, bindparam("now", type_=Run.started_at.type)),
}
_claim = update(Run).where(Run.id == bindparam("run"), Run.status == "queued").values(**_started)
_resume = (
    update(Run)
    .where(Run.id == bindparam("run"), RUN_IS_ACTIVE)
    .values(**_started, attempt=Run.attempt + 1)
)


class Runner:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        bus: Bus,
        agents: Mapping[str, Agent],
        datasets: Datasets,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.agents = agents
        self.datasets = datasets
        self.queue = MemoryQueue(self.execute)
        self._analysis_slots = asyncio.Semaphore(settings.max_concurrent_analyses)
        self.finished_runs: dict[str, int] = {"completed": 0, "failed": 0, "cancelled": 0}

    # --- admission ---------------------------------------------------------------------

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

        def admit(conn: Connection) -> tuple[Any, str]:
            dataset = (  # its id
                dataset_rows.owned_id(conn, user_id, dataset_id)
                if dataset_id
                else dataset_rows.newest_id(conn, user_id)
            )
            self._check_limits(conn, user_id)
            thread = thread_id
            if thread is None:
                thread = threads.create(conn, user_id, message[:TITLE_MAX])["id"]
            else:
                threads.get(conn, user_id, thread)
                if run_rows.active_in_thread(conn, thread):
                    raise ThreadBusy("a run of this thread is still going")
            intent, plan = classify(message, has_data=dataset is not None)
            state = RunState(message=message, intent=intent, plan=plan)
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
            started = RunStarted(
                request_id=request_id,
                message=message,
                dataset_id=dataset,
                agents=plan,
            )
            body = encode(started, run_id=run_id, thread_id=thread, seq=1, ts=now)
            conn.execute(
                run_rows.insert_event,
                {"run_id": run_id, "seq": 1, "type": "run_started", "body": body},
            )
            return SimpleNamespace(**values), body  # the row as stored, without an ORM object

        run, body = await self.db.write(admit)
        # Once stored, the run must start whatever happens to the caller (a closed socket,
        # a bus that fails): queue it first, then announce it, shielded from cancellation.
        await self.queue.submit(run_id, run=run)
        started_event = Delivery(type="run_started", body=body, run_id=run_id, seq=1)
        await asyncio.shield(self.bus.publish(user_id, started_event))
        log.info("run.admitted", run_id=run_id, user_id=user_id)
        return run

    def _check_limits(self, conn: Connection, user_id: str) -> None:
        if not self.db.is_sqlite:  # serialise one user's admissions (SQLite writes are serial)
            conn.execute(_lock_user, {"user": user_id})
        if run_rows.active_count(conn, user_id) >= self.settings.max_runs_per_user:
            raise TooManyRuns(
                f"at most {self.settings.max_runs_per_user} runs may be going at once"
            )
        per_minute = self.settings.runs_per_minute_per_user
        if per_minute:
            recent = conn.scalar(
                select(func.count()).where(
                    Run.user_id == user_id, Run.created_at > utc_now() - timedelta(seconds=60)
                )
            )
            if (recent or 0) >= per_minute:
                raise RateLimited(f"at most {per_minute} runs a minute")

    # --- cancellation ------------------------------------------------------------------

    async def cancel(self, user_id: str, run_id: str) -> Any:
        """Stop a run of this user; a run that already ended is left as it is."""
        run = await self.db.read(lambda conn: run_rows.get(conn, user_id, run_id))
        if run.status in ACTIVE_STATUSES and not await self.queue.cancel(run_id):
            # Not executing in this process (not yet claimed): end it here.
            last_seq = await self.db.read(lambda conn: run_rows.last_seq(conn, run_id))
            emitter = Emitter(
                self.db,
                self.bus,
                user_id=user_id,
                thread_id=run.thread_id,
                run_id=run_id,
                last_seq=last_seq,
            )
            try:
                if await emitter.finish(RunCancelled(), "cancelled"):
                    self.finished_runs["cancelled"] += 1
            except IntegrityError:  # another process is writing this run's events: it ends there
                log.warning("run.cancel_raced", run_id=run_id)
        return run

    # --- execution ---------------------------------------------------------------------

    async def execute(self, handle: RunHandle) -> None:
        handle.started = True
        claimed: tuple[Any, int] | None
        if handle.run is not None:
            claimed = (handle.run, 1)  # admitted as running, with run_started stored
        else:
            claim = asyncio.ensure_future(self.db.write(lambda conn: self._claim(conn, handle)))
            try:
                claimed = await asyncio.shield(claim)
            except asyncio.CancelledError:
                if handle.stop_reason != "cancel":
                    raise
                await asyncio.wait([claim])  # stopped while claiming: end it once it is ours
                claimed = claim.result()
            if claimed is None:
                return
        run, last_seq = claimed
        dataset = None
        if run.dataset_id is not None:
            dataset = DatasetRef(run.dataset_id, self.datasets.path(run.user_id, run.dataset_id))
        emitter = Emitter(
            self.db,
            self.bus,
            user_id=run.user_id,
            thread_id=run.thread_id,
            run_id=run.id,
            last_seq=last_seq,
        )
        ctx = RunContext(
            user_id=run.user_id,
            thread_id=run.thread_id,
            run_id=run.id,
            request_id=run.request_id,
            message=run.message,
            dataset=dataset,
            emitter=emitter,
        )
        state = RunState.model_validate(run.state)
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(run_id=run.id, user_id=run.user_id)
        try:
            if handle.stop_reason == "cancel":
                raise asyncio.CancelledError  # stopped before it began
            if handle.resume:
                open_agent = await self.db.read(lambda conn: _open_agent(conn, run.id))
                await ctx.emit(RunResumed(agent=open_agent, attempt=run.attempt))
            if dataset is not None and "data" in state.plan:
                # Each analysing run holds a DuckDB instance: bound how many exist at once.
                async with self._analysis_slots:
                    state = await Orchestrator(self.agents).run(ctx, state)
                    dataset.connection = dataset.closer = None  # freed with its last user
            else:
                state = await Orchestrator(self.agents).run(ctx, state)
            handle.finishing = True
            await self._complete(emitter, run, state, started)
        except asyncio.CancelledError:
            if handle.stop_reason != "cancel":
                raise  # shutdown: the run stays active and is resumed at the next start
            handle.finishing = True
            if await emitter.finish(RunCancelled(), "cancelled"):
                self.finished_runs["cancelled"] += 1
                log.info("run.cancelled")
        except Exception as exc:
            handle.finishing = True
            code, message = (
                (exc.code, exc.message)
                if isinstance(exc, NetraError)
                else ("internal", "the run failed unexpectedly; it has been logged")
            )
            log.exception("run.failed", error_code=code)
            error = {"code": code, "message": message}
            if await emitter.finish(RunFailed(error=ErrorBody(**error)), "failed", error=error):
                self.finished_runs["failed"] += 1
        finally:
            structlog.contextvars.unbind_contextvars("run_id", "user_id")

    async def _complete(self, emitter: Emitter, run: Any, state: RunState, started: float) -> None:
        answer = state.answer or ""
        report_id = new_id() if state.report is not None else None

        def writes(conn: Connection) -> None:
            threads.add_message(conn, run.thread_id, "assistant", answer, run.id)
            if report_id is not None and state.report is not None:
                body = {"id": report_id, "run_id": run.id, **state.report}
                conn.execute(
                    run_rows.insert_report,
                    {
                        "id": report_id,
                        "run_id": run.id,
                        "user_id": run.user_id,
                        "body": body,
                        "markdown": answer,
                        "created_at": utc_now(),
                    },
                )

        duration_ms = round((time.perf_counter() - started) * 1000)
        done = RunCompleted(
            response=Response(text=answer), report_id=report_id, duration_ms=duration_ms
        )
        if await emitter.finish(done, "completed", writes=writes):
            self.finished_runs["completed"] += 1
            log.info("run.completed", duration_ms=duration_ms)

    def _claim(self, conn: Connection, handle: RunHandle) -> tuple[Any, int] | None:
        """Mark the run running (a resume counts an attempt); None if it is not ours to run."""
        claimed = conn.execute(
            _resume if handle.resume else _claim, {"run": handle.run_id, "now": utc_now()}
        )
        if claimed.rowcount != 1:
            return None
        run = conn.execute(_run_row, {"run": handle.run_id}).one()
        return run, (run_rows.last_seq(conn, run.id) if handle.resume else 1)

    async def resume_interrupted(self) -> int:
        """Resume the runs a previous process left active (embedded mode: one process)."""
        run_ids = await self.db.read(
            lambda conn: list(conn.scalars(select(Run.id).where(RUN_IS_ACTIVE)))
        )
        for run_id in run_ids:
            await self.queue.submit(run_id, resume=True)
        if run_ids:
            log.info("runs.resumed", runs=len(run_ids))
        return len(run_ids)


def _open_agent(conn: Connection, run_id: str) -> str | None:
    """The agent that had started and not completed when the run was lost, if any."""
    open_agent = None
    for _, kind, body in run_rows.events_after(conn, run_id, 0):
        if kind in {"agent_started", "agent_completed"}:
            open_agent = json.loads(body)["data"]["agent"] if kind == "agent_started" else None
    return open_agent
