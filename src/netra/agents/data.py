"""Data: run the analyses the question needs over the user's usage data."""

from __future__ import annotations

from typing import Any

from netra.agents.tools import usage
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

MAX_BREAKDOWNS = 3


class Data:
    name = "data"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        intent = state.intent
        found = state.analyses
        found["summary"] = await ctx.call(self.name, usage.dataset_summary)
        summary = found["summary"]
        await ctx.think(
            self.name,
            f"The dataset has {summary['rows']:,} rows over {summary['period_days']:.1f} days "
            f"({(summary['period_start'] or '')[:10]} to {(summary['period_end'] or '')[:10]}); "
            f"running the analyses this question needs ({intent.kind.replace('_', ' ')}).",
        )
        if intent.kind in {"spend", "optimize"}:
            for by in intent.dimensions[:MAX_BREAKDOWNS]:
                found[f"by_{by}"] = await ctx.call(self.name, usage.spend_breakdown, by=by)
        if intent.kind == "optimize":
            for by in ("model", "feature", "user", "day"):
                if f"by_{by}" not in found:
                    found[f"by_{by}"] = await ctx.call(self.name, usage.spend_breakdown, by=by)
            found["anomalies"] = await ctx.call(self.name, usage.find_anomalies)
            found["latency"] = await ctx.call(self.name, usage.latency_percentiles)
        elif intent.kind == "latency":
            found["latency"] = await ctx.call(
                self.name, usage.latency_percentiles, model=intent.model
            )
        elif intent.kind == "growth":
            found["growth"] = await ctx.call(self.name, usage.feature_growth, days=7)
            found["anomalies"] = await ctx.call(self.name, usage.find_anomalies)
        elif intent.kind == "user_cost" and intent.user:
            found["user"] = await ctx.call(self.name, usage.user_cost, user=intent.user)
        return {"analyses": sorted(found)}
