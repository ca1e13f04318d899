"""``netra migrate``: apply the database migrations to ``NETRA_DATABASE_URL``."""

from __future__ import annotations

import structlog

from netra.config import Settings
from netra.db.migrate import upgrade

log = structlog.get_logger("netra")


def migrate(settings: Settings) -> int:
    upgrade(settings.sqlalchemy_url)
    log.info("migrations.applied", database=settings.sqlalchemy_url.split("@")[-1])
    return 0
