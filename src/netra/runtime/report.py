"""The report of a run (DATA.md section 4), the action plan and the findings in it.

``model_dump(mode="json")`` is the report's JSON; a finding is written flat, its ``kind``
first and then the fields of the analysis it reports.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    SerializationInfo,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from netra.analytics.result import (
    Anomaly,
    BreakdownRow,
    CatalogModel,
    DatasetSummary,
    FeatureGrowth,
    Latency,
    Recommendation,
    Result,
    UserCost,
)
from netra.questions.result import Figure

FindingKind = Literal["anomaly", "latency", "growth", "user_cost", "alternative"]


class ActionStep(BaseModel):
    """How to implement one recommendation: steps, effort, validation and rollback."""

    rank: int
    recommendation_id: str
    kind: str
    title: str
    monthly_savings_usd: float
    effort: str
    steps: list[str]
    validation: str
    rollback: str


class UnknownModel(Result):
    """The catalog search's answer for a model the price catalog does not know."""

    model: str
    known: Literal[False] = False


class Alternative(Result):
    """The cheapest catalog model of ``model``'s provider with at least its context window
    (``alternative``: ``None`` if the catalog has none)."""

    model: str
    known: Literal[True] = True
    provider: str
    context_window: int
    alternative: CatalogModel | None


Detail = Anomaly | Latency | FeatureGrowth | UserCost | Alternative | UnknownModel
_DETAILS: dict[str, TypeAdapter[Any]] = {
    "anomaly": TypeAdapter(Anomaly),
    "latency": TypeAdapter(Latency),
    "growth": TypeAdapter(FeatureGrowth),
    "user_cost": TypeAdapter(UserCost),
    "alternative": TypeAdapter(Alternative | UnknownModel),
}


class Finding(BaseModel):
    """An analysis reported without a saving: ``{"kind": ..., **detail}`` in JSON."""

    kind: FindingKind
    detail: Detail

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "detail" not in data:
            detail = {key: value for key, value in data.items() if key != "kind"}
            adapter = _DETAILS.get(data.get("kind", ""))
            return {
                "kind": data.get("kind"),
                "detail": adapter.validate_python(detail) if adapter else detail,
            }
        return data

    @model_serializer(mode="plain")
    def _flat(self, info: SerializationInfo) -> dict[str, Any]:
        return {"kind": self.kind, **self.detail.model_dump(mode=info.mode)}


class Period(BaseModel):
    start: str | None
    end: str | None
    days: float


class Totals(BaseModel):
    cost_usd: float
    requests: int
    input_tokens: int
    output_tokens: int
    unpriced_requests: int
    unpriced_models: list[str]

    @classmethod
    def of(cls, summary: DatasetSummary) -> Totals:
        """The dataset's totals, from the data agent's summary."""
        return cls(
            cost_usd=summary.total_cost_usd,
            requests=summary.requests,
            input_tokens=summary.input_tokens,
            output_tokens=summary.output_tokens,
            unpriced_requests=summary.unpriced_requests,
            unpriced_models=summary.unpriced_models,
        )


class Chart(BaseModel):
    id: str
    type: str  # line, bar
    title: str
    x: list[str | None]
    y: list[float]


class Table(BaseModel):
    """The figures supporting the answer (the plan's result table)."""

    columns: list[str]
    rows: list[list[Any]]


class Report(BaseModel):
    dataset_id: str | None
    question: str
    intent: str  # the plan's operation
    plan: str | None = None  # the question as read, in words
    period: Period
    totals: Totals
    breakdowns: dict[str, list[BreakdownRow]]
    recommendations: list[Recommendation]
    total_monthly_savings_usd: float
    findings: list[Finding]
    action_plan: list[ActionStep]
    charts: list[Chart]
    headline: list[Figure] = []  # the figures the answer leads with
    table: Table | None = None
