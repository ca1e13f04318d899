"""Where the money goes: spend by dimension, by day, feature growth, one user's spend.

Every figure is a sum of ``cost`` (billed or catalog-priced; unpriced rows add nothing and
are counted in ``unpriced_requests``), ``requests`` and tokens over the rows of a key, read
from the ``spend``, ``user_spend`` and ``row_spend`` relations (``connection`` module). Days
are UTC dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Final, NamedTuple

import duckdb

from netra.analytics.connection import Source, connect
from netra.analytics.result import (
    Breakdown,
    BreakdownRow,
    DailyTrend,
    DayPoint,
    FeatureChange,
    FeatureGrowth,
    UserCost,
    usd,
)
from netra.analytics.schema import DIMENSIONS
from netra.errors import InvalidInput

BREAKDOWNS: Final[tuple[str, ...]] = (*DIMENSIONS, "day")


def spend_breakdown(source: Source, by: str, limit: int | None = 20) -> Breakdown:
    """Spend by ``by`` (one of ``BREAKDOWNS``): cost descending (ties by key), or by date."""
    if by not in BREAKDOWNS:
        raise InvalidInput(f"cannot break spend down by {by!r}", by=by, allowed=list(BREAKDOWNS))
    with connect(source) as con:
        keys, total = _sums(con, by)
    shown = keys if by == "day" or limit is None else keys[:limit]
    rest = keys[len(shown) :]
    others = _Sums(
        key=None,
        cost=sum((row.cost for row in rest if row.cost is not None), Decimal(0)),
        requests=sum(row.requests for row in rest),
        input_tokens=sum(row.input_tokens for row in rest),
        output_tokens=sum(row.output_tokens for row in rest),
        unpriced_requests=sum(row.unpriced_requests for row in rest),
    )
    return Breakdown(
        by=by,
        rows=[row.breakdown_row(total) for row in shown],
        others=others.breakdown_row(total) if rest else None,
        keys=len(keys),
        total_cost_usd=usd(total),
        total_requests=sum(row.requests for row in keys),
    )


def daily_trend(source: Source) -> DailyTrend:
    """Cost, requests and tokens per day, every day of the period (see ``DailyTrend``)."""
    with connect(source) as con:
        found = con.execute(
            """
            WITH daily AS (
                SELECT day, sum(cost) AS cost, sum(requests) AS requests,
                       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
                FROM spend
                GROUP BY day
            ),
            calendar AS (
                SELECT CAST(unnest(range(min(day), max(day) + INTERVAL 1 DAY, INTERVAL 1 DAY))
                       AS DATE) AS day
                FROM daily
            )
            SELECT c.day, d.cost, coalesce(d.requests, 0), coalesce(d.input_tokens, 0),
                   coalesce(d.output_tokens, 0)
            FROM calendar AS c LEFT JOIN daily AS d USING (day)
            ORDER BY c.day
            """
        ).fetchall()
    return DailyTrend(
        days=[
            DayPoint(
                day=day, cost_usd=usd(cost), requests=req, input_tokens=ins, output_tokens=outs
            )
            for day, cost, req, ins, outs in found
        ]
    )


def feature_growth(source: Source, days: int = 7) -> FeatureGrowth:
    """Which feature's cost grew most: the last ``days`` days against the ``days`` before.

    The recent window is the ``days`` dates ending on the dataset's last date (included);
    the previous window the ``days`` dates before it. Rows without a feature are left out.
    """
    if days < 1:
        raise InvalidInput("days must be at least 1", days=days)
    with connect(source) as con:
        last = con.execute("SELECT max(day) FROM spend").fetchone()
        last_day = last[0] if last else None
        found = con.execute(
            """
            SELECT feature,
                   coalesce(sum(cost) FILTER (WHERE day > CAST($last AS DATE) - $days), 0)
                       AS recent,
                   coalesce(sum(cost) FILTER (WHERE day <= CAST($last AS DATE) - $days), 0)
                       AS previous
            FROM spend
            WHERE feature IS NOT NULL AND day > CAST($last AS DATE) - 2 * $days
            GROUP BY feature
            ORDER BY recent - previous DESC, feature
            """,
            {"last": last_day, "days": days},
        ).fetchall()
    changes = [
        FeatureChange(
            feature=feature,
            recent_cost_usd=usd(recent),
            previous_cost_usd=usd(previous),
            growth_usd=usd(recent - previous),
            growth_pct=round(float((recent - previous) / previous * 100), 4) if previous else None,
        )
        for feature, recent, previous in found
    ]
    top = changes[0] if changes and changes[0].growth_usd > 0 else None
    window = _windows(last_day, days)
    return FeatureGrowth(days=days, features=changes, top=top, **window)


def user_cost(source: Source, user: str) -> UserCost:
    """The spend of ``user`` (zeros if the dataset has no row of that user)."""
    with connect(source) as con:
        by_model, cost = _sums(con, "model", user)
        by_feature, _ = _sums(con, "feature", user)
        everyone = con.execute("SELECT sum(cost) FROM spend").fetchone()
    total = everyone[0] if everyone else None
    return UserCost(
        user=user,
        cost_usd=usd(cost),
        requests=sum(row.requests for row in by_model),
        input_tokens=sum(row.input_tokens for row in by_model),
        output_tokens=sum(row.output_tokens for row in by_model),
        unpriced_requests=sum(row.unpriced_requests for row in by_model),
        share=_share(cost, total),
        by_model=[row.breakdown_row(cost) for row in by_model],
        by_feature=[row.breakdown_row(cost) for row in by_feature],
    )


class _Sums(NamedTuple):
    key: str | None
    cost: Decimal | None
    requests: int
    input_tokens: int
    output_tokens: int
    unpriced_requests: int

    def breakdown_row(self, total: Decimal | None) -> BreakdownRow:
        return BreakdownRow(
            key=self.key,
            cost_usd=usd(self.cost),
            requests=self.requests,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            share=_share(self.cost, total),
            unpriced_requests=self.unpriced_requests,
        )


def _sums(
    con: duckdb.DuckDBPyConnection, by: str, user: str | None = None
) -> tuple[list[_Sums], Decimal | None]:
    """Spend by ``by`` over every row or one user's, and its total cost; ``by`` is one of
    ``BREAKDOWNS`` (with ``user``: ``model`` or ``feature``)."""
    key = "CAST(day AS VARCHAR)" if by == "day" else f'"{by}"'
    order = "key" if by == "day" else "cost DESC NULLS LAST, key NULLS LAST"
    if user is not None:
        relation, where = "row_spend", 'WHERE "user" = $user'
    else:
        relation, where = ("user_spend" if by == "user" else "spend"), ""
    found = con.execute(
        f"""
        SELECT {key} AS key, sum(cost) AS cost, sum(requests), sum(input_tokens),
               sum(output_tokens), sum(unpriced_requests)
        FROM {relation}
        {where}
        GROUP BY key
        ORDER BY {order}
        """,
        {"user": user} if where else {},
    ).fetchall()
    keys = [_Sums(*row) for row in found]
    costs = [row.cost for row in keys if row.cost is not None]
    return keys, sum(costs, Decimal(0)) if costs else None


def _share(cost: Decimal | None, total: Decimal | None) -> float:
    """``cost`` / ``total`` rounded to 6 decimals, 0 when either is missing or 0."""
    return round(float(cost / total), 6) if cost and total else 0.0


def _windows(last_day: date | None, days: int) -> dict[str, date | None]:
    if last_day is None:
        return dict.fromkeys(("recent_start", "recent_end", "previous_start", "previous_end"))
    return {
        "recent_start": last_day - timedelta(days=days - 1),
        "recent_end": last_day,
        "previous_start": last_day - timedelta(days=2 * days - 1),
        "previous_end": last_day - timedelta(days=days),
    }
