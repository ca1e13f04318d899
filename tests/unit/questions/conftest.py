"""The demo dataset (seed 0, May 20-Jun 30 2025) open with the analytics engine, its
vocabulary, and its priced rows as plain dicts for figures computed independently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pytest

from netra import analytics
from netra.questions import Vocabulary, read_vocabulary

TODAY = date(2025, 11, 30)  # after the demo's last day (2025-06-30): windows anchor to the data
CLAUDE = ("claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514", "claude-sonnet-4-5")

Row = dict[str, object]


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("demo") / "demo.parquet"
    analytics.write_demo(path, rows=20_000, seed=0)
    with analytics.open_dataset(path) as con:
        yield con


@pytest.fixture(scope="package")
def vocabulary(demo: duckdb.DuckDBPyConnection) -> Vocabulary:
    return read_vocabulary(demo)


@pytest.fixture(scope="package")
def rows(demo: duckdb.DuckDBPyConnection) -> list[Row]:
    """Every priced row as a dict (``cost`` a float, ``None`` when unpriced)."""
    cursor = demo.execute(
        """
        SELECT row_no, "timestamp", day, model, provider, feature, "user", project, api_key,
               status, requests, input_tokens, output_tokens, cache_read_tokens,
               cache_write_tokens, CAST(cost AS DOUBLE) AS cost, interactive, batch,
               prompt_hash
        FROM usage
        """
    )
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
