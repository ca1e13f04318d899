"""Dataset endpoints: multipart upload streamed to disk, demo data, list, get, delete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from netra.api.deps import CurrentUser, Res
from netra.db import datasets as rows
from netra.errors import InvalidInput, PayloadTooLarge

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
HEADERS_MAX = 16 * 1024  # bytes of part headers in the whole form
PARTS_MAX = 16  # parts in the form: the file and a few small fields


class DemoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: Annotated[StrictInt, Field(ge=100)] = 20_000
    seed: StrictInt = 0


@router.post("", status_code=201)
async def upload(request: Request, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    limit = resources.settings.upload_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
    datasets = resources.datasets
    async with datasets.importing(principal.user_id):
        staging = datasets.staging_dir(principal.user_id)
        fd, name = tempfile.mkstemp(dir=staging, suffix=".upload")
        os.close(fd)
        target = Path(name)
        try:
            filename, fields = await _receive_file(request, target, limit)
            return await datasets.import_file(
                principal.user_id, target, fields.get("name") or filename or "Uploaded usage"
            )
        finally:
            target.unlink(missing_ok=True)


async def _receive_file(
    request: Request, target: Path, limit: int
) -> tuple[str | None, dict[str, str]]:
    """Stream the multipart body: the ``file`` part to ``target``, small fields to a dict."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("send the file as multipart/form-data with a 'file' part", field="file")
    part: dict[str, Any] = {}
    fields: dict[str, str] = {}
    found: dict[str, Any] = {"file": False, "filename": None}
    header: dict[str, bytes] = {"field": b"", "value": b""}
    written = 0
    header_bytes = 0
    parts = 0

    def count_header(size: int) -> None:
        nonlocal header_bytes
        header_bytes += size
        if header_bytes > HEADERS_MAX:
            raise InvalidInput("the form's part headers are too large", field="file")

    with target.open("wb") as out:

        def on_part_begin() -> None:
            nonlocal parts
            parts += 1
            if parts > PARTS_MAX:
                raise InvalidInput(f"the form has more than {PARTS_MAX} parts", field="file")
            part.clear()
            part["headers"] = {}
            part["data"] = bytearray()

        def on_header_field(data: bytes, start: int, end: int) -> None:
            count_header(end - start)
            header["field"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            count_header(end - start)
            header["value"] += data[start:end]

        def on_header_end() -> None:
            part["headers"][header["field"].decode("latin-1").lower()] = header["value"]
            header["field"] = header["value"] = b""

        def on_headers_finished() -> None:
            _, disposition = parse_options_header(part["headers"].get("content-disposition", b""))
            part["name"] = disposition.get(b"name", b"").decode(errors="replace")
            filename = disposition.get(b"filename")
            part["is_file"] = part["name"] == "file"
            if part["is_file"]:
                found["file"] = True
                found["filename"] = filename.decode(errors="replace") if filename else None

        def on_part_data(data: bytes, start: int, end: int) -> None:
            nonlocal written
            if part["is_file"]:
                written += end - start
                if written > limit:
                    raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
                out.write(data[start:end])
            elif len(part["data"]) < 1024:
                part["data"] += data[start:end]

        def on_part_end() -> None:
            if not part["is_file"]:
                fields[part["name"]] = part["data"][:1024].decode(errors="replace")

        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise _malformed(exc) from None
        try:
            parser.finalize()
        except MultipartParseError as exc:
            raise _malformed(exc) from None
    if not found["file"]:
        raise InvalidInput("the form has no 'file' part", field="file")
    return found["filename"], fields


def _malformed(exc: MultipartParseError) -> InvalidInput:
    return InvalidInput(f"the multipart body is malformed: {exc}", field="file")


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
