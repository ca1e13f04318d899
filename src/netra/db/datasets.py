"""Dataset records (the usage data itself lives in one Parquet file per dataset)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from netra.db import Database
from netra.db.tables import Dataset
from netra.errors import NotFound
from netra.protocol import rfc3339


def dataset_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "rows": row.rows,
        "period": {"start": rfc3339(row.period_start), "end": rfc3339(row.period_end)},
        "total_cost_usd": round(row.total_cost_usd, 6),
        "models": row.models,
        "created_at": rfc3339(row.created_at),
    }


async def add(db: Database, values: dict[str, Any]) -> dict[str, Any]:
    async with db.write() as conn:
        await conn.execute(insert(Dataset).values(values))
    return dataset_json(Dataset(**values))


async def get(db: Database, user_id: str, dataset_id: str) -> Any:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(Dataset).where(Dataset.id == dataset_id, Dataset.user_id == user_id)
            )
        ).first()
    if row is None:
        raise NotFound("no such dataset")
    return row


async def newest(db: Database, user_id: str) -> Any | None:
    async with db.read() as conn:
        return (
            await conn.execute(
                select(Dataset)
                .where(Dataset.user_id == user_id)
                .order_by(Dataset.created_at.desc())
                .limit(1)
            )
        ).first()


async def list_for(db: Database, user_id: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(Dataset).where(Dataset.user_id == user_id).order_by(Dataset.created_at.desc())
        )
        return [dataset_json(row) for row in rows]


async def remove(db: Database, user_id: str, dataset_id: str) -> None:
    async with db.write() as conn:
        result = await conn.execute(
            delete(Dataset).where(Dataset.id == dataset_id, Dataset.user_id == user_id)
        )
    if result.rowcount != 1:
        raise NotFound("no such dataset")
