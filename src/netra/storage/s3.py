"""Dataset files in an S3-compatible object store, with a local read cache.

Objects: ``s3://{bucket}/{prefix}/{user_id}/{dataset_id}.parquet``. A process that analyses
a dataset downloads it once into its cache (the ``FolderStore`` layout), with the object's
ETag beside it; each fetch compares size and ETag with the object's (one HEAD request), so a
deleted object is never read from a stale copy. A dataset deleted through another process
leaves its copy in this one's cache until ``sweep_cache`` (every ``CACHE_SWEEP_S`` in a
running server or worker) finds its object gone. DuckDB reads the local file: no httpfs
extension, which DuckDB would download at run time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from netra.errors import Unavailable
from netra.storage.folder import FILE_MODE, FolderStore, checked, missing

CHUNK = 1024 * 1024
_ABSENT = {"404", "NoSuchKey", "NotFound"}


@contextlib.contextmanager
def _answered() -> Iterator[None]:
    """The store's failures as ``Unavailable`` (HTTP 503, or the run's error)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise Unavailable(f"the dataset storage refused the request ({code})") from exc
    except BotoCoreError as exc:
        raise Unavailable(f"the dataset storage did not answer: {exc}") from exc


def _absent(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _ABSENT


class S3Store(FolderStore):
    """``root``: the read cache. Credentials and region: the AWS SDK's usual sources
    (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, a profile, a role)."""

    caches = True

    def __init__(self, url: str, cache: Path, endpoint_url: str | None = None) -> None:
        super().__init__(cache)
        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        # Other S3-compatible servers (MinIO, Ceph, Garage...) all answer path-style requests.
        config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, config=config
        )

    def key(self, user_id: str, dataset_id: str) -> str:
        return f"{self._user_prefix(user_id)}{checked(dataset_id)}.parquet"

    def _user_prefix(self, user_id: str) -> str:
        return f"{self.prefix}/{checked(user_id)}/" if self.prefix else f"{checked(user_id)}/"

    def put(self, user_id: str, dataset_id: str, file: Path) -> None:
        """Upload the file, then keep it as this process's cached copy."""
        key = self.key(user_id, dataset_id)
        with _answered():
            self.client.upload_file(os.fspath(file), self.bucket, key)
            etag = self.client.head_object(Bucket=self.bucket, Key=key)["ETag"]
        super().put(user_id, dataset_id, file)
        _tag(self.local(user_id, dataset_id)).write_text(etag)

    def fetch(self, user_id: str, dataset_id: str) -> Path:
        """The cached copy, downloaded first if absent or not the object's."""
        path, key = self.local(user_id, dataset_id), self.key(user_id, dataset_id)
        with _answered():
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if not _absent(exc):
                    raise
                self._evict(path)
                raise missing(dataset_id) from None
            size, etag = head["ContentLength"], head["ETag"]
            if _cached(path, size, etag):
                return path
            fd, name = tempfile.mkstemp(dir=self.staging(user_id), suffix=".download")
            try:
                with os.fdopen(fd, "wb") as out:
                    body = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)["Body"]
                    shutil.copyfileobj(body, out, CHUNK)
                if os.path.getsize(name) != size:
                    raise Unavailable(f"the download of dataset {dataset_id} was cut short")
                os.chmod(name, FILE_MODE)
                _tag(path).unlink(missing_ok=True)
                os.replace(name, path)
                _tag(path).write_text(etag)
            finally:
                Path(name).unlink(missing_ok=True)
        return path

    def delete(self, user_id: str, dataset_id: str) -> None:
        with _answered():
            self.client.delete_object(Bucket=self.bucket, Key=self.key(user_id, dataset_id))
        self._evict(self.local(user_id, dataset_id))

    def sweep_cache(self) -> int:
        """Drop the cached copies whose object is gone (deleted through another process),
        one HEAD request each; how many were dropped."""
        dropped = 0
        for path in self.root.glob("*/*.parquet"):
            key = self.key(path.parent.name, path.stem)
            with _answered():
                try:
                    self.client.head_object(Bucket=self.bucket, Key=key)
                except ClientError as exc:
                    if not _absent(exc):
                        raise
                    self._evict(path)
                    dropped += 1
        return dropped

    def usage(self, user_id: str) -> tuple[int, int]:
        count = size = 0
        with _answered():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._user_prefix(user_id)
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    if entry["Key"].endswith(".parquet"):
                        count, size = count + 1, size + entry["Size"]
        return count, size

    @staticmethod
    def _evict(path: Path) -> None:
        path.unlink(missing_ok=True)
        _tag(path).unlink(missing_ok=True)


def _tag(path: Path) -> Path:
    return path.with_suffix(".etag")


def _cached(path: Path, size: int, etag: str) -> bool:
    try:
        return path.stat().st_size == size and _tag(path).read_text() == etag
    except OSError:
        return False
