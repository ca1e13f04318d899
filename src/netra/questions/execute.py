"""Running a plan with DuckDB over a connection from ``analytics.open_dataset``.

Every figure is read from the ``usage`` view (rows with their catalog-priced ``cost``), so
the money formulas are the analytics engine's (DATA.md sections 2 and 6):

- spend = Σ cost; requests = Σ requests; cost per request = spend ÷ requests; share = the
  scope's spend ÷ the window's spend (with a grouping: each group's ÷ the scope's);
- error rate = requests with ``status = 'error'`` ÷ requests; spend on errors = their cost;
- latency percentiles: ``quantile_cont`` over the rows with a ``latency_ms``;
- cache-read share = Σ cache_read_tokens ÷ Σ input_tokens.

``compare`` measures both sides; ``forecast`` is the daily run rate of the last 30 days of
the scope (or all of it, if shorter) × the days of the month after the data's reference day.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Final

import duckdb

from netra.errors import InvalidInput
from netra.questions.plan import Filters, QuestionPlan, Window
from netra.questions.result import Figure, PlanResult

_MEASURES: Final = {
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
_TIME_GROUPS: Final = {
    "day": "day",
    "week": "date_trunc('week', day)::DATE",
    "month": "date_trunc('month', day)::DATE",
}
_FORECAST_DAYS: Final = 30


def execute(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    """The figures of ``plan`` (``measure``, ``compare`` and ``forecast``)."""
    if plan.operation == "measure":
        return _measure(con, plan)
    if plan.operation == "compare":
        return _compare(con, plan)
    if plan.operation == "forecast":
        return _forecast(con, plan)
    raise InvalidInput(f"plans of operation {plan.operation!r} are not executed here")


def _where(filters: Filters, window: Window | None) -> tuple[str, dict[str, object]]:
    clauses: list[str] = ["TRUE"]
    params: dict[str, object] = {}
    for name, values in filters.items():
        clauses.append(f'"{name}" IN (SELECT unnest(${name}))')
        params[name] = list(values)
    if window is not None:
        clauses.append("day BETWEEN $start AND $end")
        params |= {"start": window.start, "end": window.end}
    return " AND ".join(clauses), params


def _figure(
    con: duckdb.DuckDBPyConnection, plan: QuestionPlan, filters: Filters, window: Window | None
) -> float | None:
    where, params = _where(filters, window)
    value = con.execute(
        f"SELECT {_MEASURES[plan.measure]} FROM usage WHERE {where}", params
    ).fetchone()
    figure = None if value is None or value[0] is None else float(value[0])
    if plan.measure == "share" and figure is not None:
        whole_where, whole_params = _where(Filters(), window)
        whole = con.execute(
            f"SELECT sum(cost) FROM usage WHERE {whole_where}", whole_params
        ).fetchone()
        figure = figure / float(whole[0]) if whole and whole[0] else None
    return figure


def _measure(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    headline = [Figure(label=plan.measure, value=_figure(con, plan, plan.filters, plan.window))]
    rows: list[list[object]] = []
    if plan.group_by:
        key = _TIME_GROUPS.get(plan.group_by, f'"{plan.group_by}"')
        where, params = _where(plan.filters, plan.window)
        measure = _MEASURES[plan.measure]
        if plan.measure == "share":
            measure = "sum(cost) / sum(sum(cost)) OVER ()"
        order = (
            "key"
            if plan.group_by in _TIME_GROUPS
            else f"value {plan.order.upper()} NULLS LAST, key"
        )
        limit = f"LIMIT {int(plan.top)}" if plan.top else ""
        found = con.execute(
            f"SELECT {key} AS key, {measure} AS value FROM usage WHERE {where} "
            f"GROUP BY key ORDER BY {order} {limit}",
            params,
        ).fetchall()
        rows = [[key_value, None if value is None else float(value)] for key_value, value in found]
    return PlanResult(
        plan=plan,
        headline=headline,
        columns=[plan.group_by or "", plan.measure] if rows else [],
        rows=rows,
    )


def _compare(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    other_filters = plan.versus or plan.filters
    other_window = plan.versus_window or plan.window
    first = _figure(con, plan, plan.filters, plan.window)
    second = _figure(con, plan, other_filters, other_window)
    difference = None if first is None or second is None else first - second
    return PlanResult(
        plan=plan,
        headline=[
            Figure(label="first", value=first),
            Figure(label="second", value=second),
            Figure(label="difference", value=difference),
        ],
    )


def _forecast(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    where, params = _where(plan.filters, None)
    last = con.execute("SELECT max(day), min(day) FROM usage").fetchone()
    if last is None or last[0] is None:
        return PlanResult(plan=plan, headline=[Figure(label="forecast", value=None)])
    last_day, first_day = last
    start = max(first_day, last_day - timedelta(days=_FORECAST_DAYS - 1))
    found = con.execute(
        f"SELECT sum(cost) FROM usage WHERE {where} AND day BETWEEN $from AND $to",
        params | {"from": start, "to": last_day},
    ).fetchone()
    days = (last_day - start).days + 1
    rate = float(found[0] or 0) / days if found else 0.0
    month_start = (last_day.replace(day=1) + timedelta(days=32)).replace(day=1)
    month_days = calendar.monthrange(month_start.year, month_start.month)[1]
    window = Window(
        start=month_start,
        end=date(month_start.year, month_start.month, month_days),
        words="next month",
    )
    return PlanResult(
        plan=plan,
        headline=[
            Figure(label="forecast", value=rate * month_days),
            Figure(label="daily_run_rate", value=rate),
        ],
        window=window,
        method=f"daily run rate of the last {days} days × {month_days} days",
    )
