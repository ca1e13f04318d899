"""Canonical files (DATA.md section 1) in CSV, JSON Lines and Parquet store the same rows."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netra.analytics.ingest import prompt_keys
from netra.analytics.schema import STORED_COLUMNS

from .conftest import SAMPLES, canonical_row, read_rows, ts

# samples/canonical.csv and samples/canonical.jsonl, as stored.
EXPECTED = [
    canonical_row(
        row_no=0,
        timestamp=ts("2025-03-01 08:00:00"),
        model="gpt-4o-2024-08-06",
        provider="openai",
        input_tokens=1200,
        output_tokens=250,
        cache_read_tokens=1024,
        cost_usd=0.00488,
        latency_ms=812.5,
        user="alice",
        feature="support-chat",
        project="web",
        api_key="sk-…wxyz",
        prompt_hash="3f1a9c0d5e7b2a61",
        prefix_hash="9c2b7e11aa04d3f8",
        prefix_tokens=1024,
    ),
    canonical_row(
        # +01:00 converted to UTC; "Anthropic" lower-cased; "ERROR" and "no" in any case.
        row_no=1,
        timestamp=ts("2025-03-01 08:30:00"),
        model="claude-sonnet-4-5",
        provider="anthropic",
        input_tokens=5000,
        output_tokens=400,
        cache_read_tokens=3000,
        cache_write_tokens=1000,
        latency_ms=2300.0,
        status="error",
        user="bob",
        feature="summarize, long docs",
        project="web",
        interactive=False,
    ),
    canonical_row(
        # Epoch seconds; the price catalog's provider id for vertex_ai; a bucket of 200.
        row_no=2,
        timestamp=ts("2025-03-01 09:00:00"),
        model="gemini-2.5-flash",
        provider="google",
        input_tokens=800_000,
        output_tokens=40_000,
        requests=200,
        cost_usd=1.234,
        feature="nightly",
        project="etl",
        api_key="key-etl",
        interactive=False,
        batch=True,
    ),
    canonical_row(
        # Epoch milliseconds; a quoted field spanning two lines.
        row_no=3,
        timestamp=ts("2025-03-01 10:00:00"),
        model="gpt-4o-mini",
        input_tokens=300,
        output_tokens=20,
        user="carol",
        feature="chat\nassistant",
        project="web",
    ),
]


@pytest.mark.parametrize("sample", ["canonical.csv", "canonical.jsonl"])
def test_canonical_text_files_store_the_normalised_rows(ingest, sample):
    result, rows = ingest(SAMPLES / sample)

    assert result.source == "canonical"
    assert result.rows == 4
    assert rows == EXPECTED


def test_canonical_parquet_with_native_types_stores_the_same_rows(ingest, tmp_path):
    utc = pa.timestamp("ms", tz="UTC")
    table = pa.table(
        {
            # Columns in another order, with another case, and one extra column ignored.
            "Model": ["gpt-4o-2024-08-06", "claude-sonnet-4-5", "gemini-2.5-flash", "gpt-4o-mini"],
            "timestamp": pa.array(
                [
                    datetime(2025, 3, 1, h, m, tzinfo=UTC)
                    for h, m in ((8, 0), (8, 30), (9, 0), (10, 0))
                ],
                utc,
            ),
            "provider": ["openai", "Anthropic", "vertex_ai", None],
            "input_tokens": pa.array([1200, 5000, 800_000, 300], pa.int32()),
            "output_tokens": pa.array([250, 400, 40_000, 20], pa.int64()),
            "cache_read_tokens": pa.array([1024, 3000, None, None], pa.int64()),
            "cache_write_tokens": pa.array([0, 1000, None, None], pa.int64()),
            "requests": pa.array([1, 1, 200, None], pa.int16()),
            "cost_usd": pa.array([0.00488, None, 1.234, None], pa.float64()),
            "latency_ms": pa.array([812.5, 2300.0, None, None], pa.float32()),
            "status": ["success", "ERROR", None, None],
            "user": ["alice", "bob", None, "carol"],
            "feature": ["support-chat", "summarize, long docs", "nightly", "chat\nassistant"],
            "project": ["web", "web", "etl", "web"],
            "api_key": ["sk-proj-abcdEFGH1234wxyz", None, "key-etl", None],
            "prompt_hash": ["3f1a9c0d5e7b2a61", None, None, None],
            "prefix_hash": ["9c2b7e11aa04d3f8", None, None, None],
            "prefix_tokens": pa.array([1024, None, None, None], pa.int64()),
            "interactive": [True, False, False, None],
            "batch": [False, None, True, None],
            "comment": ["ignored", "ignored", "ignored", "ignored"],
        }
    )
    src = tmp_path / "canonical.parquet"
    pq.write_table(table, src)

    result, rows = ingest(src)

    assert (result.format, result.source) == ("parquet", "canonical")
    assert rows == EXPECTED


def test_the_stored_file_has_exactly_the_schema_columns_and_types(ingest, tmp_path):
    ingest(SAMPLES / "canonical.csv")

    with duckdb.connect() as con:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / 'out' / 'dataset.parquet'}')"
        ).fetchall()
    assert [(name, type_) for name, type_, *_ in described] == list(STORED_COLUMNS)


def test_the_stored_prompt_key_is_the_hash_of_model_and_prompt(ingest, tmp_path):
    ingest(SAMPLES / "canonical.csv")

    with duckdb.connect() as con:
        keys = con.execute(
            f"""
            SELECT prompt_hash IS NULL, prompt_key IS NULL,
                   prompt_key = hash(model, prompt_hash)
            FROM read_parquet('{tmp_path / "out" / "dataset.parquet"}')
            ORDER BY row_no
            """
        ).fetchall()
    assert {row for row in keys} == {(False, False, True), (True, True, None)}


def test_timestamps_are_iso_8601_or_epoch_seconds_or_milliseconds_by_magnitude(ingest, write_file):
    lines = [
        "timestamp,model,input_tokens,output_tokens",
        "2025-03-01T08:00:00.250Z,m,1,1",  # UTC with milliseconds
        "2025-03-01T10:00:00+02:00,m,1,1",  # an offset
        "2025-03-01 08:00:00,m,1,1",  # naive: taken as UTC
        "2025-03-01,m,1,1",  # a date: midnight UTC
        "1740816000,m,1,1",  # seconds (< 1e11)
        "1740816000.5,m,1,1",  # fractional seconds
        "1740816000250,m,1,1",  # milliseconds (< 1e14)
        "1740816000250000,m,1,1",  # microseconds (< 1e17)
    ]
    _, rows = ingest(write_file("times.csv", "\n".join(lines) + "\n"))

    assert [r["timestamp"] for r in rows] == [
        ts("2025-03-01 08:00:00.250"),
        ts("2025-03-01 08:00:00"),
        ts("2025-03-01 08:00:00"),
        ts("2025-03-01 00:00:00"),
        ts("2025-03-01 08:00:00"),
        ts("2025-03-01 08:00:00.500"),
        ts("2025-03-01 08:00:00.250"),
        ts("2025-03-01 08:00:00.250"),
    ]


def test_booleans_accept_true_false_1_0_yes_no_in_any_case(ingest, write_file):
    words = ["true", "FALSE", "1", "0", "Yes", "NO", ""]
    body = "".join(f"2025-03-01,m,1,1,{w},{w}\n" for w in words)
    _, rows = ingest(
        write_file(
            "bools.csv", "timestamp,model,input_tokens,output_tokens,interactive,batch\n" + body
        )
    )

    assert [r["interactive"] for r in rows] == [True, False, True, False, True, False, True]
    assert [r["batch"] for r in rows] == [True, False, True, False, True, False, False]


def test_whole_numbers_may_be_written_as_floats_and_text_is_kept_verbatim(ingest, write_file):
    content = (
        "timestamp,model,input_tokens,output_tokens,user,status\n"
        "2025-03-01, gpt-4o ,1200.0,1e3,  padded user  ,Failure\n"
    )
    _, rows = ingest(write_file("numbers.csv", content))

    assert rows[0]["model"] == "gpt-4o"
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"]) == (1200, 1000)
    assert rows[0]["user"] == "padded user"
    assert rows[0]["status"] == "error"


def test_a_prompt_column_in_a_canonical_file_is_stored_only_as_its_hash(ingest, write_file):
    content = (
        "timestamp,model,input_tokens,output_tokens,prompt\n"
        '2025-03-01,m,1,1,"SECRET-PROMPT-CANONICAL, tell me a joke"\n'
    )
    src = write_file("prompts.csv", content)
    _, rows = ingest(src)

    import hashlib

    expected = hashlib.sha256(b"SECRET-PROMPT-CANONICAL, tell me a joke").hexdigest()
    assert rows[0]["prompt_hash"] == expected


def test_row_numbers_are_positions_in_the_source_file(ingest, write_file, tmp_path):
    body = "".join(f"2025-03-01T00:00:{i:02d}Z,m,{i},0\n" for i in range(50))
    result, rows = ingest(
        write_file("many.csv", "timestamp,model,input_tokens,output_tokens\n" + body)
    )

    assert result.rows == 50
    assert [r["row_no"] for r in rows] == list(range(50))
    assert [r["input_tokens"] for r in rows] == list(range(50))
    assert read_rows(tmp_path / "out" / "dataset.parquet") == rows


def test_prompt_keys_two_prompts_share_are_made_exact_before_the_file_is_stored(
    ingest, write_file, tmp_path, monkeypatch
):
    monkeypatch.setattr(
        prompt_keys, "HASHED", "CASE WHEN prompt_hash IS NOT NULL THEN CAST(7 AS UBIGINT) END"
    )
    src = write_file(
        "usage.csv",
        "timestamp,model,input_tokens,output_tokens,prompt_hash\n"
        "2025-03-01T08:00:00Z,m,1,1,h1\n"
        "2025-03-01T08:01:00Z,m,1,1,h2\n"
        "2025-03-01T08:02:00Z,m,1,1,h1\n"
        "2025-03-01T08:03:00Z,m2,1,1,h1\n"
        "2025-03-01T08:04:00Z,m,1,1,\n",
    )

    ingest(src)

    with duckdb.connect() as con:
        keys = con.execute(
            f"SELECT prompt_key FROM '{tmp_path / 'out' / 'dataset.parquet'}' ORDER BY row_no"
        ).fetchall()
    (h1,), (h2,), (again,), (other_model,), (none,) = keys
    assert again == h1 and none is None
    assert len({h1, h2, other_model}) == 3 and None not in (h1, h2, other_model)
