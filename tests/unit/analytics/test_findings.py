"""Findings: spend anomalies (mean + 3 population standard deviations) and latency."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from netra.analytics.analyses.findings import anomalies, latency_percentiles
from netra.errors import InvalidInput
from tests.unit.analytics.conftest import UsageFile

START = datetime(2025, 1, 1, 12)


def _day(index: int, cost: float, **row: Any) -> dict[str, Any]:
    """A row on day ``index`` (day 1 is 2025-01-01) costing ``cost``."""
    return {"timestamp": START + timedelta(days=index - 1), "model": "m", "cost_usd": cost, **row}


def test_a_day_above_mean_plus_three_population_stddevs_of_the_14_before_is_anomalous(
    usage_file: UsageFile,
) -> None:
    # Days 1-14 of feature a: 10, 20, 10, 20, ... mean 15, population stddev 5, threshold 30.
    rows = [_day(day, 10.0 if day % 2 else 20.0, feature="a") for day in range(1, 15)]
    rows += [
        _day(15, 31.0, feature="a"),  # a: 31 > 30
        _day(15, 1.0, feature="b"),  # b starts on day 15: not tested; overall: 32
        _day(16, 15.0, feature="a"),
    ]

    found = anomalies(usage_file(*rows))

    assert found.days_tested == 2  # days 15 and 16 have 14 days before them
    assert [(a.scope, a.feature, a.day, a.cost_usd) for a in found.items] == [
        ("overall", None, date(2025, 1, 15), 32.0),
        ("feature", "a", date(2025, 1, 15), 31.0),
    ]
    first = found.items[0]
    assert (first.baseline_mean_usd, first.baseline_stddev_usd, first.threshold_usd) == (
        15.0,
        5.0,
        30.0,
    )
    assert (first.excess_usd, first.z_score) == (2.0, 3.4)


def test_a_day_exactly_at_the_threshold_is_not_anomalous(usage_file: UsageFile) -> None:
    rows = [_day(day, 10.0 if day % 2 else 20.0) for day in range(1, 15)] + [_day(15, 30.0)]

    assert anomalies(usage_file(*rows)).items == []


def test_a_day_without_rows_spends_zero_in_the_baseline(usage_file: UsageFile) -> None:
    # Days 1-14: 14 on odd days, nothing on even days: mean 7, stddev 7, threshold 28.
    rows = [_day(day, 14.0) for day in range(1, 15, 2)] + [_day(15, 28.5)]

    found = anomalies(usage_file(*rows))

    assert [(a.day, a.baseline_mean_usd, a.threshold_usd) for a in found.items] == [
        (date(2025, 1, 15), 7.0, 28.0)
    ]


def test_a_dataset_shorter_than_15_days_has_no_day_to_test(usage_file: UsageFile) -> None:
    found = anomalies(usage_file(*[_day(day, 1.0) for day in range(1, 14)], _day(14, 99.0)))

    assert (found.items, found.days_tested) == ([], 0)


def test_latency_percentiles_interpolate_between_ranks_over_success_rows(
    usage_file: UsageFile,
) -> None:
    rows = [
        {"timestamp": START, "model": "m1", "feature": "f", "latency_ms": value}
        for value in (300.0, 100.0, 1_000.0, 200.0, 400.0)
    ]
    rows += [
        {
            "timestamp": START,
            "model": "m1",
            "feature": "f",
            "latency_ms": 99_999.0,
            "status": "error",
        },
        {"timestamp": START, "model": "m1", "feature": "f"},  # no latency
        {"timestamp": START, "model": "m2", "feature": "f", "latency_ms": 50.0, "requests": 3},
    ]

    latency = latency_percentiles(usage_file(*rows))

    # Sorted 100, 200, 300, 400, 1000: p50 at rank 2 = 300; p95 at rank 3.8 = 400 + 0.8 × 600.
    assert [(g.group, g.rows, g.requests, g.p50_ms, g.p95_ms) for g in latency.groups] == [
        ({"model": "m1", "feature": "f"}, 5, 5, 300.0, 880.0),
        ({"model": "m2", "feature": "f"}, 1, 3, 50.0, 50.0),
    ]


def test_latency_of_one_model_by_another_dimension(usage_file: UsageFile) -> None:
    path = usage_file(
        {"timestamp": START, "model": "m1", "user": "u1", "latency_ms": 10.0},
        {"timestamp": START, "model": "m1", "user": "u1", "latency_ms": 20.0},
        {"timestamp": START, "model": "m2", "user": "u1", "latency_ms": 1_000.0},
    )

    latency = latency_percentiles(path, by=("user",), model="m1")

    assert [(g.group, g.p50_ms, g.p95_ms) for g in latency.groups] == [({"user": "u1"}, 15.0, 19.5)]


def test_latency_of_a_named_model_includes_its_dated_versions_only(usage_file: UsageFile) -> None:
    path = usage_file(
        {"timestamp": START, "model": "gpt-4o", "user": "u", "latency_ms": 100.0},
        {"timestamp": START, "model": "gpt-4o-2024-08-06", "user": "u", "latency_ms": 300.0},
        {"timestamp": START, "model": "gpt-4o-mini", "user": "u", "latency_ms": 9_000.0},
    )

    latency = latency_percentiles(path, by=("user",), model="gpt-4o")

    # p50 of (100, 300) = 200, p95 = 100 + 0.95 × 200 = 290; gpt-4o-mini left out.
    assert [(g.rows, g.p50_ms, g.p95_ms) for g in latency.groups] == [(2, 200.0, 290.0)]


def test_latency_by_an_unknown_dimension_is_refused(usage_file: UsageFile) -> None:
    with pytest.raises(InvalidInput):
        latency_percentiles(usage_file({"timestamp": START, "model": "m"}), by=("colour",))
