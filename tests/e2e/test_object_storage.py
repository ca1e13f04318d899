"""Datasets in an S3-compatible object store (``NETRA_STORAGE_URL``, a real local server):
a dataset uploaded to one server is analysed by another that starts with an empty data
folder and downloads it into its read cache; a delete removes the object and the copy.
``netra ingest`` uploads there too."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

import httpx

from tests.e2e.clients import connected, follow, start_run
from tests.e2e.test_upload_to_report import CANONICAL_CSV
from tests.support import Account, ServerProcess, free_port, new_bucket, register, s3_client


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.parquet")) if folder.exists() else []


async def _upload(http: httpx.AsyncClient, account: Account) -> str:
    response = await http.post(
        "/api/datasets",
        files={"file": ("usage.csv", io.BytesIO(CANONICAL_CSV.encode()), "text/csv")},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_dataset_in_the_object_store_is_analysed_by_a_server_that_never_held_it(
    s3_endpoint, database_url, tmp_path
):
    bucket = new_bucket(s3_endpoint)
    env = {
        "NETRA_STORAGE_URL": f"s3://{bucket}/netra",
        "NETRA_STORAGE_ENDPOINT_URL": s3_endpoint,
        "NETRA_JWT_SECRET": "object-storage-e2e-" + "k" * 32,  # one key: tokens work on both
    }
    uploader = ServerProcess(tmp_path / "uploader", database_url, **env)
    analyst = ServerProcess(tmp_path / "analyst", database_url, **env)
    s3 = s3_client(s3_endpoint)
    try:
        uploader.start()
        async with httpx.AsyncClient(base_url=uploader.url, timeout=30) as http:
            account = await register(http, "object-store")
            dataset_id = await _upload(http, account)
        key = f"netra/{account.user_id}/{dataset_id}.parquet"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
        assert _parquet_files(uploader.data_dir / "datasets") == []  # not in the local folder
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()

        analyst.start()
        cache = analyst.data_dir / "dataset-cache"
        assert _parquet_files(analyst.data_dir) == []
        ws = await connected(analyst.ws_url, account)
        started = await start_run(ws, "What did we spend per feature?")
        assert started["data"]["dataset_id"] == dataset_id
        done = (await follow(ws, started["run_id"]))[-1]
        await ws.close()
        assert done["type"] == "run_completed", done
        answer = done["data"]["response"]["text"]
        assert "| chat | $0.75 |" in answer and "| summarize | $1.25 |" in answer
        copy = cache / account.user_id / f"{dataset_id}.parquet"
        assert _parquet_files(analyst.data_dir) == [copy]
        assert copy.read_bytes() == stored

        async with httpx.AsyncClient(base_url=analyst.url, timeout=30) as http:
            deleted = await http.delete(f"/api/datasets/{dataset_id}", headers=account.headers)
            assert deleted.status_code == 204, deleted.text
            listed = await http.get("/api/datasets", headers=account.headers)
        assert listed.json()["datasets"] == []
        assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []
        assert not copy.exists()

        # An object removed behind the service's back: the run says so, nothing stale is read.
        async with httpx.AsyncClient(base_url=uploader.url, timeout=30) as http:
            again = await _upload(http, account)
        s3.delete_object(Bucket=bucket, Key=f"netra/{account.user_id}/{again}.parquet")
        ws = await connected(analyst.ws_url, account)
        started = await start_run(ws, "What did we spend per feature?")
        done = (await follow(ws, started["run_id"]))[-1]
        await ws.close()
        assert done["type"] == "run_failed", done
        assert done["data"]["error"]["code"] == "not_found", done
        assert "not in the dataset storage" in done["data"]["error"]["message"]
    finally:
        analyst.stop()
        uploader.stop()


def _ingest(server: ServerProcess, file: Path, email: str, **env: str) -> CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netra.cli", "ingest", str(file), "--email", email],
        env={
            **os.environ,
            "NETRA_ENV": "test",
            "NETRA_DATA_DIR": str(server.data_dir.parent / "ingest"),
            "NETRA_DATABASE_URL": server.database_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_netra_ingest_uploads_to_the_object_store_or_says_it_is_unreachable(
    server, s3_endpoint, tmp_path
):
    usage = tmp_path / "usage.csv"
    usage.write_text(CANONICAL_CSV)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        account = await register(http, "terminal-s3")
    bucket = new_bucket(s3_endpoint)
    done = _ingest(
        server,
        usage,
        account.email,
        NETRA_STORAGE_URL=f"s3://{bucket}",
        NETRA_STORAGE_ENDPOINT_URL=s3_endpoint,
    )
    assert done.returncode == 0, done.stderr
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"].split("/")[0] for o in listed] == [account.user_id]
    nowhere = _ingest(
        server,
        usage,
        account.email,
        NETRA_STORAGE_URL=f"s3://{bucket}",
        NETRA_STORAGE_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        AWS_MAX_ATTEMPTS="1",
    )
    assert nowhere.returncode == 1
    assert "netra ingest: the dataset storage did not answer" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
