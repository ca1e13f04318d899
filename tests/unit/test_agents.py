"""Each agent, run on its own with a real RunContext: a small demo dataset, a real Emitter
on SQLite and the in-process bus; what it writes into RunState and what it streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netra.agents import build_agents
from netra.agents.triage import classify
from netra.dataset_store import Datasets
from netra.db import Database
from netra.runtime.admission import Admission
from netra.runtime.bus import MemoryBus
from netra.runtime.context import RunContext
from netra.runtime.dataset import RunDataset
from netra.runtime.events import Emitter
from netra.runtime.queue import MemoryQueue
from netra.runtime.state import RunState
from tests.unit.runs import add_demo, add_user, migrated, stored_events

AGENTS = build_agents()


@pytest.fixture
def settings_url(tmp_path: Path) -> Any:
    return migrated(tmp_path)


@pytest.fixture
async def db(settings_url: Any) -> AsyncIterator[Database]:
    database = Database(settings_url.sqlalchemy_url)
    yield database
    await database.dispose()


class Run:
    """A run row of a real user, its context and state for ``message``."""

    def __init__(self, db: Database, ctx: RunContext, state: RunState) -> None:
        self.db, self.ctx, self.state = db, ctx, state

    async def agent(self, name: str) -> dict[str, Any]:
        output = await AGENTS[name].run(self.ctx, self.state)
        self.state.completed.append(name)
        return output

    async def events(self) -> list[dict[str, Any]]:
        await self.ctx.emitter.settled()
        return await stored_events(self.db, self.ctx.run_id)


@pytest.fixture
async def start(settings_url: Any, db: Database) -> AsyncIterator[Any]:
    user_id = await add_user(db)
    datasets = Datasets(db, settings_url.datasets_dir)
    dataset_id = await add_demo(datasets, user_id)
    bus = MemoryBus()
    opened: list[RunDataset] = []

    async def idle(handle: Any) -> None:
        return None  # the test drives the agents itself

    admission = Admission(settings_url, db, bus, MemoryQueue(idle), classify)

    async def begin(message: str, *, with_data: bool = True) -> Run:
        row = await admission.start(user_id, message, dataset_id=dataset_id if with_data else None)
        dataset = RunDataset(dataset_id, datasets.path(user_id, dataset_id)) if with_data else None
        if dataset is not None:
            opened.append(dataset)
        ctx = RunContext(
            user_id=user_id,
            thread_id=row.thread_id,
            run_id=row.id,
            request_id=None,
            message=message,
            dataset=dataset,
            emitter=Emitter.for_run(db, bus, row, last_seq=1),
        )
        return Run(db, ctx, RunState.model_validate(row.state))

    yield begin
    for dataset in opened:
        dataset.close()


async def test_triage_explains_its_plan(start: Any) -> None:
    run = await start("How do we cut our AI costs?")
    output = await run.agent("triage")
    events = await run.events()

    assert run.state.plan == ["triage", "data", "optimization", "actions", "reporting"]
    assert output["intent"] == "optimize"
    assert output["next"] == ["data", "optimization", "actions", "reporting"]
    assert [e["type"] for e in events[1:]] == ["agent_thinking"] * (len(events) - 1)


async def test_data_runs_the_analyses_the_question_needs_through_tools(start: Any) -> None:
    run = await start("What did we spend per model?")
    output = await run.agent("data")
    events = await run.events()

    assert output == {"analyses": ["by_model", "summary"]}
    assert run.state.summary is not None and run.state.summary.rows == 3_000
    assert list(run.state.breakdowns) == ["model"]
    assert run.state.breakdowns["model"].total_requests == 3_000
    tools = [e["data"]["tool"] for e in events if e["type"] == "tool_completed"]
    assert tools == ["dataset_summary", "spend_breakdown"]
    executing = [e["data"]["call_id"] for e in events if e["type"] == "tool_executing"]
    completed = [e["data"]["call_id"] for e in events if e["type"] == "tool_completed"]
    assert executing == completed


async def test_optimization_actions_and_reporting_agree_on_the_figures(start: Any) -> None:
    run = await start("How do we cut our AI costs?")
    for name in ("triage", "data"):
        await run.agent(name)

    found = await run.agent("optimization")
    items = run.state.recommendations.items if run.state.recommendations else []
    savings = [item.monthly_savings_usd for item in items]
    assert savings == sorted(savings, reverse=True)
    assert found["recommendations"] == len([s for s in savings if s > 0])

    acted = await run.agent("actions")
    assert [step.rank for step in run.state.action_plan] == list(range(1, acted["steps"] + 1))
    assert [step.monthly_savings_usd for step in run.state.action_plan] == [
        s for s in savings if s > 0
    ][: acted["steps"]]

    reported = await run.agent("reporting")
    assert run.state.report is not None and run.state.answer
    assert reported["report"] is True
    assert run.ctx.dataset is not None
    assert run.state.report.dataset_id == run.ctx.dataset.id
    assert len(run.state.report.recommendations) == reported["recommendations"]


async def test_reporting_a_chat_without_a_dataset_says_how_to_load_one(start: Any) -> None:
    run = await start("hello, what can you do?", with_data=False)

    output = await run.agent("reporting")

    assert output == {"answer_chars": len(run.state.answer or ""), "report": False}
    assert "Netra Apex" in (run.state.answer or "")
    assert "load usage data" in (run.state.answer or "")
    assert run.state.report is None


STORED_BEFORE_TYPING = Path(__file__).parent / "data" / "run_state_v1.json"


async def test_a_state_stored_by_the_previous_version_resumes_to_the_same_answer(
    start: Any,
) -> None:
    """The state the previous version stored after the actions agent (analyses in one dict
    keyed by tool), with the answer and report that version then wrote."""
    stored = json.loads(STORED_BEFORE_TYPING.read_text())
    run = await start(stored["state"]["message"])
    run.state = RunState.model_validate(stored["state"])

    assert run.state.summary is not None and run.state.summary.rows == 3_000
    assert list(run.state.breakdowns) == ["model", "feature", "user", "day"]
    assert run.state.anomalies and run.state.latency and run.state.alternative
    await run.agent("reporting")

    assert run.state.answer == stored["answer"]
    assert run.state.report is not None
    report = run.state.report.model_dump(mode="json")
    del report["dataset_id"]
    assert json.dumps(report) == json.dumps(stored["report"])
    assert RunState.model_validate(run.state.model_dump(mode="json")) == run.state
