"""Tools over the user's usage data: summary, spend breakdowns, findings, latency."""

from __future__ import annotations

from netra import analytics
from netra.agents.tools import over_dataset
from netra.analytics.result import (
    Anomalies,
    Breakdown,
    DatasetSummary,
    Latency,
)
from netra.runtime.context import RunContext


async def dataset_summary(ctx: RunContext) -> DatasetSummary:
    """Rows, requests, period, total cost, models, unpriced requests and models."""
    return await over_dataset(ctx, lambda source: analytics.summarize(source))


async def spend_breakdown(ctx: RunContext, by: str, limit: int = 10) -> Breakdown:
    """Spend by model, provider, feature, user, project, api_key or day, largest first."""
    return await over_dataset(
        ctx, lambda source: analytics.spend_breakdown(source, by, limit=limit)
    )


async def find_anomalies(ctx: RunContext) -> Anomalies:
    """Days whose spend exceeds the mean of the 14 before by more than 3 standard deviations."""
    return await over_dataset(ctx, lambda source: analytics.anomalies(source))


async def latency_percentiles(ctx: RunContext, model: str | None = None) -> Latency:
    """p50/p95 latency per model and feature (one model's when named)."""
    return await over_dataset(
        ctx, lambda source: analytics.latency_percentiles(source, model=model)
    )
