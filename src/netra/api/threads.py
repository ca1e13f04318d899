"""Threads, their messages, and starting a run in a thread over HTTP."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr
from sqlalchemy import Connection

from netra.api.deps import CurrentUser, Res
from netra.db import runs as run_rows
from netra.db import threads
from netra.protocol import MESSAGE_MAX

router = APIRouter(prefix="/api/threads", tags=["threads"])


def _printable(text: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("must not contain control characters")
    return text


class ThreadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[StrictStr, Field(max_length=200), AfterValidator(_printable)] | None = None


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: Annotated[StrictStr, Field(min_length=1, max_length=MESSAGE_MAX)]
    dataset_id: StrictStr | None = None


@router.get("")
async def list_threads(principal: CurrentUser, resources: Res) -> dict[str, Any]:
    return {"threads": await resources.db.read(lambda c: threads.list_for(c, principal.user_id))}


@router.post("", status_code=201)
async def create_thread(
    principal: CurrentUser, resources: Res, body: ThreadBody | None = None
) -> dict[str, Any]:
    title = body.title if body else None
    return await resources.db.write(lambda conn: threads.create(conn, principal.user_id, title))


@router.get("/{thread_id}")
async def get_thread(thread_id: str, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    row = await resources.db.read(lambda conn: threads.get(conn, principal.user_id, thread_id))
    return threads.thread_json(row)


@router.delete("/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, principal: CurrentUser, resources: Res) -> Response:
    def active(conn: Connection) -> list[str]:
        threads.get(conn, principal.user_id, thread_id)
        return run_rows.active_in_thread(conn, thread_id)

    for run_id in await resources.db.read(active):  # a deleted thread's run stops first
        await resources.runner.cancel(principal.user_id, run_id)
    await resources.db.write(lambda conn: threads.remove(conn, principal.user_id, thread_id))
    return Response(status_code=204)


@router.get("/{thread_id}/messages")
async def list_messages(thread_id: str, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    found = await resources.db.read(lambda c: threads.messages(c, principal.user_id, thread_id))
    return {"messages": found}


@router.post("/{thread_id}/runs", status_code=202)
async def start_run(
    thread_id: str, body: RunBody, principal: CurrentUser, resources: Res
) -> dict[str, Any]:
    run = await resources.runner.start(
        principal.user_id, body.message, thread_id=thread_id, dataset_id=body.dataset_id
    )
    return run_rows.run_json(run)
