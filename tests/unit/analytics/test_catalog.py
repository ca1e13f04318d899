"""The catalog search tool: the cheapest model meeting a context window and capabilities."""

from __future__ import annotations

import pytest

from netra.analytics.prices.catalog import CAPABILITIES, cheapest_model, search_catalog
from netra.errors import InvalidInput


def test_the_cheapest_model_meets_every_condition_and_nothing_listed_is_cheaper() -> None:
    found = cheapest_model(128_000, ["prompt_caching"], "openai")
    listed = search_catalog(128_000, ["prompt_caching"], "openai", limit=10_000)

    assert found is not None
    assert found == listed[0]
    assert found.provider == "openai"
    assert found.context_window is not None and found.context_window >= 128_000
    assert "prompt_caching" in found.capabilities
    assert found.cache_read_usd_per_mtok is not None
    costs = [model.request_cost_usd for model in listed]
    assert costs == sorted(costs)
    # One request of 1,000 input and 300 output tokens at the model's base prices.
    assert found.request_cost_usd == pytest.approx(
        (1_000 * found.input_usd_per_mtok + 300 * (found.output_usd_per_mtok or 0)) / 1e6
    )


def test_a_provider_alias_searches_that_provider() -> None:
    found = search_catalog(0, [], "vertex_ai", limit=50)

    assert found and {model.provider for model in found} == {"google"}


def test_an_impossible_search_finds_nothing() -> None:
    assert cheapest_model(10**12) is None


def test_an_unknown_capability_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as refused:
        cheapest_model(0, ["telepathy"])

    assert refused.value.details["capabilities"] == sorted(CAPABILITIES)


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(InvalidInput):
        search_catalog(0, [], "acme-cloud")
