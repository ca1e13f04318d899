"""Tiny usage files written out row by row, for formulas checked by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from netra.analytics.ingest.prompt_keys import make_unique, with_prompt_keys
from netra.analytics.ingest.writer import DatasetWriter
from netra.analytics.schema import COLUMN_NAMES, SCHEMA

# Values of the canonical columns a test row does not state (schema.py defaults).
DEFAULTS: dict[str, Any] = {
    "provider": None,
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "requests": 1,
    "cost_usd": None,
    "latency_ms": None,
    "status": "success",
    "user": None,
    "feature": None,
    "project": None,
    "api_key": None,
    "prompt_hash": None,
    "prefix_hash": None,
    "prefix_tokens": None,
    "interactive": True,
    "batch": False,
}

UsageFile = Callable[..., Path]


@pytest.fixture
def usage_file(tmp_path: Path) -> UsageFile:
    """``usage_file(row, row, ...)`` writes a canonical Parquet file, as stored; each row
    is a dict with at least ``timestamp`` (a datetime or ISO text) and ``model``, and the
    stored ``prompt_key`` is derived as the writers of datasets derive it."""
    count = 0

    def write(*rows: dict[str, Any]) -> Path:
        nonlocal count
        count += 1
        records = []
        for row_no, row in enumerate(rows):
            record = {**DEFAULTS, **row, "row_no": row_no}
            if isinstance(record["timestamp"], str):
                record["timestamp"] = datetime.fromisoformat(record["timestamp"])
            records.append(record)
        path = tmp_path / f"usage-{count}.parquet"
        canonical = pa.schema([SCHEMA.field(name) for name in COLUMN_NAMES])
        with DatasetWriter(path) as writer:
            writer.write(with_prompt_keys(pa.Table.from_pylist(records, schema=canonical)))
        with duckdb.connect() as con:
            make_unique(con, path)
        return path

    return write
