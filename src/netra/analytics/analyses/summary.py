"""What a dataset holds: rows, requests, period, total cost, models, unpriced usage.

This feeds the API's ``Dataset`` object (``rows``, ``period``, ``total_cost_usd``, ``models``)
and the report's ``totals`` and ``period`` (DATA.md section 4).
"""

from __future__ import annotations

from datetime import datetime

from netra.analytics.connection import Source, connect
from netra.analytics.result import (
    DatasetSummary,
    usd,
)


def period_days(start: datetime | None, end: datetime | None) -> float:
    """(end − start) in seconds / 86,400, not rounded, at least 1 (DATA.md section 3)."""
    if start is None or end is None:
        return 1.0
    return max(1.0, (end - start).total_seconds() / 86_400)


def summarize(source: Source) -> DatasetSummary:
    """The totals of the dataset (see ``DatasetSummary``)."""
    with connect(source) as con:
        period = con.execute("SELECT rows, first_at, last_at FROM period").fetchone()
        totals = con.execute(
            """
            SELECT coalesce(sum(requests), 0), sum(cost), coalesce(sum(input_tokens), 0),
                   coalesce(sum(output_tokens), 0), coalesce(sum(unpriced_requests), 0)
            FROM spend
            """
        ).fetchone()
        models = con.execute(
            "SELECT model, sum(unpriced_requests) > 0 FROM spend GROUP BY model ORDER BY model"
        ).fetchall()
    assert period is not None and totals is not None  # aggregates without GROUP BY: one row
    rows, start, end = period
    requests, cost, inputs, outputs, unpriced = totals
    return DatasetSummary(
        rows=rows,
        requests=requests,
        period_start=start,
        period_end=end,
        period_days=period_days(start, end),
        total_cost_usd=usd(cost),
        models=[model for model, _ in models],
        input_tokens=inputs,
        output_tokens=outputs,
        unpriced_requests=unpriced,
        unpriced_models=[model for model, unpriced in models if unpriced],
    )
