"""The full optimizer, as the benchmark times it: every analysis of a dataset over one connection.

``analyze(path)`` opens the dataset once with the ``spend`` rollup
(``netra.analytics.connection``): the summary, breakdowns, daily trend, feature growth and
anomalies read it; latency reads the stored rows; recommendations their own compact tables
(``cells.prepare``). Each part is exactly what its own function returns when called on the
path. The tests check that (``tests/unit/analytics/test_analyses.py``).

Latency needs nothing the other parts build, so it runs on its own cursor in a second thread
while the recommendations are prepared: both queries share DuckDB's worker threads, and each
fills the moments the other leaves a core idle (about 0.1 s of 3 at 10 million rows).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from netra.analytics.analyses.breakdowns import (
    BREAKDOWNS,
    Breakdown,
    DailyTrend,
    FeatureGrowth,
    daily_trend,
    feature_growth,
    spend_breakdown,
)
from netra.analytics.analyses.findings import Anomalies, Latency, anomalies, latency_percentiles
from netra.analytics.analyses.recommendations import RecommendationSet, recommendations
from netra.analytics.analyses.summary import DatasetSummary, summarize
from netra.analytics.connection import open_dataset
from netra.analytics.result import Result


class Analysis(Result):
    summary: DatasetSummary
    breakdowns: dict[str, Breakdown]
    daily: DailyTrend
    feature_growth: FeatureGrowth
    anomalies: Anomalies
    latency: Latency
    recommendations: RecommendationSet


def analyze(
    path: str | os.PathLike[str], *, breakdown_limit: int | None = 20, day: date | None = None
) -> Analysis:
    """Every analysis of the dataset at ``path``; ``day`` is the pricing day (default today)."""
    with (
        open_dataset(path, rollup=True, day=day) as con,
        con.cursor() as cursor,
        ThreadPoolExecutor(1) as pool,
    ):
        latency = pool.submit(latency_percentiles, cursor)
        found = recommendations(con)
        return Analysis(
            summary=summarize(con),
            breakdowns={by: spend_breakdown(con, by, breakdown_limit) for by in BREAKDOWNS},
            daily=daily_trend(con),
            feature_growth=feature_growth(con),
            anomalies=anomalies(con),
            latency=latency.result(),
            recommendations=found,
        )
