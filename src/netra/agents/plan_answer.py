"""The answer to a question plan, from its executed ``PlanResult``, and its report.

The answer leads with the figure asked for in one sentence, then the supporting table
(at most ``TABLE_ROWS`` rows) and how the figures were computed; the window and the
filters are said in words. Money has the precision it needs (``money.amount``), shares
and rates are percentages, latency is in ms. Anomalous days inside the window are
mentioned when the question is about change. Data values are escaped (``answers._md``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Final

from netra.agents.answers import _md
from netra.agents.money import amount, count, percent
from netra.analytics.result import DatasetSummary
from netra.clock import rfc3339
from netra.questions.names import parts
from netra.questions.plan import MEASURE_WORDS, RECOMMENDATION_WORDS, Filters, QuestionPlan, Window
from netra.questions.result import AnomalousDay, PlanResult
from netra.runtime.report import Chart, Period, Report, Table, Totals

TABLE_ROWS: Final = 10
DRIVERS: Final = 3
_MONEY: Final = {"spend", "error_spend", "cost_per_request", "forecast", "daily_run_rate"}
_RATES: Final = {"share", "error_rate", "cache_read_share"}
_TIME_GROUPS: Final = {"day", "week", "month"}
_DRIVER_DIMENSIONS: Final = ("model", "feature", "user", "project", "api_key")
GROUPED_VALUES: Final = 3
_PLURALS: Final = {"status": "statuses", "api_key": "api keys"}


def formatted(kind: str, value: object) -> str:
    """A figure of ``kind`` (a measure, or a money column) as the answer writes it."""
    if value is None:
        return "n/a"
    if not isinstance(value, int | float):
        return _md(value)
    if kind in _MONEY or "saving" in kind or "spend" in kind:
        return amount(value)
    if kind in _RATES:
        return percent(value)
    if kind.startswith("latency"):
        return f"{value:,.0f} ms"
    return count(value)


def window_words(window: Window | None, summary: DatasetSummary) -> str:
    """``in Jun 23-29 (last week)``, or the data's whole period."""
    if window is not None:
        return f"{'on' if window.days == 1 else 'in'} {window.describe()}"
    start, end = (day.date() if day else None for day in (summary.period_start, summary.period_end))
    return f"over the whole period ({start} to {end})"


def filters_words(filters: Filters, *, listed: bool = True) -> str:
    """``Filters.describe`` for a reader: three or more values of one dimension are named
    as a group, then listed (``the Claude models (3: a, b, c)``); ``listed=False`` leaves
    the list out (a table's column)."""
    described = []
    for name, values in filters.items():
        label = "" if name in ("model", "provider") else f"{name.replace('_', ' ')} "
        if len(values) < GROUPED_VALUES:
            described.append(label + " and ".join(_md(value) for value in values))
            continue
        families = {parts(value)[0] for value in values if parts(value)}
        family = families.pop() if len(families) == 1 and name == "model" else ""
        if family:
            group = f"the {family.upper() if len(family) <= 3 else family.capitalize()} models"
        else:
            group = f"{len(values)} {_PLURALS.get(name, name.replace('_', ' ') + 's')}"
        listing = ", ".join(_md(value) for value in values)
        described.append(
            f"{group} ({len(values) if family else ''}{': ' if family else ''}{listing})"
            if listed
            else group
        )
    return ", ".join(described)


def _on(filters: Filters) -> str:
    """`` on feature agent``; a status reads `` with status error``."""
    described = filters_words(filters.model_copy(update={"status": ()}))
    status = " and ".join(_md(value) for value in filters.status)
    return (f" on {described}" if described else "") + (f" with status {status}" if status else "")


def plan_answer(result: PlanResult, summary: DatasetSummary, anomalies: list[AnomalousDay]) -> str:
    """The Markdown answer: the lead sentence, the table, the method and notes."""
    plan = result.plan
    lead = _LEADS[plan.operation](result, summary)
    parts = [lead]
    if table := _table(result):
        parts.append(table)
    if result.method:
        parts.append(f"_How: {_md(result.method)}._")
    days = [day for day in anomalies if day.scope == "overall"]
    if days and plan.operation in ("explain", "compare", "measure"):
        listed = ", ".join(f"{day.day:%b} {day.day.day} ({amount(day.spend)})" for day in days)
        parts.append(f"Anomalous days of spend in this window (above the usual range): {listed}.")
    said = _coverage(result)  # in the lead already
    notes = [note for note in (*plan.readings, *result.notes) if note not in said]
    parts += [f"_{_md(note)}._" for note in notes]
    if summary.unpriced_requests:
        names = ", ".join(_md(name) for name in summary.unpriced_models)
        parts.append(
            f"_{count(summary.unpriced_requests)} requests of models the price catalog does "
            f"not know ({names}) are not priced and not counted._"
        )
    return "\n\n".join(parts) + "\n"


def _value(result: PlanResult, label: str) -> float | None:
    return next((item.value for item in result.headline if item.label == label), None)


def _measure(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    where = f"{_on(plan.filters)} {window_words(plan.window, summary)}"
    total = formatted(plan.measure, result.headline[0].value)
    if plan.top == 1 and result.rows:
        key, value = result.rows[0][0], result.rows[0][1]
        most = "lowest" if plan.order == "asc" else "highest"
        words = _measure_words(plan)
        return (
            f"**{_key(plan.group_by or '', key)}** has the {most} {words}{where}: "
            f"**{formatted(plan.measure, value)}**"
            + (f" (all together: {total})." if plan.measure == "spend" else ".")
        )
    if len(result.headline) > 1:  # several measures asked for: each one
        each = "; ".join(
            f"{MEASURE_WORDS.get(item.label, item.label)}: **{formatted(item.label, item.value)}**"
            for item in result.headline
        )
        scope = where.strip()
        return f"{scope[:1].upper()}{scope[1:]}: {each}."
    users = plan.filters.user
    if plan.measure == "spend" and 0 < len(users) < GROUPED_VALUES:  # the user spent it
        rest = _on(plan.filters.model_copy(update={"user": ()}))
        who = f"User{'s' if len(users) > 1 else ''} " + " and ".join(_md(u) for u in users)
        return (
            f"{who} spent **{total}**{rest} {window_words(plan.window, summary)}.{_leaders(result)}"
        )
    if plan.measure == "spend":
        return f"You spent **{total}**{where}.{_leaders(result)}"
    if plan.measure == "share" and plan.group_by:  # the shares add up to 100%: no total
        return f"{_measure_words(plan).capitalize()}{where}.{_leaders(result)}"
    return f"{_measure_words(plan).capitalize()}{where}: **{total}**.{_leaders(result)}"


def _leaders(result: PlanResult) -> str:
    """The grouped figures' leaders in words: `` The top 3 by model: **o1** ($23.31), ...``
    for a top-N, else `` By user, the highest is **u1** ($54.08).``"""
    plan = result.plan
    values = [(row[0], row[1]) for row in result.rows if isinstance(row[1], int | float)]
    if not plan.group_by or not values:
        return ""
    by = plan.group_by.replace("_", " ")
    lowest = plan.order == "asc"
    if plan.top:
        listed = ", ".join(
            f"**{_key(by, key)}** ({formatted(plan.measure, value)})"
            for key, value in values[: plan.top]
        )
        return (
            f" The {'bottom' if lowest else 'top'} {min(plan.top, len(values))} by {by}: {listed}."
        )
    key, value = (min if lowest else max)(values, key=lambda item: float(item[1]))
    most = "lowest" if lowest else "highest"
    return f" By {by}, the {most} is **{_key(by, key)}** ({formatted(plan.measure, value)})."


def _key(by: str, key: object) -> str:
    """A group's key in words: ``Jun 25``, ``the week of Jun 23``, ``Jun 2025``."""
    if not isinstance(key, date):
        return _cell("key", key)
    if by == "month":
        return f"{key:%b %Y}"
    return f"{'the week of ' if by == 'week' else ''}{key:%b} {key.day}"


def _measure_words(plan: QuestionPlan) -> str:
    described = plan.model_copy(
        update={"filters": Filters(), "window": None, "group_by": None, "top": None}
    )
    return described.describe().removesuffix(", the whole period")


def _compare(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    first, second, difference = (_value(result, k) for k in ("first", "second", "difference"))
    scopes = [(plan.filters, plan.window), (plan.versus or plan.filters, plan.versus_window)]
    scopes[1] = (scopes[1][0], scopes[1][1] or plan.window)
    # what both sides share is said once, before the figures; what differs, after each
    same_filters, same_window = scopes[0][0] == scopes[1][0], scopes[0][1] == scopes[1][1]
    shared = (_on(plan.filters) if same_filters else "") + (
        f" {window_words(plan.window, summary)}" if same_window else ""
    )
    sides = [
        " ".join(
            ([] if same_filters else [_on(filters).strip() or "on everything"])
            + ([] if same_window else [window_words(window, summary)])
        )
        for filters, window in scopes
    ]
    measure = _measure_words(plan).removeprefix("compare ").split(":")[0]
    text = (
        f"{measure.capitalize()}{shared}: **{formatted(plan.measure, first)}** {sides[0]} "
        f"against **{formatted(plan.measure, second)}** {sides[1]}"
    )
    if difference is not None:
        word = "more" if difference >= 0 else "less"
        text += f": **{formatted(plan.measure, abs(difference))}** {word}"
    text += "."
    if result.rows and plan.group_by:
        key, one, other, change = result.rows[0]
        if isinstance(change, int | float):
            falls = plan.order == "asc"
            most = "fall" if falls else "rise"
            if falls == (change >= 0):  # the first row went the other way: none did
                most = f"{'nothing fell' if falls else 'nothing rose'}; the smallest " + (
                    "rise" if falls else "fall"
                )
            else:
                most = f"the largest {most}"
            sign = "+" if change >= 0 else "-"
            text += (
                f" By {plan.group_by.replace('_', ' ')}, {most}: **{_md(key)}** "
                f"({sign}{formatted(plan.measure, abs(change))}: "
                f"{formatted(plan.measure, one)} against {formatted(plan.measure, other)})."
            )
    for note in _coverage(result):  # said with the figures: a rise may be the data's start
        text += f" Not like for like: {_md(note)}."
    return text


def _coverage(result: PlanResult) -> list[str]:
    """The notes of a compare's periods the data covers only in part."""
    if result.plan.operation != "compare":
        return []
    return [note for note in result.notes if note.startswith("the data covers")]


def _explain(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    after, before, change = (_value(result, k) for k in ("after", "before", "change"))
    where = f"{_on(plan.filters)} {window_words(plan.window, summary)}"
    kind = plan.measure
    direction = "up" if (change or 0) >= 0 else "down"
    text = (
        f"{_measure_words(plan).removeprefix('why ').removesuffix(' changed').capitalize()}"
        f"{where} was **{formatted(kind, after)}** against **{formatted(kind, before)}** "
        f"before: {direction} **{formatted(kind, abs(change or 0))}**."
    )
    # the largest changes, the dimensions in _DRIVER_DIMENSIONS order on a tie; a value with
    # the same before and after as one already named is said with it, not as another driver
    ranked = sorted(
        (row for row in result.rows if row[0] in _DRIVER_DIMENSIONS),
        key=lambda row: (-abs(_change(row)), _DRIVER_DIMENSIONS.index(str(row[0]))),
    )
    drivers: dict[tuple[object, object], list[list[object]]] = {}
    for row in ranked:
        if (row[2], row[3]) in drivers or len(drivers) < DRIVERS:
            drivers.setdefault((row[2], row[3]), []).append(row)
    if drivers:
        named = ", ".join(_driver(kind, rows) for rows in drivers.values())
        text += f" The change came mostly from {named}."
    return text


def _change(row: list[object]) -> float:
    """An explain row's change (0 when it has none)."""
    return float(row[4]) if isinstance(row[4], int | float) else 0.0


def _driver(kind: str, rows: list[list[object]]) -> str:
    """``feature **agent** (+$27.67; the same for api key **key-agent**)``."""
    first, *same = (f"{str(row[0]).replace('_', ' ')} **{_md(row[1])}**" for row in rows)
    change = _change(rows[0])
    also = f"; the same for {' and '.join(same)}" if same else ""
    return f"{first} ({'+' if change >= 0 else '-'}{formatted(kind, abs(change))}{also})"


def _anomalies(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    where = f"{_on(plan.filters)} {window_words(plan.window, summary)}"
    if not result.anomalies:
        return f"I found **no anomalous day** of spend{where}."
    days = ", ".join(
        f"{day.day:%b} {day.day.day}"
        + (f" ({_md(day.feature)})" if day.feature else "")
        + f": {amount(day.spend)} against a usual {amount(day.baseline_mean)}"
        for day in result.anomalies
    )
    return f"I found **{len(result.anomalies)} anomalous days** of spend{where}: {days}."


def _forecast(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    month = f"{result.window.start:%B %Y}" if result.window else "the month ahead"
    rate = _value(result, "daily_run_rate")
    return (
        f"At the current run rate you will spend about "
        f"**{formatted('forecast', _value(result, 'forecast'))}**{_on(plan.filters)} in {month}"
        f" ({formatted('spend', rate)} a day)."
    )


def _what_if(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    where = f"{_on(plan.filters)} {window_words(plan.window, summary)}"
    change = plan.what_if
    if change is not None and change.action == "move_model":
        saving, monthly = _value(result, "saving"), _value(result, "monthly_saving")
        current, after = _value(result, "current_spend"), _value(result, "spend_after")
        return (
            f"Moving the traffic{where} to **{_md(change.target_model)}** would save "
            f"**{formatted('saving', saving)}** (about **{formatted('saving', monthly)} a "
            f"month**): {formatted('spend', current)} would cost "
            f"{formatted('spend', after)}."
        )
    savings = [
        (RECOMMENDATION_WORDS.get(kind, kind), _value(result, f"{kind}_monthly_saving"))
        for kind in (str(row[0]) for row in result.rows)
    ]
    how = (
        "Sending the traffic{where} through a batch API"
        if change is not None and change.action == "batch"
        else "Caching the traffic{where}"
    ).format(where=where)
    if len(savings) == 1:
        return f"{how} would save about **{formatted('saving', savings[0][1])} a month**."
    each = "; ".join(
        f"{words}: about **{formatted('saving', value)} a month**" for words, value in savings
    )
    return f"{how} would save, each way on its own: {each or 'nothing'}."


def _recommend(result: PlanResult, summary: DatasetSummary) -> str:
    plan = result.plan
    where = f"{_on(plan.filters)} {window_words(plan.window, summary)}"
    if plan.kinds:  # the kinds asked about, each alone
        each = "; ".join(
            f"{RECOMMENDATION_WORDS.get(kind, kind)}: about "
            f"**{formatted('saving', _value(result, kind) or 0.0)} a month**"
            for kind in plan.kinds
        )
        return f"For the traffic{where}, you can save with {each}."
    total = _value(result, "total_monthly_saving")
    return f"For the traffic{where}, you can save about **{formatted('saving', total)} a month**."


_LEADS: Final = {
    "measure": _measure,
    "compare": _compare,
    "explain": _explain,
    "anomalies": _anomalies,
    "forecast": _forecast,
    "what_if": _what_if,
    "recommend": _recommend,
}


def _table(result: PlanResult) -> str:
    if not result.rows or (result.plan.operation == "anomalies" and not result.columns):
        return ""
    columns = result.columns
    shown = result.rows[:TABLE_ROWS]
    # explain's and compare's columns are in the plan's measure
    measured = (result.plan.measure, "before", "after", "change", "first", "second", "difference")
    kinds = [
        result.plan.measure if index and column in measured else column
        for index, column in enumerate(columns)
    ]
    names = _compare_columns(result.plan) if result.plan.operation == "compare" else {}
    if result.plan.operation == "what_if":  # a saving's kind in words
        shown = [[RECOMMENDATION_WORDS.get(str(row[0]), row[0]), *row[1:]] for row in shown]
    lines = [
        "| " + " | ".join(names.get(c, c.replace("_", " ")) for c in columns) + " |",
        "|" + "|".join("---" if index == 0 else "---:" for index in range(len(columns))) + "|",
    ]
    for row in shown:
        cells = [_cell(kind, value) for kind, value in zip(kinds, row, strict=False)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(result.rows) > TABLE_ROWS:
        more = len(result.rows) - TABLE_ROWS
        lines.append(f"\n_{more} more {'row' if more == 1 else 'rows'} in the report._")
    return "\n".join(lines)


def _compare_columns(plan: QuestionPlan) -> dict[str, str]:
    """A compare's side columns named by what differs between the sides."""
    if plan.versus_window is not None and plan.window is not None:
        first, second = plan.window.describe(), plan.versus_window.describe()
    else:
        first = filters_words(plan.filters, listed=False) or "first"
        second = filters_words(plan.versus or plan.filters, listed=False) or "second"
    return {"first": first, "second": second, "difference": "change"}


def _cell(kind: str, value: object) -> str:
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if value is None:
        return "(none)" if kind in ("key", "value") else "n/a"
    if isinstance(value, int | float) and kind in ("requests", "affected_requests"):
        return count(value)
    return formatted(kind, value)


def plan_report(
    result: PlanResult, summary: DatasetSummary, *, dataset_id: str | None, question: str
) -> Report:
    """The stored report of a plan's answer: the plan in words, its period, the headline
    figures, the table and a chart (a line over time groupings, bars over a dimension)."""
    plan = result.plan
    window = result.window or plan.window
    if window is not None:
        period = Period(
            start=rfc3339(datetime.combine(window.start, time.min, UTC)),
            end=rfc3339(datetime.combine(window.end, time.max, UTC)),
            days=float(window.days),
        )
    else:
        period = Period(
            start=rfc3339(summary.period_start),
            end=rfc3339(summary.period_end),
            days=summary.period_days,
        )
    return Report(
        dataset_id=dataset_id,
        question=question,
        intent=plan.operation,
        plan=plan.describe(),
        period=period,
        totals=Totals.of(summary),
        breakdowns={},
        recommendations=[],
        total_monthly_savings_usd=0.0,
        findings=[],
        action_plan=[],
        charts=_charts(result),
        headline=result.headline,
        table=Table(columns=result.columns, rows=result.rows) if result.columns else None,
    )


def _charts(result: PlanResult) -> list[Chart]:
    plan = result.plan
    if plan.operation != "measure" or not plan.group_by or not result.rows:
        return []
    by = plan.group_by
    values = [(row[0], row[1]) for row in result.rows if isinstance(row[1], int | float)]
    return [
        Chart(
            id=f"{plan.measure}_by_{by}",
            type="line" if by in _TIME_GROUPS else "bar",
            title=f"{_measure_words(plan).capitalize()} by {by.replace('_', ' ')}",
            x=[None if key is None else str(key) for key, _ in values],
            y=[float(value) for _, value in values],
        )
    ]
