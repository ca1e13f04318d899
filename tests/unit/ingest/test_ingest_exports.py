"""Each recognised export maps to the canonical record (docs/data.md, export mappings).

The expected rows of each sample are one table, written a row to a few lines; one
parametrized test ingests every sample, and the exports made here (dashboard CSV, Parquet)
must give the same rows.
"""

from __future__ import annotations

import csv
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import SAMPLES, Row, canonical_row, ts


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def csv_column(sample: str, column: str) -> list[str]:
    with (SAMPLES / sample).open(newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


def row(row_no: int, when: str, model: str, **values: object) -> Row:
    return canonical_row(row_no=row_no, timestamp=ts(when), model=model, **values)


KEY1 = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
KEY2 = "5b1e0f3a9c7d2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f"
MESSAGES = csv_column("litellm_spendlogs.csv", "messages")
BODIES = csv_column("helicone_requests.csv", "request_body")
LANGFUSE_PROMPT = json.dumps(
    [{"role": "user", "content": "SECRET-PROMPT-LANGFUSE how do I reset my password?"}],
    separators=(",", ":"),
)

# fmt: off
LITELLM_ROWS = [
    # OpenAI: the cached tokens are inside prompt_tokens; feature from "feature:" tag;
    # end_user before user; team_id as project.
    row(0, "2025-03-03 09:15:02.120", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=1500, output_tokens=150, cache_read_tokens=1024, cost_usd=0.0064,
        latency_ms=1350.0, user="customer-981", feature="support-chat", project="team-support",
        api_key=KEY1, prompt_hash=sha256(MESSAGES[0])),
    # Current LiteLLM adds Anthropic cache reads and writes to prompt_tokens.
    row(1, "2025-03-03 09:16:10.500", "claude-sonnet-4-5-20250929", provider="anthropic",
        input_tokens=3700, output_tokens=220, cache_read_tokens=3000, cache_write_tokens=500,
        cost_usd=0.0081, latency_ms=3500.0, user="u-42", feature="summarize",
        project="team-docs", api_key=KEY1, prompt_hash=sha256(MESSAGES[1])),
    # Older LiteLLM left the cache writes beside prompt_tokens: 3200 + 500. The provider
    # prefix of the model is dropped; latency from endTime - startTime.
    row(2, "2025-03-03 09:20:00", "claude-3-5-haiku-20241022", provider="anthropic",
        input_tokens=3700, output_tokens=60, cache_read_tokens=3000, cache_write_tokens=500,
        cost_usd=0.0022, latency_ms=1250.0, user="u-7", project="team-docs", api_key=KEY2),
    # A failure: status "failure" -> error; a zero spend with zero tokens is zero.
    row(3, "2025-03-03 09:21:00", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=0, output_tokens=0, cost_usd=0.0, latency_ms=30012.0, status="error",
        user="customer-12", project="team-support", api_key=KEY2),
    # A proxy cache hit really cost nothing: its zero spend stays. Row 0's prompt again.
    row(4, "2025-03-03 09:22:00", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=1500, output_tokens=150, cost_usd=0.0, latency_ms=40.0,
        user="customer-981", feature="support-chat", project="team-support", api_key=KEY1,
        prompt_hash=sha256(MESSAGES[0])),
    # A zero spend for 2600 tokens means "not priced": left NULL. No messages: the LiteLLM
    # cache key stands for the prompt. vertex_ai is the catalog's google.
    row(5, "2025-03-03 09:23:00", "gemini-2.5-pro", provider="google",
        input_tokens=2400, output_tokens=200, latency_ms=2000.0, user="u-9",
        feature="research", project="team-research", api_key=KEY2,
        prompt_hash="6c1f0e9d2a7b4c3e"),
]

OPENAI_ROWS = [
    row(0, "2025-03-03 00:00:00", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=120_000, output_tokens=8000, cache_read_tokens=40_000, requests=150,
        project="proj_support", api_key="key_AbC123"),
    row(1, "2025-03-03 00:00:00", "gpt-4o-mini-2024-07-18", provider="openai",
        input_tokens=900_000, output_tokens=60_000, requests=3000, project="proj_etl",
        api_key="key_EtL999", batch=True),
    # The empty bucket of 2025-03-04 has no row.
    row(2, "2025-03-05 00:00:00", "o3-mini-2025-01-31", provider="openai",
        input_tokens=5000, output_tokens=12_000, requests=4, user="user_Q1",
        project="proj_support", api_key="key_AbC123"),
]

LANGFUSE_ROWS = [
    # usage_details kinds are disjoint: input 900 + input_cached_tokens 1100.
    row(0, "2025-03-03 10:00:00", "gpt-4o-mini", input_tokens=2000, output_tokens=120,
        cache_read_tokens=1100, cost_usd=0.0002895, latency_ms=1250.0, user="user-7",
        feature="support-chat", project="lf-prod", prompt_hash=sha256(LANGFUSE_PROMPT)),
    # The SPAN on line 2 is skipped. Anthropic keys; latency in seconds; WARNING is a
    # success; without trace_name the observation name is the feature.
    row(2, "2025-03-03 10:05:00", "claude-sonnet-4-5", input_tokens=6350, output_tokens=400,
        cache_read_tokens=5000, cache_write_tokens=1200, cost_usd=0.012, latency_ms=8500.0,
        user="user-8", feature="summarise-doc", project="lf-prod",
        prompt_hash=sha256("SECRET-PROMPT-LANGFUSE summarise the attached 40-page contract")),
    # input already included the cached tokens: total = input + output shows it.
    row(3, "2025-03-03 10:10:00", "gpt-4o-mini", input_tokens=2000, output_tokens=100,
        cache_read_tokens=1500, cost_usd=0.00024, feature="ticket-triage", project="lf-prod"),
    # level ERROR; no usage_details: zero tokens; no cost.
    row(4, "2025-03-03 10:20:00", "gpt-4o", input_tokens=0, output_tokens=0,
        latency_ms=300.0, status="error", user="user-7", feature="support-chat",
        project="lf-prod"),
    # The EVENT on line 6 is skipped. A zero total_cost for 790 tokens: not priced.
    row(6, "2025-03-03 10:30:00", "my-finetuned-llama", input_tokens=700, output_tokens=90,
        latency_ms=2000.0, user="user-9", feature="support-chat", project="lf-prod"),
]

HELICONE_ROWS = [
    # OpenAI counts the 1024 cached tokens inside prompt_tokens.
    row(0, "2025-03-04 08:00:00", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=2048, output_tokens=300, cache_read_tokens=1024, cost_usd=0.00812,
        latency_ms=2310.0, user="shopper-55", feature="checkout-assistant",
        project="web-shop", prompt_hash=sha256(BODIES[0])),
    # Anthropic counts them beside it: 180 + 4000 + 600.
    row(1, "2025-03-04 08:01:00", "claude-sonnet-4-5-20250929", provider="anthropic",
        input_tokens=4780, output_tokens=650, cache_read_tokens=4000, cache_write_tokens=600,
        cost_usd=0.01608, latency_ms=5000.0, user="dev-3", feature="code-review",
        prompt_hash=sha256(BODIES[1])),
    # HTTP 429 is an error.
    row(2, "2025-03-04 08:02:00", "gpt-4o-2024-08-06", provider="openai",
        input_tokens=0, output_tokens=0, cost_usd=0.0, latency_ms=150.0, status="error",
        user="shopper-56"),
    row(3, "2025-03-04 08:03:00", "gpt-4o-mini", provider="openai",
        input_tokens=1200, output_tokens=0, latency_ms=8000.0, status="error"),
]
# fmt: on


@pytest.mark.parametrize(
    ("sample", "file_format", "source", "expected"),
    [
        ("litellm_spendlogs.csv", "csv", "litellm", LITELLM_ROWS),
        ("openai_usage.jsonl", "jsonl", "openai_usage", OPENAI_ROWS),
        ("openai_usage_pages.jsonl", "jsonl", "openai_usage", OPENAI_ROWS),
        ("langfuse_observations.jsonl", "jsonl", "langfuse", LANGFUSE_ROWS),
        ("helicone_requests.csv", "csv", "helicone", HELICONE_ROWS),
    ],
)
def test_a_sample_export_maps_to_its_canonical_rows(ingest, sample, file_format, source, expected):
    result, rows = ingest(SAMPLES / sample)

    assert (result.format, result.source, result.rows) == (file_format, source, len(expected))
    assert rows == expected


def test_openai_usage_dashboard_csv_gives_the_same_rows(ingest, write_file):
    header = (
        "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,"
        "user_id,api_key_id,model,batch,input_tokens,output_tokens,input_cached_tokens\n"
    )
    body = (
        "1740960000,1741046400,2025-03-03T00:00:00+00:00,2025-03-04T00:00:00+00:00,proj_support,"
        "150,,key_AbC123,gpt-4o-2024-08-06,False,120000,8000,40000\n"
        "1740960000,1741046400,2025-03-03T00:00:00+00:00,2025-03-04T00:00:00+00:00,proj_etl,"
        "3000,,key_EtL999,gpt-4o-mini-2024-07-18,True,900000,60000,0\n"
        "1741132800,1741219200,2025-03-05T00:00:00+00:00,2025-03-06T00:00:00+00:00,proj_support,"
        "4,user_Q1,key_AbC123,o3-mini-2025-01-31,False,5000,12000,0\n"
    )
    result, rows = ingest(write_file("completions_usage.csv", header + body))

    assert (result.format, result.source) == ("csv", "openai_usage")
    assert rows == OPENAI_ROWS


def test_langfuse_parquet_with_nested_usage_details_gives_the_same_rows(ingest, tmp_path):
    with (SAMPLES / "langfuse_observations.jsonl").open() as f:
        records = [json.loads(line) for line in f]
    usage = pa.map_(pa.string(), pa.int64())
    table = pa.table(
        {
            "id": [r["id"] for r in records],
            "type": [r["type"] for r in records],
            "name": [r.get("name") for r in records],
            "trace_name": [r.get("trace_name") for r in records],
            "project_id": [r["project_id"] for r in records],
            "start_time": pa.array([r["start_time"] for r in records]),
            "end_time": [r.get("end_time") for r in records],
            "provided_model_name": [r.get("provided_model_name") for r in records],
            "usage_details": pa.array(
                [
                    list(r["usage_details"].items()) if "usage_details" in r else None
                    for r in records
                ],
                usage,
            ),
            "total_cost": pa.array([r.get("total_cost") for r in records], pa.float64()),
            "latency": pa.array([r.get("latency") for r in records], pa.float64()),
            "level": [r.get("level") for r in records],
            "user_id": [r.get("user_id") for r in records],
            "input": [
                r.get("input")
                if isinstance(r.get("input"), str | None)
                else json.dumps(r["input"], separators=(",", ":"))
                for r in records
            ],
        }
    )
    src = tmp_path / "observations.parquet"
    pq.write_table(table, src)

    result, rows = ingest(src)

    assert (result.format, result.source) == ("parquet", "langfuse")
    assert rows == LANGFUSE_ROWS


def test_helicone_parquet_export_is_recognised_by_its_columns(ingest, tmp_path):
    table = pa.table(
        {
            "request_created_at": pa.array([1741075200000], pa.int64()),  # epoch ms
            "model": ["claude-3-5-haiku-20241022"],
            "prompt_tokens": pa.array([100], pa.int32()),
            "completion_tokens": pa.array([10], pa.int32()),
            "prompt_cache_read_tokens": pa.array([900], pa.int32()),
            "cost": pa.array([0.0004], pa.float64()),
            "delay_ms": pa.array([640], pa.int32()),
            "response_status": pa.array([200], pa.int32()),
            "properties": pa.array(
                [{"Feature": "autocomplete"}], pa.struct([("Feature", pa.string())])
            ),
        }
    )
    src = tmp_path / "helicone.parquet"
    pq.write_table(table, src)

    result, rows = ingest(src)

    assert result.source == "helicone"
    # No provider column: a claude model counts its cache tokens beside.
    assert rows == [
        row(0, "2025-03-04 08:00:00", "claude-3-5-haiku-20241022", input_tokens=1000,
            output_tokens=10, cache_read_tokens=900, cost_usd=0.0004, latency_ms=640.0,
            feature="autocomplete")
    ]  # fmt: skip
