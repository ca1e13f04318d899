"""Tools of the optimization agent: the priced recommendations and the catalog search."""

from __future__ import annotations

import asyncio

from netra import analytics
from netra.agents.tools import over_dataset
from netra.analytics.result import RecommendationSet
from netra.runtime.context import RunContext
from netra.runtime.report import Alternative, UnknownModel


async def find_savings(ctx: RunContext) -> RecommendationSet:
    """The five recommendation kinds of DATA.md, each priced alone, and the combined total."""
    return await over_dataset(ctx, lambda source: analytics.recommend(source))


async def cheapest_alternative(ctx: RunContext, model: str) -> Alternative | UnknownModel:
    """The cheapest catalog model of ``model``'s provider with at least its context window.

    The catalog search tool: a lead for the team, not a priced recommendation (quality is
    not in the catalog), so it is reported as a finding.
    """

    def search() -> Alternative | UnknownModel:
        entry = analytics.resolve_model(model)
        if entry is None:
            return UnknownModel(model=model)
        window = entry.info.context_window or 0
        found = analytics.cheapest_model(window, (), entry.provider)
        return Alternative(
            model=model, provider=entry.provider, context_window=window, alternative=found
        )

    return await asyncio.to_thread(search)
