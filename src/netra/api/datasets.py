"""Dataset endpoints: multipart upload streamed to disk, demo data, list, get, delete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from netra.api.deps import CurrentUser, Res
from netra.api.uploads import MULTIPART_OVERHEAD, receive_file
from netra.db import datasets as rows
from netra.errors import InvalidInput, PayloadTooLarge

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


class DemoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: Annotated[StrictInt, Field(ge=100)] = 20_000  # at most NETRA_DEMO_MAX_ROWS
    seed: Annotated[StrictInt, Field(ge=0, le=2**32 - 1)] = 0  # numpy's seeds are unsigned


@router.post("", status_code=201)
async def upload(request: Request, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    limit = resources.settings.upload_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
    datasets = resources.datasets
    async with datasets.importing(principal.user_id):
        staging = datasets.files.staging(principal.user_id)
        fd, name = tempfile.mkstemp(dir=staging, suffix=".upload")
        os.close(fd)
        target = Path(name)
        try:
            filename, fields = await receive_file(request, target, limit)
            return await datasets.import_file(
                principal.user_id, target, fields.get("name") or filename or "Uploaded usage"
            )
        finally:
            target.unlink(missing_ok=True)


@router.post("/demo", status_code=201)
async def demo(
    principal: CurrentUser, resources: Res, body: DemoBody | None = None
) -> dict[str, Any]:
    body = body or DemoBody()
    if body.rows > resources.settings.demo_max_rows:
        raise InvalidInput(f"rows: at most {resources.settings.demo_max_rows}", field="rows")
    async with resources.datasets.importing(principal.user_id):
        return await resources.datasets.create_demo(principal.user_id, body.rows, body.seed)


@router.get("")
async def list_datasets(principal: CurrentUser, resources: Res) -> dict[str, Any]:
    return {"datasets": await resources.db.read(lambda c: rows.list_for(c, principal.user_id))}


@router.get("/{dataset_id}")
async def get_dataset(dataset_id: str, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    row = await resources.db.read(lambda c: rows.get(c, principal.user_id, dataset_id))
    return rows.dataset_json(row)


@router.delete("/{dataset_id}", status_code=204)
async def delete_dataset(dataset_id: str, principal: CurrentUser, resources: Res) -> Response:
    await resources.datasets.remove(principal.user_id, dataset_id)
    return Response(status_code=204)
