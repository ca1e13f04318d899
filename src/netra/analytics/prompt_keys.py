"""The stored ``prompt_key``: a 64-bit key per (``model``, ``prompt_hash``), unique within
its dataset, so that repeated prompts are found and grouped by key alone (``savings``).

Every dataset file is written with it (ingestion, demo): DuckDB's ``hash(model,
prompt_hash)``, NULL without a prompt. Once the file is written, ``make_unique`` checks that
no two different prompts share a key and, if two do (about one chance in 370,000 with 10
million distinct prompts), rewrites the file with exact keys: the distinct prompts numbered
(``number << 32``, so that the top 32 bits are unique too). A dataset stored before the
column existed gets the keys computed, and checked the same way, as it is read
(``stored_relation``).

Repeated keys are found on their top 32 bits (``SHORT_KEY``) by sorting: among millions of
distinct prompts, several times faster than DuckDB's hash aggregate, which builds a table of
every prompt; collisions of the 32 bits only add candidates.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from netra.analytics.formats import quote_literal
from netra.analytics.schema import SCHEMA, dataset_writer

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


def repeated_short_keys(
    con: duckdb.DuckDBPyConnection, relation: str, where: str = "true"
) -> pa.Table:
    """Table ``short_key``: the ``SHORT_KEY`` values of 2+ rows of ``relation`` (SQL of a
    relation with ``prompt_key``) that match ``where``."""
    keys = con.execute(
        f"""
        SELECT {SHORT_KEY.format(rows="")} AS short_key FROM {relation}
        WHERE prompt_key IS NOT NULL AND ({where})
        """
    ).fetchnumpy()["short_key"]
    keys.sort()
    repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
    return pa.table({"short_key": pa.array(repeated, pa.uint32())})


def shares_keys(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Two different prompts of ``relation`` have the same ``prompt_key`` (their rows then
    have a repeated short key, so only those rows are compared)."""
    con.register("shared_short_keys", repeated_short_keys(con, relation))
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


def exact_keys(relation: str) -> str:
    """The rows of ``relation`` with exact keys: its distinct prompts numbered."""
    return f"""
        WITH prompts AS (
            SELECT model, prompt_hash, CAST(row_number() OVER () AS UBIGINT) << 32 AS key
            FROM (SELECT DISTINCT model, prompt_hash FROM {relation}
                  WHERE prompt_hash IS NOT NULL)
        )
        SELECT r.* REPLACE (p.key AS prompt_key)
        FROM {relation} AS r
        LEFT JOIN prompts AS p ON p.model = r.model AND p.prompt_hash = r.prompt_hash
    """


def stored_relation(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> str:
    """SQL of the rows of the dataset file ``path`` with unique keys: as stored, or, for a
    file stored without keys, hashed as they are read and made exact if two are shared."""
    stored = f"read_parquet({quote_literal(os.fspath(path))})"
    if "prompt_key" in pq.read_schema(path).names:
        return stored
    hashed = f"(SELECT *, {HASHED} AS prompt_key FROM {stored})"
    return f"({exact_keys(hashed)})" if shares_keys(con, hashed) else hashed


def make_unique(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Rewrite the dataset file ``path`` with exact keys if two prompts share a key; say
    whether it did."""
    stored = f"read_parquet({quote_literal(os.fspath(path))})"
    if not shares_keys(con, stored):
        return False
    rewritten = path.with_name(path.name + ".rekeyed")
    reader = con.sql(exact_keys(stored)).to_arrow_reader(_BATCH_ROWS)
    with dataset_writer(rewritten) as writer:
        for batch in reader:
            writer.write_table(pa.Table.from_batches([batch]).cast(SCHEMA))
    os.replace(rewritten, path)
    return True
