"""What running a plan returns: the headline figures, a table, the window, the method, the
anomalous days in scope and notes on how the scope was applied."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from netra.analytics.result import Anomaly
from netra.questions.plan import QuestionPlan, Window


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    value: float | None


class AnomalousDay(BaseModel):
    """A day whose spend broke the anomaly rule (``analytics.anomalies``): of the scope as a
    whole (``overall``) or of one ``feature``; ``threshold``: the 14 days' mean + 3 σ."""

    model_config = ConfigDict(frozen=True)

    day: date
    scope: Literal["overall", "feature"]
    feature: str | None
    spend: float
    baseline_mean: float
    threshold: float

    @classmethod
    def of(cls, anomaly: Anomaly) -> AnomalousDay:
        """The engine's ``analytics.anomalies`` item as a day of a plan's result."""
        return cls(
            day=anomaly.day,
            scope=anomaly.scope,
            feature=anomaly.feature,
            spend=anomaly.cost_usd,
            baseline_mean=anomaly.baseline_mean_usd,
            threshold=anomaly.threshold_usd,
        )


class PlanResult(BaseModel):
    """``window``: the window used when it differs from the plan's (a forecast's month, an
    explanation's baseline is in ``method``); ``notes``: what the figures leave out or how the
    scope was applied."""

    model_config = ConfigDict(frozen=True)

    plan: QuestionPlan
    headline: list[Figure]
    columns: list[str] = []
    rows: list[list[object]] = []
    window: Window | None = None
    method: str | None = None
    anomalies: list[AnomalousDay] = []
    notes: list[str] = []
