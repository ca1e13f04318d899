"""Each agent, run on its own with a real RunContext: a small demo dataset, a real Emitter
on SQLite and the in-process bus; what it writes into RunState and what it streams."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import update

from netra.agents import build_agents
from netra.agents.money import amount, usd
from netra.agents.triage import plan_question
from netra.dataset_store import Datasets
from netra.db import Database
from netra.db.tables import Run as RunRow
from netra.questions.llm import LanguageModel, ModelUsage
from netra.runtime.admission import Admission
from netra.runtime.bus import MemoryBus
from netra.runtime.context import RunContext
from netra.runtime.dataset import RunDataset
from netra.runtime.events import Emitter
from netra.runtime.queue import MemoryQueue
from netra.runtime.state import RunState
from netra.storage import FolderStore
from tests.unit.runs import add_demo, add_user, migrated, stored_events


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
        self.usage: list[ModelUsage] = []  # what the metrics were given of the model's use

    async def agent(self, name: str, llm: LanguageModel | None = None) -> dict[str, Any]:
        output = await build_agents(self.db, llm, self.usage.append)[name].run(self.ctx, self.state)
        self.state.completed.append(name)
        return output

    async def events(self) -> list[dict[str, Any]]:
        await self.ctx.emitter.settled()
        return await stored_events(self.db, self.ctx.run_id)


@pytest.fixture
async def start(settings_url: Any, db: Database) -> AsyncIterator[Any]:
    user_id = await add_user(db)
    datasets = Datasets(db, FolderStore(settings_url.datasets_dir))
    dataset_id = await add_demo(datasets, user_id)
    bus = MemoryBus()
    opened: list[RunDataset] = []

    async def idle(handle: Any) -> None:
        return None  # the test drives the agents itself

    admission = Admission(settings_url, db, bus, MemoryQueue(idle), plan_question)

    async def begin(message: str, *, with_data: bool = True, thread_id: str | None = None) -> Run:
        row = await admission.start(
            user_id,
            message,
            thread_id=thread_id,
            dataset_id=dataset_id if with_data else None,
        )
        dataset = datasets.for_run(user_id, dataset_id) if with_data else None
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


async def test_triage_reads_the_question_against_the_dataset_and_revises_the_plan(
    start: Any,
) -> None:
    run = await start("What did we spend on Claude last week?")
    assert not run.state.question.filters.model  # admission: "claude" is no name yet
    output = await run.agent("triage")
    events = await run.events()

    question = run.state.question
    assert question.operation == "measure"
    assert question.filters.model and all(m.startswith("claude") for m in question.filters.model)
    assert question.window is not None and question.window.words == "last week"
    assert run.state.plan == ["triage", "data", "reporting"]
    assert output["next"] == ["data", "reporting"]
    thinking = [e["data"]["text"] for e in events if e["type"] == "agent_thinking"]
    assert thinking == [f"Read as: {question.describe()}. Next: data, reporting."]
    tools = [e["data"]["tool"] for e in events if e["type"] == "tool_completed"]
    assert tools == ["read_vocabulary"]


async def test_triage_adds_the_data_agent_for_a_name_only_the_dataset_knows(
    start: Any,
) -> None:
    run = await start("How much did u3 spend in June?")
    assert run.state.plan == ["triage", "reporting"]  # admission: "u3" is no name yet
    output = await run.agent("triage")
    assert run.state.question.filters.user == ("u3",)
    assert output["next"] == ["data", "reporting"]


async def test_triage_reads_a_follow_up_against_the_threads_previous_plan(start: Any) -> None:
    first = await start("What did we spend on Claude last week?")
    await first.agent("triage")
    await first.db.write(
        lambda conn: conn.execute(
            update(RunRow)
            .where(RunRow.id == first.ctx.run_id)
            .values(status="completed", state=first.state.model_dump(mode="json"))
        )
    )
    follow = await start("and on gpt-4o?", thread_id=first.ctx.thread_id)
    await follow.agent("triage")

    assert follow.state.question.filters.model == ("gpt-4o", "gpt-4o-2024-08-06")
    assert follow.state.question.window == first.state.question.window


async def test_triage_keeps_a_greeting_a_chat_without_reading_the_dataset(start: Any) -> None:
    run = await start("hello")
    output = await run.agent("triage")
    events = await run.events()
    assert output["next"] == ["reporting"]
    assert not [e for e in events if e["type"] == "tool_executing"]


async def test_data_executes_the_plan_through_a_tool(start: Any) -> None:
    run = await start("waht did we spnd per modle")
    await run.agent("triage")
    output = await run.agent("data")
    events = await run.events()

    assert output == {"operation": "measure", "analyses": ["summary", "plan"]}
    result = run.state.result
    assert result is not None and result.columns == ["model", "spend"]
    summary = run.state.summary
    assert summary is not None
    assert sum(row[1] for row in result.rows) == pytest.approx(summary.total_cost_usd)
    tools = [e["data"]["tool"] for e in events if e["type"] == "tool_completed"]
    assert tools == ["read_vocabulary", "dataset_summary", "answer_question"]


async def test_reporting_leads_with_the_figure_asked_for(start: Any) -> None:
    run = await start("What did we spend on Claude last week?")
    for name in ("triage", "data", "reporting"):
        await run.agent(name)

    result = run.state.result
    assert result is not None and result.headline[0].value
    lead = (run.state.answer or "").split("\n")[0]
    assert lead.startswith(  # the user said "Claude": the models named as a group, then listed
        f"You spent **{usd(result.headline[0].value)}** on the Claude models (3: "
        "claude-3-5-sonnet-20241022, claude-sonnet-4-20250514, claude-sonnet-4-5) in"
    )
    assert lead.endswith("in Jun 23-29 (last week).")
    report = run.state.report
    assert report is not None and report.intent == "measure"
    assert report.plan == run.state.question.describe()
    assert report.period.start == "2025-06-23T00:00:00.000Z" and report.period.days == 7
    assert report.headline == result.headline


async def test_reporting_declines_what_it_cannot_answer_with_suggestions(start: Any) -> None:
    run = await start("What was our revenue last quarter?")
    for name in run.state.plan:
        await run.agent(name)
    answer = run.state.answer or ""
    assert answer.startswith("I can't answer that yet.")
    assert run.state.report is None and "$" not in answer
    assert 2 <= len(run.state.question.suggestions) <= 3
    assert all(f"- {s}" in answer for s in run.state.question.suggestions)


async def test_reporting_escapes_data_values_and_writes_small_amounts_precisely(
    start: Any,
) -> None:
    run = await start("What is the cost per request of gpt-4o-mini?")
    for name in ("triage", "data", "reporting"):
        await run.agent(name)
    result = run.state.result
    assert result is not None and result.headline[0].value is not None
    assert result.headline[0].value < 0.01
    assert f"**{amount(result.headline[0].value)}**" in (run.state.answer or "")
    assert "$0.00**" not in (run.state.answer or "")


async def test_optimization_actions_and_reporting_agree_on_the_figures(start: Any) -> None:
    run = await start("How do we cut our AI costs?")
    assert run.state.plan == ["triage", "data", "optimization", "actions", "reporting"]
    for name in ("triage", "data"):
        await run.agent(name)
    assert run.state.plan == ["triage", "data", "optimization", "actions", "reporting"]
    assert list(run.state.breakdowns) == ["model", "feature", "user", "day"]
    assert run.state.result is None  # not scoped: the whole dataset's savings

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
    # This version's report says how the question was read (the plan, in words).
    assert (report.pop("intent"), report.pop("plan")) == (
        "recommend",
        "how to save, the whole period",
    )
    assert (report.pop("headline"), report.pop("table")) == ([], None)
    del stored["report"]["intent"]
    assert json.dumps(report) == json.dumps(stored["report"])
    assert RunState.model_validate(run.state.model_dump(mode="json")) == run.state


async def test_reporting_names_the_top_value_first(start: Any) -> None:
    run = await start("Which user costs the most?")
    for name in run.state.plan:
        await run.agent(name)
    result = run.state.result
    assert result is not None and len(result.rows) == 1
    lead = (run.state.answer or "").split("\n")[0]
    assert lead.startswith(f"**{result.rows[0][0]}** has the highest spend over the whole period")


def plans(*answers: dict[str, Any]) -> LanguageModel:
    """A scripted model whose structured answers are ``answers``, in turn."""
    queue = list(answers)

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, queue.pop(0))])

    return LanguageModel(model=FunctionModel(reply), timeout_s=5)


def says(text: str) -> LanguageModel:
    """A scripted model that answers every request with ``text``."""

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(text)])

    return LanguageModel(model=FunctionModel(reply), timeout_s=5)


async def test_triage_uses_the_models_plan_and_says_who_read_the_question(start: Any) -> None:
    run = await start("how are the gpt ones doing?")
    read = {"operation": "measure", "measure": "requests", "filters": {"model": ["gpt-4o"]}}
    output = await run.agent("triage", plans(read))

    assert run.state.question.measure == "requests"
    assert run.state.question.filters.model == ("gpt-4o",)
    assert output["next"] == ["data", "reporting"]
    thinking = [e["data"]["text"] for e in await run.events() if e["type"] == "agent_thinking"]
    assert thinking == [
        f"Read as: {run.state.question.describe()}. (read by function:reply:.) "
        "Next: data, reporting."
    ]
    assert len(run.usage) == 1 and run.state.llm_usage == run.usage
    assert run.usage[0].requests == 1


async def test_triage_falls_back_to_the_parser_when_the_models_plan_is_invalid_twice(
    start: Any,
) -> None:
    run = await start("What did we spend on Claude last week?")
    invalid = {"operation": "teleport"}
    await run.agent("triage", plans(invalid, invalid))

    question = run.state.question  # the parser's reading, as without a model
    assert question.operation == "measure" and question.window is not None
    assert question.filters.model and all(m.startswith("claude") for m in question.filters.model)
    thinking = [e["data"]["text"] for e in await run.events() if e["type"] == "agent_thinking"]
    assert "the language model's answer was invalid twice" in thinking[0]
    assert run.usage[0].requests == 2


async def test_reporting_uses_a_phrasing_whose_figures_are_the_results(start: Any) -> None:
    run = await start("Spend by model last week")
    for name in ("triage", "data", "reporting"):
        await run.agent(name)
    templated = run.state.answer
    assert templated is not None
    lead, _, rest = templated.partition("\n\n")

    rephrased = await start("Spend by model last week")
    for name in ("triage", "data"):
        await rephrased.agent(name)
    await rephrased.agent("reporting", says(f"Short answer: {lead}"))
    assert rephrased.state.answer == f"Short answer: {lead}\n\n{rest}"
    assert len(rephrased.usage) == 1


async def test_reporting_keeps_the_templated_answer_when_the_model_invents_a_figure(
    start: Any,
) -> None:
    run = await start("What did we spend on Claude last week?")
    for name in ("triage", "data", "reporting"):
        await run.agent(name)
    templated = run.state.answer

    invented = await start("What did we spend on Claude last week?")
    for name in ("triage", "data"):
        await invented.agent(name)
    await invented.agent("reporting", says("You spent $987,654.32 on Claude last week."))
    assert invented.state.answer == templated
    thinking = [e["data"]["text"] for e in await invented.events() if e["type"] == "agent_thinking"]
    assert thinking[-1] == (
        "Kept the templated answer: the language model's answer has figures not in the "
        "result: 987,654.32."
    )


async def _ran(start: Any, question: str) -> Any:
    """The run of a data question, its triage, data and reporting agents done."""
    run = await start(question)
    for name in ("triage", "data", "reporting"):
        await run.agent(name)
    return run


async def _answered(start: Any, question: str) -> str:
    return (await _ran(start, question)).state.answer or ""


MONEY = r"\$[\d,]+(\.\d+)?"
NUMBER = r"[\d,]+"


@pytest.mark.parametrize(
    ("question", "lead"),
    [  # the user's words are echoed only when they say more than the dates
        ("How much did we spend on June 25?", rf"You spent \*\*{MONEY}\*\* on Jun 25\."),
        ("how much did we spend in may?", rf"You spent \*\*{MONEY}\*\* in May 1-31\."),
        ("how many requests on june 1", rf"Requests on Jun 1: \*\*{NUMBER}\*\*\."),
        (
            "how many failed requests last week",
            rf"Requests with status error in Jun 23-29 \(last week\): \*\*{NUMBER}\*\*\.",
        ),
        (
            "how much did we spend yesterday?",
            rf"You spent \*\*{MONEY}\*\* on Jun 29 \(yesterday\)\.",
        ),
    ],
)
async def test_the_window_is_said_once_in_the_answer(start: Any, question: str, lead: str) -> None:
    answer = await _answered(start, question)
    assert re.fullmatch(lead, answer.split("\n")[0]), answer


async def test_an_explanation_names_a_mirrored_split_once(start: Any) -> None:
    run = await _ran(start, "why did spend go up last week?")
    answer, result = run.state.answer or "", run.state.result
    assert result is not None
    # project matches feature one to one in the demo: its rows would repeat feature's
    assert {row[0] for row in result.rows} >= {"feature", "model", "api_key"}
    assert "project" not in {row[0] for row in result.rows}
    assert "_project matches feature one to one in these requests" in answer
    # a value that changed exactly as one already named is said with it
    named = answer.split("The change came mostly from ")[1].split(".\n")[0]
    drivers = re.findall(r"(?:^|, )([a-z ]+) \*\*([^*]+)\*\* \(([^)]*)\)", named)
    changes = [(row[2], row[3]) for row in result.rows]
    assert len(drivers) == 3
    for dimension, value, said in drivers:
        row = next(r for r in result.rows if (r[0], r[1]) == (dimension.replace(" ", "_"), value))
        twins = [r for r in result.rows if (r[2], r[3]) == (row[2], row[3]) and r is not row]
        assert changes.count((row[2], row[3])) == 1 + len(twins)
        for twin in twins:
            assert f"{str(twin[0]).replace('_', ' ')} **{twin[1]}**" in said


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        (
            "what if we used batch for summarize",
            r"Sending the traffic on feature summarize over the whole period \(2025-05-20 to "
            rf"2025-06-30\) through a batch API would save about \*\*{MONEY} a month\*\*\.",
        ),
        (  # what both sides share is said once
            "compare openai vs anthropic",
            rf"Spend over the whole period \(2025-05-20 to 2025-06-30\): \*\*{MONEY}\*\* on openai "
            rf"against \*\*{MONEY}\*\* on anthropic: \*\*{MONEY}\*\* (more|less)\.",
        ),
        (
            "compare last week to the week before",
            rf"Spend: \*\*{MONEY}\*\* in Jun 23-29 \(last week\) against \*\*{MONEY}\*\* in "
            rf"Jun 16-22 \(the week before\): \*\*{MONEY}\*\* (more|less)\.",
        ),
        (
            "input vs output tokens",
            r"Over the whole period \(2025-05-20 to 2025-06-30\): "
            rf"input tokens: \*\*{NUMBER}\*\*; output tokens: \*\*{NUMBER}\*\*\.",
        ),
        (
            "which team spends the most",
            rf"\*\*ops-agent\*\* has the highest spend over the whole period .*: \*\*{MONEY}\*\* "
            rf"\(all together: {MONEY}\)\.",
        ),
        (
            "top 3 models by spend last month",
            rf"You spent \*\*{MONEY}\*\* in May 1-31 \(last month\)\. The top 3 by model: "
            rf"\*\*[^*]+\*\* \({MONEY}\), \*\*[^*]+\*\* \({MONEY}\), \*\*[^*]+\*\* \({MONEY}\)\.",
        ),
        (
            "which day was the most expensive",
            rf"\*\*Jun 25\*\* has the highest spend over the whole period \(2025-05-20 to "
            rf"2025-06-30\): \*\*{MONEY}\*\* \(all together: {MONEY}\)\.",
        ),
        (  # a time grouping's leader in words, shares without their 100% total
            "spend per day last week",
            rf"You spent \*\*{MONEY}\*\* in Jun 23-29 \(last week\)\. By day, the highest is "
            rf"\*\*Jun \d+\*\* \({MONEY}\)\.",
        ),
        (
            "share of spend by model",
            r"Share of spend over the whole period \(2025-05-20 to 2025-06-30\)\. By model, the "
            r"highest is \*\*[^*]+\*\* \([\d.]+%\)\.",
        ),
        (
            "who are our top users",
            rf"You spent \*\*{MONEY}\*\* over the whole period \(2025-05-20 to 2025-06-30\)\. "
            rf"By user, the highest is \*\*u\d+\*\* \({MONEY}\)\.",
        ),
    ],
)
async def test_the_lead_answers_what_was_asked(start: Any, question: str, lead: str) -> None:
    answer = await _answered(start, question)
    assert re.fullmatch(lead, answer.split("\n")[0]), answer
    if "team" in question:
        assert '_the data has no team field: "team" is read as project._' in answer


async def test_tool_events_carry_a_bounded_summary_of_wide_results(start: Any) -> None:
    run = await _ran(start, "What did we spend per user last week?")
    results = {
        e["data"]["tool"]: e["data"]["result"]
        for e in await run.events()
        if e["type"] == "tool_completed"
    }

    def lists(value: Any) -> list[list[Any]]:
        if isinstance(value, dict):
            return [found for item in value.values() for found in lists(item)]
        if isinstance(value, list):
            return [value, *(found for item in value for found in lists(item))]
        return []

    assert all(len(found) <= 5 for result in results.values() for found in lists(result))
    # the demo's users: 5 named, then counted; the full result stays in the run's state
    users = dict(results["read_vocabulary"]["values"]["first"])["user"]
    assert users["items"] > 5 and len(users["first"]) == 5
    rows = results["answer_question"]["rows"]
    assert run.state.result is not None
    assert rows["items"] == len(run.state.result.rows) > 5 and len(rows["first"]) == 5


async def test_savings_of_one_kind_lead_with_that_kind(start: Any) -> None:
    run = await start("how much could we save with prompt caching")
    for name in run.state.plan:
        await run.agent(name)
    assert run.state.question.kinds == ("prompt_caching",)
    assert re.fullmatch(
        r"For the traffic over the whole period \(2025-05-20 to 2025-06-30\), you can save with "
        rf"prompt caching: about \*\*{MONEY} a month\*\*\.",
        (run.state.answer or "").split("\n")[0],
    ), run.state.answer
