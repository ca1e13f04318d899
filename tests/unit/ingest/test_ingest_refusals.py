"""A file that cannot be read is refused whole, naming the first offence's line and column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netra.analytics.ingest import formats
from netra.analytics.ingest.pipeline import ingest_file
from netra.errors import InvalidDataset

from .conftest import SAMPLES

HEADER = "timestamp,model,input_tokens,output_tokens,status\n"
GOOD = "2025-03-01T08:00:00Z,gpt-4o,100,20,success\n"


def refusal(src: Path, tmp_path: Path) -> InvalidDataset:
    dest = tmp_path / "out" / "dataset.parquet"
    with pytest.raises(InvalidDataset) as caught:
        ingest_file(src, dest)
    assert not dest.exists()
    return caught.value


def csv_with_bad_line(write_file, bad: str, at_line: int = 57) -> Path:
    """A canonical CSV whose physical line ``at_line`` is ``bad`` (the header is line 1)."""
    return write_file("usage.csv", HEADER + GOOD * (at_line - 2) + bad + GOOD * 5)


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    [
        (
            "2025-03-01T08:00:00Z,gpt-4o,12.5,20,success\n",
            "input_tokens",
            '"12.5" is not a whole number',
        ),
        (
            "2025-03-01T08:00:00Z,gpt-4o,lots,20,success\n",
            "input_tokens",
            '"lots" is not a whole number',
        ),
        ("2025-03-01T08:00:00Z,gpt-4o,100,-20,success\n", "output_tokens", '"-20" is negative'),
        (
            "yesterday noon,gpt-4o,100,20,success\n",
            "timestamp",
            '"yesterday noon" is not an ISO 8601',
        ),
        ("2025-03-01T08:00:00Z,gpt-4o,100,20,maybe\n", "status", '"maybe" is not a known status'),
        ("2025-03-01T08:00:00Z,,100,20,success\n", "model", "empty value"),
        ("2025-03-01T08:00:00Z,gpt-4o,100,,success\n", "output_tokens", "empty value"),
        (",gpt-4o,100,20,success\n", "timestamp", "empty value"),
    ],
)
def test_a_bad_cell_is_refused_with_its_line_and_column(write_file, tmp_path, bad, column, reason):
    error = refusal(csv_with_bad_line(write_file, bad), tmp_path)

    assert error.details == {"line": 57, "column": column}
    assert error.message.startswith(f"line 57, column {column}: {reason}")


def test_a_missing_required_column_is_named_without_a_line(write_file, tmp_path):
    error = refusal(
        write_file("usage.csv", "timestamp,model,input_tokens\n2025-03-01,m,1\n"), tmp_path
    )

    assert error.details == {"column": "output_tokens"}


def test_a_file_of_no_known_shape_is_refused_for_its_missing_timestamp(write_file, tmp_path):
    error = refusal(write_file("usage.csv", "date,tokens\n2025-03-01,5\n"), tmp_path)

    assert error.details == {"column": "timestamp"}
    assert "not those of a known export" in error.message


def test_the_first_offending_line_wins_and_within_it_the_leftmost_column(write_file, tmp_path):
    content = (
        HEADER + GOOD * 3
        + "2025-03-01T08:00:00Z,gpt-4o,x,-1,success\n"  # line 5: two bad cells
        + "bad time,gpt-4o,1,1,success\n"  # line 6
    )  # fmt: skip
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details == {"line": 5, "column": "input_tokens"}


def test_lines_are_physical_lines_across_quoted_newlines_blank_lines_and_crlf(write_file, tmp_path):
    header = "timestamp,model,input_tokens,output_tokens,feature\r\n"
    content = (
        header
        + "2025-03-01,gpt-4o,1,1,plain\r\n"  # line 2
        + '2025-03-01,gpt-4o,1,1,"three\r\nline\r\nfeature"\r\n'  # lines 3-5
        + "\r\n"  # line 6, blank
        + '2025-03-01,gpt-4o,1,1,"two\nlines"\r\n'  # lines 7-8
        + "2025-03-01,gpt-4o,1,oops,plain\r\n"  # line 9
    )
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details == {"line": 9, "column": "output_tokens"}


def test_a_line_with_too_many_fields_is_refused_before_later_bad_cells(write_file, tmp_path):
    content = (
        HEADER + GOOD + GOOD + "2025-03-01,gpt-4o,1,1,success,extra\n" + "x,gpt-4o,1,1,success\n"
    )
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details == {"line": 4}
    assert "more fields than the header" in error.message


def test_a_bad_cell_before_a_malformed_line_is_the_first_offence(write_file, tmp_path):
    content = HEADER + GOOD + "2025-03-01,gpt-4o,1,-1,success\n" + "2025-03-01,gpt-4o,1,1,a,b\n"
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details == {"line": 3, "column": "output_tokens"}


def test_an_unterminated_quote_is_refused_at_its_line(write_file, tmp_path):
    content = HEADER + GOOD + GOOD + '2025-03-01,"gpt-4o,1,1,success\n' + GOOD
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details["line"] == 4


def test_bytes_that_are_not_utf8_are_refused_at_their_line(write_file, tmp_path):
    content = (HEADER + GOOD + GOOD).encode() + b"2025-03-01,gpt-\xff\xfe,1,1,success\n"
    error = refusal(write_file("usage.csv", content), tmp_path)

    assert error.details["line"] == 4
    assert "UTF-8" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "The file is empty."),
        ("  \n\n ", "The file is empty."),
        (HEADER, "The file has a header but no rows."),
        ('[{"timestamp": "2025-03-01"}]', "The file is a JSON array"),
    ],
)
def test_empty_and_header_only_files_are_refused_with_a_clear_message(
    write_file, tmp_path, body, expected
):
    error = refusal(write_file("usage.csv", body), tmp_path)

    assert error.message.startswith(expected)


def test_jsonl_lines_count_blank_lines_and_name_the_bad_key(write_file, tmp_path):
    good = json.dumps(
        {"timestamp": "2025-03-01", "model": "m", "input_tokens": 1, "output_tokens": 1}
    )
    bad = json.dumps(
        {"timestamp": "2025-03-01", "model": "m", "input_tokens": "1k", "output_tokens": 1}
    )
    error = refusal(write_file("usage.jsonl", f"{good}\n\n  \n{good}\n{bad}\n{good}\n"), tmp_path)

    assert error.details == {"line": 5, "column": "input_tokens"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"timestamp": "2025-03-01", "model": ', "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
    ],
)
def test_a_jsonl_line_that_is_not_an_object_is_refused(write_file, tmp_path, line, reason):
    good = json.dumps(
        {"timestamp": "2025-03-01", "model": "m", "input_tokens": 1, "output_tokens": 1}
    )
    error = refusal(write_file("usage.jsonl", f"{good}\n{good}\n{line}\n{good}\n"), tmp_path)

    assert error.details == {"line": 3}
    assert error.message == f"line 3 {reason}."


def test_parquet_offences_name_the_one_based_row(tmp_path):
    src = tmp_path / "usage.parquet"
    pq.write_table(
        pa.table(
            {
                "timestamp": pa.array([1740816000] * 4, pa.int64()),
                "model": ["m", "m", "m", "m"],
                "input_tokens": pa.array([1.0, 2.0, 3.5, 4.0], pa.float64()),
                "output_tokens": pa.array([1, 1, 1, -1], pa.int64()),
            }
        ),
        src,
    )
    error = refusal(src, tmp_path)

    assert error.details == {"line": 3, "column": "input_tokens"}
    assert error.message.startswith("row 3, column input_tokens")


def test_a_truncated_parquet_file_is_refused_as_unreadable(tmp_path):
    whole = tmp_path / "whole.parquet"
    ingest_file(SAMPLES / "canonical.csv", whole)
    src = tmp_path / "usage.parquet"
    src.write_bytes(whole.read_bytes()[:200])

    error = refusal(src, tmp_path)

    assert error.message.startswith("The file is not a readable Parquet file")


def test_a_parquet_column_of_an_unusable_type_is_refused_like_bad_text(tmp_path):
    src = tmp_path / "usage.parquet"
    pq.write_table(
        pa.table(
            {
                "timestamp": [True],
                "model": ["m"],
                "input_tokens": pa.array([1], pa.int64()),
                "output_tokens": pa.array([1], pa.int64()),
            }
        ),
        src,
    )
    error = refusal(src, tmp_path)

    assert error.details == {"line": 1, "column": "timestamp"}
    assert '"true" is not an ISO 8601 timestamp' in error.message


def test_counts_must_be_consistent_with_the_canonical_meaning(write_file, tmp_path):
    header = "timestamp,model,input_tokens,output_tokens,cache_read_tokens,requests\n"
    zero_requests = refusal(
        write_file("a.csv", header + "2025-03-01,m,10,1,0,1\n2025-03-01,m,10,1,0,0\n"), tmp_path
    )
    cache_beside = refusal(
        write_file("b.csv", header + "2025-03-01,m,10,1,0,1\n2025-03-01,m,10,1,50,1\n"), tmp_path
    )

    assert zero_requests.details == {"line": 3, "column": "requests"}
    assert cache_beside.details == {"line": 3, "column": "cache_read_tokens"}
    assert "ALL input tokens" in cache_beside.message


def test_an_export_cell_holding_bad_json_is_refused_with_the_json_column(write_file, tmp_path):
    sample = (SAMPLES / "litellm_spendlogs.csv").read_text().splitlines(keepends=True)
    usage = '{""usage_object""'
    not_a_count = '{""usage_object"": {""cache_read_input_tokens"": ""many""}, ""x""'
    lines = [*sample[:3], sample[3].replace(usage, not_a_count, 1)]
    error = refusal(write_file("spend.csv", "".join(lines)), tmp_path)

    assert error.details == {"line": 4, "column": "metadata"}
    assert "usage_object.cache_read_input_tokens" in error.message

    broken = [*sample[:2], sample[2].replace(usage, "{usage_object", 1)]
    error = refusal(write_file("spend2.csv", "".join(broken)), tmp_path)

    assert error.details == {"line": 3, "column": "metadata"}
    assert "not valid JSON" in error.message


def test_openai_usage_without_a_model_asks_for_usage_grouped_by_model(write_file, tmp_path):
    result = {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "model": None}
    bucket = {"object": "bucket", "start_time": 1740960000, "results": [result]}
    error = refusal(write_file("usage.jsonl", json.dumps(bucket) + "\n"), tmp_path)

    assert error.details == {"line": 1, "column": "model"}
    assert "grouped by model" in error.message


def test_langfuse_cache_counts_larger_than_the_input_are_refused(write_file, tmp_path):
    lines = (SAMPLES / "langfuse_observations.jsonl").read_text().splitlines(keepends=True)
    record = json.loads(lines[3])  # input includes the cache: total = input + output
    record["usage_details"] = {
        "input": 10,
        "input_cached_tokens": 1500,
        "output": 100,
        "total": 110,
    }
    lines[3] = json.dumps(record) + "\n"
    error = refusal(write_file("obs.jsonl", "".join(lines)), tmp_path)

    assert error.details == {"line": 4, "column": "usage_details"}
    assert "ALL input tokens" in error.message


def test_langfuse_usage_details_must_hold_token_counts(write_file, tmp_path):
    lines = (SAMPLES / "langfuse_observations.jsonl").read_text().splitlines(keepends=True)
    record = json.loads(lines[2])
    record["usage_details"]["input"] = "a lot"
    lines[2] = json.dumps(record) + "\n"
    error = refusal(write_file("obs.jsonl", "".join(lines)), tmp_path)

    assert error.details == {"line": 3, "column": "usage_details"}


def test_a_refused_import_leaves_an_existing_dataset_and_its_folder_untouched(write_file, tmp_path):
    dest = tmp_path / "out" / "dataset.parquet"
    ingest_file(SAMPLES / "canonical.csv", dest)
    before = dest.read_bytes()

    with pytest.raises(InvalidDataset):
        ingest_file(csv_with_bad_line(write_file, "x,m,1,1,success\n"), dest)

    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["dataset.parquet"]


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_line_numbers_agree_across_read_blocks(write_file, monkeypatch, block_bytes):
    monkeypatch.setattr(formats, "_BLOCK_BYTES", block_bytes)
    lines = ["timestamp,model,input_tokens,output_tokens,feature"]
    records = []  # the physical line of each record
    for i in range(40):
        if i % 7 == 3:
            lines.append("")  # blank: skipped, still a line
        if i % 11 == 5:
            lines.append("\r")  # a blank CRLF line
        if i >= 25 and i % 5 == 0:
            records.append(len(lines) + 1)
            lines.extend([f'2025-03-01,m,{i},1,"spans', 'two lines"'])
        else:
            records.append(len(lines) + 1)
            lines.append(f"2025-03-01,m,{i},1,plain")
    source = formats.CsvSource(write_file("lines.csv", "\n".join(lines)))

    assert [source.line_of(rn) for rn in range(40)] == records
