"""The user's datasets: import a usage file or the demo, summarise it, remove it.

The usage rows live in one Parquet file per dataset under
``{data_dir}/datasets/{user_id}/{dataset_id}.parquet``; the database holds the summary.
A dataset is recorded only after its file is complete, so a refused or interrupted
import leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netra import analytics
from netra.clock import utc_now
from netra.db import Database
from netra.db import datasets as rows
from netra.ids import new_id


class Datasets:
    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root

    def path(self, user_id: str, dataset_id: str) -> Path:
        return self.root / user_id / f"{dataset_id}.parquet"

    def staging_dir(self, user_id: str) -> Path:
        folder = self.root / user_id / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    async def import_file(
        self, user_id: str, upload: Path, name: str, *, ingest: Callable[..., Any] | None = None
    ) -> dict[str, Any]:
        """Ingest ``upload`` (with ``ingest``, default: no progress display) and record it."""
        dataset_id = new_id()
        dest = self.path(user_id, dataset_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        result = await asyncio.to_thread(ingest or analytics.ingest_file, upload, dest)
        return await self._record(user_id, dataset_id, name, result.source, dest)

    async def create_demo(self, user_id: str, rows_: int, seed: int) -> dict[str, Any]:
        dataset_id = new_id()
        dest = self.path(user_id, dataset_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(analytics.write_demo, dest, rows_, seed)
        return await self._record(user_id, dataset_id, f"Demo data (seed {seed})", "demo", dest)

    async def _record(
        self, user_id: str, dataset_id: str, name: str, source: str, dest: Path
    ) -> dict[str, Any]:
        try:
            summary = await asyncio.to_thread(analytics.summarize, dest)
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
            raise

    async def remove(self, user_id: str, dataset_id: str) -> None:
        await self.db.write(lambda conn: rows.remove(conn, user_id, dataset_id))
        with contextlib.suppress(FileNotFoundError):
            self.path(user_id, dataset_id).unlink()
