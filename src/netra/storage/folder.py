"""Dataset files in a folder: ``{root}/{user_id}/{dataset_id}.parquet``.

With several processes the folder is a volume they all mount. ``S3Store`` keeps the same
layout as its local read cache.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from netra.errors import NotFound

FILE_MODE = 0o600  # dataset files and folders are the server account's alone
FOLDER_MODE = 0o700
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*")  # a key part never names another folder


def checked(part: str) -> str:
    if not _ID.fullmatch(part):
        raise NotFound(f"no dataset {part!r}")
    return part


def missing(dataset_id: str) -> NotFound:
    return NotFound(f"the file of dataset {dataset_id} is not in the dataset storage")


class FolderStore:
    caches = False  # the folder is the store: no copy of anything to sweep

    def __init__(self, root: Path) -> None:
        self.root = root

    def local(self, user_id: str, dataset_id: str) -> Path:
        """Where this process reads the dataset (``fetch`` makes sure it is there)."""
        return self.root / checked(user_id) / f"{checked(dataset_id)}.parquet"

    def staging(self, user_id: str) -> Path:
        """The user's folder of files being received or written, before ``put``."""
        user = self.root / checked(user_id)
        folder = user / "incoming"
        for each in (self.root, user, folder):
            each.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        return folder

    def put(self, user_id: str, dataset_id: str, file: Path) -> None:
        """Store a finished file (from ``staging``); it is moved, not copied."""
        os.chmod(file, FILE_MODE)
        os.replace(file, self.local(user_id, dataset_id))

    def fetch(self, user_id: str, dataset_id: str) -> Path:
        path = self.local(user_id, dataset_id)
        if not path.is_file():
            raise missing(dataset_id)
        return path

    def delete(self, user_id: str, dataset_id: str) -> None:
        self.local(user_id, dataset_id).unlink(missing_ok=True)

    def sweep_cache(self) -> int:
        """Drop this process's copies of deleted datasets; how many (none here)."""
        return 0

    def usage(self, user_id: str) -> tuple[int, int]:
        """The user's stored datasets: how many and their bytes."""
        sizes = [entry.stat().st_size for entry in (self.root / checked(user_id)).glob("*.parquet")]
        return len(sizes), sum(sizes)
