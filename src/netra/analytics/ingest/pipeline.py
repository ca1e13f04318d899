"""Ingestion: one uploaded usage file in, one canonical Parquet dataset out.

:func:`ingest_file` detects the format by content (``formats``), the export by its columns
(``exports``), maps and checks every row in one DuckDB query (``mapping``) and writes the
canonical columns of ``schema.COLUMNS``, with the derived ``prompt_key`` (made unique:
``prompt_keys.make_unique``), to ``dest``. The file is accepted or refused whole:

- the query reads the source once and streams the rows, as Arrow batches, to a temporary
  Parquet file beside ``dest``; the first refused row aborts it, and a second, diagnosing
  query finds the first offence (the smallest record index with an error, set-based) to
  name its line and column in :class:`~netra.errors.InvalidDataset`;
- only a complete file is renamed to ``dest`` (``os.replace``), so a refused or failed
  import leaves nothing behind, and an existing ``dest`` is untouched until the end.

DuckDB runs with ``threads`` (2), a ``memory_limit`` (1 GB; resident memory stays under
700 MB on 10M rows, see ``bench/ingest.py``) and its spill files in a scratch folder beside
``dest``, removed afterwards. Insertion order is preserved for CSV and JSON Lines, whose
rows are numbered in file order; a Parquet source carries its own row numbers, so its rows
may be stored in any order (readers order by ``row_no``), which spares DuckDB buffering
large row groups.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import duckdb
import numpy as np
import pyarrow as pa

from netra.analytics.ingest import prompt_keys
from netra.analytics.ingest.exports import SourceName, detect, map_export
from netra.analytics.ingest.formats import Format, Source, open_source, sniff
from netra.analytics.ingest.mapping import INVALID_ROW, Mapping
from netra.analytics.ingest.writer import DatasetWriter
from netra.errors import InvalidDataset, PayloadTooLarge

Progress = Callable[[int, int], None]
FormatName = Literal["csv", "jsonl", "parquet"]

_ROW_GROUP_ROWS = 256 * 1024

# DuckDB errors that mean "this file's content", as opposed to a bug or the machine.
_DATA_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
)


@dataclass(frozen=True)
class IngestResult:
    """What was imported: the row count, the file format and the export it came from."""

    rows: int
    format: FormatName
    source: SourceName


def ingest_file(
    src: Path,
    dest: Path,
    *,
    progress: Progress | None = None,
    memory_limit: str = "1GB",
    threads: int = 2,
    max_rows: int | None = None,
    max_bytes: int | None = None,
) -> IngestResult:
    """Read the usage file ``src`` and write it to ``dest`` as a canonical Parquet dataset.

    ``progress(done_bytes, total_bytes)`` is called from a helper thread a few times a
    second while the file is read (``done_bytes`` is estimated from the query's progress),
    and once with ``done_bytes == total_bytes`` at the end. Raises :class:`InvalidDataset`
    naming the first offence when the file cannot be read, and :class:`PayloadTooLarge` as
    soon as the decoded rows pass ``max_rows`` or the written file ``max_bytes`` (a small
    compressed file may decode to millions of rows); ``dest`` is then not written.
    """
    src, dest = Path(src), Path(dest)
    total = src.stat().st_size
    fmt = sniff(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    partial = dest.with_name(f".{dest.name}.{token}.partial")
    scratch = dest.with_name(f".{dest.name}.{token}.tmp")
    try:
        with closing(_connect(scratch, memory_limit, threads)) as con:
            source = open_source(con, src, fmt)
            name, mapper = detect({col.name.lower() for col in source.columns})
            mapping = Mapping(source)
            canonical = map_export(mapping, mapper)
            limits = _Limits(max_rows, max_bytes)
            rows = _write(con, mapping, canonical, partial, progress, total, limits)
            if rows:
                prompt_keys.make_unique(con, partial)
                limits.check_size(partial)
        if rows == 0:
            raise InvalidDataset(_no_rows_message(fmt, name))
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    if progress is not None:
        progress(total, total)
    return IngestResult(rows=rows, format=cast(FormatName, fmt.value), source=name)


def _connect(scratch: Path, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "threads": threads,
            "memory_limit": memory_limit,
            "temp_directory": str(scratch),
            "autoinstall_known_extensions": False,
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def _write(
    con: duckdb.DuckDBPyConnection,
    mapping: Mapping,
    canonical: dict[str, str],
    partial: Path,
    progress: Progress | None,
    total: int,
    limits: _Limits,
) -> int:
    """Write the canonical rows to ``partial``; return their count or raise InvalidDataset.

    DuckDB streams the mapped rows, with their hashed ``prompt_key``, as Arrow batches, and
    pyarrow writes them (``ingest.writer.DatasetWriter``: dictionary encoding only for the
    low-cardinality text columns, as the demo data does: DuckDB's writer tries a dictionary
    for every text column, which costs more than the mapping).
    When the source has no row numbers of its own (CSV), the rows stream in file order and
    ``row_no`` is counted here.
    """
    source = mapping.source
    order = "true" if source.ordered else "false"
    con.execute(f"SET preserve_insertion_order = {order}")
    rows = pending_rows = 0
    rows_sql = mapping.ingest_sql(canonical)
    pending: list[pa.RecordBatch] = []
    try:
        with (
            _polling(con, progress, total),
            DatasetWriter(partial) as writer,
        ):
            keyed = f"SELECT *, {prompt_keys.HASHED} AS prompt_key FROM ({rows_sql})"
            reader = con.sql(keyed).to_arrow_reader(_ROW_GROUP_ROWS)
            for batch in reader:
                if not source.numbered:
                    numbers = pa.array(np.arange(rows, rows + batch.num_rows, dtype=np.int64))
                    batch = batch.set_column(0, "row_no", numbers)
                rows += batch.num_rows
                limits.check_rows(rows)
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= _ROW_GROUP_ROWS:
                    writer.write(pa.Table.from_batches(pending))
                    pending, pending_rows = [], 0
                    limits.check_size(partial)
            if pending:
                writer.write(pa.Table.from_batches(pending))
    except (*_DATA_ERRORS, OSError) as exc:
        if not _is_data_error(exc):
            raise
        raise _diagnose(con, mapping, canonical, exc) from None
    return rows


@dataclass(frozen=True)
class _Limits:
    """The most rows and stored bytes one dataset may have (``None``: no limit)."""

    rows: int | None
    bytes: int | None

    def check_rows(self, rows: int) -> None:
        if self.rows is not None and rows > self.rows:
            raise PayloadTooLarge(
                f"the file holds more than {self.rows:,} usage rows, the limit of one dataset"
            )

    def check_size(self, path: Path) -> None:
        if self.bytes is not None and path.stat().st_size > self.bytes:
            raise PayloadTooLarge(
                f"the dataset would take more than {self.bytes:,} bytes stored, "
                "the limit of one dataset"
            )


def _is_data_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB refusing the content (through Arrow it is an OSError)."""
    if isinstance(exc, _DATA_ERRORS):
        return True
    return str(exc).startswith(("Invalid Input Error", "Conversion Error", "Out of Range Error"))


def _diagnose(
    con: duckdb.DuckDBPyConnection,
    mapping: Mapping,
    canonical: dict[str, str],
    exc: BaseException,
) -> InvalidDataset:
    """The first offence of a file whose ingest query failed with ``exc``."""
    source = mapping.source
    sql, columns = mapping.diagnose_sql(canonical)
    try:
        # fetchall: DuckDB fills the rejects table only when the result is consumed.
        rows = con.execute(sql).fetchall()
    except _DATA_ERRORS as again:
        return _unreadable(source, again)
    found: list[tuple[int, str | None, str]] = []
    try:
        # A line the reader rejected was skipped, so later records' indexes shift; a
        # semantic offence mapped to the same or a later line is not the first one.
        line, reason, column = source.first_reader_error(con)
        found.append((line, column, reason))
    except LookupError:
        pass
    if rows:
        row = rows[0]
        reasons = row[1:]
        i = next(i for i, reason in enumerate(reasons) if reason is not None)
        col = columns[i]
        found.append((source.line_of(row[0]), col.name if col else None, reasons[i]))
    if not found:
        return _unreadable(source, exc)
    line, column, reason = min(found, key=lambda f: f[0])
    where = f"{'row' if source.format is Format.PARQUET else 'line'} {line}"
    if column is None:
        return InvalidDataset(f"{where} {reason}.", line=line)
    return InvalidDataset(f"{where}, column {column}: {reason}.", line=line, column=column)


def _unreadable(source: Source, exc: BaseException) -> InvalidDataset:
    """A reader error the diagnosis could not place on a record (e.g. a corrupt page)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if INVALID_ROW in first:  # the diagnosis finds these rows; this is a safety net
        first = "a row could not be read"
    match = re.search(r"CSV Error on Line: (\d+)", text)
    if match is not None:
        return InvalidDataset(f"line {match[1]}: {first}", line=int(match[1]))
    return InvalidDataset(f"The {source.format} file cannot be read: {first}")


def _no_rows_message(fmt: Format, source: SourceName) -> str:
    message = {
        Format.CSV: "The file has a header but no rows.",
        Format.JSONL: "The file has no usage records.",
        Format.PARQUET: "The file has no rows.",
    }[fmt]
    if source == "langfuse":
        message += " Only Langfuse observations of type GENERATION are imported."
    return message


@contextmanager
def _polling(
    con: duckdb.DuckDBPyConnection, progress: Progress | None, total: int
) -> Iterator[None]:
    """Report the running query's progress as bytes of the source, until the block ends."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        done = 0
        while not stop.wait(0.25):
            percent = con.query_progress()
            now = int(total * min(percent, 100.0) / 100) if percent > 0 else 0
            if now > done:
                done = now
                progress(done, total)

    thread = threading.Thread(target=poll, name="netra-ingest-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


__all__ = ["IngestResult", "ingest_file"]
