"""The cheaper-sibling table: which model names route where."""

from __future__ import annotations

import pytest

from netra.analytics.prices import catalog
from netra.analytics.prices.siblings import load_families, sibling_of


@pytest.mark.parametrize(
    ("model", "sibling"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o-mini"),
        ("openai/gpt-4o", "gpt-4o-mini"),
        ("GPT-4o", "gpt-4o-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1-mini"),
        ("o1", "o3-mini"),
        ("o1-2024-12-17", "o3-mini"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-haiku"),
        ("claude-3-5-sonnet@20240620", "claude-3-5-haiku"),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-haiku"),
        ("claude-sonnet-4", "claude-haiku-4-5"),
        ("claude-sonnet-4-20250514", "claude-haiku-4-5"),
        ("claude-sonnet-4-5", "claude-haiku-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-haiku-4-5"),
        ("gemini-1.5-pro-002", "gemini-1.5-flash"),
        ("models/gemini-2.5-pro", "gemini-2.5-flash"),
        ("gemini-2.5-pro-preview-05-06", "gemini-2.5-flash"),
    ],
)
def test_a_model_and_its_dated_variants_route_to_the_cheaper_sibling(
    model: str, sibling: str
) -> None:
    assert sibling_of(model, load_families()) == sibling


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "gpt-4.1-mini",
        "o1-mini",
        "o3-mini",
        "claude-haiku-4-5",
        "gemini-2.5-flash",
        "gemini-1.5-flash",
        "gpt-4o-audio-preview",
    ],
)
def test_a_model_without_a_family_has_no_sibling(model: str) -> None:
    assert sibling_of(model, load_families()) is None


def test_every_family_and_its_sibling_are_priced_by_the_catalog_at_one_provider() -> None:
    for family in load_families():
        for name in family.names:
            own = catalog.resolve(name)
            assert own is not None, name
            sibling = catalog.resolve(family.sibling, own.provider, infer_provider=False)
            assert sibling is not None, (name, family.sibling)
            assert sibling.model != own.model
