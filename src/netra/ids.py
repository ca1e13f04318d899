"""Identifiers: a random UUID (version 4) as text, for records and connections alike."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
