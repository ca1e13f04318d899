"""The base of every analytics result, and how money is written in one.

Results are small frozen pydantic models: ``result.model_dump(mode="json")`` is what the
API and the agents' tools send. Money is a float in USD rounded to 6 decimals (``usd``).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


def usd(value: float | Decimal | None) -> float:
    """``value`` rounded to 6 decimals; a sum over no priced rows (``None``) is 0."""
    return round(float(value or 0), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
