"""The rows a plan selects: SQL conditions over the ``usage`` view, and the same rows as a
dataset of their own for the engine's analyses that take a whole dataset.

``analytics.recommend`` and ``analytics.anomalies`` analyse every row of the dataset they are
given and take no filter. ``scoped_dataset`` gives them exactly the selected rows: it copies
the stored rows kept by the filters and window (chosen on ``usage``, so a provider filter
means the catalog's provider, as everywhere else) into a Parquet file in a temporary folder
and opens it with ``analytics.open_dataset``, which prices it as it prices any dataset (at
today's catalog prices). The engine's rules then apply unchanged to the scope: repeats and
prefixes are grouped within it, the monthly figures scale by its own period.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from netra import analytics
from netra.questions.plan import Filters, Window


def where(filters: Filters, window: Window | None) -> tuple[str, dict[str, object]]:
    """A condition on ``usage`` rows keeping ``filters`` and ``window``, and its parameters."""
    clauses: list[str] = ["TRUE"]
    params: dict[str, object] = {}
    for name, values in filters.items():
        clauses.append(f'"{name}" IN (SELECT unnest(${name}))')
        params[name] = list(values)
    if window is not None:
        clauses.append("day BETWEEN $start AND $end")
        params |= {"start": window.start, "end": window.end}
    return " AND ".join(clauses), params


@contextmanager
def scoped_dataset(
    con: duckdb.DuckDBPyConnection, filters: Filters, window: Window | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection over the rows of ``con`` that ``filters`` and ``window`` keep; ``con``
    itself when they keep every row."""
    if not filters.items() and window is None:
        yield con
        return
    condition, params = where(filters, window)
    with tempfile.TemporaryDirectory(prefix="netra-scope-") as folder:
        path = Path(folder) / "scope.parquet"
        literal = str(path).replace("'", "''")
        con.execute(
            f"""
            COPY (
                SELECT * FROM stored_usage
                WHERE row_no IN (SELECT row_no FROM usage WHERE {condition})
                ORDER BY row_no
            ) TO '{literal}' (FORMAT parquet)
            """,
            params,
        )
        with analytics.open_dataset(path) as scoped:
            yield scoped
