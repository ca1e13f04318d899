"""Why a day or period differs from its baseline (DATA.md section 6, "Explain").

The baseline of one day is the mean of the 14 days before it; of a period of n days, the n
days just before it. A baseline that would start before the data's first day is shortened
to the days the data has, and scaled to the window's length (the baseline's mean per day ×
the window's days). Without a window the last 7 days of the data are explained.

For an additive measure (spend, requests, tokens, spend on errors) the change is attributed
to the values of each dimension of the usage record (model, provider, feature, user,
project, api key): for each value, ``before`` (its baseline, scaled the same
way), ``after`` (its figure in the window) and ``change``; the 3 values of each dimension
that changed most, dimensions whose largest change is largest first (ties in ``DIMENSIONS``
order). A dimension whose values match an earlier one's one to one (project and api key
mirroring feature) is left out with a note: its changes would repeat that one's. The
anomalous days of the scope inside the window (``anomalies.anomalous_days``) come with the
answer.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations
from typing import Final

import duckdb

from netra.analytics.schema import DIMENSIONS
from netra.errors import InvalidInput
from netra.questions.anomalies import anomalous_days
from netra.questions.measures import ROW_AMOUNTS, figure
from netra.questions.plan import QuestionPlan, Window
from netra.questions.result import Figure, PlanResult
from netra.questions.scope import where

DAY_BASELINE_DAYS: Final = 14
DEFAULT_DAYS: Final = 7
TOP_CONTRIBUTORS: Final = 3


def explain(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    """The window's figure, its baseline's, the change and what drove it."""
    bounds = con.execute("SELECT min(day), max(day) FROM usage").fetchone()
    if bounds is None or bounds[0] is None:
        raise InvalidInput("the dataset has no rows to explain")
    first_day, last_day = bounds
    window = plan.window or Window(
        start=last_day - timedelta(days=DEFAULT_DAYS - 1),
        end=last_day,
        words=f"the last {DEFAULT_DAYS} days of the data",
    )
    length = DAY_BASELINE_DAYS if window.days == 1 else window.days
    baseline = Window(
        start=max(first_day, window.start - timedelta(days=length)),
        end=window.start - timedelta(days=1),
    )
    if baseline.end < baseline.start:
        raise InvalidInput(
            f"the data starts on {first_day.isoformat()}: there is nothing before "
            f"{window.describe()} to compare it with"
        )
    scale = window.days / baseline.days
    additive = plan.measure in ROW_AMOUNTS
    after = figure(con, plan.measure, plan.filters, window)
    before = figure(con, plan.measure, plan.filters, baseline)
    if additive:
        after, before = after or 0.0, (before or 0.0) * scale
    change = None if after is None or before is None else after - before
    notes = []
    if baseline.days < length:
        notes.append(f"the data holds only {baseline.days} of the {length} baseline days")
    if not additive:
        notes.append(f"{plan.measure} does not add up over the rows: no attribution")
    rows: list[list[object]] = []
    if additive:
        rows = _contributors(con, plan, window, baseline, scale)
        mirrors = _mirrors(con, plan, Window(start=baseline.start, end=window.end))
        rows = [row for row in rows if row[0] not in mirrors]
        for kept in dict.fromkeys(mirrors.values()):
            same = [k.replace("_", " ") for k, v in mirrors.items() if v == kept]
            notes.append(
                f"{' and '.join(same)} {'match' if len(same) > 1 else 'matches'} "
                f"{kept.replace('_', ' ')} one to one in these requests: the same changes, "
                "not repeated"
            )
    return PlanResult(
        plan=plan,
        headline=[
            Figure(label=label, value=value)
            for label, value in (("after", after), ("before", before), ("change", change))
        ],
        columns=["dimension", "value", "before", "after", "change"] if additive else [],
        rows=rows,
        window=window,
        method=_method(window, baseline, length),
        anomalies=anomalous_days(con, plan.filters, window),
        notes=notes,
    )


def _contributors(
    con: duckdb.DuckDBPyConnection,
    plan: QuestionPlan,
    window: Window,
    baseline: Window,
    scale: float,
) -> list[list[object]]:
    condition, params = where(plan.filters, Window(start=baseline.start, end=window.end))
    columns = ", ".join(f'CAST("{name}" AS VARCHAR) AS "{name}"' for name in DIMENSIONS)
    names = ", ".join(f'"{name}"' for name in DIMENSIONS)
    found = con.execute(
        f"""
        WITH scoped AS (
            SELECT day, CAST({ROW_AMOUNTS[plan.measure]} AS DOUBLE) AS amount, {columns}
            FROM usage WHERE {condition}
        ),
        changes AS (
            SELECT dimension, value,
                   coalesce(sum(amount) FILTER (day < $window_start), 0) * $scale AS before,
                   coalesce(sum(amount) FILTER (day >= $window_start), 0) AS after,
                   after - before AS change
            FROM scoped UNPIVOT INCLUDE NULLS (value FOR dimension IN ({names}))
            GROUP BY dimension, value
        )
        SELECT dimension, value, before, after, change
        FROM changes
        QUALIFY row_number() OVER (PARTITION BY dimension ORDER BY abs(change) DESC, value)
            <= {TOP_CONTRIBUTORS}
        ORDER BY max(abs(change)) OVER (PARTITION BY dimension) DESC,
            list_position($dimensions, dimension), abs(change) DESC, value
        """,
        params | {"window_start": window.start, "scale": scale, "dimensions": list(DIMENSIONS)},
    ).fetchall()
    return [list(row) for row in found]


def _mirrors(con: duckdb.DuckDBPyConnection, plan: QuestionPlan, span: Window) -> dict[str, str]:
    """Each dimension whose values match an earlier one's one to one over ``span``'s rows
    (project ``ops-agent`` exactly when feature ``agent``...), mapped to that dimension."""
    condition, params = where(plan.filters, span)
    value = {name: f'coalesce(CAST("{name}" AS VARCHAR), chr(0))' for name in DIMENSIONS}
    pairs = list(combinations(DIMENSIONS, 2))
    counts = [f"count(DISTINCT {value[name]})" for name in DIMENSIONS] + [
        f"count(DISTINCT ({value[a]}, {value[b]}))" for a, b in pairs
    ]
    found = con.execute(f"SELECT {', '.join(counts)} FROM usage WHERE {condition}", params)
    figures = found.fetchone() or ()
    distinct = dict(zip(DIMENSIONS, figures, strict=False))
    mirrors: dict[str, str] = {}
    for (a, b), both in zip(pairs, figures[len(DIMENSIONS) :], strict=True):
        if b not in mirrors and a not in mirrors and distinct[a] == distinct[b] == both:
            mirrors[b] = a
    return mirrors


def _method(window: Window, baseline: Window, length: int) -> str:
    if window.days == 1:
        against = f"the mean of the {baseline.days} days before it"
    else:
        against = f"the {baseline.days} days before it"
        if baseline.days != length:
            against += f", scaled to {window.days} days"
    return f"{window.describe()} against {against} ({baseline.describe()})"
