"""A dataset file as written: the rows (``schema.SCHEMA``) and facts about them in the footer.

``DatasetWriter`` writes every dataset file (ingestion, the demo, ``prompt_keys``): dictionary
encoding for ``schema.DICTIONARY_COLUMNS`` only (the other columns are written plain, which
is faster), statistics for ``row_no`` and ``timestamp`` only (what readers use), and two facts
that do not depend on prices, gathered batch by batch as the rows go by, so that no analysis
has to scan every row for them:

- ``netra.repeated_short_keys``: the top 32 bits of every ``prompt_key`` seen in 2+ rows,
  sorted (uint32, little-endian): the rows that can be repeated prompts (``prompt_keys``);
- ``netra.model_pairs``: every (``model``, ``provider``) of the rows with its largest
  ``input_tokens`` (JSON), what pricing needs to build its price table (``pricing``).

``read_footer`` reads them, with the file's columns, in one read of the footer; a file
without them (written before they existed) gives ``None`` and readers compute the same from
the rows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import TracebackType
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from netra.analytics.schema import DICTIONARY_COLUMNS, SCHEMA

REPEATED_SHORT_KEYS: Final = b"netra.repeated_short_keys"
MODEL_PAIRS: Final = b"netra.model_pairs"

Pair = tuple[str, str | None, int]  # model, provider, largest input_tokens


# How dataset files, and the canonical files of the benchmarks, are encoded.
WRITE_OPTIONS: Final = {
    "use_dictionary": DICTIONARY_COLUMNS,
    "write_statistics": ["row_no", "timestamp"],
}


class DatasetWriter:
    """A dataset file being written (module docstring); a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._writer = pq.ParquetWriter(os.fspath(path), SCHEMA, **WRITE_OPTIONS)
        self._short_keys: list[np.ndarray] = []
        self._largest: dict[tuple[str, str | None], int] = {}

    def write(self, rows: pa.Table) -> None:
        rows = rows.cast(SCHEMA)
        self._writer.write_table(rows)
        keys = pc.drop_null(rows.column("prompt_key"))
        top = pc.shift_right(keys, pa.scalar(32, pa.uint64()))
        self._short_keys.append(pc.cast(top, pa.uint32()).to_numpy())
        pairs = rows.group_by(["model", "provider"], use_threads=False).aggregate(
            [("input_tokens", "max")]
        )
        for model, provider, largest in zip(
            pairs["model"].to_pylist(),
            pairs["provider"].to_pylist(),
            pairs["input_tokens_max"].to_pylist(),
            strict=True,
        ):
            known = self._largest.get((model, provider), 0)
            self._largest[(model, provider)] = max(known, largest or 0)

    def close(self) -> None:
        keys = np.concatenate(self._short_keys) if self._short_keys else np.array([], np.uint32)
        pairs = [[model, provider, largest] for (model, provider), largest in self._largest.items()]
        self._writer.add_key_value_metadata(
            {
                REPEATED_SHORT_KEYS: repeated(keys).astype("<u4").tobytes(),
                MODEL_PAIRS: json.dumps(pairs).encode(),
            }
        )
        self._writer.close()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:  # the file is discarded: no footer facts to compute
            self._writer.close()


def repeated(keys: np.ndarray) -> np.ndarray:
    """The values seen 2+ times in ``keys``, sorted (``keys`` is sorted in place)."""
    keys.sort()
    return np.unique(keys[1:][keys[1:] == keys[:-1]])


@dataclass(frozen=True)
class Footer:
    """What a dataset file's footer says: its ``columns``, and the facts of the writer,
    ``None`` in a file written without them."""

    columns: tuple[str, ...]
    repeated_short_keys: np.ndarray | None
    model_pairs: list[Pair] | None


def read_footer(path: str | os.PathLike[str]) -> Footer:
    """The footer of the dataset file ``path``."""
    metadata = pq.read_metadata(path)
    facts = metadata.metadata or {}
    keys, pairs = facts.get(REPEATED_SHORT_KEYS), facts.get(MODEL_PAIRS)
    return Footer(
        columns=tuple(metadata.schema.names),
        repeated_short_keys=None if keys is None else np.frombuffer(keys, "<u4"),
        model_pairs=None if pairs is None else [tuple(pair) for pair in json.loads(pairs)],
    )
