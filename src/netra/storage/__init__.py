"""Where dataset files are kept: a folder every process shares (the default), or an
S3-compatible object store (``NETRA_STORAGE_URL``) read through a local cache."""

from __future__ import annotations

from netra.config import Settings
from netra.storage.folder import FolderStore

__all__ = ["FolderStore", "open_storage"]


def open_storage(settings: Settings) -> FolderStore:
    if settings.storage_url is None:
        return FolderStore(settings.datasets_dir)
    from netra.storage.s3 import S3Store  # the AWS SDK is imported only when configured

    return S3Store(
        settings.storage_url, settings.data_dir / "dataset-cache", settings.storage_endpoint_url
    )
