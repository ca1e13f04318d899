"""Pricing: the engine's SQL cost against the catalog's own ``calc_price``, and by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from genai_prices import Usage, calc_price, data_snapshot
from genai_prices.types import TieredPrices

from netra.analytics.analyses.summary import summarize
from netra.analytics.connection import open_dataset
from netra.analytics.prices import catalog
from tests.unit.analytics.conftest import UsageFile

PRICING_DAY = date(2026, 1, 15)
SAMPLES_PER_MODEL = 4


def _costs(path, day: date = PRICING_DAY) -> dict[int, tuple[float | None, str | None, bool]]:
    with open_dataset(path, day=day) as con:
        rows = con.execute("SELECT row_no, cost, provider, priced FROM usage").fetchall()
    return {
        row_no: (None if cost is None else float(cost), provider, priced)
        for row_no, cost, provider, priced in rows
    }


def _tier_starts(model_price) -> list[int]:
    return sorted(
        {
            tier.start
            for key in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
            if isinstance(price := getattr(model_price, key), TieredPrices)
            for tier in price.tiers
        }
    )


def test_every_catalog_model_the_table_prices_costs_what_calc_price_says(
    usage_file: UsageFile,
) -> None:
    rng = np.random.default_rng(20260115)
    rows, expected = [], {}
    unpriceable = set()
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            try:
                probe = calc_price(Usage(input_tokens=1), model.id, provider_id=provider.id)
            except LookupError:
                continue  # the catalog itself cannot find this id at this provider
            model_price = probe.model.get_prices(datetime.combine(PRICING_DAY, time(), UTC))
            starts = _tier_starts(model_price)
            for sample in range(SAMPLES_PER_MODEL):
                # Half of the samples go above a tier threshold when the model has tiers.
                ceiling = 2 * starts[-1] if starts and sample % 2 else 50_000
                input_tokens = int(rng.integers(0, ceiling))
                cache_read = int(rng.integers(0, input_tokens // 2 + 1))
                cache_write = int(rng.integers(0, input_tokens - cache_read + 1))
                output_tokens = int(rng.integers(0, 20_000))
                moment = timedelta(seconds=int(rng.integers(0, 86_400)))
                stamp = datetime(2025, 3, 1) + moment
                row_no = len(rows)
                rows.append(
                    {
                        "timestamp": stamp,
                        "model": model.id,
                        "provider": provider.id,
                        "input_tokens": input_tokens,
                        "output_tokens": output_tokens,
                        "cache_read_tokens": cache_read,
                        "cache_write_tokens": cache_write,
                    }
                )
                if model_price.input_mtok is None:
                    unpriceable.add(row_no)
                    continue
                price = calc_price(
                    Usage(
                        input_tokens=input_tokens,
                        output_tokens=output_tokens,
                        cache_read_tokens=cache_read,
                        cache_write_tokens=cache_write,
                    ),
                    model.id,
                    provider_id=provider.id,
                    genai_request_timestamp=datetime.combine(PRICING_DAY, time(), UTC) + moment,
                )
                expected[row_no] = price.total_price

    costs = _costs(usage_file(*rows))

    assert len(expected) > 2_000 * SAMPLES_PER_MODEL // 2
    for row_no, total in expected.items():
        cost, _, priced = costs[row_no]
        assert priced, rows[row_no]
        assert cost == pytest.approx(float(total), rel=1e-9, abs=1e-12), rows[row_no]
    for row_no in unpriceable:
        assert costs[row_no][0] is None, rows[row_no]


def test_unbilled_rows_are_priced_and_billed_rows_keep_their_cost(
    usage_file: UsageFile,
) -> None:
    path = usage_file(
        # gpt-4o-mini: $0.15 input, $0.60 output per MTok, no cache-write price.
        {
            "timestamp": "2025-03-01T10:00",
            "model": "gpt-4o-mini",
            "input_tokens": 1_000,
            "output_tokens": 500,
        },
        {
            "timestamp": "2025-03-01T10:01",
            "model": "gpt-4o-mini",
            "input_tokens": 1_000,
            "output_tokens": 500,
            "cost_usd": 0.123,
        },
        # Cache writes of a model without a cache-write price cost the input price.
        {
            "timestamp": "2025-03-01T10:02",
            "model": "gpt-4o-mini",
            "input_tokens": 1_000,
            "cache_write_tokens": 400,
        },
        # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output.
        {
            "timestamp": "2025-03-01T10:03",
            "model": "claude-haiku-4-5",
            "input_tokens": 10_000,
            "cache_read_tokens": 8_000,
            "cache_write_tokens": 1_000,
            "output_tokens": 200,
        },
    )
    _assert_catalog_prices("gpt-4o-mini", input=0.15, output=0.6, cache_read=0.075)
    _assert_catalog_prices("claude-haiku-4-5", input=1, output=5, cache_read=0.1, cache_write=1.25)

    costs = _costs(path)

    assert costs[0][0] == pytest.approx(1_000 * 0.15e-6 + 500 * 0.6e-6)  # 0.00045
    assert costs[1][0] == 0.123
    assert costs[2][0] == pytest.approx(1_000 * 0.15e-6)
    assert costs[3][0] == pytest.approx(
        1_000 * 1e-6 + 8_000 * 0.1e-6 + 1_000 * 1.25e-6 + 200 * 5e-6  # 0.00405
    )
    assert {provider for _, provider, _ in costs.values()} == {"openai", "anthropic"}


def test_tiers_apply_to_the_per_request_average_of_a_bucket_row(usage_file: UsageFile) -> None:
    # claude-sonnet-4-5: $3 input / $15 output per MTok, $6 / $22.50 above 200,000 input.
    _assert_catalog_prices(
        "claude-sonnet-4-5", input=3, output=15, cache_read=0.3, cache_write=3.75
    )
    path = usage_file(
        {
            "timestamp": "2025-03-01T10:00",
            "model": "claude-sonnet-4-5",
            "input_tokens": 250_000,
            "output_tokens": 1_000,
        },
        {
            "timestamp": "2025-03-01T10:01",
            "model": "claude-sonnet-4-5",
            "input_tokens": 250_000,
            "output_tokens": 1_000,
            "requests": 2,
        },
        {
            "timestamp": "2025-03-01T10:02",
            "model": "claude-sonnet-4-5",
            "input_tokens": 200_000,
            "output_tokens": 1_000,
        },
    )

    costs = _costs(path)

    assert costs[0][0] == pytest.approx(250_000 * 6e-6 + 1_000 * 22.5e-6)  # 1.5225
    assert costs[1][0] == pytest.approx(250_000 * 3e-6 + 1_000 * 15e-6)  # 0.765
    assert costs[2][0] == pytest.approx(200_000 * 3e-6 + 1_000 * 15e-6)  # not above 200,000
    single = calc_price(
        Usage(input_tokens=250_000, output_tokens=1_000), "claude-sonnet-4-5"
    ).total_price
    assert costs[0][0] == pytest.approx(float(single))


def test_time_of_day_prices_follow_the_rows_utc_time(usage_file: UsageFile) -> None:
    # deepseek-chat: $0.27 input per MTok from 00:30 to 16:30 UTC, $0.135 otherwise.
    path = usage_file(
        {"timestamp": "2025-03-01T10:00", "model": "deepseek-chat", "input_tokens": 1_000_000},
        {"timestamp": "2025-03-01T20:00", "model": "deepseek-chat", "input_tokens": 1_000_000},
        {"timestamp": "2025-03-01T00:29", "model": "deepseek-chat", "input_tokens": 1_000_000},
    )

    costs = _costs(path)

    assert [costs[row][0] for row in range(3)] == pytest.approx([0.27, 0.135, 0.135])


def test_a_model_the_catalog_does_not_know_stays_unpriced_not_free(
    usage_file: UsageFile,
) -> None:
    path = usage_file(
        {
            "timestamp": "2025-03-01T10:00",
            "model": "acme-llm-7b",
            "input_tokens": 5_000,
            "requests": 3,
        },
        {
            "timestamp": "2025-03-02T10:00",
            "model": "acme-llm-7b",
            "input_tokens": 5_000,
            "cost_usd": 0.5,
        },
        {"timestamp": "2025-03-02T11:00", "model": "gpt-4o-mini", "input_tokens": 1_000_000},
    )

    costs = _costs(path)
    summary = summarize(path)

    assert costs[0] == (None, None, False)
    assert costs[1][0] == 0.5
    assert summary.unpriced_requests == 3
    assert summary.unpriced_models == ["acme-llm-7b"]
    assert summary.total_cost_usd == pytest.approx(0.5 + 0.15)


def test_a_given_provider_is_used_and_an_unknown_one_is_inferred(usage_file: UsageFile) -> None:
    path = usage_file(
        {
            "timestamp": "2025-03-01T10:00",
            "model": "gpt-4o",
            "provider": "azure",
            "input_tokens": 1_000,
        },
        {
            "timestamp": "2025-03-01T10:01",
            "model": "gpt-4o",
            "provider": "acme-proxy",
            "input_tokens": 1_000,
        },
        {"timestamp": "2025-03-01T10:02", "model": "gpt-4o", "input_tokens": 1_000},
    )

    costs = _costs(path)

    assert [costs[row][1] for row in range(3)] == ["azure", "openai", "openai"]
    assert [costs[row][0] for row in range(3)] == pytest.approx([0.0025] * 3)


def _assert_catalog_prices(model: str, **per_mtok: float) -> None:
    """The pinned catalog still has the prices a hand-computed test relies on."""
    found = catalog.resolve(model)
    assert found is not None
    prices = catalog.prices_at(found.info, PRICING_DAY)
    for name, value in per_mtok.items():
        price = getattr(prices, f"{name}_mtok")
        base = price.base if isinstance(price, TieredPrices) else price
        assert base == Decimal(str(value)), (model, name)
