"""``SaqQueue``: the run queue on Redis, executed by ``netra worker`` processes (ADR 4).

A submitted run becomes a saq job keyed by the run id (submitting twice queues it once).
A worker executing it keeps the job's lease alive with a heartbeat; when a worker dies,
another worker's sweep finds the job's heartbeat stale and retries it, and the Runner
resumes the run (``run_resumed``). A worker stopping hands its unfinished runs back the
same way, at once. Retries are bounded by ``NETRA_MAX_RUN_ATTEMPTS``: the attempt after
the last ends the run with ``run_failed`` (the Runner checks), so saq allows one more.

Cancellation crosses processes on the bus: ``cancel`` marks the run in Redis (an executor
that takes it later sees the mark) and publishes ``cancel_run`` to the executors' topic,
which every worker follows; the one holding the run stops it.

Redis may lose its queue (a restart without persistence, an evicted key): each executing
process reconciles every lease period. An active run older than a lease whose job is
neither waiting nor held by a live executor, at two passes in a row (a live executor's
heartbeat writes its job back in between), is submitted again: a queued run as it was, a
running one to be resumed. saq adds a job only when its key is not queued or active, so
processes reconciling at once submit it once.

Redis may go away: ``submit``, ``cancel`` and ``depth`` give up within ``REDIS_CALL_S``
with ``Unavailable``; the worker keeps polling (a failed dequeue waits
``DEQUEUE_RETRY_S`` before the next one) and takes runs again once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from saq import Worker
from saq.job import Status
from saq.queue.redis import RedisQueue
from saq.types import TimersDict

from netra.clock import utc_now
from netra.errors import Unavailable
from netra.repeats import Repeats
from netra.runtime.bus import EXECUTORS, REDIS_TIMEOUT_S, Bus, Delivery
from netra.runtime.queue import RunHandle

log = structlog.get_logger(__name__)

QUEUE_NAME = "netra-runs"
CANCEL_MARK_TTL_S = 24 * 3600
JOB = "execute_run"
REDIS_CALL_S = 3.0
DEQUEUE_RETRY_S = 1.0
SOCKET_TIMEOUT_S = 5.0  # above saq's blocking dequeue (1 s)
LIVE = (Status.NEW, Status.QUEUED, Status.ACTIVE, Status.ABORTING)

# The id and status of each active run created before the given time (from the database).
ActiveRuns = Callable[[datetime], Awaitable[list[tuple[str, str]]]]


class _QuietOutage(logging.Filter):
    """saq logs a traceback each time an upkeep timer or a dequeue fails: while Redis is
    away, several a second. Such a record becomes a warning line without its traceback,
    for the 1st, 10th, 100th... of its kind, with the count."""

    def __init__(self) -> None:
        super().__init__()
        self._repeats = Repeats()

    def filter(self, record: logging.LogRecord) -> bool:
        from redis.exceptions import ConnectionError, TimeoutError

        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, ConnectionError | TimeoutError | OSError | asyncio.TimeoutError):
            return True
        kind = f"{record.msg}: {type(exc).__name__}"
        seen = self._repeats.count(kind)
        if seen is None:
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = f"{kind} (Redis away; {seen} times so far)", None
        record.exc_info, record.exc_text = None, None
        return True


class _Worker(Worker):
    SIGNALS: list[signal.Signals] = []  # the process's own signal handling calls stop()


class _RunQueue(RedisQueue):
    """saq's Redis queue with a sweep that leaves a just-dequeued job alone.

    saq's own sweep retries every job it finds in the active list not yet marked active,
    which is also each job a worker has dequeued a moment ago (saq issue #277, open): it
    could start a running run a second time, or lose it when the sweeping process dies
    before its retry (seen in the takeover test). This sweep retries a job whose heartbeat
    lapsed, and a not-yet-active one only when this process saw it so at its previous
    sweep too (a worker that died between dequeue and start).
    """

    ABORT_WAIT_S = 2.0  # a live executor stops an aborted job within the abort timer (1 s)

    async def dequeue(self, timeout: float = 0, poll_interval: float = 0) -> Any:
        """saq's dequeue, pausing after a failure: each worker slot asks again at once, so
        without the pause a dead Redis would be asked in a tight loop."""
        try:
            return await super().dequeue(timeout, poll_interval)
        except Exception:
            await asyncio.sleep(DEQUEUE_RETRY_S)
            raise

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unstarted: set[bytes] = set()
        self._redis: Any = self.redis

    async def sweep(self, lock: int = 60, abort: float = ABORT_WAIT_S) -> list[str]:
        if not await self._redis.set(self._sweep, 1, ex=lock, nx=True):
            return []  # another process sweeps this period
        unstarted: set[bytes] = set()
        swept: list[str] = []
        for job_id in await self._redis.lrange(self._active, 0, -1):
            job = await self._get_job_by_id(job_id)
            if job is None:
                await self._redis.lrem(self._active, 0, job_id)
                continue
            if job.status not in (Status.ACTIVE, Status.ABORTING):
                unstarted.add(job_id)
                if job_id not in self._unstarted:
                    continue
            elif not job.stuck:
                continue
            log.info("queue.sweeping", job=job.key, attempts=job.attempts)
            swept.append(job.key)
            await self.abort(job, error=self.swept_error_message)
            with contextlib.suppress(asyncio.TimeoutError):
                await job.refresh(self.ABORT_WAIT_S)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        self._unstarted = unstarted
        return swept


@contextlib.asynccontextmanager
async def _bounded() -> AsyncIterator[None]:
    """A Redis call that fails or takes over ``REDIS_CALL_S`` raises ``Unavailable``."""
    try:
        async with asyncio.timeout(REDIS_CALL_S):
            yield
    except Exception as exc:
        raise Unavailable(
            "the run queue is unavailable; try again shortly", dependency="queue", retry_after_s=2
        ) from exc


class SaqQueue:
    kind = "redis"
    starts_at_admission = False  # a run waits, queued, until a worker claims it

    def __init__(
        self,
        url: str,
        bus: Bus,
        execute: Callable[[RunHandle], Awaitable[None]],
        *,
        executes: bool,
        concurrency: int,
        lease_s: int,
        max_attempts: int,
        active_runs: ActiveRuns | None = None,
    ) -> None:
        """``active_runs``: the database's active runs, to reconcile with (unset: none)."""
        from redis.asyncio import Redis

        redis = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S
        )
        self._queue = _RunQueue(redis, name=QUEUE_NAME)
        self._bus = bus
        self._execute = execute
        self._executes = executes
        self._concurrency = concurrency
        self._lease_s = lease_s
        self._max_attempts = max_attempts
        self._handles: dict[str, RunHandle] = {}
        self._worker: Worker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._active_runs = active_runs
        self._quiet = _QuietOutage()
        self._missing: set[str] = set()  # runs without a live job at the last reconciliation
        self._reconcile_failures = Repeats()
        self.takeovers = 0  # runs this process resumed after another executor lost them
        self.requeued = 0  # runs this process submitted again after Redis lost their job

    @property
    def _redis(self) -> Any:
        return self._queue.redis

    @staticmethod
    def _cancel_mark(run_id: str) -> str:
        return f"netra:cancel:{run_id}"

    async def start(self) -> None:
        await self._queue.connect()
        if not self._executes:
            return
        listening = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._follow_cancels(listening)))
        await listening.wait()
        self._worker = _Worker(
            self._queue,
            functions=[(JOB, self._job)],
            concurrency=self._concurrency,
            # A dead worker's job is retried once its heartbeat is a lease old; each worker
            # sweeps for such jobs this often (one sweep at a time across workers).
            timers=TimersDict(
                sweep=max(1, self._lease_s // 2), abort=1, schedule=1, worker_info=10
            ),
            shutdown_grace_period_s=0,  # stop() gives the grace itself, then hands runs back
            dequeue_timeout=1.0,
        )
        logging.getLogger("saq").addFilter(self._quiet)
        self._tasks.append(asyncio.create_task(self._worker.start(), name="saq-worker"))
        if self._active_runs is not None:
            reconciling = self._reconcile_every_lease(self._active_runs)
            self._tasks.append(asyncio.create_task(reconciling, name="reconcile"))

    async def ping(self) -> None:
        await asyncio.wait_for(self._redis.ping(), REDIS_TIMEOUT_S)

    def __len__(self) -> int:
        return len(self._handles)

    async def depth(self) -> int:
        async with _bounded():
            return int(await self._queue.count("queued"))

    async def submit(self, run_id: str, *, resume: bool = False, run: Any = None) -> None:
        await self._enqueue(run_id, resume)

    async def _enqueue(self, run_id: str, resume: bool) -> bool:
        """Add the run's job; False when its key is already queued or active."""
        async with _bounded():
            job = await self._queue.enqueue(
                JOB,
                key=run_id,
                run_id=run_id,
                resume=resume,
                timeout=0,  # a run may take long; its heartbeat, not a timeout, proves it alive
                heartbeat=self._lease_s,
                retries=self._max_attempts + 1,
            )
        return job is not None

    async def cancel(self, run_id: str) -> bool:
        async with _bounded():
            await self._redis.set(self._cancel_mark(run_id), 1, ex=CANCEL_MARK_TTL_S)
        await self._bus.publish(EXECUTORS, Delivery(type="cancel_run", body="", run_id=run_id))
        async with _bounded():
            job = await self._queue.job(run_id)
        return job is not None and job.status is Status.ACTIVE

    async def stop(self, grace_s: float) -> None:
        """Let runs finish for ``grace_s``; hand the rest back to the queue, for another
        worker to resume at once."""
        if self._worker is not None:
            running = [h.task for h in self._handles.values() if h.task is not None]
            if running:
                await asyncio.wait(running, timeout=grace_s)
            if self._handles:
                log.info("queue.handing_back", runs=len(self._handles))
            await self._worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):  # Redis away: there is nothing left to close
            await asyncio.wait_for(self._queue.disconnect(), REDIS_CALL_S)
        logging.getLogger("saq").removeFilter(self._quiet)

    async def _reconcile(self, active_runs: ActiveRuns) -> int:
        """Submit again the active runs whose job Redis lost; how many were submitted."""
        grace = timedelta(seconds=self._lease_s)  # a run just stored is being submitted
        runs = await active_runs(utc_now() - grace)
        async with _bounded():
            jobs = await self._queue.jobs(run_id for run_id, _ in runs) if runs else []
        missing = {
            run_id: status
            for (run_id, status), job in zip(runs, jobs, strict=True)
            if job is None or job.status not in LIVE or job.stuck
        }
        submitted = 0
        for run_id, status in missing.items():
            if run_id not in self._missing:
                continue  # seen once: a live executor may be writing its job back
            if await self._enqueue(run_id, resume=status == "running"):
                submitted += 1
                log.warning("queue.requeued", run_id=run_id, status=status)
        self._missing = set(missing)
        self.requeued += submitted
        return submitted

    async def _reconcile_every_lease(self, active_runs: ActiveRuns) -> None:
        while True:
            try:
                await self._reconcile(active_runs)
            except Exception as exc:  # Redis or the database away: the next pass tries again
                if (seen := self._reconcile_failures.count(type(exc).__name__)) is not None:
                    log.warning("queue.reconcile_failed", error=repr(exc), times=seen)
            await asyncio.sleep(self._lease_s)

    async def _job(self, ctx: dict[str, Any], *, run_id: str, resume: bool = False) -> None:
        job = ctx["job"]
        handle = RunHandle(run_id, resume=resume or job.attempts > 1)
        handle.task = asyncio.current_task()
        self._handles[run_id] = handle
        beat = asyncio.create_task(self._heartbeat(job))
        try:
            if await self._redis.exists(self._cancel_mark(run_id)):
                handle.stop_reason = "cancel"
            if handle.resume:
                self.takeovers += 1
            await self._execute(handle)
        finally:
            beat.cancel()
            self._handles.pop(run_id, None)

    async def _heartbeat(self, job: Any) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            with contextlib.suppress(Exception):  # Redis away: the lease may lapse, not the run
                await job.update()

    async def _follow_cancels(self, listening: asyncio.Event) -> None:
        async with self._bus.subscribe(EXECUTORS) as subscription:
            listening.set()
            while True:
                delivery = await subscription.get()
                handle = self._handles.get(delivery.run_id or "")
                if delivery.type == "cancel_run" and handle is not None:
                    handle.stop("cancel")
