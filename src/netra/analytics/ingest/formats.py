"""Usage files as DuckDB relations: format detection by content, and line numbers.

A file is Parquet when it starts with the magic bytes ``PAR1``, JSON Lines when its first
non-blank character is ``{``, and CSV otherwise; the name is never consulted. Each format
becomes a :class:`Source`: the SQL of a relation with one row per record, carrying

- ``_rn``: the 0-based index of the record the row came from (used to name a bad line);
- ``_pos``: the 0-based position of the row in the file (stored as ``row_no``);
- ``_record_error``: JSON Lines only, why the record is not a JSON object (else NULL);
- the file's columns under their own names: VARCHAR for CSV and JSON Lines, the native
  types for Parquet.

Line numbers (DATA.md section 1: 1-based physical lines, the header being line 1) are
derived only when a file is refused, from the record index of the first offence:

- CSV: DuckDB skips blank lines and a quoted field may span lines, so the record index is
  mapped to its physical line by one streaming pass up to that record: numpy counts lines
  in blocks until a quote character appears, :mod:`csv` (C-level iteration, no Python code
  per row) parses on from there;
- JSON Lines: one object per line, blank lines skipped; same kind of pass over the lines;
- Parquet: the 1-based row number.

A JSON Lines file of OpenAI Usage API buckets (``{"object": "bucket", "start_time": ...,
"results": [...]}``, or whole pages ``{"object": "page", "data": [buckets]}``) is expanded
to one record per result, each carrying its bucket's fields (``start_time``, ...).
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np

from netra.errors import InvalidDataset

_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 16 << 20
_CSV_DELIMITERS = (",", "\t", ";", "|")


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Column:
    """One column of a source file: its name as written, SQL reference and DuckDB type."""

    name: str
    sql: str
    type: str
    position: int


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sniff(path: Path) -> Format:
    """Detect the format of ``path`` from its first bytes; refuse empty files."""
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return Format.PARQUET
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidDataset("The file is UTF-16 encoded; save it as UTF-8.", line=1)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise InvalidDataset("The file is empty.")
    if text.startswith(b"{"):
        return Format.JSONL
    if text.startswith(b"["):
        raise InvalidDataset(
            "The file is a JSON array; upload JSON Lines (one JSON object per line).", line=1
        )
    return Format.CSV


class Source:
    """A usage file opened as a DuckDB relation (see the module docstring)."""

    format: Format
    columns: list[Column]
    # False when ``_pos`` is unknown in the fast relation (CSV): the rows then stream in
    # file order and the writer numbers them.
    numbered: bool = True
    # Whether the query must keep the file's order (to number rows); Parquet need not,
    # which saves DuckDB buffering its large row groups.
    ordered: bool = True
    has_record_error: bool = False

    def relation(self, *, diagnose: bool = False) -> str:
        raise NotImplementedError

    def line_of(self, rn: int) -> int:
        """The 1-based physical line (Parquet: row) of the record with index ``rn``."""
        raise NotImplementedError

    def first_reader_error(self, con: duckdb.DuckDBPyConnection) -> tuple[int, str, str | None]:
        """After a diagnose run: the first record the reader itself rejected, if any."""
        raise LookupError


def open_source(con: duckdb.DuckDBPyConnection, path: Path, fmt: Format) -> Source:
    if fmt is Format.PARQUET:
        return ParquetSource(con, path)
    if fmt is Format.JSONL:
        return JsonlSource(con, path)
    return CsvSource(path)


class CsvSource(Source):
    """RFC 4180 CSV, UTF-8, header on line 1; the delimiter is read from the header."""

    format = Format.CSV
    numbered = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.delimiter, header = _read_csv_header(path)
        names = [name.strip() or f"_unnamed_{i + 1}" for i, name in enumerate(header)]
        seen: set[str] = set()
        for name in names:
            if name.lower() in seen:
                raise InvalidDataset(
                    f"line 1: column {name} appears twice in the header.", line=1, column=name
                )
            seen.add(name.lower())
        self.columns = [Column(n, quote_ident(n), "VARCHAR", i) for i, n in enumerate(names)]

    def _read_csv(self, extra: str = "") -> str:
        types = ", ".join(f"{quote_literal(c.name)}: 'VARCHAR'" for c in self.columns)
        return (
            f"read_csv({quote_literal(str(self.path))}, header = true, auto_detect = false, "
            f"delim = {quote_literal(self.delimiter)}, quote = '\"', escape = '\"', "
            f"columns = {{{types}}}, encoding = 'utf-8'{extra})"
        )

    def relation(self, *, diagnose: bool = False) -> str:
        cols = ", ".join(c.sql for c in self.columns)
        if not diagnose:
            return (
                f"SELECT NULL::BIGINT AS _rn, NULL::BIGINT AS _pos, {cols} FROM {self._read_csv()}"
            )
        numbered = f"SELECT row_number() OVER () - 1 AS _rn, {cols} FROM " + self._read_csv(
            ", store_rejects = true"
        )
        return f"SELECT _rn, _rn AS _pos, {cols} FROM ({numbered})"

    def first_reader_error(self, con: duckdb.DuckDBPyConnection) -> tuple[int, str, str | None]:
        try:
            row = con.execute(
                "SELECT line, error_type, error_message, column_name FROM reject_errors "
                "ORDER BY line LIMIT 1"
            ).fetchone()
        except duckdb.CatalogException:  # created on the first rejected line only
            row = None
        if row is None:
            raise LookupError
        line, kind, message, column = row
        reason = _REJECT_REASONS.get(kind, message)
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
            reason, column = f"{reason} ({message})", None
        return int(line), reason, column

    def line_of(self, rn: int) -> int:
        """Count lines with numpy while no quote appears, then with :mod:`csv`.

        Record ``rn`` is the (rn + 2)-th non-blank record, the header being the first:
        DuckDB skips blank lines. Until the first quote character every line is a record.
        """
        target = rn + 2
        lines = records = offset = 0
        with self.path.open("rb") as f:
            while block := f.read(_BLOCK_BYTES):
                if len(block) == _BLOCK_BYTES:  # count whole lines only
                    block = block[: block.rfind(b"\n") + 1]
                if not block or b'"' in block:  # a line longer than a block, or a quote
                    break
                data = np.frombuffer(block, dtype=np.uint8)
                ends = np.flatnonzero(data == 10)
                if data[-1] != 10:  # the file's last line has no newline
                    ends = np.append(ends, len(data))
                starts = np.concatenate(([0], ends[:-1] + 1))
                width = ends - starts
                first = data[np.minimum(starts, len(data) - 1)]
                blank = (width == 0) | ((width == 1) & (first == 13))  # "" or "\r"
                seen = records + np.cumsum(~blank)
                if seen[-1] >= target:
                    return lines + int(np.searchsorted(seen, target)) + 1
                lines, records, offset = lines + len(ends), int(seen[-1]), offset + len(block)
                f.seek(offset)
            f.seek(offset)
            return self._line_by_csv(f, target - records, lines)

    def _line_by_csv(self, f: BinaryIO, nth: int, lines: int) -> int:
        """The physical line of the ``nth`` non-blank record from here, ``lines`` lines in."""
        csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
        text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        # Blank lines, which DuckDB skips, are [] for csv.
        record = next(itertools.islice(filter(None, reader), nth - 1, None))
        embedded = sum(
            field.count("\n") + field.count("\r") - field.count("\r\n") for field in record
        )
        return lines + reader.line_num - embedded


_REJECT_REASONS = {
    "TOO MANY COLUMNS": "the line has more fields than the header",
    "MISSING COLUMNS": "the line has fewer fields than the header",
    "UNQUOTED VALUE": "a quote is unterminated or misplaced",
    "INVALID ENCODING": "the line is not valid UTF-8",
    "INVALID UNICODE": "the line is not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "the line is longer than the 2 MB limit",
}


def _read_csv_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter and the column names, from line 1 (the header is one line)."""
    with path.open("rb") as f:
        raw = f.readline()
    try:
        first = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise InvalidDataset("line 1: the header is not valid UTF-8.", line=1) from exc
    if not first.strip():
        raise InvalidDataset("line 1: the header line is empty.", line=1)
    best, header = ",", [first]
    for delimiter in _CSV_DELIMITERS:
        fields = next(csv.reader([first], delimiter=delimiter))
        if len(fields) > len(header):
            best, header = delimiter, fields
    return best, header


class JsonlSource(Source):
    """JSON Lines: one JSON object per line; values are read as their JSON text."""

    format = Format.JSONL
    has_record_error = True

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.path = path
        read = (
            f"read_json_objects({quote_literal(str(path))}, format = 'newline_delimited', "
            "ignore_errors = true)"
        )
        self._lines = (
            "SELECT row_number() OVER () - 1 AS _rn, json AS _j, "
            "CASE WHEN json IS NULL THEN 'is not valid JSON' "
            "WHEN json_type(json) <> 'OBJECT' THEN 'is not a JSON object' END AS _record_error "
            f"FROM {read}"
        )
        self.bucketed = _has_bucket_keys(con, self._lines)
        keys = _json_keys(con, self._records(), ["_o", "_b"] if self.bucketed else ["_o"])
        if not keys:
            first = con.execute(
                f"SELECT min(_rn), arg_min(_record_error, _rn) FROM ({self._lines}) "
                "WHERE _record_error IS NOT NULL"
            ).fetchone()
            if first is not None and first[0] is not None:
                line = self.line_of(first[0])
                raise InvalidDataset(f"line {line} {first[1]}.", line=line)
            raise InvalidDataset("The file has no usage records.")
        seen: set[str] = set()
        self.columns = []
        for key in keys:
            if key.lower() in seen:
                raise InvalidDataset(f"key {key} appears with two spellings.", column=key)
            seen.add(key.lower())
            self.columns.append(Column(key, quote_ident(key), "VARCHAR", len(self.columns)))

    def _records(self) -> str:
        """One row per record: ``_rn``, ``_pos``, ``_record_error``, ``_o`` (the object)."""
        if not self.bucketed:
            return (
                f"SELECT _rn, _rn AS _pos, _record_error, _j AS _o, NULL AS _b FROM ({self._lines})"
            )
        buckets = (
            "SELECT _rn, _record_error, unnest(_l) AS _b, unnest(range(len(_l))) AS _bi FROM "
            "(SELECT _rn, _record_error, CASE WHEN json_type(_j, '$.data') = 'ARRAY' "
            f"THEN json_extract(_j, '$.data[*]') ELSE [_j] END AS _l FROM ({self._lines}))"
        )
        results = (
            "SELECT _rn, _record_error, _b, _bi, unnest(_l) AS _o, unnest(range(len(_l))) AS _ri "
            "FROM (SELECT *, CASE WHEN json_type(_b, '$.results') = 'ARRAY' "
            f"THEN json_extract(_b, '$.results[*]') ELSE [_b] END AS _l FROM ({buckets}))"
        )
        return (
            "SELECT _rn, row_number() OVER (ORDER BY _rn, _bi, _ri) - 1 AS _pos, "
            f"_record_error, _o, _b FROM ({results})"
        )

    def relation(self, *, diagnose: bool = False) -> str:
        paths = ", ".join(quote_literal(_json_path(c.name)) for c in self.columns)
        extract = f"json_extract_string(_o, [{paths}])"
        if self.bucketed:
            extract = (
                f"list_transform(list_zip({extract}, json_extract_string(_b, [{paths}])), "
                "lambda p: coalesce(p[1], p[2]))"
            )
        cols = ", ".join(f"_v[{i + 1}] AS {c.sql}" for i, c in enumerate(self.columns))
        return (
            f"SELECT _rn, _pos, _record_error, {cols} FROM "
            f"(SELECT _rn, _pos, _record_error, {extract} AS _v FROM ({self._records()}))"
        )

    def line_of(self, rn: int) -> int:
        with self.path.open("rb") as f:
            nonblank = itertools.compress(itertools.count(1), map(bytes.strip, f))
            return next(itertools.islice(nonblank, rn, None))


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has_bucket_keys(con: duckdb.DuckDBPyConnection, lines: str) -> bool:
    """Whether the first objects look like OpenAI Usage API buckets or pages."""
    row = con.execute(
        "SELECT bool_or(json_type(_j, '$.results') = 'ARRAY' OR json_type(_j, '$.data') = 'ARRAY') "
        f"FROM (SELECT _j FROM ({lines}) LIMIT 100)"
    ).fetchone()
    return bool(row and row[0])


def _json_keys(con: duckdb.DuckDBPyConnection, records: str, objects: list[str]) -> list[str]:
    """Every key of every record, in order of first appearance (a full pass)."""
    parts = [
        f"SELECT unnest(json_keys({s})) AS k, _pos AS p, unnest(range(len(json_keys({s})))) AS i "
        f"FROM ({records}) WHERE json_type({s}) = 'OBJECT'"
        for s in objects
    ]
    rows = con.execute(
        f"SELECT k FROM ({' UNION ALL '.join(parts)}) WHERE k NOT IN ('results', 'data') "
        "GROUP BY k ORDER BY min(p), min(i), k"
    ).fetchall()
    return [k for (k,) in rows]


class ParquetSource(Source):
    """Parquet, read with its own column types; ``_rn`` is the file row number."""

    format = Format.PARQUET
    ordered = False

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.path = path
        self._read = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {self._read}").fetchall()
        except duckdb.Error as exc:
            raise InvalidDataset(
                f"The file is not a readable Parquet file: {_first_line(exc)}"
            ) from exc
        seen: set[str] = set()
        self.columns = []
        for name, type_, *_ in described:
            if name == "file_row_number":
                continue
            if name.lower() in seen:
                raise InvalidDataset(f"column {name} appears twice.", column=name)
            seen.add(name.lower())
            self.columns.append(Column(name, quote_ident(name), type_, len(self.columns)))

    def relation(self, *, diagnose: bool = False) -> str:
        cols = ", ".join(c.sql for c in self.columns)
        return f"SELECT file_row_number AS _rn, file_row_number AS _pos, {cols} FROM {self._read}"

    def line_of(self, rn: int) -> int:
        return rn + 1


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = [
    "Column",
    "CsvSource",
    "Format",
    "JsonlSource",
    "ParquetSource",
    "Source",
    "open_source",
    "quote_ident",
    "quote_literal",
    "sniff",
]
