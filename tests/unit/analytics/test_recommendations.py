"""Recommendations: each kind's saving by hand, the confidence rules, and the combined total.

Every file spans exactly 10 days (``FIRST`` to ``LAST``), so a monthly figure is 3 × the
saving over the data. Catalog prices used (USD per million tokens, pinned catalog):
gpt-4o 2.50 in / 10 out / 1.25 cache read; gpt-4o-mini 0.15 / 0.60 / 0.075;
claude-sonnet-4-5 3 / 15; claude-haiku-4-5 1 in / 5 out / 0.10 cache read / 1.25 cache write.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netra.analytics.analyses.recommendations import Recommendation, recommendations
from tests.unit.analytics.conftest import UsageFile
from tests.unit.analytics.test_pricing import _assert_catalog_prices

FIRST = datetime(2025, 2, 1)
LAST = FIRST + timedelta(days=10)
MONTH = 3  # 30 / 10 days


def _at(minutes: float) -> datetime:
    return FIRST + timedelta(minutes=minutes)


def _file(usage_file: UsageFile, *rows: dict[str, Any]) -> Path:
    """The rows, plus one free row on ``LAST`` so that the period is 10 days."""
    return usage_file(*rows, {"timestamp": LAST, "model": "filler", "cost_usd": 0.0})


def _kind(path: Path, kind: str) -> Recommendation | None:
    return next((item for item in recommendations(path).items if item.kind == kind), None)


@pytest.fixture(autouse=True)
def catalog_prices_are_the_ones_assumed() -> None:
    _assert_catalog_prices("gpt-4o", input=2.5, output=10, cache_read=1.25)
    _assert_catalog_prices("gpt-4o-mini", input=0.15, output=0.6, cache_read=0.075)
    _assert_catalog_prices("claude-haiku-4-5", input=1, output=5, cache_read=0.1, cache_write=1.25)
    _assert_catalog_prices("claude-sonnet-4-5", input=3, output=15)


def test_response_cache_saves_every_request_of_a_group_but_the_first(
    usage_file: UsageFile,
) -> None:
    m = {"model": "m", "feature": "f"}
    path = _file(
        usage_file,
        # Group h1: 1 + 2 + 4 (a bucket of 2), the first costs 1: saving 6, 3 repeats.
        {"timestamp": _at(0), "prompt_hash": "h1", "cost_usd": 1.0, **m},
        {"timestamp": _at(1), "prompt_hash": "h1", "cost_usd": 2.0, **m},
        {"timestamp": _at(2), "prompt_hash": "h1", "cost_usd": 4.0, "requests": 2, **m},
        # Group h2 is one bucket of 4 requests costing 8: all but the first = 3/4: saving 6.
        {"timestamp": _at(3), "prompt_hash": "h2", "cost_usd": 8.0, "requests": 4, **m},
        # Group h3: same timestamp, the first is the earlier row: saving 5.
        {"timestamp": _at(4), "prompt_hash": "h3", "cost_usd": 3.0, **m},
        {"timestamp": _at(4), "prompt_hash": "h3", "cost_usd": 5.0, **m},
        # Not groups: one request; another model; an error; no hash; unpriced.
        {"timestamp": _at(5), "prompt_hash": "h4", "cost_usd": 9.0, **m},
        {"timestamp": _at(6), "prompt_hash": "h1", "cost_usd": 9.0, "model": "m2"},
        {
            "timestamp": _at(7),
            "prompt_hash": "h4",
            "cost_usd": 9.0,
            "status": "error",
            "model": "m",
        },
        {"timestamp": _at(8), "cost_usd": 9.0, **m},
        {"timestamp": _at(9), "cost_usd": 9.0, **m},
        {"timestamp": _at(10), "prompt_hash": "h5", "model": "acme-llm", "input_tokens": 9},
        {"timestamp": _at(11), "prompt_hash": "h5", "model": "acme-llm", "input_tokens": 9},
    )

    found = _kind(path, "response_cache")

    assert found is not None
    assert found.evidence["saving_over_data_usd"] == 17.0  # 6 + 6 + 5
    assert found.monthly_savings_usd == 17.0 * MONTH
    assert (found.affected_requests, found.affected_cost_usd) == (3 + 3 + 1, 17.0)
    assert found.evidence["groups"] == 3
    assert found.confidence == "low"


def test_model_routing_reprices_small_requests_at_the_siblings_prices(
    usage_file: UsageFile,
) -> None:
    path = _file(
        usage_file,
        # 1,000 in / 300 out: 0.0025 + 0.003 = 0.0055 on gpt-4o, 0.00033 on gpt-4o-mini.
        {"timestamp": _at(0), "model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 300},
        # A bucket of 2 averaging 1,000 / 300: 0.011 against 0.00066.
        {
            "timestamp": _at(1),
            "model": "gpt-4o-2024-08-06",
            "requests": 2,
            "input_tokens": 2_000,
            "output_tokens": 600,
        },
        # Billed 0.01; on gpt-4o-mini 100 in / 10 out cost 0.000021.
        {
            "timestamp": _at(2),
            "model": "gpt-4o",
            "cost_usd": 0.01,
            "input_tokens": 100,
            "output_tokens": 10,
        },
        # Too large (1,001 input or 301 output), a failure, a model without a sibling.
        {"timestamp": _at(3), "model": "gpt-4o", "input_tokens": 1_001, "output_tokens": 10},
        {"timestamp": _at(4), "model": "gpt-4o", "input_tokens": 10, "output_tokens": 301},
        {"timestamp": _at(5), "model": "gpt-4o", "input_tokens": 10, "status": "error"},
        {"timestamp": _at(6), "model": "gpt-4o-mini", "input_tokens": 10},
    )

    found = _kind(path, "model_routing")

    saving = (0.0055 - 0.00033) + (0.011 - 0.00066) + (0.01 - 0.000021)  # 0.025489
    assert found is not None
    assert found.evidence["saving_over_data_usd"] == pytest.approx(saving, abs=1e-6)
    assert found.monthly_savings_usd == pytest.approx(saving * MONTH, abs=1e-6)
    assert found.affected_requests == 4
    assert found.affected_cost_usd == pytest.approx(0.0055 + 0.011 + 0.01, abs=1e-6)
    assert {(part["model"], part["sibling"]) for part in found.evidence["parts"]} == {
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o-mini"),
    }


def test_prompt_caching_saves_reads_of_shared_prefixes_minus_the_write_premium(
    usage_file: UsageFile,
) -> None:
    haiku = {"model": "claude-haiku-4-5", "input_tokens": 5_000}
    path = _file(
        usage_file,
        # haiku p1: prefixes 2,000 + 2,000 + 6,000 (bucket of 3); the first's is 2,000.
        # reads: 8,000 × (1 − 0.1) / 1e6 = 0.0072; write premium 2,000 × 0.25 / 1e6 = 0.0005
        {"timestamp": _at(0), "prefix_hash": "p1", "prefix_tokens": 2_000, **haiku},
        {"timestamp": _at(1), "prefix_hash": "p1", "prefix_tokens": 2_000, **haiku},
        {"timestamp": _at(2), "prefix_hash": "p1", "prefix_tokens": 6_000, "requests": 3, **haiku},
        # Already read from the cache: left out before grouping.
        {
            "timestamp": _at(3),
            "prefix_hash": "p1",
            "prefix_tokens": 2_000,
            "cache_read_tokens": 2_000,
            **haiku,
        },
        # haiku p3: one bucket of 4 with 4,000 prefix tokens; the first request's is 1,000.
        # reads: 3,000 × 0.9 / 1e6 = 0.0027; premium 1,000 × 0.25 / 1e6 = 0.00025
        {"timestamp": _at(4), "prefix_hash": "p3", "prefix_tokens": 4_000, "requests": 4, **haiku},
        # gpt-4o-mini p2, no cache-write price: reads 1,000 × (0.15 − 0.075) / 1e6 = 0.000075
        {
            "timestamp": _at(5),
            "model": "gpt-4o-mini",
            "prefix_hash": "p2",
            "prefix_tokens": 1_000,
            "input_tokens": 1_500,
        },
        {
            "timestamp": _at(6),
            "model": "gpt-4o-mini",
            "prefix_hash": "p2",
            "prefix_tokens": 1_000,
            "input_tokens": 1_500,
        },
        # No cache-read price (gemini-1.5-pro), a single request, a failure.
        {
            "timestamp": _at(7),
            "model": "gemini-1.5-pro",
            "prefix_hash": "p4",
            "prefix_tokens": 1_000,
            "input_tokens": 1_500,
        },
        {
            "timestamp": _at(8),
            "model": "gemini-1.5-pro",
            "prefix_hash": "p4",
            "prefix_tokens": 1_000,
            "input_tokens": 1_500,
        },
        {"timestamp": _at(9), "prefix_hash": "p5", "prefix_tokens": 2_000, **haiku},
        {
            "timestamp": _at(10),
            "prefix_hash": "p3",
            "prefix_tokens": 1_000,
            "status": "error",
            **haiku,
        },
    )

    found = _kind(path, "prompt_caching")

    saving = (0.0072 - 0.0005) + (0.0027 - 0.00025) + 0.000075  # 0.009225
    assert found is not None
    assert found.evidence["saving_over_data_usd"] == pytest.approx(saving, abs=1e-6)
    assert found.evidence["read_saving"] == pytest.approx(0.0072 + 0.0027 + 0.000075, abs=1e-6)
    assert found.evidence["write_premium"] == pytest.approx(0.00075, abs=1e-6)
    assert (found.affected_requests, found.evidence["groups"]) == (5 + 4 + 2, 3)
    assert found.monthly_savings_usd == pytest.approx(saving * MONTH, abs=1e-6)


def test_batch_api_halves_the_cost_of_non_interactive_requests_not_yet_batched(
    usage_file: UsageFile,
) -> None:
    offline = {"interactive": False}
    path = _file(
        usage_file,
        {"timestamp": _at(0), "model": "gpt-4o", "cost_usd": 2.0, **offline},
        {"timestamp": _at(1), "model": "claude-haiku-4-5", "cost_usd": 4.0, **offline},
        {
            "timestamp": _at(2),
            "model": "claude-haiku-4-5",
            "cost_usd": 3.0,
            "batch": True,
            **offline,
        },
        {"timestamp": _at(3), "model": "gemini-2.5-flash", "cost_usd": 5.0},
        {"timestamp": _at(4), "model": "mistral-large-latest", "cost_usd": 6.0, **offline},
        {"timestamp": _at(5), "model": "gpt-4o", "cost_usd": 7.0, "status": "error", **offline},
    )

    found = _kind(path, "batch_api")

    assert found is not None
    assert found.evidence["saving_over_data_usd"] == 3.0  # 0.5 × (2 + 4)
    assert (found.affected_requests, found.affected_cost_usd) == (2, 6.0)
    assert found.monthly_savings_usd == 9.0
    assert {part["provider"] for part in found.evidence["parts"]} == {"openai", "anthropic"}


def test_error_waste_is_the_cost_of_failed_requests(usage_file: UsageFile) -> None:
    path = _file(
        usage_file,
        {"timestamp": _at(0), "model": "m", "cost_usd": 0.5, "status": "error"},
        {"timestamp": _at(1), "model": "m", "cost_usd": 1.5, "status": "error", "requests": 2},
        {"timestamp": _at(2), "model": "acme-llm", "input_tokens": 10, "status": "error"},
        {"timestamp": _at(3), "model": "m", "cost_usd": 9.0},
    )

    result = recommendations(path)
    found = _kind(path, "error_waste")

    assert found is not None
    assert (found.evidence["saving_over_data_usd"], found.affected_requests) == (2.0, 3)
    assert found.monthly_savings_usd == result.error_waste_monthly_usd == 6.0
    assert result.total_monthly_savings_usd == 0.0  # shown beside, never added


def test_the_total_applies_each_kind_to_what_the_previous_left(usage_file: UsageFile) -> None:
    # gpt-4o, 800 in / 100 out: 0.003 (0.00018 on gpt-4o-mini); 5,000 in: 0.0135.
    small = {
        "model": "gpt-4o",
        "input_tokens": 800,
        "output_tokens": 100,
        "prefix_hash": "p1",
        "prefix_tokens": 500,
        "interactive": False,
    }
    path = _file(
        usage_file,
        {"timestamp": _at(0), "prompt_hash": "h1", **small},
        {"timestamp": _at(1), "prompt_hash": "h1", **small},
        {"timestamp": _at(2), "prompt_hash": "h2", **small, "input_tokens": 5_000},
    )

    result = recommendations(path)
    alone = {item.kind: item.evidence["saving_over_data_usd"] for item in result.items}

    assert alone == pytest.approx(
        {
            "response_cache": 0.003,
            "model_routing": 2 * (0.003 - 0.00018),
            "prompt_caching": 2 * 500 * (2.5 - 1.25) / 1e6,
            "batch_api": 0.5 * (0.003 + 0.003 + 0.0135),
        },
        abs=1e-6,
    )
    # Response cache drops the repeat; the first is routed to gpt-4o-mini, so no prefix group
    # of 2 is left; the batch discount applies to 0.00018 + 0.0135.
    combined = {
        "response_cache": 0.003,
        "model_routing": 0.003 - 0.00018,
        "prompt_caching": 0.0,
        "batch_api": 0.5 * (0.00018 + 0.0135),
    }
    assert result.combined == pytest.approx({k: v * MONTH for k, v in combined.items()}, abs=1e-6)
    assert result.total_monthly_savings_usd == pytest.approx(0.01266 * MONTH, abs=1e-6)


def test_a_routed_request_is_grouped_as_its_sibling_for_prompt_caching(
    usage_file: UsageFile,
) -> None:
    # claude-sonnet-4-5, 900 in / 50 out: 0.00345; on claude-haiku-4-5: 0.00115.
    shared = {"input_tokens": 900, "output_tokens": 50, "prefix_hash": "p2", "prefix_tokens": 1_000}
    path = _file(
        usage_file,
        {"timestamp": _at(0), "model": "claude-sonnet-4-5", **shared},
        {"timestamp": _at(1), "model": "claude-haiku-4-5", "interactive": False, **shared},
    )

    result = recommendations(path)

    # The routed request is the first of (claude-haiku-4-5, p2): it pays the write premium
    # 1,000 × 0.25 / 1e6; the second reads 1,000 × 0.9 / 1e6 = 0.0009 and is batched:
    # 0.5 × (0.00115 − 0.0009).
    combined = {
        "response_cache": 0.0,
        "model_routing": 0.00345 - 0.00115,
        "prompt_caching": 0.0009 - 0.00025,
        "batch_api": 0.5 * (0.00115 - 0.0009),
    }
    assert result.combined == pytest.approx({k: v * MONTH for k, v in combined.items()}, abs=1e-6)
    assert result.total_monthly_savings_usd == pytest.approx(
        sum(combined.values()) * MONTH, abs=1e-6
    )
    assert "prompt_caching" not in {item.kind for item in result.items}  # alone: no group


def test_confidence_is_low_below_100_affected_requests(usage_file: UsageFile) -> None:
    rows = [
        {"timestamp": _at(i), "model": "gpt-4o", "cost_usd": 1.0, "interactive": False}
        for i in range(99)
    ]

    assert _kind(_file(usage_file, *rows), "batch_api").confidence == "low"  # type: ignore[union-attr]
    rows.append({"timestamp": _at(99), "model": "gpt-4o", "cost_usd": 1.0, "interactive": False})
    assert _kind(_file(usage_file, *rows), "batch_api").confidence == "high"  # type: ignore[union-attr]


def test_prompt_caching_is_high_confidence_only_for_prefixes_of_1024_tokens_or_more(
    usage_file: UsageFile,
) -> None:
    def caching(prefix_tokens: int) -> str:
        rows = [
            {
                "timestamp": _at(i),
                "model": "gpt-4o",
                "input_tokens": 2_000,
                "prefix_hash": "p",
                "prefix_tokens": prefix_tokens,
            }
            for i in range(100)
        ]
        found = _kind(_file(usage_file, *rows), "prompt_caching")
        assert found is not None
        return found.confidence

    assert caching(1_024) == "high"
    assert caching(1_023) == "medium"


def test_a_kind_without_affected_requests_is_not_recommended(usage_file: UsageFile) -> None:
    path = _file(usage_file, {"timestamp": _at(0), "model": "m", "cost_usd": 1.0})

    result = recommendations(path)

    assert (result.items, result.total_monthly_savings_usd, result.period_days) == ([], 0.0, 10)
