"""A dataset's own names: what a question's words are resolved against.

``Vocabulary`` holds the distinct values of each dimension and the data's first and last
timestamps; ``read_vocabulary(con)`` builds it with one DuckDB query over a connection from
``analytics.open_dataset`` (the ``usage`` view: the provider is the catalog's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from netra.questions.plan import DIMENSIONS, Dimension

if TYPE_CHECKING:  # the engine loads with a server's first analysis, not with the server
    import duckdb


@dataclass(frozen=True)
class Vocabulary:
    """``values``: (dimension, its distinct values) pairs; hashable, so the parser can keep
    the name index it derives from one vocabulary."""

    values: tuple[tuple[Dimension, tuple[str, ...]], ...] = ()
    first_at: datetime | None = None
    last_at: datetime | None = None

    def of(self, dimension: Dimension) -> tuple[str, ...]:
        return next((found for name, found in self.values if name == dimension), ())


def read_vocabulary(con: duckdb.DuckDBPyConnection) -> Vocabulary:
    """The distinct values of every dimension and the period, in one scan of ``usage``."""
    lists = ", ".join(f'list(DISTINCT "{name}" ORDER BY "{name}")' for name in DIMENSIONS)
    found = con.execute(f'SELECT {lists}, min("timestamp"), max("timestamp") FROM usage').fetchone()
    assert found is not None  # an aggregate always returns a row
    values = tuple(
        (name, tuple(value for value in found[index] if value is not None))
        for index, name in enumerate(DIMENSIONS)
    )
    return Vocabulary(values=values, first_at=found[-2], last_at=found[-1])
