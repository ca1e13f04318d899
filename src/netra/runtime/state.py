"""RunState: what the agents of one run know, flowing forward from agent to agent.

Each agent reads what earlier agents wrote and adds its own part, as typed fields: the
analyses are the analytics engine's own result models. The orchestrator stores the whole
state (``model_dump(mode="json")``) with every ``agent_completed``, so a resumed run
restarts only the agent that was open; a state stored by an earlier version (the analyses
in one ``analyses`` dict keyed by tool, or the regex triage's ``intent``) still loads.

Importing this module imports the engine's result modules (DuckDB with them): the runtime
validates states, so it needs their types.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from netra.analytics.result import (
    Anomalies,
    Breakdown,
    DatasetSummary,
    Latency,
    RecommendationSet,
)
from netra.questions.parser import parse
from netra.questions.plan import QuestionPlan
from netra.questions.result import PlanResult
from netra.questions.usage import ModelUsage
from netra.questions.vocabulary import Vocabulary
from netra.runtime.report import ActionStep, Alternative, Report, UnknownModel

# The analyses' names (the data agent's output, the keys of a previous version's
# ``analyses`` dict) -> fields; breakdowns are ``by_<dimension>``.
_ANALYSES = {
    "summary": "summary",
    "anomalies": "anomalies",
    "latency": "latency",
    "alternative": "alternative",
}


class RunState(BaseModel):
    message: str
    # The question as read: at admission by the parser without the dataset's names, then
    # by triage against them (and the thread's previous plan, or a language model).
    question: QuestionPlan
    plan: list[str]  # the agents, in order; triage revises the ones that follow it
    completed: list[str] = Field(default_factory=list)
    llm_usage: list[ModelUsage] = Field(default_factory=list)  # triage's and reporting's
    # data agent
    summary: DatasetSummary | None = None
    result: PlanResult | None = None  # the plan executed (every operation but recommend's list)
    breakdowns: dict[str, Breakdown] = Field(default_factory=dict)  # by dimension, in call order
    anomalies: Anomalies | None = None
    latency: Latency | None = None
    # optimization agent
    recommendations: RecommendationSet | None = None  # items largest monthly saving first
    alternative: Alternative | UnknownModel | None = None
    # actions agent
    action_plan: list[ActionStep] = Field(default_factory=list)
    # reporting agent
    answer: str | None = None
    report: Report | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_earlier_versions(cls, data: Any) -> Any:
        """Read a state stored by an earlier version: its ``intent`` (the regex triage's) is
        replaced by the question read without the dataset's names, and its ``analyses``
        (tool name -> result) are mapped onto the fields."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "question" not in data and "intent" in data:
            data.pop("intent")
            data["question"] = parse(str(data.get("message", "")), Vocabulary())
        if "analyses" not in data:
            return data
        breakdowns = data.setdefault("breakdowns", {})
        for key, value in data.pop("analyses").items():
            if key.startswith("by_"):
                breakdowns[key.removeprefix("by_")] = value
            elif key in _ANALYSES:
                data[_ANALYSES[key]] = value
        return data

    def analysis_names(self) -> list[str]:
        """The analyses the data and optimization agents stored, by their tool-result names."""
        names = [f"by_{by}" for by in self.breakdowns]
        names += [old for old, field in _ANALYSES.items() if getattr(self, field) is not None]
        return sorted(names)
