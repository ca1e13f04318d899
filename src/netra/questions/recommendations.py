"""How to save, within a plan's scope: ``analytics.recommend`` over the selected rows.

With filters or a window, the engine runs on exactly the rows they keep
(``scope.scoped_dataset``): repeats and shared prefixes are grouped within the scope, and
its monthly figures are the engine's (over the scope's data × 30 ÷ the scope's own
``period_days``, DATA.md section 3). ``kinds`` keeps the kinds asked about; the combined
saving (the engine's chain, no request counted twice) is the headline when all are asked.
"""

from __future__ import annotations

import duckdb

from netra import analytics
from netra.questions.plan import QuestionPlan
from netra.questions.result import Figure, PlanResult
from netra.questions.scope import scoped_dataset


def recommend(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    with scoped_dataset(con, plan.filters, plan.window) as scoped:
        found = analytics.recommend(scoped)
    items = [item for item in found.items if not plan.kinds or item.kind in plan.kinds]
    if plan.kinds:
        headline = [Figure(label=item.kind, value=item.monthly_savings_usd) for item in items]
    else:
        headline = [
            Figure(label="total_monthly_saving", value=found.total_monthly_savings_usd),
            Figure(label="error_waste_monthly", value=found.error_waste_monthly_usd),
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
                item.monthly_savings_usd,
                item.affected_requests,
                item.affected_cost_usd,
                item.confidence,
            ]
            for item in items
        ],
        method=(
            "the analytics engine's recommendations over the selected requests; per month: "
            f"over the data × 30 ÷ {found.period_days:.2f} days"
        ),
        notes=[f"no request qualifies for {kind}" for kind in sorted(asked)],
    )
