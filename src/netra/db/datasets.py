"""Dataset records (the usage rows live in one Parquet file per dataset). Units of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from netra.clock import rfc3339
from netra.db.tables import Dataset
from netra.errors import NotFound


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


def add(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    conn.execute(insert(Dataset), values)
    return dataset_json(Dataset(**values))


_owned = select(Dataset).where(
    Dataset.id == bindparam("dataset"), Dataset.user_id == bindparam("user")
)


def get(conn: Connection, user_id: str, dataset_id: str) -> Any:
    row = conn.execute(_owned, {"dataset": dataset_id, "user": user_id}).first()
    if row is None:
        raise NotFound("no such dataset")
    return row


def list_for(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Dataset).where(Dataset.user_id == user_id).order_by(Dataset.created_at.desc())
    )
    return [dataset_json(row) for row in rows]


def remove(conn: Connection, user_id: str, dataset_id: str) -> None:
    result = conn.execute(
        delete(Dataset).where(Dataset.id == dataset_id, Dataset.user_id == user_id)
    )
    if result.rowcount != 1:
        raise NotFound("no such dataset")
