"""The SQL of each measure over the ``usage`` view (DATA.md section 6), and one figure of a
scope.

- spend = Σ cost; requests = Σ requests; cost per request = spend ÷ requests; share = the
  scope's spend ÷ the window's spend (with a grouping: each group's ÷ the scope's);
- error rate = requests with ``status = 'error'`` ÷ requests; spend on errors = their cost;
- latency percentiles: ``quantile_cont`` over the rows with a ``latency_ms``;
- cache-read share = Σ cache_read_tokens ÷ Σ input_tokens.

``ROW_AMOUNTS``: the additive measures as an amount per row, whose sums over any split of
the rows add up to the whole (what an explanation attributes).
"""

from __future__ import annotations

from typing import Final

import duckdb

from netra.questions.plan import Filters, Measure, Window
from netra.questions.scope import where

MEASURES: Final[dict[str, str]] = {
    "spend": "sum(cost)",
    "requests": "sum(requests)",
    "input_tokens": "sum(input_tokens)",
    "output_tokens": "sum(output_tokens)",
    "total_tokens": "sum(input_tokens + output_tokens)",
    "cost_per_request": "sum(cost) / nullif(sum(requests), 0)",
    "share": "sum(cost)",
    "error_rate": "sum(requests) FILTER (status = 'error') / nullif(sum(requests), 0)",
    "error_spend": "coalesce(sum(cost) FILTER (status = 'error'), 0)",
    "latency_p50": "quantile_cont(latency_ms, 0.5)",
    "latency_p95": "quantile_cont(latency_ms, 0.95)",
    "latency_p99": "quantile_cont(latency_ms, 0.99)",
    "cache_read_share": "sum(cache_read_tokens) / nullif(sum(input_tokens), 0)",
}
ROW_AMOUNTS: Final[dict[str, str]] = {
    "spend": "cost",
    "requests": "requests",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "total_tokens": "input_tokens + output_tokens",
    "error_spend": "CASE WHEN status = 'error' THEN cost ELSE 0 END",
}


def figure(
    con: duckdb.DuckDBPyConnection, measure: Measure, filters: Filters, window: Window | None
) -> float | None:
    """``measure`` over the rows ``filters`` and ``window`` keep (``None``: no such rows)."""
    condition, params = where(filters, window)
    value = con.execute(
        f"SELECT {MEASURES[measure]} FROM usage WHERE {condition}", params
    ).fetchone()
    found = None if value is None or value[0] is None else float(value[0])
    if measure == "share" and found is not None:
        whole_condition, whole_params = where(Filters(), window)
        whole = con.execute(
            f"SELECT sum(cost) FROM usage WHERE {whole_condition}", whole_params
        ).fetchone()
        found = found / float(whole[0]) if whole and whole[0] else None
    return found
