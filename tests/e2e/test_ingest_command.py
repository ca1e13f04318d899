"""``netra ingest FILE --email``: a usage file imported from a terminal, beside a running server."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.support import register

SAMPLE = """timestamp,model,input_tokens,output_tokens,cost_usd,feature
2025-06-01T10:00:00Z,gpt-4o,1000,200,0.5,chat
2025-06-02T10:00:00Z,gpt-4o-mini,500,100,0.01,chat
"""


def _ingest(server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NETRA_ENV": "test",
        "NETRA_DATA_DIR": str(server.data_dir),
        "NETRA_DATABASE_URL": server.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "netra.cli", "ingest", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_file_ingested_from_the_terminal_is_the_users_dataset(server, tmp_path):
    usage = tmp_path / "usage.csv"
    usage.write_text(SAMPLE)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        account = await register(http, "terminal")
        done = _ingest(server, str(usage), "--email", account.email, "--name", "From the CLI")
        assert done.returncode == 0, done.stderr
        assert "Imported 2 rows" in done.stdout
        datasets = (await http.get("/api/datasets", headers=account.headers)).json()["datasets"]
    assert [(d["name"], d["rows"], d["total_cost_usd"]) for d in datasets] == [
        ("From the CLI", 2, 0.51)
    ]


async def test_the_command_refuses_a_bad_file_or_an_unknown_account_clearly(server, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE + "2025-06-03T10:00:00Z,gpt-4o,many,1,0.1,chat\n")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        account = await register(http, "terminal")
        refused = _ingest(server, str(bad), "--email", account.email)
        assert refused.returncode == 1
        assert "refused" in refused.stderr and "line 4" in refused.stderr
        assert (await http.get("/api/datasets", headers=account.headers)).json() == {"datasets": []}
    unknown = _ingest(server, str(bad), "--email", "nobody@example.com")
    assert unknown.returncode == 2
    assert "no account" in unknown.stderr
