"""The canonical usage record (DATA.md section 1) as it is stored.

Every dataset, whatever file or export it came from, is stored as one Parquet file with
exactly these columns, in this order. Ingestion and the demo generator write it; the
analyses read it. Values are normalised on the way in:

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

import duckdb
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

# Derived when a dataset is written, stored after the canonical columns: the 64-bit key of
# a row's (model, prompt_hash), NULL without a prompt_hash. Repeated prompts are found by
# it (``savings``) without hashing the prompt text of every row at each analysis; groups
# are still checked on the text. Datasets stored before it existed get it computed when
# they are read (``pricing.register_usage``).
PROMPT_KEY: Final = "CASE WHEN prompt_hash IS NOT NULL THEN hash(model, prompt_hash) END"
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
# Low-cardinality text columns; the others are written plain, which is faster to write.
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


def with_prompt_keys(rows: pa.Table) -> pa.Table:
    """``rows`` (the canonical columns) with ``prompt_key`` computed, as stored (``SCHEMA``)."""
    with duckdb.connect() as con:
        con.register("canonical_rows", rows)
        keys = con.sql(f"SELECT {PROMPT_KEY} AS prompt_key FROM canonical_rows").to_arrow_table()
    return rows.append_column("prompt_key", keys.column(0)).cast(SCHEMA)
