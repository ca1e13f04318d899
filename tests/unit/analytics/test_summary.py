"""Dataset totals, spend breakdowns, daily trend, feature growth and one user's cost."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from netra.analytics.analyses.breakdowns import (
    BREAKDOWNS,
    daily_trend,
    feature_growth,
    spend_breakdown,
    user_cost,
)
from netra.analytics.analyses.summary import period_days, summarize
from netra.analytics.connection import open_dataset
from netra.errors import InvalidInput
from tests.unit.analytics.conftest import UsageFile


@pytest.fixture
def small(usage_file: UsageFile) -> Path:
    """Billed costs 1 + 2 + 4 = 7 and one unpriced row of an unknown model."""
    common = {"project": "web", "api_key": "k1"}
    return usage_file(
        {
            "timestamp": "2025-01-01T09:00",
            "model": "gpt-4o-mini",
            "cost_usd": 1.0,
            "input_tokens": 100,
            "output_tokens": 10,
            "feature": "chat",
            "user": "u1",
            **common,
        },
        {
            "timestamp": "2025-01-01T10:00",
            "model": "gpt-4o-mini",
            "cost_usd": 2.0,
            "requests": 2,
            "input_tokens": 200,
            "output_tokens": 20,
            "feature": "chat",
            "user": "u2",
            **common,
        },
        {
            "timestamp": "2025-01-03T12:00",
            "model": "claude-haiku-4-5",
            "cost_usd": 4.0,
            "input_tokens": 300,
            "output_tokens": 30,
            "feature": "sum",
            "user": "u1",
            "project": "api",
            "api_key": "k2",
        },
        {
            "timestamp": "2025-01-03T12:00",
            "model": "acme-llm",
            "requests": 4,
            "input_tokens": 400,
            "output_tokens": 40,
            "feature": "sum",
            "user": "u3",
            "project": "api",
            "api_key": "k2",
        },
    )


def test_the_summary_adds_up_rows_requests_tokens_and_priced_cost(small: Path) -> None:
    summary = summarize(small)

    assert summary.rows == 4
    assert summary.requests == 8
    assert summary.period_start == datetime(2025, 1, 1, 9)
    assert summary.period_end == datetime(2025, 1, 3, 12)
    assert summary.period_days == 2.125  # 51 hours / 24
    assert summary.total_cost_usd == 7.0
    assert summary.models == ["acme-llm", "claude-haiku-4-5", "gpt-4o-mini"]
    assert (summary.input_tokens, summary.output_tokens) == (1_000, 100)
    assert (summary.unpriced_requests, summary.unpriced_models) == (4, ["acme-llm"])


def test_a_period_shorter_than_a_day_counts_as_one_day() -> None:
    assert period_days(datetime(2025, 1, 1, 9), datetime(2025, 1, 1, 21)) == 1.0
    assert period_days(datetime(2025, 1, 1), datetime(2025, 1, 11, 12)) == 10.5


def test_spend_by_model_is_ordered_by_cost_with_shares_of_the_total(small: Path) -> None:
    breakdown = spend_breakdown(small, "model")

    assert [(row.key, row.cost_usd, row.requests, row.share) for row in breakdown.rows] == [
        ("claude-haiku-4-5", 4.0, 1, 0.571429),
        ("gpt-4o-mini", 3.0, 3, 0.428571),
        ("acme-llm", 0.0, 4, 0.0),
    ]
    assert breakdown.rows[2].unpriced_requests == 4
    assert (breakdown.total_cost_usd, breakdown.total_requests, breakdown.keys) == (7.0, 8, 3)
    assert breakdown.others is None


def test_keys_past_the_limit_are_summed_in_others(small: Path) -> None:
    breakdown = spend_breakdown(small, "model", limit=1)

    assert [row.key for row in breakdown.rows] == ["claude-haiku-4-5"]
    assert breakdown.others is not None
    assert (breakdown.others.cost_usd, breakdown.others.requests) == (3.0, 7)
    assert breakdown.others.share == 0.428571
    assert breakdown.keys == 3


def test_spend_by_provider_uses_the_catalogs_provider(small: Path) -> None:
    rows = spend_breakdown(small, "provider").rows

    assert [(row.key, row.cost_usd) for row in rows] == [
        ("anthropic", 4.0),
        ("openai", 3.0),
        (None, 0.0),
    ]


def test_spend_by_user_project_and_api_key(small: Path) -> None:
    by_user = spend_breakdown(small, "user").rows
    by_project = spend_breakdown(small, "project").rows
    by_key = spend_breakdown(small, "api_key").rows

    assert [(row.key, row.cost_usd, row.share) for row in by_user] == [
        ("u1", 5.0, 0.714286),
        ("u2", 2.0, 0.285714),
        ("u3", 0.0, 0.0),
    ]
    assert [(row.key, row.cost_usd) for row in by_project] == [("api", 4.0), ("web", 3.0)]
    assert [(row.key, row.requests) for row in by_key] == [("k2", 5), ("k1", 3)]


def test_spend_by_day_lists_every_day_with_rows_by_date(small: Path) -> None:
    breakdown = spend_breakdown(small, "day", limit=1)

    assert [(row.key, row.cost_usd, row.requests) for row in breakdown.rows] == [
        ("2025-01-01", 3.0, 3),
        ("2025-01-03", 4.0, 5),
    ]


def test_an_unknown_breakdown_is_refused(small: Path) -> None:
    with pytest.raises(InvalidInput):
        spend_breakdown(small, "colour")


def test_the_daily_trend_fills_days_without_rows_with_zero(small: Path) -> None:
    days = daily_trend(small).days

    assert [(d.day, d.cost_usd, d.requests) for d in days] == [
        (date(2025, 1, 1), 3.0, 3),
        (date(2025, 1, 2), 0.0, 0),
        (date(2025, 1, 3), 4.0, 5),
    ]


def test_a_users_cost_is_split_by_model_and_feature(small: Path) -> None:
    cost = user_cost(small, "u1")

    assert (cost.cost_usd, cost.requests, cost.input_tokens, cost.share) == (5.0, 2, 400, 0.714286)
    assert [(row.key, row.cost_usd, row.share) for row in cost.by_model] == [
        ("claude-haiku-4-5", 4.0, 0.8),
        ("gpt-4o-mini", 1.0, 0.2),
    ]
    assert [row.key for row in cost.by_feature] == ["sum", "chat"]


def test_a_user_without_rows_costs_nothing(small: Path) -> None:
    cost = user_cost(small, "nobody")

    assert (cost.cost_usd, cost.requests, cost.by_model) == (0.0, 0, [])


def test_feature_growth_compares_the_last_week_with_the_week_before(
    usage_file: UsageFile,
) -> None:
    path = usage_file(
        {"timestamp": "2024-12-31T12:00", "model": "m", "cost_usd": 100.0, "feature": "b"},
        {"timestamp": "2025-01-02T12:00", "model": "m", "cost_usd": 1.0, "feature": "a"},
        {"timestamp": "2025-01-05T12:00", "model": "m", "cost_usd": 4.0, "feature": "b"},
        {"timestamp": "2025-01-07T23:59", "model": "m", "cost_usd": 1.0, "feature": "a"},
        {"timestamp": "2025-01-08T00:00", "model": "m", "cost_usd": 2.0, "feature": "a"},
        {"timestamp": "2025-01-09T12:00", "model": "m", "cost_usd": 2.0, "feature": "a"},
        {"timestamp": "2025-01-12T12:00", "model": "m", "cost_usd": 1.0, "feature": "b"},
        {"timestamp": "2025-01-14T12:00", "model": "m", "cost_usd": 0.5, "feature": "c"},
        {"timestamp": "2025-01-14T13:00", "model": "m", "cost_usd": 9.0},
    )

    growth = feature_growth(path, days=7)

    assert (growth.recent_start, growth.recent_end) == (date(2025, 1, 8), date(2025, 1, 14))
    assert (growth.previous_start, growth.previous_end) == (date(2025, 1, 1), date(2025, 1, 7))
    assert [
        (f.feature, f.recent_cost_usd, f.previous_cost_usd, f.growth_usd, f.growth_pct)
        for f in growth.features
    ] == [
        ("a", 4.0, 2.0, 2.0, 100.0),
        ("c", 0.5, 0.0, 0.5, None),
        ("b", 1.0, 4.0, -3.0, -75.0),
    ]
    assert growth.top is not None and growth.top.feature == "a"


def test_the_rolled_up_spend_answers_as_the_rows_do(small: Path) -> None:
    # analyze() and a run's tools share one connection with spend rolled up (the user in a
    # grouping set of its own); every answer must equal the one read from the rows.
    with open_dataset(small, rollup=True) as con:
        rolled = (
            summarize(con),
            [spend_breakdown(con, by) for by in BREAKDOWNS],
            user_cost(con, "u1"),
            daily_trend(con),
        )
    rows = (
        summarize(small),
        [spend_breakdown(small, by) for by in BREAKDOWNS],
        user_cost(small, "u1"),
        daily_trend(small),
    )

    assert rolled == rows
    assert rolled[1][BREAKDOWNS.index("user")].rows[0].key is not None
