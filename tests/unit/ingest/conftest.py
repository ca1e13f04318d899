"""Fixtures for ingestion tests: the sample exports and a helper that ingests and reads back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from netra.analytics.ingest.pipeline import IngestResult, ingest_file
from netra.analytics.schema import COLUMN_NAMES

SAMPLES = Path(__file__).parent / "samples"

Row = dict[str, Any]


def read_rows(path: Path) -> list[Row]:
    """The stored rows of a dataset file, in ``row_no`` order, as dicts of the canonical
    columns (without the derived ``prompt_key``)."""
    with duckdb.connect() as con:
        cursor = con.execute(
            f"SELECT * EXCLUDE (prompt_key) FROM read_parquet('{path}') ORDER BY row_no"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def canonical_row(**values: Any) -> Row:
    """A stored row with every column: the defaults of an absent value, then ``values``."""
    row: Row = dict.fromkeys(COLUMN_NAMES)
    row.update(
        cache_read_tokens=0, cache_write_tokens=0, requests=1, status="success",
        interactive=True, batch=False,
    )  # fmt: skip
    row.update(values)
    return row


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def ingest(tmp_path: Path) -> Callable[[Path], tuple[IngestResult, list[Row]]]:
    """Ingest a file into ``tmp_path/out/dataset.parquet``; return the result and the rows."""

    def run(src: Path) -> tuple[IngestResult, list[Row]]:
        dest = tmp_path / "out" / "dataset.parquet"
        result = ingest_file(src, dest)
        return result, read_rows(dest)

    return run


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write ``content`` (text or bytes) to ``tmp_path/name`` and return the path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
