"""explain, anomalies, what_if and recommend plans run on the demo dataset, each figure
checked against one computed in plain Python over the demo's priced rows."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import pytest
from genai_prices import Usage, calc_price

from netra.errors import InvalidInput
from netra.questions import QuestionPlan, Vocabulary, parse
from netra.questions.execute import execute
from netra.questions.plan import Filters, WhatIf
from tests.unit.questions.conftest import CLAUDE, TODAY, Row

SPIKE = date(2025, 6, 25)


def _spend(rows: list[Row], keep: Callable[[Row], bool]) -> float:
    return sum(float(row["cost"] or 0) for row in rows if keep(row))  # type: ignore[arg-type]


def _days(rows: list[Row]) -> float:
    """DATA.md's period_days of ``rows``."""
    stamps = [row["timestamp"] for row in rows]
    return max(1.0, (max(stamps) - min(stamps)).total_seconds() / 86_400)  # type: ignore[type-var, operator]


def _in(start: date, end: date) -> Callable[[Row], bool]:
    return lambda row: start <= row["day"] <= end  # type: ignore[operator]


def test_a_spike_day_is_explained_against_the_mean_of_the_14_days_before_it(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    result = execute(demo, parse("Why did costs jump on June 25?", vocabulary, today=TODAY))
    baseline = _in(SPIKE - timedelta(days=14), SPIKE - timedelta(days=1))
    after, before, change = (figure.value for figure in result.headline)
    assert after == pytest.approx(_spend(rows, _in(SPIKE, SPIKE)), rel=1e-9)
    assert before == pytest.approx(_spend(rows, baseline) / 14, rel=1e-9)
    assert change == pytest.approx(after - before, rel=1e-9)  # type: ignore[operator]

    by_model: dict[object, float] = defaultdict(float)
    for row in rows:
        if _in(SPIKE, SPIKE)(row):
            by_model[row["model"]] += float(row["cost"] or 0)  # type: ignore[arg-type]
        elif baseline(row):
            by_model[row["model"]] -= float(row["cost"] or 0) / 14  # type: ignore[arg-type]
    expected = sorted(by_model.items(), key=lambda item: -abs(item[1]))[:3]
    models = [(row[1], row[4]) for row in result.rows if row[0] == "model"]
    assert [model for model, _ in models] == [model for model, _ in expected]
    for (_, got), (_, wanted) in zip(models, expected, strict=True):
        assert got == pytest.approx(wanted, rel=1e-9)
    assert ("2025-06-25", "overall") in {
        (day.day.isoformat(), day.scope) for day in result.anomalies
    }
    assert result.method and "14 days before it (Jun 11-24)" in result.method


def test_a_period_is_explained_against_the_equal_period_before_it(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    plan = parse("why did claude spend go up last week", vocabulary, today=TODAY)
    result = execute(demo, plan)
    on_claude = lambda start, end: lambda row: row["model"] in CLAUDE and _in(start, end)(row)  # noqa: E731
    after, before, _ = (figure.value for figure in result.headline)
    assert after == pytest.approx(_spend(rows, on_claude(date(2025, 6, 23), date(2025, 6, 29))))
    assert before == pytest.approx(_spend(rows, on_claude(date(2025, 6, 16), date(2025, 6, 22))))
    assert {row[1] for row in result.rows if row[0] == "model"} <= set(CLAUDE)


def test_nothing_before_the_window_is_a_clear_error(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary
) -> None:
    with pytest.raises(InvalidInput, match="nothing before"):
        execute(demo, parse("why did spend change on May 20?", vocabulary, today=TODAY))


def _anomalous_days(rows: list[Row]) -> set[date]:
    """DATA.md's rule over the daily spend of ``rows`` as a whole, written from scratch."""
    daily: dict[date, float] = defaultdict(float)
    for row in rows:
        daily[row["day"]] += float(row["cost"] or 0)  # type: ignore[index, arg-type]
    first, last = min(daily), max(daily)
    series = [daily.get(first + timedelta(days=n), 0.0) for n in range((last - first).days + 1)]
    found = set()
    for n in range(14, len(series)):
        before = series[n - 14 : n]
        if series[n] > statistics.fmean(before) + 3 * statistics.pstdev(before):
            found.add(first + timedelta(days=n))
    return found


def test_anomalies_follow_the_rule_over_the_scopes_own_spend(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    everything = execute(demo, parse("Are there any anomalies?", vocabulary, today=TODAY))
    assert {day.day for day in everything.anomalies if day.scope == "overall"} == (
        _anomalous_days(rows)
    )
    assert everything.method and "14 days" in everything.method
    claude = execute(demo, parse("any anomalies on claude in june?", vocabulary, today=TODAY))
    expected = {
        day
        for day in _anomalous_days([row for row in rows if row["model"] in CLAUDE])
        if day.month == 6
    }
    assert expected  # the demo's spike is on a claude model
    assert {day.day for day in claude.anomalies if day.scope == "overall"} == expected
    assert claude.headline[0].value == len(claude.rows)


def test_moving_traffic_is_priced_with_the_catalog(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    question = "How much would we save by moving gpt-4o to gpt-4o-mini?"
    result = execute(demo, parse(question, vocabulary, today=TODAY))
    selected = [row for row in rows if row["model"] in ("gpt-4o", "gpt-4o-2024-08-06")]
    moved = sum(
        float(
            calc_price(
                Usage(
                    input_tokens=row["input_tokens"],  # type: ignore[arg-type]
                    output_tokens=row["output_tokens"],  # type: ignore[arg-type]
                    cache_read_tokens=row["cache_read_tokens"],  # type: ignore[arg-type]
                    cache_write_tokens=row["cache_write_tokens"],  # type: ignore[arg-type]
                ),
                "gpt-4o-mini",
                provider_id="openai",
            ).total_price
        )
        for row in selected
    )
    current = _spend(selected, lambda row: True)
    figures = {figure.label: figure.value for figure in result.headline}
    assert figures["current_spend"] == pytest.approx(current, rel=1e-9)
    assert figures["spend_after"] == pytest.approx(moved, rel=1e-6)
    assert figures["saving"] == pytest.approx(current - moved, rel=1e-6)
    assert figures["monthly_saving"] == pytest.approx((current - moved) * 30 / _days(rows))


def test_batching_saves_the_discount_on_eligible_requests_only(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    plan = parse("what if we batch the summarize feature last week", vocabulary, today=TODAY)
    result = execute(demo, plan)
    saving = 0.5 * _spend(
        rows,
        lambda row: (
            row["feature"] == "summarize"
            and _in(date(2025, 6, 23), date(2025, 6, 29))(row)
            and row["status"] == "success"
            and row["interactive"] is False
            and row["batch"] is not True
            and row["provider"] in ("openai", "anthropic", "google")
        ),
    )
    assert saving > 0
    figures = {figure.label: figure.value for figure in result.headline}
    assert figures["batch_api_saving"] == pytest.approx(saving, abs=1e-5)
    assert figures["batch_api_monthly_saving"] == pytest.approx(saving * 30 / 7, abs=1e-4)


def test_caching_saves_every_repeat_of_a_prompt_but_the_first(
    demo: duckdb.DuckDBPyConnection, rows: list[Row]
) -> None:
    plan = QuestionPlan(
        operation="what_if", filters=Filters(model=CLAUDE), what_if=WhatIf(action="cache")
    )
    groups: dict[tuple[object, object], list[Row]] = defaultdict(list)
    for row in rows:
        if row["model"] in CLAUDE and row["status"] == "success" and row["prompt_hash"]:
            groups[(row["model"], row["prompt_hash"])].append(row)
    saving = sum(
        _spend(group, lambda row: True)
        - float(min(group, key=lambda row: (row["timestamp"], row["row_no"]))["cost"])  # type: ignore[arg-type, return-value]
        for group in groups.values()
        if len(group) >= 2
    )
    result = execute(demo, plan)
    figures = {figure.label: figure.value for figure in result.headline}
    assert saving > 0
    assert figures["response_cache_saving"] == pytest.approx(saving, abs=1e-5)
    assert "prompt_caching_saving" in figures
    assert "not added" in " ".join(result.notes)


def test_an_unknown_target_model_is_a_clear_error(demo: duckdb.DuckDBPyConnection) -> None:
    plan = QuestionPlan(
        operation="what_if", what_if=WhatIf(action="move_model", target_model="no-such-model-9")
    )
    with pytest.raises(InvalidInput, match="does not know"):
        execute(demo, plan)


def test_recommendations_are_scoped_to_the_selected_requests(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[Row]
) -> None:
    plan = parse("how can we reduce failed requests on o1?", vocabulary, today=TODAY)
    assert (plan.operation, plan.kinds) == ("recommend", ("error_waste",))
    assert plan.filters == Filters(model=("o1",), status=("error",))
    o1 = [row for row in rows if row["model"] == "o1"]
    waste = _spend(o1, lambda row: row["status"] == "error")
    result = execute(demo, plan)
    assert [row[0] for row in result.rows] == ["error_waste"]
    # per month over the dataset's period, not the period of o1's failed requests
    assert result.headline[0].value == pytest.approx(waste * 30 / _days(rows), abs=1e-5)
    assert result.rows[0][3] == sum(1 for row in o1 if row["status"] == "error")


def test_a_plan_without_figures_is_refused(demo: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InvalidInput, match="no figures"):
        execute(demo, QuestionPlan(operation="chat"))
