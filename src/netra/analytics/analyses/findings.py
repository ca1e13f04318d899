"""Findings reported without a saving (DATA.md section 3): spend anomalies and latency.

Anomaly rule: a day is anomalous when its spend exceeds the mean of the 14 days before it
by more than 3 population standard deviations::

    spend(d) > mean(spend(d-14) … spend(d-1)) + 3 × stddev_pop(spend(d-14) … spend(d-1))

Spend is Σ ``cost`` of every row of the day (errors included; unpriced rows add nothing),
and a day without rows spends 0. Only days with 14 days before them are tested: for the
``overall`` series, days at least 14 days after the dataset's first day; for a ``feature``
series, at least 14 days after that feature's first day (a launch is not an anomaly). Rows
without a feature belong only to the overall series.
"""

from __future__ import annotations

from typing import Final

from netra.analytics.connection import Source, connect
from netra.analytics.prices.siblings import versions_of
from netra.analytics.result import (
    Anomalies,
    Anomaly,
    Latency,
    LatencyRow,
    usd,
)
from netra.analytics.schema import DIMENSIONS
from netra.errors import InvalidInput

BASELINE_DAYS: Final = 14
THRESHOLD_STDDEVS: Final = 3


def anomalies(source: Source) -> Anomalies:
    """The anomalous days of the overall spend and of each feature's (module docstring)."""
    with connect(source) as con:
        found = con.execute(
            f"""
            WITH spent AS (
                SELECT GROUPING(feature) = 1 AS overall, feature, day, sum(cost) AS cost
                FROM spend
                GROUP BY GROUPING SETS ((day), (feature, day))
            ),
            series AS (
                SELECT overall, feature, min(day) AS first_day
                FROM spent
                WHERE overall OR feature IS NOT NULL
                GROUP BY overall, feature
            ),
            calendar AS (
                SELECT s.overall, s.feature,
                       CAST(unnest(range(s.first_day, l.last_day + INTERVAL 1 DAY,
                                         INTERVAL 1 DAY)) AS DATE) AS day
                FROM series AS s, (SELECT max(day) AS last_day FROM spent) AS l
            ),
            daily AS (
                SELECT c.overall, c.feature, c.day, coalesce(s.cost, 0) AS cost
                FROM calendar AS c
                LEFT JOIN spent AS s
                    ON s.overall = c.overall
                    AND s.feature IS NOT DISTINCT FROM c.feature
                    AND s.day = c.day
            ),
            scored AS (
                SELECT *, count(*) OVER before AS days_before,
                       avg(cost) OVER before AS mean, stddev_pop(cost) OVER before AS stddev
                FROM daily
                WINDOW before AS (
                    PARTITION BY overall, feature ORDER BY day
                    ROWS BETWEEN {BASELINE_DAYS} PRECEDING AND 1 PRECEDING
                )
            )
            SELECT overall, feature, day, cost, mean, stddev,
                   cost > mean + {THRESHOLD_STDDEVS} * stddev AS anomalous
            FROM scored
            WHERE days_before = {BASELINE_DAYS}
            ORDER BY day, overall DESC, feature
            """
        ).fetchall()
    items = [
        Anomaly(
            scope="overall" if overall else "feature",
            feature=feature,
            day=day,
            cost_usd=usd(cost),
            baseline_mean_usd=usd(mean),
            baseline_stddev_usd=usd(stddev),
            threshold_usd=usd(mean + THRESHOLD_STDDEVS * stddev),
            excess_usd=usd(float(cost) - (mean + THRESHOLD_STDDEVS * stddev)),
            z_score=round((float(cost) - mean) / stddev, 4) if stddev > 0 else None,
        )
        for overall, feature, day, cost, mean, stddev, anomalous in found
        if anomalous
    ]
    return Anomalies(items=items, days_tested=sum(1 for row in found if row[0]))


def latency_percentiles(
    source: Source, by: tuple[str, ...] = ("model", "feature"), model: str | None = None
) -> Latency:
    """p50 and p95 of ``latency_ms`` per group of ``by`` (dimensions of ``schema``).

    Over ``success`` rows with a latency (errors fail fast or time out, which says nothing
    of a model's speed), optionally of one ``model`` only (with its dated and versioned
    names, ``siblings.versions_of``: ``gpt-4o`` includes ``gpt-4o-2024-08-06``, not
    ``gpt-4o-mini``). Each row is one observation (a
    bucket row's latency counts once). Percentiles are DuckDB's ``quantile_cont``: linear
    interpolation between the two nearest ranks, at rank (n − 1) × p of the sorted values,
    the same as ``numpy.percentile`` (default) and Excel's ``PERCENTILE.INC``. Groups are
    ordered by p95, slowest first.
    """
    unknown = [name for name in by if name not in DIMENSIONS]
    if unknown or not by:
        raise InvalidInput(f"cannot group latency by {by!r}", by=list(by), allowed=DIMENSIONS)
    columns = ", ".join(f'"{name}"' for name in by)
    # Only the provider needs the priced rows (the catalog's provider); the rest is stored.
    rows = "usage" if "provider" in by else "stored_usage"
    with connect(source) as con:
        found = con.execute(
            f"""
            SELECT {columns}, count(*), sum(requests),
                   quantile_cont(latency_ms, [0.5, 0.95]) AS percentiles
            FROM {rows}
            WHERE status = 'success' AND latency_ms IS NOT NULL
                AND ($model IS NULL OR regexp_full_match(lower(model), $model))
            GROUP BY {columns}
            ORDER BY percentiles[2] DESC, {columns}
            """,
            {"model": versions_of(model) if model else None},
        ).fetchall()
    groups = [
        LatencyRow(
            group=dict(zip(by, row[: len(by)], strict=True)),
            rows=row[len(by)],
            requests=row[len(by) + 1],
            p50_ms=round(row[-1][0], 3),
            p95_ms=round(row[-1][1], 3),
        )
        for row in found
    ]
    return Latency(by=list(by), groups=groups)
