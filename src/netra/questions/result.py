"""What running a plan returns: the headline figures, a table, the window and the method."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from netra.questions.plan import QuestionPlan, Window


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    value: float | None


class PlanResult(BaseModel):
    """``window``: the window used when it differs from the plan's (a forecast's month)."""

    model_config = ConfigDict(frozen=True)

    plan: QuestionPlan
    headline: list[Figure]
    columns: list[str] = []
    rows: list[list[object]] = []
    window: Window | None = None
    method: str | None = None
