"""The question parser on the issue's examples and the bank, and plan execution on the demo
dataset against figures computed in plain Python over its rows."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from netra.questions import QuestionPlan, Vocabulary, Window, parse
from netra.questions.evaluate import DEFAULT_BANK, evaluate, load_bank
from netra.questions.execute import execute
from netra.questions.plan import Filters
from tests.unit.questions.conftest import CLAUDE, TODAY


def test_the_parser_scores_at_least_90_percent_on_the_bank(vocabulary: Vocabulary) -> None:
    scores = evaluate(load_bank(DEFAULT_BANK), vocabulary, TODAY)
    for category, (hits, total) in scores.items():
        print(f"{category:<12} {hits}/{total} {hits / total:.1%}")
    hits, total = scores["overall"]
    assert total >= 150
    assert hits / total >= 0.9


def test_the_issue_examples_are_read_as_asked(vocabulary: Vocabulary) -> None:
    claude_last_week = parse("What did we spend on Claude last week?", vocabulary, today=TODAY)
    assert claude_last_week.filters.model == CLAUDE
    assert claude_last_week.window == Window(
        start=date(2025, 6, 23), end=date(2025, 6, 29), words="last week", anchored_to_data=True
    )
    spike = parse("Why did costs jump on June 25?", vocabulary, today=TODAY)
    assert (spike.operation, spike.window and spike.window.start) == ("explain", date(2025, 6, 25))
    typo = parse("waht did we spnd per modle", vocabulary, today=TODAY)
    assert (typo.operation, typo.measure, typo.group_by) == ("measure", "spend", "model")
    what_if = parse(
        "How much would we save by moving gpt-4o to gpt-4o-mini?", vocabulary, today=TODAY
    )
    assert what_if.filters.model == ("gpt-4o", "gpt-4o-2024-08-06")
    assert what_if.what_if and what_if.what_if.target_model == "gpt-4o-mini"
    assert parse("Are there any anomalies?", vocabulary, today=TODAY).operation == "anomalies"
    assert parse("What is our error rate?", vocabulary, today=TODAY).measure == "error_rate"


def test_names_resolve_against_the_datasets_own_values() -> None:
    vocabulary = Vocabulary(
        values=(
            ("model", ("claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o")),
            ("provider", ("anthropic", "openai")),
            ("user", ("alice", "bob")),
        )
    )
    plan = parse("How much did alice spend on Claude Sonnet 4.5?", vocabulary, today=TODAY)
    assert plan.filters == Filters(model=("claude-sonnet-4-5",), user=("alice",))
    previous = parse("spend on openai", vocabulary, today=TODAY)
    follow_up = parse("and for antropic?", vocabulary, previous=previous, today=TODAY)
    assert follow_up.filters.provider == ("anthropic",)


def test_a_name_the_data_does_not_hold_is_not_understood(vocabulary: Vocabulary) -> None:
    plan = parse("How much did carol spend?", vocabulary, today=TODAY)
    assert plan.operation == "unknown"
    assert "carol" in plan.understood
    assert 2 <= len(plan.suggestions) <= 3


def test_parsing_takes_well_under_two_milliseconds(vocabulary: Vocabulary) -> None:
    questions = [item["question"] for item in load_bank(DEFAULT_BANK)]
    parse(questions[0], vocabulary, today=TODAY)  # the name index is built once
    started = time.perf_counter()
    for question in questions:
        parse(question, vocabulary, today=TODAY)
    assert (time.perf_counter() - started) / len(questions) < 0.002


def test_the_plan_is_described_in_words(vocabulary: Vocabulary) -> None:
    plan = parse("daily spend on claude-sonnet-4-5 last week", vocabulary, today=TODAY)
    assert plan.describe() == "spend on claude-sonnet-4-5, Jun 23-29 (last week), by day"


def test_measured_spend_equals_the_sum_of_the_rows(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[dict[str, object]]
) -> None:
    plan = parse("What did we spend on Claude last week?", vocabulary, today=TODAY)
    expected = sum(
        float(row["cost"] or 0)  # type: ignore[arg-type]
        for row in rows
        if row["model"] in CLAUDE and date(2025, 6, 23) <= row["day"] <= date(2025, 6, 29)  # type: ignore[operator]
    )
    result = execute(demo, plan)
    assert result.headline[0].value == pytest.approx(expected, rel=1e-9)


def test_the_top_user_is_the_one_with_the_most_spend(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[dict[str, object]]
) -> None:
    spend: dict[object, float] = {}
    for row in rows:
        spend[row["user"]] = spend.get(row["user"], 0.0) + float(row["cost"] or 0)  # type: ignore[arg-type]
    top_user = max(spend, key=lambda user: spend[user])
    result = execute(demo, parse("Which user costs the most?", vocabulary, today=TODAY))
    assert result.rows[0][0] == top_user
    assert result.rows[0][1] == pytest.approx(spend[top_user], rel=1e-9)
    assert len(result.rows) == 1


def test_a_compare_of_providers_gives_both_totals(
    demo: duckdb.DuckDBPyConnection, vocabulary: Vocabulary, rows: list[dict[str, object]]
) -> None:
    def total(provider: str) -> float:
        return sum(float(row["cost"] or 0) for row in rows if row["provider"] == provider)  # type: ignore[arg-type]

    result = execute(demo, parse("Compare OpenAI and Anthropic spend", vocabulary, today=TODAY))
    first, second, difference = (figure.value for figure in result.headline)
    assert first == pytest.approx(total("openai"), rel=1e-9)
    assert second == pytest.approx(total("anthropic"), rel=1e-9)
    assert difference == pytest.approx(total("openai") - total("anthropic"), rel=1e-9)


def test_the_forecast_is_the_last_30_days_run_rate_times_the_next_months_days(
    demo: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]
) -> None:
    recent = sum(
        float(row["cost"] or 0)  # type: ignore[arg-type]
        for row in rows
        if date(2025, 6, 1) <= row["day"] <= date(2025, 6, 30)  # type: ignore[operator]
    )
    result = execute(demo, QuestionPlan(operation="forecast"))
    assert result.headline[0].value == pytest.approx(recent / 30 * 31, rel=1e-9)
    assert result.window and (result.window.start, result.window.end) == (
        date(2025, 7, 1),
        date(2025, 7, 31),
    )


def test_run_eval_prints_a_table_and_passes_on_the_bank(
    vocabulary: Vocabulary, capsys: pytest.CaptureFixture[str]
) -> None:
    from netra.questions.evaluate import run_eval

    assert run_eval(Path(DEFAULT_BANK), vocabulary, TODAY) == 0
    assert "overall" in capsys.readouterr().out


def test_run_eval_lists_each_question_read_wrong_with_its_reading(
    vocabulary: Vocabulary, tmp_path: Path
) -> None:
    from netra.questions.evaluate import run_eval

    bank = tmp_path / "bank.jsonl"
    lines = [
        {"category": "measure", "question": "spend by user", "expect": {"group_by": "user"}},
        {"category": "measure", "question": "spend by user", "expect": {"group_by": "model"}},
    ]
    bank.write_text("".join(json.dumps(line) + "\n" for line in lines))
    printed: list[str] = []
    assert run_eval(bank, vocabulary, TODAY, show_misses=True, out=printed.append) == 1
    assert printed[1:] == [
        "[measure] spend by user",
        "    read:     measure: spend, the whole period, by user",
        '    expected: {"group_by": "model"}',
    ]


def test_two_swapped_letters_are_read_as_the_word_meant(vocabulary: Vocabulary) -> None:
    plan = parse("spnd by usre", vocabulary, today=TODAY)
    assert (plan.operation, plan.measure, plan.group_by) == ("measure", "spend", "user")


def test_an_inflected_what_if_verb_keeps_its_meaning(vocabulary: Vocabulary) -> None:
    plan = parse("what would we save if we batched everything", vocabulary, today=TODAY)
    assert plan.what_if and plan.what_if.action == "batch"


def test_a_short_request_naming_no_data_is_not_read_as_a_follow_up(vocabulary: Vocabulary) -> None:
    previous = parse("how do we cut costs?", vocabulary, today=TODAY)
    plan = parse("can you email me this report?", vocabulary, previous=previous, today=TODAY)
    assert plan.operation == "unknown", plan
    again = parse("and in june?", vocabulary, previous=previous, today=TODAY)
    assert (again.operation, again.window is not None) == ("recommend", True), again


@pytest.mark.parametrize("question", ["spend for user u150", "how much did u150 spend?"])
def test_a_name_differing_in_its_numbers_is_no_typo_of_a_known_one(
    vocabulary: Vocabulary, question: str
) -> None:
    assert "u10" in dict(vocabulary.values)["user"]  # the close name it must not become
    plan = parse(question, vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.user) == ("unknown", ())
    assert "u150" in (plan.understood or "")


def test_the_day_before_follows_the_previous_questions_day(vocabulary: Vocabulary) -> None:
    previous = parse("requests on key-web yesterday", vocabulary, today=TODAY)
    plan = parse("what about the day before", vocabulary, previous=previous, today=TODAY)
    assert plan.window is not None
    assert (plan.window.start, plan.window.end) == (date(2025, 6, 28), date(2025, 6, 28))
    assert (plan.measure, plan.filters.api_key) == ("requests", ("key-web",))


@pytest.mark.parametrize(
    ("question", "operation", "top"),
    [
        ("show me the 10 heaviest users by cost", "measure", 10),
        ("the 3 priciest features", "measure", 3),
        ("estimate next month's cost", "forecast", None),
        ("is batching worth it?", "recommend", None),
        ("what kind of things can you do?", "chat", None),
    ],
)
def test_more_everyday_wordings_are_read(
    vocabulary: Vocabulary, question: str, operation: str, top: int | None
) -> None:
    plan = parse(question, vocabulary, today=TODAY)
    assert (plan.operation, plan.top) == (operation, top)


def test_trending_up_or_down_compares_the_last_week_with_the_one_before(
    vocabulary: Vocabulary,
) -> None:
    up = parse("which api keys are trending up", vocabulary, today=TODAY)
    down = parse("which models are trending down", vocabulary, today=TODAY)
    assert (up.operation, up.group_by, up.order) == ("compare", "api_key", "desc")
    assert (down.operation, down.group_by, down.order) == ("compare", "model", "asc")
    assert up.versus_window is not None and down.versus_window is not None
