"""The run queue seam: who executes a run.

``RunQueue`` is the contract (tests/integration/test_queue_contract.py holds both
implementations to it). ``MemoryQueue`` executes each submitted run as an asyncio task in
this process; ``SaqQueue`` (``runtime.saq_queue``) hands runs to ``netra worker`` processes
through Redis. A run's ``RunHandle`` lets ``cancel`` reach the running work (the run then
ends with ``run_cancelled``) and lets shutdown stop runs without ending them, so they are
resumed: at the next start (embedded), or by another worker (distributed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import structlog

log = structlog.get_logger(__name__)

Execute = Callable[["RunHandle"], Awaitable[None]]


@dataclass(slots=True)
class RunHandle:
    run_id: str
    resume: bool = False
    run: Any = None  # the admitted row, already marked running (in-process runs)
    task: asyncio.Task[None] | None = None
    stop_reason: Literal["cancel", "shutdown"] | None = None
    started: bool = False  # the executor is running (else it sees stop_reason when it starts)
    finishing: bool = False  # the terminal event is being written: too late to cancel

    def stop(self, reason: Literal["cancel", "shutdown"]) -> None:
        """Ask the run to stop, unless it is already writing its end."""
        if self.task is None or self.task.done() or self.finishing:
            return
        if self.stop_reason is None:
            self.stop_reason = reason
            if self.started:
                self.task.cancel()


class RunQueue(Protocol):
    kind: str  # "memory" or "redis", as /health/ready reports it
    takeovers: int  # runs this process resumed after another executor (or process) lost them
    requeued: int  # runs this process submitted again after the queue lost them
    # True when a run executes the moment it is admitted (admission stores it as running).
    starts_at_admission: bool

    async def start(self) -> None: ...
    async def ping(self) -> None: ...
    async def submit(self, run_id: str, *, resume: bool = False, run: Any = None) -> None: ...

    async def cancel(self, run_id: str) -> bool:
        """Ask the run's executor to stop it: False when no executor holds it (it is still
        waiting, or its executor died), so the caller ends it in the database."""
        ...

    async def depth(self) -> int:
        """Runs submitted and not yet taken by an executor."""
        ...

    def __len__(self) -> int:
        """Runs executing in this process."""
        ...

    async def stop(self, grace_s: float) -> None:
        """Let runs finish for ``grace_s``; stop the rest, leaving them resumable."""
        ...


class MemoryQueue:
    kind = "memory"

    def __init__(self, execute: Execute) -> None:
        self._execute = execute
        self._handles: dict[str, RunHandle] = {}
        self.takeovers = 0  # runs a previous process left active, resumed here
        self.requeued = 0  # nothing is lost from a queue in this process

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._handles)

    async def depth(self) -> int:
        return 0  # a run starts the moment it is submitted

    # In-process runs start the moment they are admitted: admission marks them running.
    starts_at_admission = True

    async def submit(self, run_id: str, *, resume: bool = False, run: Any = None) -> None:
        if run_id in self._handles:
            return  # already executing here: a run is executed once at a time
        handle = RunHandle(run_id, resume=resume, run=run)
        self.takeovers += resume
        handle.task = asyncio.create_task(self._run(handle), name=f"run-{run_id}")
        self._handles[run_id] = handle

    async def _run(self, handle: RunHandle) -> None:
        try:
            await self._execute(handle)
        except Exception:  # its end could not be stored: it stays active, resumed at next start
            log.exception("queue.run_lost", run_id=handle.run_id)
        finally:
            self._handles.pop(handle.run_id, None)

    async def cancel(self, run_id: str) -> bool:
        """Stop a run executing here (one already ending is left to end); False: not here."""
        handle = self._handles.get(run_id)
        if handle is None:
            return False
        handle.stop("cancel")
        return True

    async def stop(self, grace_s: float) -> None:
        """Let runs finish for ``grace_s``; stop the rest, leaving them resumable."""
        tasks = [h.task for h in self._handles.values() if h.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_s)
            if pending:
                log.info("queue.stopping_runs", runs=len(pending))
                for handle in list(self._handles.values()):
                    handle.stop("shutdown")
                await asyncio.wait(pending, timeout=2.0)
