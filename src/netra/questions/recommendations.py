"""How to save, within a plan's scope: ``analytics.recommend`` over the selected rows.

With filters or a window, the engine runs on exactly the rows they keep
(``scope.scoped_dataset``): repeats and shared prefixes are grouped within the scope, and
monthly figures are over the window × 30 ÷ its days, or over the data × 30 ÷ the dataset's
``period_days`` (``scope.scope_days``): the engine's, rescaled from the period of the
scope's own rows. ``kinds`` keeps the kinds asked about; the combined
saving (the engine's chain, no request counted twice) is the headline when all are asked.
"""

from __future__ import annotations

import duckdb

from netra import analytics
from netra.questions.plan import QuestionPlan
from netra.questions.result import Figure, PlanResult
from netra.questions.scope import scope_days, scoped_dataset


def recommend(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    with scoped_dataset(con, plan.filters, plan.window) as scoped:
        found = analytics.recommend(scoped)
    days = scope_days(con, plan.window)
    scale = found.period_days / days  # the engine's monthly figures, × 30 ÷ days instead

    def monthly(figure: float) -> float:
        return figure * scale

    items = [item for item in found.items if not plan.kinds or item.kind in plan.kinds]
    if plan.kinds:
        headline = [
            Figure(label=item.kind, value=monthly(item.monthly_savings_usd)) for item in items
        ]
    else:
        headline = [
            Figure(label="total_monthly_saving", value=monthly(found.total_monthly_savings_usd)),
            Figure(label="error_waste_monthly", value=monthly(found.error_waste_monthly_usd)),
        ]
    asked = set(plan.kinds) - {item.kind for item in items}
    return PlanResult(
        plan=plan,
        headline=headline,
        columns=[
            "kind",
            "title",
            "monthly_saving",
            "affected_requests",
            "affected_spend",
            "confidence",
        ],
        rows=[
            [
                item.kind,
                item.title,
                monthly(item.monthly_savings_usd),
                item.affected_requests,
                item.affected_cost_usd,
                item.confidence,
            ]
            for item in items
        ],
        method=(
            "the analytics engine's recommendations over the selected requests; per month: "
            f"× 30 ÷ {days:.2f} days"
        ),
        notes=[f"no request qualifies for {kind}" for kind in sorted(asked)],
    )
