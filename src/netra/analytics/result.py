"""The results of the analyses, and how money is written in one.

Results are small frozen pydantic models: ``result.model_dump(mode="json")`` is what the API
and the agents' tools send. Money is a float in USD rounded to 6 decimals (``usd``). They live
apart from the queries that compute them, so the run state can hold them without loading the
engine (DuckDB, pyarrow, the price catalog): a server that only chats never loads it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


def usd(value: float | Decimal | None) -> float:
    """``value`` rounded to 6 decimals; a sum over no priced rows (``None``) is 0."""
    return round(float(value or 0), 6) + 0.0  # + 0.0 turns -0.0 into 0.0


Kind = Literal["response_cache", "model_routing", "prompt_caching", "batch_api", "error_waste"]
Confidence = Literal["high", "medium", "low"]


class BreakdownRow(Result):
    """The spend of one key; ``share`` = ``cost_usd`` / the breakdown's total cost."""

    key: str | None
    cost_usd: float
    requests: int
    input_tokens: int
    output_tokens: int
    share: float
    unpriced_requests: int


class Breakdown(Result):
    """Spend by ``by``: the first ``limit`` keys by cost (days: every day, by date), the
    rest summed in ``others``; totals over every key."""

    by: str
    rows: list[BreakdownRow]
    others: BreakdownRow | None
    keys: int
    total_cost_usd: float
    total_requests: int


class DayPoint(Result):
    day: date
    cost_usd: float
    requests: int
    input_tokens: int
    output_tokens: int


class DailyTrend(Result):
    """Every day from the first to the last of the dataset, days without rows at 0."""

    days: list[DayPoint]


class FeatureChange(Result):
    """A feature's cost in the recent window against the previous one.

    ``growth_usd`` = recent − previous; ``growth_pct`` = growth / previous × 100, ``None``
    when the previous window cost nothing.
    """

    feature: str
    recent_cost_usd: float
    previous_cost_usd: float
    growth_usd: float
    growth_pct: float | None


class FeatureGrowth(Result):
    """Feature costs over the last ``days`` days of the dataset (ending on its last day)
    against the ``days`` days before; ``top`` is the feature that grew most in dollars,
    ``None`` if none grew. ``features`` are ordered by growth, largest first."""

    days: int
    recent_start: date | None
    recent_end: date | None
    previous_start: date | None
    previous_end: date | None
    features: list[FeatureChange]
    top: FeatureChange | None


class UserCost(Result):
    """One user's spend; ``share`` of the dataset's total cost; spend by model and by
    feature with shares of the user's own cost."""

    user: str
    cost_usd: float
    requests: int
    input_tokens: int
    output_tokens: int
    unpriced_requests: int
    share: float
    by_model: list[BreakdownRow]
    by_feature: list[BreakdownRow]


class Anomaly(Result):
    """A day whose spend exceeded ``threshold_usd`` = ``baseline_mean_usd`` + 3 ×
    ``baseline_stddev_usd`` (the 14 days before it); ``z_score`` = (spend − mean) / stddev,
    ``None`` when the stddev is 0."""

    scope: Literal["overall", "feature"]
    feature: str | None
    day: date
    cost_usd: float
    baseline_mean_usd: float
    baseline_stddev_usd: float
    threshold_usd: float
    excess_usd: float
    z_score: float | None


class Anomalies(Result):
    """Anomalous days, by date (overall before features); ``days_tested``: overall days."""

    items: list[Anomaly]
    days_tested: int


class LatencyRow(Result):
    """Latency percentiles of one group (``group``: dimension → value); ``rows``
    observations, ``requests`` they stand for."""

    group: dict[str, str | None]
    rows: int
    requests: int
    p50_ms: float
    p95_ms: float


class Latency(Result):
    by: list[str]
    groups: list[LatencyRow]


class Recommendation(Result):
    id: str
    kind: Kind
    title: str
    action: str
    monthly_savings_usd: float
    affected_requests: int
    affected_cost_usd: float
    confidence: Confidence
    evidence: dict[str, Any]


class RecommendationSet(Result):
    """The recommendations, largest monthly saving first, and their combined saving.

    ``combined`` holds the monthly saving of each step of the combination, in its order.
    """

    period_days: float
    items: list[Recommendation]
    total_monthly_savings_usd: float
    combined: dict[str, float]
    error_waste_monthly_usd: float


class DatasetSummary(Result):
    """Totals of a dataset.

    - ``total_cost_usd``: Σ ``cost`` (billed or catalog-priced) over every row; unpriced
      rows add nothing and are counted in ``unpriced_requests`` (Σ ``requests`` of rows
      without a cost) and named in ``unpriced_models``;
    - ``period_days``: (``period_end`` − ``period_start``) in seconds / 86,400, not rounded,
      at least 1 (``period_days``);
    - ``models``: the distinct ``model`` values as stored, sorted.
    """

    rows: int
    requests: int
    period_start: datetime | None
    period_end: datetime | None
    period_days: float
    total_cost_usd: float
    models: list[str]
    input_tokens: int
    output_tokens: int
    unpriced_requests: int
    unpriced_models: list[str]


class CatalogModel(Result):
    """One catalog model as the catalog search reports it (base-tier prices per MTok)."""

    provider: str
    model: str
    name: str | None
    context_window: int | None
    input_usd_per_mtok: float
    output_usd_per_mtok: float | None
    cache_read_usd_per_mtok: float | None
    cache_write_usd_per_mtok: float | None
    capabilities: list[str]
    request_cost_usd: float
