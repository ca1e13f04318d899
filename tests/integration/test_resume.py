"""A run lost after its last agent completed is resumed without running any agent again.

The first process is the real orchestrator with the real agents on the database under test,
stopped where a SIGKILL between the last ``agent_completed`` and ``run_completed`` leaves a
run (that window is too narrow to hit with a real kill). A fresh ``Runner`` on the same
database then resumes it, as the next server start does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from netra.agents import build_agents
from netra.agents.triage import plan_question
from netra.clock import utc_now
from netra.config import Settings
from netra.dataset_store import Datasets
from netra.db import Database, threads
from netra.db import events as event_rows
from netra.db import runs as run_rows
from netra.db.tables import Run, User
from netra.ids import new_id
from netra.protocol import RunStarted, encode
from netra.runtime.bus import MemoryBus
from netra.runtime.context import RunContext
from netra.runtime.events import Emitter
from netra.runtime.orchestrator import Orchestrator
from netra.runtime.runner import Runner
from netra.runtime.state import RunState
from netra.storage import FolderStore

QUESTION = "how do we cut our costs?"


async def _admitted_run(db: Database, datasets: Datasets) -> tuple[str, str, str, dict[str, Any]]:
    """A user with demo data and a run of ``QUESTION`` stored as admission stores it."""
    user_id, run_id = new_id(), new_id()
    now = utc_now()
    await db.write(
        lambda conn: conn.execute(
            insert(User),
            dict(id=user_id, email=f"{user_id}@x.io", name="n", password_hash=None, created_at=now),
        )
    )
    dataset = await datasets.create_demo(user_id, 2_000, seed=7)
    question, plan = plan_question(QUESTION)
    state = RunState(message=QUESTION, question=question, plan=plan)

    def admit(conn: Any) -> str:
        thread_id: str = threads.create(conn, user_id, QUESTION)["id"]
        conn.execute(
            run_rows.insert_run,
            dict(
                id=run_id,
                user_id=user_id,
                thread_id=thread_id,
                dataset_id=dataset["id"],
                message=QUESTION,
                request_id=None,
                status="running",
                error=None,
                state=state.model_dump(mode="json"),
                attempt=1,
                created_at=now,
                started_at=now,
                finished_at=None,
            ),
        )
        started = RunStarted(message=QUESTION, dataset_id=dataset["id"], agents=plan)
        body = encode(started, run_id=run_id, thread_id=thread_id, seq=1, ts=now)
        conn.execute(
            event_rows.insert_event,
            {"run_id": run_id, "seq": 1, "type": "run_started", "body": body},
        )
        return thread_id

    thread_id = await db.write(admit)
    return user_id, thread_id, run_id, dataset


async def _run_every_agent(db: Database, datasets: Datasets, run_id: str) -> None:
    """The lost process: every agent runs and completes; the run's end is never written."""
    run = await db.read(lambda conn: conn.execute(select(Run).where(Run.id == run_id)).one())
    emitter = Emitter(
        db, MemoryBus(), user_id=run.user_id, thread_id=run.thread_id, run_id=run_id, last_seq=1
    )
    async with datasets.for_run(run.user_id, run.dataset_id) as dataset:
        ctx = RunContext(
            user_id=run.user_id,
            thread_id=run.thread_id,
            run_id=run_id,
            request_id=None,
            message=run.message,
            dataset=dataset,
            emitter=emitter,
        )
        await Orchestrator(build_agents(db)).run(ctx, RunState.model_validate(run.state))
        await emitter.settled()


def _events(db: Database, run_id: str) -> Any:
    async def read() -> list[dict[str, Any]]:
        rows = await db.read(lambda conn: event_rows.events_after(conn, run_id, 0))
        return [json.loads(body) for _, _, body in rows]

    return read()


async def test_a_run_lost_after_its_last_agent_completed_resumes_straight_to_its_end(
    migrated_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=migrated_url)
    lost_db = Database(migrated_url)
    try:
        datasets = Datasets(lost_db, FolderStore(settings.datasets_dir))
        user_id, thread_id, run_id, _ = await _admitted_run(lost_db, datasets)
        await _run_every_agent(lost_db, datasets, run_id)
    finally:
        await lost_db.dispose()

    db = Database(migrated_url)
    bus = MemoryBus()
    await bus.start()
    try:
        before = await _events(db, run_id)
        assert before[-1]["type"] == "agent_completed", before[-1]
        assert before[-1]["data"]["agent"] == "reporting", before[-1]

        runner = Runner(
            settings,
            db,
            bus,
            build_agents(db),
            plan_question,
            Datasets(db, FolderStore(settings.datasets_dir)),
        )
        async with bus.subscribe(user_id) as subscription:
            # Every run left active is resumed, other tests' included: wait for this one.
            await runner.resume_interrupted()
            while True:
                delivery = await asyncio.wait_for(subscription.get(), 60)
                if delivery.run_id == run_id and delivery.type == "run_completed":
                    break
        after = await _events(db, run_id)
        run = await db.read(lambda conn: run_rows.get(conn, user_id, run_id))
        report = await db.read(lambda conn: run_rows.report(conn, user_id, run_id))
        messages = await db.read(lambda conn: threads.messages(conn, user_id, thread_id))
    finally:
        await runner.queue.stop(0)
        await bus.stop()
        await db.dispose()

    assert after[: len(before)] == before, "an event stored before the loss changed"
    rest = after[len(before) :]
    assert [event["type"] for event in rest] == ["run_resumed", "run_completed"], rest
    assert rest[0]["data"]["agent"] is None, "no agent was open when the run was lost"
    assert rest[0]["data"]["attempt"] == 2
    assert [event["seq"] for event in after] == list(range(1, len(after) + 1))
    assert run.status == "completed"
    answer = rest[1]["data"]["response"]["text"]
    assert "$" in answer, answer
    assert rest[1]["data"]["report_id"] == report.id
    assert report.markdown == answer
    assert report.body["recommendations"], "the resumed run stored the report its agents made"
    assert [(m["role"], m["content"]) for m in messages][-1] == ("assistant", answer)
