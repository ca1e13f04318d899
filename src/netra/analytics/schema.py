"""The canonical usage record (DATA.md section 1) as it is stored.

Every dataset, whatever file or export it came from, is stored as one Parquet file with
exactly the columns of ``STORED_COLUMNS``, in this order: the canonical ``COLUMNS`` and the
derived ``prompt_key`` (``prompt_keys``). Ingestion and the demo generator write it
(``ingest.writer``); the analyses read it. Values are normalised on the way in:

- ``timestamp`` is UTC (naive ``TIMESTAMP``), ``row_no`` is the 0-based position in the
  source file (the tie-breaker for "the first request" of a group);
- ``input_tokens`` counts ALL input tokens, cache reads and writes included;
- ``cost_usd`` is the billed spend when the source had one, else NULL (priced later by
  the analytics engine from the pinned catalog, never stored as a guessed zero);
- ``interactive`` absent means true, ``batch`` absent means false, ``status`` absent
  means ``success``; the cache token columns and ``requests`` default to 0 and 1.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

# (column, DuckDB type) in stored order.
COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("row_no", "BIGINT"),
    ("timestamp", "TIMESTAMP"),
    ("model", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cache_read_tokens", "BIGINT"),
    ("cache_write_tokens", "BIGINT"),
    ("requests", "BIGINT"),
    ("cost_usd", "DOUBLE"),
    ("latency_ms", "DOUBLE"),
    ("status", "VARCHAR"),
    ("user", "VARCHAR"),
    ("feature", "VARCHAR"),
    ("project", "VARCHAR"),
    ("api_key", "VARCHAR"),
    ("prompt_hash", "VARCHAR"),
    ("prefix_hash", "VARCHAR"),
    ("prefix_tokens", "BIGINT"),
    ("interactive", "BOOLEAN"),
    ("batch", "BOOLEAN"),
)

COLUMN_NAMES: Final[tuple[str, ...]] = tuple(name for name, _ in COLUMNS)

# Dimensions spend can be broken down by.
DIMENSIONS: Final[tuple[str, ...]] = ("model", "provider", "feature", "user", "project", "api_key")

# Stored after the canonical columns, derived from them when a dataset is written: the
# 64-bit key of a row's (model, prompt_hash), unique within the dataset (``prompt_keys``).
STORED_COLUMNS: Final[tuple[tuple[str, str], ...]] = (*COLUMNS, ("prompt_key", "UBIGINT"))

_ARROW_TYPES: Final = {
    "BIGINT": pa.int64(),
    "UBIGINT": pa.uint64(),
    "TIMESTAMP": pa.timestamp("us"),
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
# The stored file's Arrow schema.
SCHEMA: Final = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in STORED_COLUMNS])
# Low-cardinality text columns, dictionary-encoded when stored (``ingest.writer``).
DICTIONARY_COLUMNS: Final = [
    "model",
    "provider",
    "status",
    "user",
    "feature",
    "project",
    "api_key",
    "prefix_hash",
]
