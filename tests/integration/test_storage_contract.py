"""The dataset storage contract, passed by the shared folder and by the S3 store.

The S3 store talks HTTP to a real S3-compatible server (moto's, in a child process). A
"reader" is a second store over the same storage, as another process would hold: for S3 it
has its own, empty, read cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netra import analytics
from netra.errors import NotFound, Unavailable
from netra.ids import new_id
from netra.storage import FolderStore
from netra.storage.s3 import S3Store
from tests.support import free_port, new_bucket, s3_client


@pytest.fixture(params=["folder", "s3"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[FolderStore, FolderStore]:
    """A writer and a reader of one storage."""
    if request.param == "folder":
        return FolderStore(tmp_path / "shared"), FolderStore(tmp_path / "shared")
    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://{new_bucket(endpoint)}/netra/datasets"
    return (
        S3Store(url, tmp_path / "writer-cache", endpoint),
        S3Store(url, tmp_path / "reader-cache", endpoint),
    )


def _put(store: FolderStore, user_id: str, rows: int = 300) -> tuple[str, bytes]:
    """Store a demo dataset written in the user's staging folder; return its id and bytes."""
    dataset_id = new_id()
    file = store.staging(user_id) / f"{dataset_id}.parquet"
    analytics.write_demo(file, rows, seed=rows)
    content = file.read_bytes()
    store.put(user_id, dataset_id, file)
    assert not file.exists()  # moved or uploaded, not left behind
    return dataset_id, content


def test_a_stored_file_reads_back_whole_in_another_process(stores):
    writer, reader = stores
    user = new_id()
    dataset_id, content = _put(writer, user)
    assert writer.fetch(user, dataset_id).read_bytes() == content
    local = reader.fetch(user, dataset_id)
    assert local == reader.local(user, dataset_id)
    assert local.read_bytes() == content
    assert analytics.summarize(local).rows == 300  # DuckDB reads the local file
    assert reader.usage(user) == writer.usage(user) == (1, len(content))


def test_a_missing_dataset_is_a_clear_not_found(stores):
    writer, _ = stores
    user = new_id()
    with pytest.raises(NotFound, match="not in the dataset storage"):
        writer.fetch(user, new_id())
    assert writer.usage(user) == (0, 0)


def test_a_deleted_dataset_is_gone_for_every_reader(stores):
    writer, reader = stores
    user = new_id()
    dataset_id, _ = _put(writer, user)
    kept_id, kept = _put(writer, user, rows=200)
    reader.fetch(user, dataset_id)  # a reader that already holds it
    writer.delete(user, dataset_id)
    for store in stores:
        with pytest.raises(NotFound):
            store.fetch(user, dataset_id)
        assert not store.local(user, dataset_id).exists()
        assert store.usage(user) == (1, len(kept))
    assert reader.fetch(user, kept_id).read_bytes() == kept
    writer.delete(user, dataset_id)  # twice: nothing left to delete is not an error


def test_another_users_dataset_is_unreachable(stores):
    writer, reader = stores
    alice, bob = new_id(), new_id()
    dataset_id, content = _put(writer, alice)
    with pytest.raises(NotFound):
        reader.fetch(bob, dataset_id)
    for forged in (f"../{alice}", f"{bob}/../{alice}", "", "."):
        with pytest.raises(NotFound):
            reader.fetch(forged, dataset_id)
    with pytest.raises(NotFound):
        reader.fetch(bob, f"../{alice}/{dataset_id}")
    reader.delete(bob, dataset_id)
    assert reader.usage(bob) == (0, 0)
    assert reader.fetch(alice, dataset_id).read_bytes() == content


def test_the_s3_store_keeps_each_dataset_as_one_object_under_its_prefix(s3_endpoint, tmp_path):
    bucket = new_bucket(s3_endpoint)
    store = S3Store(f"s3://{bucket}/team", tmp_path / "cache", s3_endpoint)
    user = new_id()
    dataset_id, content = _put(store, user)
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [
        (f"team/{user}/{dataset_id}.parquet", len(content))
    ]


def test_a_cached_copy_that_differs_from_the_object_is_downloaded_again(s3_endpoint, tmp_path):
    url = f"s3://{new_bucket(s3_endpoint)}"
    writer = S3Store(url, tmp_path / "writer", s3_endpoint)
    reader = S3Store(url, tmp_path / "reader", s3_endpoint)
    user = new_id()
    dataset_id, content = _put(writer, user)
    cached = reader.fetch(user, dataset_id)
    cached.write_bytes(b"PAR1" + bytes(len(content) - 8) + b"PAR1")  # same size, not the object
    cached.with_suffix(".etag").write_text('"stale"')
    assert reader.fetch(user, dataset_id).read_bytes() == content
    cached.write_bytes(content[:100])  # cut short
    assert reader.fetch(user, dataset_id).read_bytes() == content


def test_an_unreachable_object_store_is_unavailable(monkeypatch, tmp_path, s3_endpoint):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the SDK's retries: one attempt, no waits
    store = S3Store("s3://nowhere", tmp_path / "cache", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Unavailable, match="dataset storage"):
        store.fetch(new_id(), new_id())
    with pytest.raises(Unavailable, match="dataset storage"):
        store.usage(new_id())


def test_a_sweep_drops_cached_copies_of_datasets_deleted_elsewhere(stores):
    """A dataset deleted through one process leaves no copy in another's cache after its
    sweep; the datasets still stored keep theirs."""
    writer, reader = stores
    user = new_id()
    deleted_id, _ = _put(writer, user)
    kept_id, kept = _put(writer, user, rows=200)
    for dataset_id in (deleted_id, kept_id):
        reader.fetch(user, dataset_id)
    writer.delete(user, deleted_id)

    assert reader.sweep_cache() == (1 if reader.caches else 0)
    assert not reader.local(user, deleted_id).exists()
    assert reader.local(user, kept_id).read_bytes() == kept
    assert reader.sweep_cache() == 0
