"""The rows a plan selects: SQL conditions over the ``usage`` view, and the same rows as a
dataset of their own for the engine's analyses that take a whole dataset.

``analytics.recommend`` and ``analytics.anomalies`` analyse every row of the dataset they are
given and take no filter. ``scoped_dataset`` gives them exactly the selected rows: it copies
the stored rows kept by the filters and window (chosen on ``usage``, so a provider filter
means the catalog's provider, as everywhere else) into a Parquet file in a temporary folder
and opens it with ``analytics.open_dataset``, which prices it as it prices any dataset (at
today's catalog prices). The engine's rules then apply unchanged to the scope: repeats and
prefixes are grouped within it. The engine scales a saving to a month by the period of the
rows it was given; a plan's monthly figures use ``scope_days`` instead: the window, or the
whole dataset's period, so that choosing a model or a status does not change the month.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import duckdb

from netra import analytics
from netra.questions.plan import Filters, Window

DAYS_PER_MONTH: Final = 30


def scope_days(con: duckdb.DuckDBPyConnection, window: Window | None) -> float:
    """The days a plan's figures are over, for its monthly figures (× 30 ÷ these days):
    the window's (DATA.md section 6), else the dataset's ``period_days`` (section 3)."""
    if window is not None:
        return window.days
    found = con.execute(
        "SELECT greatest(epoch(last_at) - epoch(first_at), 0) / 86400 FROM period"
    ).fetchone()
    return max(1.0, float(found[0] or 0) if found else 0.0)


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
