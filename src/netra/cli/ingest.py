"""``netra ingest FILE --email E``: import a usage file for an account, with a progress bar.

Works beside a running server: both share the database and the dataset storage, and
SQLite writers wait for each other.
"""

from __future__ import annotations

import sys
from pathlib import Path

from netra import analytics
from netra.config import Settings
from netra.dataset_store import Datasets
from netra.db import Database, users
from netra.errors import InvalidDataset, Unavailable
from netra.storage import open_storage


async def ingest(settings: Settings, file: Path, email: str, name: str | None) -> int:
    if not file.is_file():
        print(f"netra ingest: no such file: {file}", file=sys.stderr)
        return 2
    db = Database(settings.sqlalchemy_url, max_connections=settings.db_max_connections)
    try:
        user_id = await db.read(lambda conn: users.id_by_email(conn, email.strip().lower()))
        if user_id is None:
            print(f"netra ingest: no account with the email {email}", file=sys.stderr)
            return 2
        datasets = Datasets(db, open_storage(settings))
        try:
            dataset = await datasets.import_file(
                user_id, file, name or file.name, ingest=ingest_with_progress
            )
        except InvalidDataset as exc:
            where = ", ".join(f"{key} {value}" for key, value in exc.details.items())
            print(
                f"netra ingest: refused: {exc.message}" + (f" ({where})" if where else ""),
                file=sys.stderr,
            )
            return 1
        except Unavailable as exc:
            print(f"netra ingest: {exc.message}", file=sys.stderr)
            return 1
    finally:
        await db.dispose()
    print(
        f"Imported {dataset['rows']:,} rows as dataset {dataset['id']} "
        f"({dataset['period']['start']} to {dataset['period']['end']}, "
        f"${dataset['total_cost_usd']:,.2f})"
    )
    return 0


def ingest_with_progress(src: Path, dest: Path) -> analytics.IngestResult:
    """``analytics.ingest_file`` with a ``rich`` progress bar on the terminal."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    src = Path(src)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task(f"Ingesting {src.name}", total=src.stat().st_size)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = analytics.ingest_file(src, dest, progress=update)
        bar.update(
            task,
            description=f"Ingested {src.name}: {result.rows:,} rows ({result.source}, "
            f"{result.format})",
        )
    return result
