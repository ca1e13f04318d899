"""Anomalous days of a plan's scope: ``analytics.anomalies`` over the selected rows.

The rule is the engine's (DATA.md section 3): a day is anomalous when its spend exceeds the
mean of the 14 days before it by more than 3 population standard deviations, for the
scope's spend as a whole and for each feature's; only days with 14 days before them are
tested. The filters select the rows first (``scope.scoped_dataset``), so "anomalies of
claude" tests claude's own daily spend; the window then keeps the days inside it, while
their baselines may lie before it.
"""

from __future__ import annotations

from typing import Final

import duckdb

from netra import analytics
from netra.questions.plan import Filters, QuestionPlan, Window
from netra.questions.result import AnomalousDay, Figure, PlanResult
from netra.questions.scope import scoped_dataset

RULE: Final = (
    "a day is anomalous when its spend exceeds the mean of the 14 days before it by more "
    "than 3 standard deviations (population), for the whole scope and for each feature"
)


def anomalous_days(
    con: duckdb.DuckDBPyConnection, filters: Filters, window: Window | None
) -> list[AnomalousDay]:
    """The anomalous days of the rows ``filters`` keep, inside ``window`` (all if ``None``)."""
    with scoped_dataset(con, filters, None) as scoped:
        found = analytics.anomalies(scoped)
    return [
        AnomalousDay.of(item)
        for item in found.items
        if window is None or window.start <= item.day <= window.end
    ]


def anomalies(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    """The ``anomalies`` operation: the days, their spend, baseline mean and threshold."""
    days = anomalous_days(con, plan.filters, plan.window)
    return PlanResult(
        plan=plan,
        headline=[Figure(label="anomalous_days", value=len(days))],
        columns=["day", "scope", "feature", "spend", "baseline_mean", "threshold"],
        rows=[
            [day.day, day.scope, day.feature, day.spend, day.baseline_mean, day.threshold]
            for day in days
        ],
        anomalies=days,
        method=RULE,
    )
