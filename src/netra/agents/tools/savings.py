"""Tools of the optimization agent: the priced recommendations and the catalog search."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic_core import to_jsonable_python

from netra import analytics
from netra.agents.tools import over_dataset
from netra.runtime.context import RunContext


async def find_savings(ctx: RunContext) -> Any:
    """The five recommendation kinds of DATA.md, each priced alone, and the combined total."""
    return await over_dataset(ctx, lambda source: analytics.recommend(source))


async def cheapest_model(
    ctx: RunContext,
    min_context_window: int = 0,
    capabilities: list[str] | None = None,
    provider: str | None = None,
) -> Any:
    """The cheapest catalog model with this context window and these capabilities."""
    result = await asyncio.to_thread(
        lambda: analytics.cheapest_model(min_context_window, capabilities or [], provider)
    )
    return to_jsonable_python(result)
