"""The stored ``prompt_key``: a 64-bit key per (``model``, ``prompt_hash``), unique within
its dataset, so that repeated prompts are found and grouped by key alone (``savings``).

Every dataset file is written (``ingest.writer.DatasetWriter``: ingestion, demo) with DuckDB's
``hash(model, prompt_hash)`` as key, NULL without a prompt. Once the file is written,
``make_unique`` checks that no two different prompts share a key and, if two do (about one
chance in 370,000 with 10 million distinct prompts), rewrites the file with exact keys: the
distinct prompts numbered (``number << 32``, so that the top 32 bits are unique too).

Repeated prompts are found by the top 32 bits of their keys (``SHORT_KEY``; a collision of
those only adds candidates). The writer sorts the short keys of every row and stores those
seen in 2+ rows in the file's footer: sorting them is the one step of finding repeated
prompts that cannot share a pass over the rows, and among millions of distinct prompts it
is several times faster than DuckDB's hash aggregate, which builds a table of every prompt.
The rows of a file without them get them the same way, sorted as the file is read.

``register`` reads a dataset back: view ``stored_usage`` and table ``repeated_prompts``. A
file stored before keys existed gets them computed, checked and made exact the same way as
it is read (slower on millions of rows; ingesting it again stores them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

from netra.analytics.ingest.formats import quote_literal
from netra.analytics.ingest.writer import DatasetWriter, Footer, read_footer, repeated
from netra.analytics.schema import SCHEMA

HASHED: Final = "CASE WHEN prompt_hash IS NOT NULL THEN hash(model, prompt_hash) END"
# The top 32 bits of the key of the rows of alias ``rows`` (with its dot, or empty).
SHORT_KEY: Final = "CAST({rows}prompt_key >> 32 AS UINTEGER)"

_BATCH_ROWS: Final = 256 * 1024


def with_prompt_keys(rows: pa.Table) -> pa.Table:
    """``rows`` (the canonical columns) with hashed keys, as stored (``schema.SCHEMA``);
    ``make_unique`` checks them once the whole file is written."""
    with duckdb.connect() as con:
        con.register("canonical_rows", rows)
        keys = con.sql(f"SELECT {HASHED} AS prompt_key FROM canonical_rows").to_arrow_table()
    return rows.append_column("prompt_key", keys.column(0)).cast(SCHEMA)


def make_unique(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Rewrite the dataset file ``path`` with exact keys if two prompts share a key; say
    whether it did."""
    stored = f"read_parquet({quote_literal(os.fspath(path))})"
    repeated = read_footer(path).repeated_short_keys
    if repeated is None:  # not written by a DatasetWriter
        repeated = _repeated_keys(con, stored)
    if not _shares_keys(con, stored, repeated):
        return False
    _number_prompts(con, stored)
    rewritten = path.with_name(path.name + ".rekeyed")
    try:
        exact = f"SELECT * FROM ({_numbered_keys(stored)}) ORDER BY row_no"
        reader = con.sql(exact).to_arrow_reader(_BATCH_ROWS)
        with DatasetWriter(rewritten) as writer:
            for batch in reader:
                writer.write(pa.Table.from_batches([batch]))
        os.replace(rewritten, path)
    finally:
        rewritten.unlink(missing_ok=True)
        con.execute("DROP TABLE IF EXISTS prompt_numbers")
    return True


def register(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], footer: Footer) -> None:
    """View ``stored_usage``: the rows of the dataset file ``path`` (whose ``footer`` is
    given), with unique keys; table ``repeated_prompts``: the short keys (``short_key``) of
    2+ of its rows."""
    stored = f"read_parquet({quote_literal(os.fspath(path))})"
    if "prompt_key" in footer.columns:
        relation, repeated = stored, footer.repeated_short_keys
        if repeated is None:
            repeated = _repeated_keys(con, relation)
    else:  # stored before keys existed
        relation = f"(SELECT *, {HASHED} AS prompt_key FROM {stored})"
        repeated = _repeated_keys(con, relation)
        if _shares_keys(con, relation, repeated):
            _number_prompts(con, relation)
            relation = f"({_numbered_keys(relation)})"
            repeated = _repeated_keys(con, relation)
    con.execute(f"CREATE OR REPLACE VIEW stored_usage AS SELECT * FROM {relation}")
    con.register("repeated_rows", pa.table({"short_key": pa.array(repeated, pa.uint32())}))
    con.execute("CREATE OR REPLACE TEMP TABLE repeated_prompts AS SELECT * FROM repeated_rows")
    con.unregister("repeated_rows")


def _repeated_keys(con: duckdb.DuckDBPyConnection, relation: str) -> np.ndarray:
    """The short keys of 2+ rows of ``relation`` (SQL of a relation with ``prompt_key``)."""
    keys = con.execute(
        f"""
        SELECT {SHORT_KEY.format(rows="")} AS short_key FROM {relation}
        WHERE prompt_key IS NOT NULL
        """
    ).fetchnumpy()["short_key"]
    return repeated(keys)


def _shares_keys(con: duckdb.DuckDBPyConnection, relation: str, repeated: np.ndarray) -> bool:
    """Two different prompts of ``relation`` have the same ``prompt_key``; only rows of
    ``repeated`` short keys can."""
    con.register("shared_short_keys", pa.table({"short_key": pa.array(repeated, pa.uint32())}))
    try:
        found = con.execute(
            f"""
            SELECT count(*) FROM (
                SELECT prompt_key FROM {relation}
                WHERE {SHORT_KEY.format(rows="")} IN (SELECT short_key FROM shared_short_keys)
                GROUP BY prompt_key
                HAVING min(model) <> max(model) OR min(prompt_hash) <> max(prompt_hash)
            )
            """
        ).fetchall()
    finally:
        con.unregister("shared_short_keys")
    return found[0][0] > 0


def _number_prompts(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Table ``prompt_numbers``: the exact key of every prompt of ``relation``, its distinct
    (model, prompt_hash) numbered in order, shifted so that the top 32 bits differ too.
    Stored once, so every reading of the rows gets the same keys."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE prompt_numbers AS
        SELECT model, prompt_hash,
               CAST(row_number() OVER (ORDER BY model, prompt_hash) AS UBIGINT) << 32 AS key
        FROM (SELECT DISTINCT model, prompt_hash FROM {relation} WHERE prompt_hash IS NOT NULL)
        """
    )


def _numbered_keys(relation: str) -> str:
    """The rows of ``relation`` with the keys of ``prompt_numbers``."""
    return f"""
        SELECT r.* REPLACE (p.key AS prompt_key)
        FROM {relation} AS r
        LEFT JOIN prompt_numbers AS p ON p.model = r.model AND p.prompt_hash = r.prompt_hash
    """
