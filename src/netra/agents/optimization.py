"""Optimization: price every saving the data supports and rank them by monthly saving."""

from __future__ import annotations

from typing import Any

from netra.agents.money import usd
from netra.agents.tools import savings
from netra.analytics.result import RecommendationSet
from netra.runtime.context import RunContext
from netra.runtime.state import RunState


class Optimization:
    name = "optimization"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        await ctx.think(
            self.name,
            "Pricing the five kinds of saving (response cache, model routing, prompt caching, "
            "batch API, error waste) over the data, each on its own and then combined.",
        )
        found: RecommendationSet = await ctx.call(self.name, savings.find_savings)
        ranked = sorted(found.items, key=lambda item: -item.monthly_savings_usd)
        state.recommendations = found.model_copy(update={"items": ranked})
        worthwhile = [item for item in ranked if item.monthly_savings_usd > 0]
        if worthwhile:
            best = worthwhile[0]
            await ctx.think(
                self.name,
                f"{len(worthwhile)} recommendations; the largest is {best.kind} at "
                f"{usd(best.monthly_savings_usd)}/month; combined without double counting: "
                f"{usd(found.total_monthly_savings_usd)}/month.",
            )
        else:
            await ctx.think(self.name, "The data shows no saving these rules can price.")
        top_model = _top_model(state)
        if top_model is not None:
            state.alternative = await ctx.call(
                self.name, savings.cheapest_alternative, model=top_model
            )
        return {
            "recommendations": len(worthwhile),
            "total_monthly_savings_usd": found.total_monthly_savings_usd,
            "top": [item.kind for item in worthwhile[:3]],
        }


def _top_model(state: RunState) -> str | None:
    """The model with the most spend, from the data agent's breakdown."""
    by_model = state.breakdowns.get("model")
    return (by_model.rows[0].key or None) if by_model and by_model.rows else None
