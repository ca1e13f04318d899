"""What the person who asked reads: a period the data covers only in part is said with the
figures, so a rise that is only the data's start is not read as growth."""

from __future__ import annotations

from datetime import datetime

import duckdb

from netra.agents.plan_answer import plan_answer
from netra.analytics import DatasetSummary
from netra.questions import Vocabulary, parse
from netra.questions.execute import execute
from tests.unit.questions.conftest import TODAY

SUMMARY = DatasetSummary(
    rows=20_000,
    requests=20_000,
    period_start=datetime(2025, 5, 20),
    period_end=datetime(2025, 6, 30),
    period_days=41.9,
    total_cost_usd=392.0,
    models=[],
    input_tokens=0,
    output_tokens=0,
    unpriced_requests=0,
    unpriced_models=[],
)
PARTLY = "the data covers 12 of the 31 days of May 1-31"


def _answer(question: str, vocabulary: Vocabulary, demo: duckdb.DuckDBPyConnection) -> str:
    return plan_answer(execute(demo, parse(question, vocabulary, today=TODAY)), SUMMARY, [])


def test_a_figure_over_a_partly_covered_month_says_so(
    vocabulary: Vocabulary, demo: duckdb.DuckDBPyConnection
) -> None:
    assert PARTLY in _answer("what did u7 spend in may", vocabulary, demo)
    assert "the data covers" not in _answer("what did u7 spend in june", vocabulary, demo)


def test_a_change_against_a_partly_covered_period_says_so_in_the_lead(
    vocabulary: Vocabulary, demo: duckdb.DuckDBPyConnection
) -> None:
    answer = _answer("which models grew in june", vocabulary, demo)
    lead = answer.split("\n\n")[0]
    assert f"Not like for like: {PARTLY}" in lead
    assert answer.count(PARTLY) == 1  # not again among the notes
    assert "_1 more row in the report._" in answer  # 11 models, 10 shown


def test_a_users_spend_is_said_as_theirs(
    vocabulary: Vocabulary, demo: duckdb.DuckDBPyConnection
) -> None:
    assert _answer("what did u7 spend on o1 in june", vocabulary, demo).startswith(
        "User u7 spent **$"
    )
    assert " on o1 in Jun 1-30." in _answer("what did u7 spend on o1 in june", vocabulary, demo)
    assert _answer("spend in june", vocabulary, demo).startswith("You spent")
