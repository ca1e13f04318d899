"""Opening a usage dataset for analysis: one in-memory DuckDB connection per call.

``open_dataset(path)`` yields a fresh connection holding

- ``stored_usage`` (the Parquet file as stored), ``prices``, ``names`` and ``usage``
  (``pricing.register_usage``): every row with its cost;
- ``period``: one row, the dataset's ``rows``, ``first_at`` and ``last_at`` (its first and
  last timestamps), read from the Parquet file's metadata and statistics;
- ``spend``: the additive facts of the rows — ``requests``, ``input_tokens``,
  ``output_tokens``, ``cost``, ``unpriced_requests`` (requests without a cost) — by ``day``,
  ``model``, ``provider``, ``feature``, ``project`` and ``api_key``;
- ``user_spend``: the same facts by ``user``;
- ``row_spend``: the same facts of each row of ``usage`` with all seven dimensions (for
  one user's spend by model and by feature, ``breakdowns.user_cost``).

For one analysis ``spend`` and ``user_spend`` are views over ``row_spend``; with
``rollup=True`` they are aggregated once, in one pass, for several analyses sharing the
connection (``analyses.analyze``). Every figure read from them is a sum, so both give the
same answers. The user is kept out of ``spend``: users multiply its groups
(334,622 instead of 840 on the 10-million-row demo) and aggregating into that many groups
was the slowest step.

Every analysis takes a ``Source``: a dataset path, or a connection from ``open_dataset``.
Nothing is shared between calls, so calls may run in parallel threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import duckdb

from netra.analytics.prices.pricing import register_usage

Source = str | os.PathLike[str] | duckdb.DuckDBPyConnection

_DIMENSIONS = "day, model, provider, feature, project, api_key"
_FACTS = "requests, input_tokens, output_tokens, cost, unpriced_requests"
_ROW_FACTS = """requests, input_tokens, output_tokens, cost,
    CASE WHEN cost IS NULL THEN requests ELSE 0 END AS unpriced_requests"""
_SUMMED_FACTS = """sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(cost) AS cost,
    sum(unpriced_requests) AS unpriced_requests"""


@contextmanager
def open_dataset(
    path: str | os.PathLike[str], *, rollup: bool = False, day: date | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with ``stored_usage``, ``prices``, ``usage``, ``period``, ``row_spend``,
    ``spend`` and ``user_spend`` over ``path``.

    ``day`` is the pricing day (default: today, UTC).
    """
    con = duckdb.connect()
    try:
        # Result order is always stated by ORDER BY; this lets DuckDB aggregate faster.
        con.execute("SET preserve_insertion_order = false")
        register_usage(con, path, day=day)
        con.execute(
            'CREATE VIEW period AS SELECT count(*) AS rows, min("timestamp") AS first_at, '
            'max("timestamp") AS last_at FROM stored_usage'
        )
        con.execute(
            f'CREATE VIEW row_spend AS SELECT {_DIMENSIONS}, "user", {_ROW_FACTS} FROM usage'
        )
        if rollup:
            con.execute(
                f"""
                CREATE TEMP TABLE rollup AS
                SELECT GROUPING("user") = 0 AS by_user, {_DIMENSIONS}, "user", {_SUMMED_FACTS}
                FROM row_spend
                GROUP BY GROUPING SETS (({_DIMENSIONS}), ("user"))
                """
            )
            spend, user_spend = "rollup WHERE NOT by_user", "rollup WHERE by_user"
        else:
            spend = user_spend = "row_spend"
        con.execute(f"CREATE VIEW spend AS SELECT {_DIMENSIONS}, {_FACTS} FROM {spend}")
        con.execute(f'CREATE VIEW user_spend AS SELECT "user", {_FACTS} FROM {user_spend}')
        yield con
    finally:
        con.close()


@contextmanager
def connect(source: Source) -> Iterator[duckdb.DuckDBPyConnection]:
    """``source`` itself if it is a connection, else a connection opened on the path."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
    else:
        with open_dataset(source) as con:
            yield con
