"""``netra serve``: migrate, then run the whole product in one process."""

from __future__ import annotations

from netra.cli.migrate import migrate
from netra.config import Settings
from netra.server import run_server


def serve(settings: Settings) -> int:
    migrate(settings)
    return run_server(settings)
