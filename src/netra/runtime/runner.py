"""The Runner: executes admitted runs with a fresh orchestrator, cancels and resumes them.

Admission lives in ``runtime.admission``. Execution (``execute``) builds a ``RunContext``
and an ``Orchestrator`` for that run alone and always ends the run with exactly one
terminal event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from netra.clock import utc_now
from netra.config import Settings
from netra.dataset_store import Datasets
from netra.db import Database, threads
from netra.db import events as event_rows
from netra.db import runs as run_rows
from netra.db.tables import ACTIVE_STATUSES
from netra.errors import NetraError
from netra.ids import new_id
from netra.protocol import (
    ErrorBody,
    Response,
    RunCancelled,
    RunCompleted,
    RunFailed,
    RunResumed,
)
from netra.runtime.admission import Admission, Planner
from netra.runtime.agent import Agent
from netra.runtime.bus import Bus
from netra.runtime.context import RunContext
from netra.runtime.events import Emitter
from netra.runtime.orchestrator import Orchestrator
from netra.runtime.queue import MemoryQueue, RunHandle, RunQueue
from netra.runtime.state import RunState

log = structlog.get_logger(__name__)


class Runner:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        bus: Bus,
        agents: Mapping[str, Agent],
        planner: Planner,
        datasets: Datasets,
        *,
        executes: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.agents = agents
        self.datasets = datasets
        self.queue = self._queue(executes)
        self.start = Admission(settings, db, bus, self.queue, planner).start
        self._analysis_slots = asyncio.Semaphore(settings.max_concurrent_analyses)
        self.finished_runs: dict[str, int] = {"completed": 0, "failed": 0, "cancelled": 0}

    def _queue(self, executes: bool) -> RunQueue:
        """In-process without Redis; with it, the shared queue (executed here if ``executes``)."""
        settings = self.settings
        if settings.redis_url is None:
            return MemoryQueue(self.execute)
        from netra.runtime.saq_queue import SaqQueue

        return SaqQueue(
            settings.redis_url,
            self.bus,
            self.execute,
            executes=executes,
            concurrency=settings.worker_concurrency,
            lease_s=settings.run_lease_s,
            max_attempts=settings.max_run_attempts,
            active_runs=lambda before: self.db.read(
                lambda conn: run_rows.active_before(conn, before)
            ),
        )

    # --- cancellation ------------------------------------------------------------------

    async def cancel(self, user_id: str, run_id: str) -> Any:
        """Stop a run of this user; a run that already ended is left as it is."""
        run = await self.db.read(lambda conn: run_rows.get(conn, user_id, run_id))
        if run.status in ACTIVE_STATUSES and not await self.queue.cancel(run_id):
            # Not executing in this process (not yet claimed): end it here.
            last_seq = await self.db.read(lambda conn: event_rows.last_seq(conn, run_id))
            emitter = Emitter.for_run(self.db, self.bus, run, last_seq=last_seq)
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
        if run.attempt > self.settings.max_run_attempts:
            await self._give_up(run, last_seq)
            return
        dataset = None
        if run.dataset_id is not None:
            dataset = self.datasets.for_run(run.user_id, run.dataset_id)
        emitter = Emitter.for_run(self.db, self.bus, run, last_seq=last_seq)
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
                open_agent = await self.db.read(lambda conn: event_rows.open_agent(conn, run.id))
                await ctx.emit(RunResumed(agent=open_agent, attempt=run.attempt))
            if dataset is not None and state.question.operation != "chat":
                # Each analysing run holds a DuckDB instance: bound how many exist at once.
                # Triage decides in the run whether the data agent follows: a question
                # may need the dataset even when admission could not read it.
                async with self._analysis_slots, dataset:
                    state = await Orchestrator(self.agents).run(ctx, state)
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
                body = {"id": report_id, "run_id": run.id, **state.report.model_dump(mode="json")}
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
            response=Response(text=answer, suggestions=list(state.question.suggestions)),
            report_id=report_id,
            duration_ms=duration_ms,
        )
        if await emitter.finish(done, "completed", writes=writes):
            self.finished_runs["completed"] += 1
            log.info("run.completed", duration_ms=duration_ms)

    async def _give_up(self, run: Any, last_seq: int) -> None:
        """End a run whose executors kept dying: it is not tried again."""
        tries = self.settings.max_run_attempts
        error = {
            "code": "run_interrupted",
            "message": f"the run was interrupted {tries} times (its executor stopped); "
            "it was not tried again",
        }
        emitter = Emitter.for_run(self.db, self.bus, run, last_seq=last_seq)
        if await emitter.finish(RunFailed(error=ErrorBody(**error)), "failed", error=error):
            self.finished_runs["failed"] += 1
            log.warning("run.gave_up", run_id=run.id, attempts=tries)

    def _claim(self, conn: Connection, handle: RunHandle) -> tuple[Any, int] | None:
        """Mark the run running (a resume counts an attempt); None if it is not ours to run."""
        run = run_rows.claim(conn, handle.run_id, utc_now(), resume=handle.resume)
        if run is None:
            return None
        return run, (event_rows.last_seq(conn, run.id) if handle.resume else 1)

    async def resume_interrupted(self) -> int:
        """Resume the runs a previous process left active (embedded mode: one process)."""
        run_ids = await self.db.read(run_rows.active_ids)
        for run_id in run_ids:
            await self.queue.submit(run_id, resume=True)
        if run_ids:
            log.info("runs.resumed", runs=len(run_ids))
        return len(run_ids)
