"""The user's datasets: import a usage file or the demo, summarise it, remove it.

The usage rows live in one Parquet file per dataset, kept by ``files`` (``netra.storage``:
a shared folder or an object store); the database holds the summary. A file is written in
the user's staging folder and stored, then the dataset recorded, so a refused or
interrupted import leaves nothing behind.

``Limits`` bound what one user may hold or hold up (docs/configuration.md): rows and stored
bytes of one dataset, datasets and stored bytes per user, imports (uploads and demos) at once
per user (more are refused) and on the server (more wait their turn). The per-user counts
are read from the storage and held by this process; the CLI's ``netra ingest`` is
the operator's and has none.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netra import analytics
from netra.clock import utc_now
from netra.db import Database
from netra.db import datasets as rows
from netra.errors import Conflict, PayloadTooLarge, RateLimited
from netra.ids import new_id
from netra.runtime.dataset import RunDataset
from netra.storage import FolderStore


@dataclass(frozen=True)
class Limits:
    """``None``: no limit (the operator's ``netra ingest``)."""

    dataset_rows: int | None = None
    dataset_bytes: int | None = None
    datasets_per_user: int | None = None
    storage_per_user: int | None = None
    imports_per_user: int | None = None
    imports: int | None = None


class Datasets:
    def __init__(self, db: Database, files: FolderStore, limits: Limits | None = None) -> None:
        self.db = db
        self.files = files
        self.limits = limits or Limits()
        self._importing: Counter[str] = Counter()  # user_id -> imports under way
        self._slots = asyncio.Semaphore(self.limits.imports) if self.limits.imports else None

    def for_run(self, user_id: str, dataset_id: str) -> RunDataset:
        """The run's dataset, fetched into a local file by its first analysis."""
        fetch = functools.partial(self.files.fetch, user_id, dataset_id)
        return RunDataset(dataset_id, self.files.local(user_id, dataset_id), fetch=fetch)

    @contextlib.asynccontextmanager
    async def importing(self, user_id: str) -> AsyncIterator[None]:
        """Hold one of the user's and one of the server's import slots, or refuse."""
        limits = self.limits
        count, _ = await asyncio.to_thread(self.files.usage, user_id)
        # No await from this check to the count's increment: two imports never both pass.
        if limits.imports_per_user and self._importing[user_id] >= limits.imports_per_user:
            raise RateLimited(
                "an import of yours (upload or demo) is still under way; "
                "try again when it has finished"
            )
        if limits.datasets_per_user and count >= limits.datasets_per_user:
            raise Conflict(
                f"you have {count} datasets, the most one account may keep; delete one first"
            )
        self._importing[user_id] += 1
        try:
            if self._slots is None:
                yield
            else:
                async with self._slots:
                    yield
        finally:
            self._importing[user_id] -= 1
            if not self._importing[user_id]:
                del self._importing[user_id]

    async def import_file(
        self, user_id: str, upload: Path, name: str, *, ingest: Callable[..., Any] | None = None
    ) -> dict[str, Any]:
        """Ingest ``upload`` (with ``ingest``, default: no progress display) and record it."""
        dataset_id = new_id()
        dest = self.files.staging(user_id) / f"{dataset_id}.parquet"
        if ingest is None:
            ingest = functools.partial(
                analytics.ingest_file,
                max_rows=self.limits.dataset_rows,
                max_bytes=self.limits.dataset_bytes,
            )
        result = await asyncio.to_thread(ingest, upload, dest)
        return await self._record(user_id, dataset_id, name, result.source, dest)

    async def create_demo(self, user_id: str, rows_: int, seed: int) -> dict[str, Any]:
        dataset_id = new_id()
        dest = self.files.staging(user_id) / f"{dataset_id}.parquet"
        await asyncio.to_thread(analytics.write_demo, dest, rows_, seed)
        return await self._record(user_id, dataset_id, f"Demo data (seed {seed})", "demo", dest)

    async def _record(
        self, user_id: str, dataset_id: str, name: str, source: str, dest: Path
    ) -> dict[str, Any]:
        stored = False
        try:
            await asyncio.to_thread(self._check_storage, user_id, dest.stat().st_size)
            stored = True  # from here on, a failure removes what was stored
            await asyncio.to_thread(self.files.put, user_id, dataset_id, dest)
            local = self.files.local(user_id, dataset_id)
            summary = await asyncio.to_thread(analytics.summarize, local)
            values = {
                "id": dataset_id,
                "user_id": user_id,
                "name": name[:200],
                "source": source,
                "rows": summary.rows,
                "period_start": summary.period_start,
                "period_end": summary.period_end,
                "total_cost_usd": summary.total_cost_usd,
                "models": summary.models,
                "created_at": utc_now(),
            }
            return await self.db.write(lambda conn: rows.add(conn, values))
        except BaseException:
            dest.unlink(missing_ok=True)
            if stored:
                await asyncio.to_thread(self.files.delete, user_id, dataset_id)
            raise

    def _check_storage(self, user_id: str, size: int) -> None:
        """Refuse a new file of ``size`` bytes that takes the user past their quota.

        Its rows and bytes were bounded as it was written (``ingest_file``, ``demo_max_rows``).
        """
        limit = self.limits.storage_per_user
        if limit is None:
            return
        _, used = self.files.usage(user_id)
        if used + size > limit:
            raise PayloadTooLarge(
                f"this dataset would take your stored data past {limit:,} bytes, the most one "
                "account may keep; delete a dataset first"
            )

    async def remove(self, user_id: str, dataset_id: str) -> None:
        # The file first: if the store fails, the dataset stays listed and the delete can be
        # retried, rather than an unlisted object counting against the user's quota.
        await asyncio.to_thread(self.files.delete, user_id, dataset_id)
        await self.db.write(lambda conn: rows.remove(conn, user_id, dataset_id))
