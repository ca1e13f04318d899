"""Demo data: deterministic from the seed, canonical, and something for every analysis."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from bench.analysis import analyze

from netra.analytics.demo import generator as demo
from netra.analytics.demo.generator import write_demo
from netra.analytics.schema import COLUMN_NAMES, SCHEMA

PRICING_DAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.parquet"
    write_demo(path, rows=20_000, seed=0)
    return path


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_rows(
    tmp_path: Path,
) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_demo(tmp_path / f"{name}.parquet", rows=3_000, seed=seed)

    first, again, other = (tmp_path / f"{name}.parquet" for name in "abc")
    assert first.read_bytes() == again.read_bytes()
    assert pq.read_table(first) != pq.read_table(other)


def test_the_demo_is_a_canonical_dataset(demo_file: Path) -> None:
    table = pq.read_table(demo_file)

    assert table.schema == SCHEMA
    assert tuple(table.column_names) == (*COLUMN_NAMES, "prompt_key")
    assert table.num_rows == 20_000
    assert table.column("row_no").to_pylist() == list(range(20_000))
    # The derived key: DuckDB's hash of (model, prompt_hash), NULL without a prompt.
    wrong_keys = duckdb.sql(
        f"""
        SELECT count(*) FROM '{demo_file}'
        WHERE prompt_key IS DISTINCT FROM
            CASE WHEN prompt_hash IS NOT NULL THEN hash(model, prompt_hash) END
        """
    ).fetchall()
    assert wrong_keys == [(0,)]


def test_the_demo_looks_like_a_company_over_six_weeks(demo_file: Path) -> None:
    facts = (
        duckdb.connect()
        .execute(
            f"""
        SELECT min("timestamp")::DATE, max("timestamp")::DATE, count(DISTINCT feature),
               count(DISTINCT model), avg((status = 'error')::INT),
               avg((cost_usd IS NULL)::INT), avg((NOT interactive)::INT),
               avg((cache_read_tokens > 0)::INT), count(DISTINCT "user"),
               bool_and(regexp_matches("user", '^u[0-9]+$'))
        FROM '{demo_file}'
        """
        )
        .fetchone()
    )
    assert facts is not None
    first, last, features, models, errors, unbilled, offline, cached, users, named = facts

    assert (last - first).days + 1 >= 30
    assert last == demo.END
    assert features == 5
    assert models >= 8
    assert 0.01 < errors < 0.06
    assert unbilled > 0.7
    assert 0.05 < offline < 0.3
    assert 0 < cached < 0.2
    assert users >= 8 and named


def test_the_demo_chunks_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "CHUNK_ROWS", 1_000)
    path = tmp_path / "chunked.parquet"

    write_demo(path, rows=2_500, seed=1)

    table = pq.read_table(path)
    assert table.column("row_no").to_pylist() == list(range(2_500))
    assert pq.ParquetFile(path).metadata.num_row_groups == 3


def test_the_demo_shows_every_recommendation_kind_and_the_spike(demo_file: Path) -> None:
    analysis = analyze(demo_file, day=PRICING_DAY)

    kinds = {item.kind: item for item in analysis.recommendations.items}
    assert set(kinds) == {
        "response_cache",
        "model_routing",
        "prompt_caching",
        "batch_api",
        "error_waste",
    }
    assert all(item.monthly_savings_usd > 0 for item in kinds.values())
    assert analysis.summary.unpriced_requests == 0
    spike = date.fromordinal(demo.START.toordinal() + demo.SPIKE_DAY)
    overall = [a.day for a in analysis.anomalies.items if a.scope == "overall"]
    assert overall == [spike]
    assert analysis.feature_growth.top is not None
