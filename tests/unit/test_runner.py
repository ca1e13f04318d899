"""The Runner over a real SQLite database and the in-process bus and queue: admission
limits, cancel before the claim, resume, failure, and exactly one terminal event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netra.agents import build_agents
from netra.agents.triage import plan_question
from netra.dataset_store import Datasets
from netra.db import Database
from netra.errors import RateLimited, RunError, ThreadBusy, TooManyRuns
from netra.protocol import TERMINAL_TYPES
from netra.runtime.bus import MemoryBus
from netra.runtime.context import RunContext
from netra.runtime.runner import Runner
from netra.runtime.state import RunState
from netra.storage import FolderStore
from tests.unit.runs import (
    add_user,
    assert_one_terminal_event_last,
    migrated,
    settings_for,
    stored_events,
)


class Gate:
    """A real reporting agent that waits for ``opened`` before it answers."""

    name = "reporting"

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        self.entered.set()
        await self.opened.wait()
        state.answer = "done"
        return {"answer_chars": 4}


class Failing:
    name = "reporting"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        raise self.error


class World:
    def __init__(self, tmp_path: Path, db: Database) -> None:
        self.db = db
        self.bus = MemoryBus()

    def runner(self, tmp_path: Path, agents: dict[str, Any] | None = None, **values: Any) -> Runner:
        settings = settings_for(tmp_path, **values)
        all_agents = {**build_agents(self.db), **(agents or {})}
        return Runner(
            settings,
            self.db,
            self.bus,
            all_agents,
            plan_question,
            Datasets(self.db, FolderStore(settings.datasets_dir)),
        )


@pytest.fixture
def url(tmp_path: Path) -> str:
    return migrated(tmp_path).sqlalchemy_url


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    yield database
    await database.dispose()


async def _ended(runner: Runner, user_id: str, run_id: str) -> list[dict[str, Any]]:
    """The run's stored events once its terminal event is stored."""
    for _ in range(500):
        events = await stored_events(runner.db, run_id)
        if events and events[-1]["type"] in TERMINAL_TYPES:
            await asyncio.sleep(0.05)  # nothing may follow it
            return await stored_events(runner.db, run_id)
        await asyncio.sleep(0.01)
    raise AssertionError("the run did not end")


async def test_a_run_is_admitted_executed_and_ends_completed_once(tmp_path: Path, db: Database):
    runner = World(tmp_path, db).runner(tmp_path)
    user_id = await add_user(db)

    run = await runner.start(user_id, "hello, what can you do?")
    events = await _ended(runner, user_id, run.id)

    assert [e["type"] for e in events][:1] == ["run_started"]
    assert events[0]["data"]["agents"] == ["triage", "reporting"]
    assert events[-1]["type"] == "run_completed"
    assert "Netra Apex" in events[-1]["data"]["response"]["text"]
    assert_one_terminal_event_last(events)
    assert runner.finished_runs == {"completed": 1, "failed": 0, "cancelled": 0}


async def test_admission_refuses_runs_past_the_users_limits(tmp_path: Path, db: Database):
    gate = Gate()
    runner = World(tmp_path, db).runner(
        tmp_path, {"reporting": gate}, max_runs_per_user=2, runs_per_minute_per_user=3
    )
    user_id = await add_user(db)
    first = await runner.start(user_id, "hello")
    await gate.entered.wait()

    with pytest.raises(ThreadBusy):
        await runner.start(user_id, "again", thread_id=first.thread_id)
    second = await runner.start(user_id, "hello")
    with pytest.raises(TooManyRuns):
        await runner.start(user_id, "hello")
    gate.opened.set()
    for run in (first, second):
        await _ended(runner, user_id, run.id)
    third = await runner.start(user_id, "hello")
    await _ended(runner, user_id, third.id)
    with pytest.raises(RateLimited):
        await runner.start(user_id, "hello")

    stored = await db.read(
        lambda conn: conn.exec_driver_sql("SELECT count(*) FROM threads").scalar()
    )
    assert stored == 3  # a refused run leaves nothing behind


async def test_a_failing_agent_ends_the_run_with_run_failed(tmp_path: Path, db: Database):
    world = World(tmp_path, db)
    user_id = await add_user(db)
    cases = [
        (RuntimeError("boom"), "internal"),
        (RunError("this run has no dataset to analyse"), "run_failed"),
    ]
    for error, code in cases:
        runner = world.runner(tmp_path, {"reporting": Failing(error)})
        run = await runner.start(user_id, "hello")
        events = await _ended(runner, user_id, run.id)

        assert events[-1]["type"] == "run_failed"
        assert events[-1]["data"]["error"]["code"] == code
        assert "boom" not in events[-1]["data"]["error"]["message"]
        assert_one_terminal_event_last(events)
        assert runner.finished_runs["failed"] == 1


async def _interrupted(world: World, tmp_path: Path, user_id: str) -> Any:
    """A run whose process stopped while its reporting agent was working."""
    gate = Gate()
    lost = world.runner(tmp_path, {"reporting": gate})
    run = await lost.start(user_id, "hello")
    await gate.entered.wait()
    await lost.queue.stop(0)  # shutdown: the run stays active, resumable
    return run


async def test_an_interrupted_run_resumes_from_its_open_agent(tmp_path: Path, db: Database):
    world = World(tmp_path, db)
    user_id = await add_user(db)
    run = await _interrupted(world, tmp_path, user_id)
    runner = world.runner(tmp_path)

    assert await runner.resume_interrupted() == 1
    events = await _ended(runner, user_id, run.id)

    resumed = [e for e in events if e["type"] == "run_resumed"]
    assert [e["data"] for e in resumed] == [{"agent": "reporting", "attempt": 2}]
    started = [e["data"]["agent"] for e in events if e["type"] == "agent_started"]
    assert started == ["triage", "reporting", "reporting"]  # triage is not run again
    assert events[-1]["type"] == "run_completed"
    assert_one_terminal_event_last(events)


async def test_a_run_cancelled_before_it_is_claimed_ends_cancelled_without_resuming(
    tmp_path: Path, db: Database
):
    world = World(tmp_path, db)
    user_id = await add_user(db)
    run = await _interrupted(world, tmp_path, user_id)
    runner = world.runner(tmp_path)

    await runner.queue.submit(run.id, resume=True)
    # No await between the two: the cancel reaches the queued run before its task starts.
    # (Runner.cancel first reads the run, and a quick run may end during that read.)
    assert await runner.queue.cancel(run.id)
    events = await _ended(runner, user_id, run.id)

    assert events[-1]["type"] == "run_cancelled"
    assert not [e for e in events if e["type"] == "run_resumed"]
    assert_one_terminal_event_last(events)
    assert runner.finished_runs["cancelled"] == 1


async def test_a_run_executing_elsewhere_is_cancelled_once(tmp_path: Path, db: Database):
    world = World(tmp_path, db)
    user_id = await add_user(db)
    gate = Gate()
    executing = world.runner(tmp_path, {"reporting": gate})
    async with world.bus.subscribe(user_id) as published:  # events are published once stored
        run = await executing.start(user_id, "hello")
        while (delivery := await published.get()).type != "agent_started" or (
            json.loads(delivery.body)["data"] != {"agent": "reporting"}
        ):
            pass  # until reporting's start is stored: none of the run's writes is in flight
    await gate.entered.wait()
    elsewhere = world.runner(tmp_path)  # another process: the run is not in its queue

    await elsewhere.cancel(user_id, run.id)
    gate.opened.set()
    events = await _ended(elsewhere, user_id, run.id)
    await asyncio.sleep(0.2)  # the executing process tries to end it too
    events = await stored_events(db, run.id)

    assert [e["type"] for e in events if e["type"] in TERMINAL_TYPES] == ["run_cancelled"]
    assert_one_terminal_event_last(events)
