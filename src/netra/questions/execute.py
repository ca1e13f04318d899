"""Running a plan with DuckDB over a connection from ``analytics.open_dataset``.

Every figure is read from the ``usage`` view (rows with their catalog-priced ``cost``), so
the money formulas are the analytics engine's (DATA.md sections 2 and 6; ``measures`` has
each measure's SQL). ``measure``, ``compare`` and ``forecast`` run here: ``compare``
measures both sides; ``forecast`` is the daily run rate of the last 30 days of the scope (or
all of it, if shorter) × the days of the month after the data's last day. ``explain``,
``anomalies``, ``what_if`` and ``recommend`` have a module each.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Final

import duckdb

from netra.errors import InvalidInput
from netra.questions.anomalies import anomalies
from netra.questions.explanation import explain
from netra.questions.measures import MEASURES, figure
from netra.questions.plan import QuestionPlan, Window
from netra.questions.recommendations import recommend
from netra.questions.result import Figure, PlanResult
from netra.questions.scope import where
from netra.questions.what_if import what_if

_TIME_GROUPS: Final = {
    "day": "day",
    "week": "date_trunc('week', day)::DATE",
    "month": "date_trunc('month', day)::DATE",
}
_FORECAST_DAYS: Final = 30


def execute(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    """The figures of ``plan``; a ``chat`` or ``unknown`` plan has none to run."""
    run = _OPERATIONS.get(plan.operation)
    if run is None:
        raise InvalidInput(f"plans of operation {plan.operation!r} have no figures to run")
    return run(con, plan)


def _measure(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    value = figure(con, plan.measure, plan.filters, plan.window)
    headline = [Figure(label=plan.measure, value=value)]
    rows: list[list[object]] = []
    if plan.group_by:
        key = _TIME_GROUPS.get(plan.group_by, f'"{plan.group_by}"')
        condition, params = where(plan.filters, plan.window)
        measure = MEASURES[plan.measure]
        if plan.measure == "share":
            measure = "sum(cost) / sum(sum(cost)) OVER ()"
        order = (
            "key"
            if plan.group_by in _TIME_GROUPS
            else f"value {plan.order.upper()} NULLS LAST, key"
        )
        limit = f"LIMIT {int(plan.top)}" if plan.top else ""
        found = con.execute(
            f"SELECT {key} AS key, {measure} AS value FROM usage WHERE {condition} "
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
    first = figure(con, plan.measure, plan.filters, plan.window)
    second = figure(con, plan.measure, other_filters, other_window)
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
    condition, params = where(plan.filters, None)
    last = con.execute("SELECT max(day), min(day) FROM usage").fetchone()
    if last is None or last[0] is None:
        return PlanResult(plan=plan, headline=[Figure(label="forecast", value=None)])
    last_day, first_day = last
    start = max(first_day, last_day - timedelta(days=_FORECAST_DAYS - 1))
    found = con.execute(
        f"SELECT sum(cost) FROM usage WHERE {condition} AND day BETWEEN $from AND $to",
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


_OPERATIONS: Final[dict[str, Callable[[duckdb.DuckDBPyConnection, QuestionPlan], PlanResult]]] = {
    "measure": _measure,
    "compare": _compare,
    "explain": explain,
    "anomalies": anomalies,
    "forecast": _forecast,
    "what_if": what_if,
    "recommend": recommend,
}
