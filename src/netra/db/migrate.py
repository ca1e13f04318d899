"""Apply the Alembic migrations shipped in ``netra/db/migrations`` to a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision``; call it outside a running event loop.
    On PostgreSQL, processes upgrading at once take turns (an advisory lock, ``env.py``)."""
    command.upgrade(alembic_config(url), revision)
