"""The facts a dataset file's footer holds, and files written without them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from netra.analytics.analyses.recommendations import recommendations
from netra.analytics.ingest.writer import read_footer
from tests.unit.analytics.conftest import UsageFile
from tests.unit.analytics.test_recommendations import _at, _file

ROWS = (
    {"timestamp": _at(0), "model": "gpt-4o", "input_tokens": 1_000, "prompt_hash": "a"},
    {"timestamp": _at(1), "model": "gpt-4o", "input_tokens": 5_000, "prompt_hash": "a"},
    {"timestamp": _at(2), "model": "gpt-4o", "provider": "openai", "input_tokens": 300},
    {"timestamp": _at(3), "model": "acme-llm", "input_tokens": 7, "cost_usd": 1.0},
    {"timestamp": _at(4), "model": "acme-llm", "input_tokens": 9, "cost_usd": 2.0},
)


def test_the_footer_holds_every_model_and_provider_with_its_largest_input(
    usage_file: UsageFile,
) -> None:
    path = _file(usage_file, *ROWS)  # with a free "filler" row of 0 tokens

    footer = read_footer(path)

    assert sorted(footer.model_pairs or [], key=str) == sorted(
        [
            ("gpt-4o", None, 5_000),
            ("gpt-4o", "openai", 300),
            ("acme-llm", None, 9),
            ("filler", None, 0),
        ],
        key=str,
    )
    assert footer.repeated_short_keys is not None


def test_a_file_without_footer_facts_is_analysed_the_same(
    usage_file: UsageFile, tmp_path: Path
) -> None:
    path = _file(usage_file, *ROWS)
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(path), bare)  # the same rows, no footer facts

    footer = read_footer(bare)
    assert (footer.model_pairs, footer.repeated_short_keys) == (None, None)
    assert recommendations(bare) == recommendations(path)
