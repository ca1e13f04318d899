"""Format detection by content, privacy of prompts, atomic writes and progress reports."""

from __future__ import annotations

import shutil

import pytest

from netra.analytics.ingest.pipeline import ingest_file
from netra.cli.ingest import ingest_with_progress

from .conftest import SAMPLES, read_rows


@pytest.mark.parametrize(
    ("sample", "disguise", "fmt"),
    [
        ("canonical.csv", "usage.parquet", "csv"),
        ("canonical.jsonl", "usage.csv", "jsonl"),
        ("openai_usage.jsonl", "usage", "jsonl"),
    ],
)
def test_the_format_is_detected_by_content_not_by_name(ingest, tmp_path, sample, disguise, fmt):
    src = tmp_path / disguise
    shutil.copy(SAMPLES / sample, src)

    result, rows = ingest(src)

    assert result.format == fmt
    assert rows


def test_a_parquet_file_named_csv_is_read_as_parquet(ingest, tmp_path):
    first = tmp_path / "first.parquet"
    ingest_file(SAMPLES / "canonical.csv", first)
    disguised = tmp_path / "stored.csv"
    shutil.copy(first, disguised)

    result, rows = ingest(disguised)

    assert (result.format, result.source) == ("parquet", "canonical")
    assert rows == read_rows(first)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_with_another_delimiter_and_a_bom_is_read(ingest, write_file, delimiter):
    lines = ["timestamp,model,input_tokens,output_tokens", "2025-03-01T08:00:00Z,gpt-4o,12,3"]
    content = "\ufeff" + "\n".join(line.replace(",", delimiter) for line in lines) + "\n"

    _, rows = ingest(write_file("usage.txt", content))

    assert [(r["model"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        ("gpt-4o", 12, 3)
    ]


@pytest.mark.parametrize(
    "sample", ["litellm_spendlogs.csv", "langfuse_observations.jsonl", "helicone_requests.csv"]
)
def test_prompt_and_response_texts_never_reach_the_stored_file(tmp_path, sample):
    assert b"SECRET-PROMPT" in (SAMPLES / sample).read_bytes()
    dest = tmp_path / "out" / "dataset.parquet"

    ingest_file(SAMPLES / sample, dest)

    for path in dest.parent.rglob("*"):
        data = path.read_bytes()
        assert b"SECRET-PROMPT" not in data
        assert b"SECRET-RESPONSE" not in data
    assert any(row["prompt_hash"] for row in read_rows(dest))


def test_only_the_finished_dataset_is_left_in_its_folder(tmp_path):
    dest = tmp_path / "out" / "dataset.parquet"

    ingest_file(SAMPLES / "canonical.csv", dest)

    assert [p.name for p in dest.parent.iterdir()] == ["dataset.parquet"]


def test_progress_reports_bytes_up_to_the_file_size(tmp_path):
    src = SAMPLES / "helicone_requests.csv"
    calls: list[tuple[int, int]] = []

    ingest_file(
        src, tmp_path / "d.parquet", progress=lambda done, total: calls.append((done, total))
    )

    size = src.stat().st_size
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_the_cli_hook_shows_progress_and_returns_the_result(tmp_path, capsys):
    dest = tmp_path / "d.parquet"

    result = ingest_with_progress(SAMPLES / "canonical.csv", dest)

    assert (result.rows, result.source) == (4, "canonical")
    assert len(read_rows(dest)) == 4
    assert "Ingested canonical.csv: 4 rows" in capsys.readouterr().out
