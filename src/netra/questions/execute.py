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
from netra.questions.measures import MEASURES, ROW_AMOUNTS, figure
from netra.questions.plan import Filters, Measure, QuestionPlan, Window
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
    """The figures of ``plan``; a ``chat`` or ``unknown`` plan has none to run. Only a
    ``measure`` answers several measures; any other operation answers the first and says so."""
    run = _OPERATIONS.get(plan.operation)
    if run is None:
        raise InvalidInput(f"plans of operation {plan.operation!r} have no figures to run")
    result = run(con, plan)
    others = [m.replace("_", " ") for m in plan.measures[1:]]
    if others and plan.operation != "measure":
        note = (
            f"this answers {plan.measure.replace('_', ' ')} only: ask about "
            f"{' and '.join(others)} on its own for that part"
        )
        result = result.model_copy(update={"notes": [*result.notes, note]})
    return result


def _measure(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    measures = plan.measures or (plan.measure,)
    headline = [
        Figure(label=measure, value=figure(con, measure, plan.filters, plan.window))
        for measure in measures
    ]
    found = _grouped(con, plan, measures, plan.filters, plan.window) if plan.group_by else {}
    rows = [[key, *values] for key, values in found.items()]
    # days stay in time order, but the top days ("which day cost the most") go by their figure
    if plan.group_by and (plan.group_by not in _TIME_GROUPS or plan.top):
        rows.sort(key=lambda row: _ranked(row[1], plan.order))
    rows = rows[: plan.top] if plan.top else rows
    return PlanResult(
        plan=plan,
        headline=headline,
        columns=[plan.group_by or "", *measures] if rows else [],
        rows=rows,
        notes=_partly_covered(con, [plan.window] if plan.window else []),  # "in May 1-31"
    )


def _grouped(
    con: duckdb.DuckDBPyConnection,
    plan: QuestionPlan,
    measures: tuple[Measure, ...],
    filters: Filters,
    window: Window | None,
) -> dict[object, list[float | None]]:
    """Each group's figures of ``measures`` (time groups in time order)."""
    assert plan.group_by is not None
    key = _TIME_GROUPS.get(plan.group_by, f'"{plan.group_by}"')
    condition, params = where(filters, window)
    selected = ", ".join(
        ("sum(cost) / sum(sum(cost)) OVER ()" if m == "share" else MEASURES[m]) + f" AS v{i}"
        for i, m in enumerate(measures)
    )
    found = con.execute(
        f"SELECT {key} AS key, {selected} FROM usage WHERE {condition} GROUP BY key ORDER BY key",
        params,
    ).fetchall()
    return {row[0]: [None if v is None else float(v) for v in row[1:]] for row in found}


def _ranked(value: object, order: str) -> tuple[bool, float]:
    """A sort key: ``order``, missing values last."""
    if not isinstance(value, int | float):
        return (True, 0.0)
    return (False, -value if order == "desc" else value)


def _compare(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    """Both sides and the difference; grouped by a dimension, each value's sides and change,
    the largest rise (``desc``) or fall (``asc``) first."""
    other_filters = plan.versus or plan.filters
    other_window = plan.versus_window or plan.window
    first = figure(con, plan.measure, plan.filters, plan.window)
    second = figure(con, plan.measure, other_filters, other_window)
    difference = None if first is None or second is None else first - second
    rows: list[list[object]] = []
    if plan.group_by and plan.group_by not in _TIME_GROUPS:
        measures = (plan.measure,)
        after = _grouped(con, plan, measures, plan.filters, plan.window)
        before = _grouped(con, plan, measures, other_filters, other_window)
        additive = plan.measure in ROW_AMOUNTS  # a value absent from one side counts 0 there
        for key in after.keys() | before.keys():
            empty = [0.0 if additive else None]
            one, other = after.get(key, empty)[0], before.get(key, empty)[0]
            change = None if one is None or other is None else one - other
            rows.append([key, one, other, change])
        rows.sort(key=lambda row: (_ranked(row[3], plan.order), str(row[0])))
        rows = rows[: plan.top] if plan.top else rows
    return PlanResult(
        plan=plan,
        headline=[
            Figure(label="first", value=first),
            Figure(label="second", value=second),
            Figure(label="difference", value=difference),
        ],
        columns=[plan.group_by or "", "first", "second", "difference"] if rows else [],
        rows=rows,
        notes=_partly_covered(con, [w for w in (plan.window, plan.versus_window) if w]),
    )


def _partly_covered(con: duckdb.DuckDBPyConnection, windows: list[Window]) -> list[str]:
    """A note for each period the data covers only in part (sums over fewer days)."""
    bounds = con.execute("SELECT min(day), max(day) FROM usage").fetchone()
    if bounds is None or bounds[0] is None:
        return []
    first, last = bounds
    notes = []
    for window in windows:
        days = (min(window.end, last) - max(window.start, first)).days + 1
        if 0 < days < window.days:
            notes.append(f"the data covers {days} of the {window.days} days of {window.describe()}")
    return notes


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
