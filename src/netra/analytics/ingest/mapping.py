"""From a source's cells to canonical values and refusals, in one set-based query.

An export mapping (``exports.py``) declares *fields*: a column, or a path inside a JSON
column, parsed as a :data:`Kind`. It then combines the fields' values into the canonical
columns and may add *checks* on them. :class:`Mapping` turns that into SQL stages over the
source relation (``formats.Source``), each a plain projection so DuckDB streams them:

    s1  the source rows (filtered), plus one list per JSON column of the paths read from it
    s2  ``r:`` the raw value of every field
    s3  ``t:`` its typed form (``TRY_CAST`` and friends)
    s4  ``v:`` its value: NULL when absent or invalid
    s4d ``d:`` values derived once from values, for several canonical columns to share
    s5  ``c:`` the canonical columns, computed from the values
    s6  ``e:`` one error column per field and per check: NULL, or why the cell is refused

:meth:`Mapping.ingest_sql` selects the canonical columns and raises (DuckDB ``error()``) on
any row with an error, so a valid file is read once. :meth:`Mapping.diagnose_sql` selects the
smallest record index with an error and the reasons; both read the same stages, so the
diagnosis always finds what made the ingest fail.

Parsing rules (DATA.md section 1), the same for every export:

- an empty or blank cell, JSON ``null`` or a missing key is absent;
- ``count``: a non-negative whole number (``12``, ``12.0``, ``1e3``); ``12.5``, ``-3``, ``abc``
  are refused;
- ``amount``: a non-negative finite number;
- ``timestamp``: ISO 8601 (with ``Z`` or an offset: converted to UTC; without: taken as UTC;
  a date alone is midnight UTC) or an epoch number whose magnitude decides its unit:
  below 1e11 seconds (until year 5138), below 1e14 milliseconds, below 1e17 microseconds,
  else nanoseconds;
- ``bool``: true/false/1/0/yes/no in any case;
- ``status``: ``success``/``ok``/``succeeded`` or ``error``/``failure``/``failed`` in any case,
  or an HTTP status code (100-399 success, anything else error), or an export's own words;
- ``text``: trimmed; ``json``: valid JSON text.

Parquet columns keep their native types when those already fit (integers, floats,
timestamps, booleans); nested values (STRUCT, MAP, LIST) are read as their JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Literal

from netra.analytics.ingest.formats import Column, Source, quote_ident, quote_literal
from netra.analytics.schema import COLUMNS
from netra.errors import InvalidDataset

Kind = Literal["text", "count", "amount", "timestamp", "bool", "status", "json"]

INVALID_ROW = "netra: invalid row"

# Words accepted as a status by every export (lower case).
STATUS_WORDS: dict[str, str] = {
    "success": "success",
    "succeeded": "success",
    "ok": "success",
    "error": "error",
    "failure": "error",
    "failed": "error",
}

_INTEGERS = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_FLOATS = {"FLOAT", "DOUBLE"}
_TIMES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE"}


def _family(duck_type: str) -> str:
    """The family of a DuckDB type: text, int, float, time, timetz, bool, nested or other."""
    if duck_type == "VARCHAR":
        return "text"
    if duck_type in _INTEGERS:
        return "int"
    if duck_type in _FLOATS or duck_type.startswith("DECIMAL"):
        return "float"
    if duck_type in _TIMES:
        return "time"
    if duck_type == "TIMESTAMP WITH TIME ZONE":
        return "timetz"
    if duck_type == "BOOLEAN":
        return "bool"
    if duck_type.startswith(("STRUCT", "MAP", "UNION")) or duck_type.endswith("]"):
        return "nested"
    return "other"


# The type families each kind reads natively; other columns are read as their text.
_NATIVE: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "int", "float", "time", "timetz", "bool"}),
    "json": frozenset({"text"}),
    "count": frozenset({"text", "int", "float"}),
    "amount": frozenset({"text", "int", "float"}),
    "timestamp": frozenset({"text", "int", "float", "time", "timetz"}),
    "bool": frozenset({"text", "int", "bool"}),
    "status": frozenset({"text", "int"}),
}


def _raw(col: Column) -> tuple[str, str]:
    """SQL of a column's raw value and its type family; nested values as JSON text."""
    family = _family(col.type)
    if family == "nested" or col.type == "JSON":
        return f"CAST(to_json({col.sql}) AS VARCHAR)", "text"
    if family == "other":
        return f"CAST({col.sql} AS VARCHAR)", "text"
    return col.sql, family


def _epoch(d: str) -> str:
    """SQL: the UTC TIMESTAMP of an epoch number ``d``, its unit chosen by magnitude."""
    return (
        f"CASE WHEN NOT isfinite({d}) OR {d} < 0 THEN NULL "
        f"WHEN {d} < 1e11 THEN make_timestamp(CAST({d} * 1e6 AS BIGINT)) "
        f"WHEN {d} < 1e14 THEN make_timestamp(CAST({d} * 1e3 AS BIGINT)) "
        f"WHEN {d} < 1e17 THEN make_timestamp(CAST({d} AS BIGINT)) "
        f"WHEN {d} < 1e19 THEN make_timestamp(CAST({d} / 1e3 AS BIGINT)) END"
    )


def _shown(r: str) -> str:
    """SQL: the raw value quoted and shortened, for an error message."""
    x = f"CAST({r} AS VARCHAR)"
    return f"""('"' || CASE WHEN length({x}) > 32 THEN left({x}, 32) || '…' ELSE {x} END || '"')"""


@dataclass(frozen=True)
class _Parse:
    """SQL templates of a kind for one raw type; ``{r}``, ``{t}``, ``{v}`` are the stages."""

    typed: str
    value: str
    bad: str  # the reason for a present value that is not valid (v IS NULL or checked)
    negative: bool = False  # whether a present, parsed value can be negative (and refused)


def _parse(kind: Kind, family: str, status_words: MappingType[str, str], http: bool) -> _Parse:
    number_text = family == "text"
    if kind == "text":
        # trim() costs about a second per column per 10M rows: only padded cells pay it.
        value = (
            "CASE WHEN {r} = '' THEN NULL WHEN starts_with({r}, ' ') OR ends_with({r}, ' ') "
            "THEN NULLIF(trim({r}), '') ELSE {r} END"
            if family == "text"
            else "CAST({r} AS VARCHAR)"
        )
        return _Parse("NULL", value, "NULL")
    if kind == "json":
        return _Parse("NULL", "CASE WHEN json_valid({r}) THEN {r} END", "'is not valid JSON'")
    if kind == "count":
        if family == "int":
            return _Parse(
                "{r}",
                "CASE WHEN {t} >= 0 THEN TRY_CAST({t} AS BIGINT) END",
                _shown("{r}")
                + " || CASE WHEN {t} < 0 THEN ' is negative' ELSE ' is too large' END",
            )
        typed = "TRY_CAST({r} AS DOUBLE)" if number_text else "CAST({r} AS DOUBLE)"
        return _Parse(
            typed,
            "CASE WHEN isfinite({t}) AND {t} >= 0 AND {t} = trunc({t}) AND {t} < 9e18 "
            "THEN CAST({t} AS BIGINT) END",
            "CASE WHEN isfinite({t}) AND {t} = trunc({t}) AND {t} < 0 THEN "
            + _shown("{r}")
            + " || ' is negative' ELSE "
            + _shown("{r}")
            + " || ' is not a whole number' END",
        )
    if kind == "amount":
        typed = "TRY_CAST({r} AS DOUBLE)" if number_text else "CAST({r} AS DOUBLE)"
        return _Parse(
            typed,
            "CASE WHEN isfinite({t}) AND {t} >= 0 THEN {t} END",
            "CASE WHEN isfinite({t}) AND {t} < 0 THEN "
            + _shown("{r}")
            + " || ' is negative' ELSE "
            + _shown("{r}")
            + " || ' is not a number' END",
        )
    if kind == "timestamp":
        bad = _shown("{r}") + " || ' is not an ISO 8601 timestamp or an epoch in s/ms'"
        if family == "time":
            return _Parse("NULL", "CAST({r} AS TIMESTAMP)", bad)
        if family == "timetz":
            return _Parse("NULL", "{r} AT TIME ZONE 'UTC'", bad)
        if family in ("int", "float"):
            return _Parse("CAST({r} AS DOUBLE)", _epoch("{t}"), bad)
        return _Parse(
            # epoch_us of a TIMESTAMPTZ is its UTC instant; AT TIME ZONE would cost more.
            "make_timestamp(epoch_us(TRY_CAST({r} AS TIMESTAMPTZ)))",
            "coalesce({t}, " + _epoch("TRY_CAST({r} AS DOUBLE)") + ")",
            bad,
        )
    if kind == "bool":
        bad = _shown("{r}") + " || ' is not a boolean (true/false/1/0/yes/no)'"
        if family == "bool":
            return _Parse("NULL", "{r}", bad)
        if family == "int":
            return _Parse("NULL", "CASE {r} WHEN 1 THEN true WHEN 0 THEN false END", bad)
        words = " ".join(
            f"WHEN '{w}' THEN {b}"
            for w, b in (("true", "true"), ("1", "true"), ("yes", "true"),
                         ("false", "false"), ("0", "false"), ("no", "false"))
        )  # fmt: skip
        return _Parse(
            "NULL",
            "CASE CAST({r} AS VARCHAR) WHEN 'true' THEN true WHEN 'false' THEN false "
            f"ELSE CASE lower(trim(CAST({{r}} AS VARCHAR))) {words} END END",
            bad,
        )
    # status
    bad = _shown("{r}") + " || ' is not a known status (success or error)'"
    if family == "int" and http:
        return _Parse(
            "NULL", "CASE WHEN {r} BETWEEN 100 AND 399 THEN 'success' ELSE 'error' END", bad
        )
    words = " ".join(
        f"WHEN {quote_literal(w)} THEN {quote_literal(s)}" for w, s in status_words.items()
    )
    numeric = (
        "CASE WHEN regexp_full_match(trim(CAST({r} AS VARCHAR)), '-?[0-9]+') THEN "
        "CASE WHEN TRY_CAST(trim(CAST({r} AS VARCHAR)) AS HUGEINT) BETWEEN 100 AND 399 "
        "THEN 'success' ELSE 'error' END END"
        if http
        else "NULL"
    )
    return _Parse(
        "NULL",
        "CASE CAST({r} AS VARCHAR) WHEN 'success' THEN 'success' WHEN 'error' THEN 'error' ELSE "
        f"coalesce(CASE lower(trim(CAST({{r}} AS VARCHAR))) {words} END, {numeric}) END",
        bad,
    )


@dataclass(frozen=True)
class _Field:
    """A parsed cell, declared once per (kind, column, JSON path)."""

    index: int
    raw: str
    parse: _Parse
    present: str
    column: Column
    label: str  # prefix of the reason, e.g. "usage_object.cache_read_input_tokens "

    def ref(self, stage: str) -> str:
        return quote_ident(f"{stage}:{self.index}")


@dataclass(frozen=True)
class _Check:
    condition: str  # SQL over values/canonical columns: true when the row is refused
    reason: str  # SQL expression of the reason
    column: Column | None


class Mapping:
    """The fields and checks of one export over one source (see the module docstring)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._columns = {c.name.lower(): c for c in source.columns}
        self._fields: dict[tuple[str, str, str], _Field] = {}
        self._json: dict[str, list[str]] = {}
        self._checks: list[_Check] = []
        self._where: list[str] = []
        self._derived: list[str] = []

    # Declaring ---------------------------------------------------------------------------

    def column(self, *names: str) -> Column | None:
        """The first of ``names`` (case-insensitive) the file has, or None."""
        for name in names:
            if (col := self._columns.get(name.lower())) is not None:
                return col
        return None

    def field(
        self,
        kind: Kind,
        *names: str,
        required: bool = False,
        empty: str = "empty value",
        status_words: MappingType[str, str] = STATUS_WORDS,
        http: bool = True,
    ) -> str:
        """SQL of the parsed value of the first present column of ``names``; ``NULL`` if none.

        ``required``: the column must exist (else the file is refused naming ``names[0]``)
        and every row must have a value (else the row is refused with reason ``empty``).
        """
        col = self.need(*names) if required else self.column(*names)
        if col is None:
            return "NULL"
        raw, family = _raw(col)
        if family not in _NATIVE[kind]:  # e.g. a BOOLEAN timestamp: read it as its text
            raw, family = f"CAST({raw} AS VARCHAR)", "text"
        ref = self._add(kind, col, "", raw, family, status_words, http)
        if required:
            self.require(ref, col, empty)
        return ref

    def need(self, *names: str) -> Column:
        """The first of ``names`` the file has; the file is refused if it has none."""
        if (col := self.column(*names)) is None:
            raise InvalidDataset(f"The required column {names[0]} is missing.", column=names[0])
        return col

    def json_field(self, kind: Kind, col: Column, path: str) -> str:
        """SQL of the value at JSON ``path`` (``$.a.b``) inside column ``col``, parsed."""
        self.field("json", col.name)
        paths = self._json.setdefault(col.name, [])
        if path not in paths:
            paths.append(path)
        raw = quote_ident(f"j:{col.name}") + f"[{paths.index(path) + 1}]"
        return self._add(kind, col, path, raw, "text", STATUS_WORDS, True)

    def _add(
        self,
        kind: Kind,
        col: Column,
        path: str,
        raw: str,
        family: str,
        status_words: MappingType[str, str],
        http: bool,
    ) -> str:
        key = (kind, col.name, path)
        if key not in self._fields:
            present = (
                "({r} IS NOT NULL AND trim({r}) <> '')" if family == "text" else "{r} IS NOT NULL"
            )
            self._fields[key] = _Field(
                index=len(self._fields),
                raw=raw,
                parse=_parse(kind, family, status_words, http),
                present=present,
                column=col,
                label=f"{path.removeprefix('$.')} " if path else "",
            )
        return self._fields[key].ref("v")

    def derive(self, sql: str) -> str:
        """SQL reference to ``sql`` (over field values) computed once per row."""
        self._derived.append(sql)
        return quote_ident(f"d:{len(self._derived) - 1}")

    def require(self, value: str, col: Column | None, reason: str = "empty value") -> None:
        """Refuse rows where ``value`` is NULL."""
        self.check(f"{value} IS NULL", col, quote_literal(reason))

    def check(self, condition: str, col: Column | None, reason: str) -> None:
        """Refuse rows where ``condition`` holds; ``reason`` is an SQL string expression."""
        self._checks.append(_Check(condition, reason, col))

    def where(self, condition: str) -> None:
        """Keep only the source rows where ``condition`` (SQL over the file's columns) holds."""
        self._where.append(condition)

    # Building ----------------------------------------------------------------------------

    def _stages(
        self, relation: str, canonical: MappingType[str, str]
    ) -> tuple[str, list[tuple[str, Column | None]]]:
        fields = list(self._fields.values())
        json_lists = [
            f"CASE WHEN json_valid({src}) THEN json_extract_string({src}, "
            f"[{', '.join(quote_literal(p) for p in paths)}]) END AS {quote_ident('j:' + name)}"
            for name, paths in self._json.items()
            for src, _ in [_raw(self._columns[name.lower()])]
        ]
        s1 = f"SELECT *{''.join(', ' + j for j in json_lists)} FROM ({relation})"
        if self._where:
            s1 += " WHERE " + " AND ".join(f"({w})" for w in self._where)
        keep = "_rn, _pos" + (", _record_error" if self.source.has_record_error else "")
        raws = "".join(f", {f.raw} AS {f.ref('r')}" for f in fields)
        s2 = f"SELECT {keep}{raws} FROM ({s1})"

        def fill(template: str, f: _Field) -> str:
            return template.format(r=f.ref("r"), t=f.ref("t"), v=f.ref("v"))

        typed = "".join(
            f", {fill(f.parse.typed, f)} AS {f.ref('t')}" for f in fields if f.parse.typed != "NULL"
        )
        s3 = f"SELECT *{typed} FROM ({s2})"
        values = "".join(f", {fill(f.parse.value, f)} AS {f.ref('v')}" for f in fields)
        s4 = f"SELECT *{values} FROM ({s3})"
        if self._derived:
            derived = "".join(
                f", {sql} AS {quote_ident(f'd:{i}')}" for i, sql in enumerate(self._derived)
            )
            s4 = f"SELECT *{derived} FROM ({s4})"
        canon = "".join(
            f", CAST({canonical[name]} AS {type_}) AS {quote_ident('c:' + name)}"
            for name, type_ in COLUMNS
            if name != "row_no"
        )
        s5 = f"SELECT *{canon} FROM ({s4})"

        # Errors in the order of the file's columns; a record error comes first.
        errors: list[tuple[int, str, Column | None]] = []
        if self.source.has_record_error:
            errors.append((-1, "_record_error", None))
        for f in fields:
            if f.parse.bad == "NULL":  # text: any present value is valid
                continue
            reason = fill(f.parse.bad, f)
            if f.label:
                reason = f"{quote_literal(f.label)} || {reason}"
            sql = f"CASE WHEN {f.ref('v')} IS NULL AND {fill(f.present, f)} THEN {reason} END"
            errors.append((f.column.position, sql, f.column))
        for check in self._checks:
            sql = f"CASE WHEN {check.condition} THEN {check.reason} END"
            errors.append((check.column.position if check.column else -1, sql, check.column))
        errors.sort(key=lambda e: e[0])
        cols = "".join(f", {quote_ident('c:' + n)}" for n, _ in COLUMNS if n != "row_no")
        errs = "".join(
            f", {sql} AS {quote_ident(f'e:{i}')}" for i, (_, sql, _) in enumerate(errors)
        )
        s6 = f"SELECT _rn, _pos{cols}{errs} FROM ({s5})"
        return s6, [(quote_ident(f"e:{i}"), col) for i, (_, _, col) in enumerate(errors)]

    def ingest_sql(self, canonical: MappingType[str, str]) -> str:
        """The query of the canonical rows; it raises :data:`INVALID_ROW` on a refused row."""
        s6, errors = self._stages(self.source.relation(), canonical)
        ok = " AND ".join(f"{ref} IS NULL" for ref, _ in errors) or "true"
        cols = ", ".join(
            f"{quote_ident('c:' + n)} AS {quote_ident(n)}" for n, _ in COLUMNS if n != "row_no"
        )
        return (
            f"SELECT CASE WHEN {ok} THEN _pos ELSE error({quote_literal(INVALID_ROW)}) END "
            f"AS row_no, {cols} FROM ({s6})"
        )

    def diagnose_sql(self, canonical: MappingType[str, str]) -> tuple[str, list[Column | None]]:
        """The query of the first refused row: ``_rn`` then one reason (or NULL) per check."""
        s6, errors = self._stages(self.source.relation(diagnose=True), canonical)
        refs = ", ".join(ref for ref, _ in errors)
        bad = " OR ".join(f"{ref} IS NOT NULL" for ref, _ in errors) or "false"
        sql = f"SELECT _rn, {refs} FROM ({s6}) WHERE {bad} ORDER BY _rn LIMIT 1"
        return sql, [col for _, col in errors]
