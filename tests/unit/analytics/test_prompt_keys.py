"""The stored prompt key: unique per (model, prompt_hash) in a dataset, whatever the hash does.

A real 64-bit collision cannot be written down, so these tests make every prompt hash to
one key (``prompt_keys.HASHED``) and check that the file, or the rows read from an older
file, end up with exact keys and that response caching groups by prompt as before.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from netra.analytics.analyses.recommendations import recommendations
from netra.analytics.demo.generator import write_demo
from netra.analytics.ingest import prompt_keys
from netra.analytics.ingest.writer import REPEATED_SHORT_KEYS
from tests.unit.analytics.conftest import UsageFile
from tests.unit.analytics.test_recommendations import _at, _file, _kind

EVERY_PROMPT_ONE_KEY = "CASE WHEN prompt_hash IS NOT NULL THEN CAST(7 AS UBIGINT) END"

ROWS = (
    # Group (m, h1): 1 + 2, the first costs 1: saving 2. (m, h2) and (m2, h1) are single.
    {"timestamp": _at(0), "model": "m", "prompt_hash": "h1", "cost_usd": 1.0},
    {"timestamp": _at(1), "model": "m", "prompt_hash": "h2", "cost_usd": 4.0},
    {"timestamp": _at(2), "model": "m", "prompt_hash": "h1", "cost_usd": 2.0},
    {"timestamp": _at(3), "model": "m2", "prompt_hash": "h1", "cost_usd": 8.0},
    {"timestamp": _at(4), "model": "m", "cost_usd": 16.0},
)


def _keys(path: Path) -> list[tuple[str, str | None, int | None]]:
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT model, prompt_hash, prompt_key FROM '{path}' ORDER BY row_no"
        ).fetchall()


def _stored_repeats(path: Path) -> list[int]:
    stored = pq.read_metadata(path).metadata[REPEATED_SHORT_KEYS]
    return np.frombuffer(stored, "<u4").tolist()


def _assert_one_group_saving_2(path: Path) -> None:
    found = _kind(path, "response_cache")
    assert found is not None
    assert found.evidence["saving_over_data_usd"] == 2.0
    assert (found.affected_requests, found.evidence["groups"]) == (1, 1)


def test_keys_two_prompts_share_are_replaced_by_exact_keys_when_the_file_is_written(
    usage_file: UsageFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_keys, "HASHED", EVERY_PROMPT_ONE_KEY)

    path = _file(usage_file, *ROWS)

    keys = [key for _, _, key in _keys(path)]
    h1, h2, _, other_model, no_prompt, filler = keys
    assert keys[2] == h1
    assert len({h1, h2, other_model}) == 3 and None not in (h1, h2, other_model)
    assert (no_prompt, filler) == (None, None)
    # The rewritten file's footer: the short key of (m, h1), the one prompt of 2+ rows.
    assert _stored_repeats(path) == [h1 >> 32]
    _assert_one_group_saving_2(path)


def test_unique_hashed_keys_are_kept_as_written(usage_file: UsageFile) -> None:
    path = _file(usage_file, *ROWS)

    with duckdb.connect() as con:
        hashed = con.execute(
            f"SELECT {prompt_keys.HASHED} FROM '{path}' ORDER BY row_no"
        ).fetchall()
    assert [(key,) for _, _, key in _keys(path)] == hashed
    assert _stored_repeats(path) == [hashed[0][0] >> 32]
    _assert_one_group_saving_2(path)


@pytest.mark.parametrize("hashed", [prompt_keys.HASHED, EVERY_PROMPT_ONE_KEY])
def test_a_dataset_stored_without_keys_gets_unique_ones_as_it_is_read(
    usage_file: UsageFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: str
) -> None:
    path = _file(usage_file, *ROWS)
    older = tmp_path / "stored-before-prompt-keys.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["prompt_key"]), older)
    monkeypatch.setattr(prompt_keys, "HASHED", hashed)

    _assert_one_group_saving_2(older)


def test_keys_made_exact_as_an_older_file_is_read_are_the_same_in_every_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many prompts in many row groups, read by several threads: each pass over the rows
    # (the repeated keys, the cells) must see the same numbering of the prompts.
    stored = tmp_path / "demo.parquet"
    write_demo(stored, rows=100_000, seed=3)
    older = tmp_path / "stored-before-prompt-keys.parquet"
    rows = pq.read_table(stored).drop_columns(["prompt_key"])
    pq.write_table(rows, older, row_group_size=10_000)
    expected = recommendations(stored)
    monkeypatch.setattr(prompt_keys, "HASHED", EVERY_PROMPT_ONE_KEY)

    assert recommendations(older) == expected
