"""What the agent and Runner unit tests share: a migrated SQLite database, a user, a
demo dataset of that user, and the stored event log of a run."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from netra.clock import utc_now
from netra.config import Settings
from netra.dataset_store import Datasets
from netra.db import Database
from netra.db.events import events_after
from netra.db.migrate import upgrade
from netra.db.tables import User
from netra.protocol import TERMINAL_TYPES

DEMO_ROWS = 3_000


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path / 'netra.db'}"
    settings = Settings(data_dir=tmp_path, database_url=url, **values)
    settings.datasets_dir.mkdir(exist_ok=True)
    return settings


def migrated(tmp_path: Path) -> Settings:
    """Settings over a migrated SQLite file in ``tmp_path`` (call outside an event loop)."""
    settings = settings_for(tmp_path)
    upgrade(settings.sqlalchemy_url)
    return settings


async def add_user(db: Database) -> str:
    user_id = str(uuid.uuid4())
    values = dict(
        id=user_id, email=f"{user_id}@x.io", name="n", password_hash=None, created_at=utc_now()
    )
    await db.write(lambda conn: conn.execute(insert(User), values))
    return user_id


async def add_demo(datasets: Datasets, user_id: str) -> str:
    return str((await datasets.create_demo(user_id, DEMO_ROWS, 0))["id"])


async def stored_events(db: Database, run_id: str) -> list[dict[str, Any]]:
    rows = await db.read(lambda conn: events_after(conn, run_id, 0))
    return [json.loads(body) for _, _, body in rows]


def assert_one_terminal_event_last(events: list[dict[str, Any]]) -> None:
    terminal = [event["type"] for event in events if event["type"] in TERMINAL_TYPES]
    assert len(terminal) == 1 and events[-1]["type"] == terminal[0], terminal
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
