"""Data: run the analyses the question needs over the user's usage data."""

from __future__ import annotations

from typing import Any

from netra.agents.tools import usage
from netra.analytics.result import DatasetSummary
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

MAX_BREAKDOWNS = 3


class Data:
    name = "data"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        intent = state.intent
        summary: DatasetSummary = await ctx.call(self.name, usage.dataset_summary)
        state.summary = summary
        start, end = (
            str(day.date()) if day else "" for day in (summary.period_start, summary.period_end)
        )
        await ctx.think(
            self.name,
            f"The dataset has {summary.rows:,} rows over {summary.period_days:.1f} days "
            f"({start} to {end}); "
            f"running the analyses this question needs ({intent.kind.replace('_', ' ')}).",
        )
        breakdowns = state.breakdowns
        if intent.kind in {"spend", "optimize"}:
            for by in intent.dimensions[:MAX_BREAKDOWNS]:
                breakdowns[by] = await ctx.call(self.name, usage.spend_breakdown, by=by)
        if intent.kind == "optimize":
            for by in ("model", "feature", "user", "day"):
                if by not in breakdowns:
                    breakdowns[by] = await ctx.call(self.name, usage.spend_breakdown, by=by)
            state.anomalies = await ctx.call(self.name, usage.find_anomalies)
            state.latency = await ctx.call(self.name, usage.latency_percentiles)
        elif intent.kind == "latency":
            state.latency = await ctx.call(self.name, usage.latency_percentiles, model=intent.model)
        elif intent.kind == "growth":
            state.growth = await ctx.call(self.name, usage.feature_growth, days=7)
            state.anomalies = await ctx.call(self.name, usage.find_anomalies)
        elif intent.kind == "user_cost" and intent.user:
            state.user_cost = await ctx.call(self.name, usage.user_cost, user=intent.user)
        return {"analyses": state.analysis_names()}
