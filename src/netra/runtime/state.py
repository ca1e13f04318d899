"""RunState: what the agents of one run know, flowing forward from agent to agent.

Each agent reads what earlier agents wrote and adds its own part, as typed fields: the
analyses are the analytics engine's own result models. The orchestrator stores the whole
state (``model_dump(mode="json")``) with every ``agent_completed``, so a resumed run
restarts only the agent that was open; a state stored by an earlier version (the analyses
in one ``analyses`` dict keyed by tool) still loads.

Importing this module imports the engine's result modules (DuckDB with them): the runtime
validates states, so it needs their types.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from netra.analytics.result import (
    Anomalies,
    Breakdown,
    DatasetSummary,
    FeatureGrowth,
    Latency,
    RecommendationSet,
    UserCost,
)
from netra.runtime.report import ActionStep, Alternative, Report, UnknownModel

IntentKind = Literal["chat", "no_data", "spend", "latency", "growth", "user_cost", "optimize"]


class Intent(BaseModel):
    kind: IntentKind
    reason: str
    dimensions: list[str] = Field(default_factory=list)  # spend breakdowns asked for
    model: str | None = None  # a model the question names
    user: str | None = None  # a user the question names
    feature: str | None = None  # a feature the question names


# The analyses' names (the data agent's output, the keys of a previous version's
# ``analyses`` dict) -> fields; breakdowns are ``by_<dimension>``.
_ANALYSES = {
    "summary": "summary",
    "growth": "growth",
    "anomalies": "anomalies",
    "latency": "latency",
    "user": "user_cost",
    "alternative": "alternative",
}


class RunState(BaseModel):
    message: str
    intent: Intent
    plan: list[str]
    completed: list[str] = Field(default_factory=list)
    # data agent
    summary: DatasetSummary | None = None
    breakdowns: dict[str, Breakdown] = Field(default_factory=dict)  # by dimension, in call order
    growth: FeatureGrowth | None = None
    anomalies: Anomalies | None = None
    latency: Latency | None = None
    user_cost: UserCost | None = None
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
    def _from_analyses_dict(cls, data: Any) -> Any:
        """Map a previous version's ``analyses`` (tool name -> result) onto the fields."""
        if not isinstance(data, dict) or "analyses" not in data:
            return data
        data = dict(data)
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
