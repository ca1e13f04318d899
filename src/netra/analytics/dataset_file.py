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

Readers get ``None`` from a file without them (written before they existed) and compute the
same from the rows.
"""

from __future__ import annotations

import json
import os
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


class DatasetWriter:
    """A dataset file being written (module docstring); a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._writer = pq.ParquetWriter(
            os.fspath(path),
            SCHEMA,
            use_dictionary=DICTIONARY_COLUMNS,
            write_statistics=["row_no", "timestamp"],
        )
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


def repeated_short_keys(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The repeated short keys in the footer of the dataset file ``path``, if there."""
    stored = _footer(path).get(REPEATED_SHORT_KEYS)
    return None if stored is None else np.frombuffer(stored, "<u4")


def model_pairs(path: str | os.PathLike[str]) -> list[Pair] | None:
    """The (model, provider, largest input_tokens) in the footer of ``path``, if there."""
    stored = _footer(path).get(MODEL_PAIRS)
    return None if stored is None else [tuple(pair) for pair in json.loads(stored)]


def _footer(path: str | os.PathLike[str]) -> dict[bytes, bytes]:
    return pq.read_metadata(path).metadata or {}
