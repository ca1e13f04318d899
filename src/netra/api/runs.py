"""Runs: status, stored events (replay), cancel, report."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Connection

from netra.api.deps import CurrentUser, Res
from netra.db import events as event_rows
from netra.db import runs as run_rows
from netra.protocol import SEQ_MAX
from netra.resources import Resources

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.get("/{run_id}")
async def get_run(run_id: str, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    return run_rows.run_json(await _run(resources, principal.user_id, run_id))


def _run(resources: Resources, user_id: str, run_id: str) -> Awaitable[Any]:
    return resources.db.read(lambda conn: run_rows.get(conn, user_id, run_id))


@router.get("/{run_id}/events")
async def get_events(
    run_id: str,
    principal: CurrentUser,
    resources: Res,
    after_seq: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
) -> Response:
    def stored(conn: Connection) -> list[tuple[int, str, str]]:
        run_rows.get(conn, principal.user_id, run_id)
        return event_rows.events_after(conn, run_id, after_seq)

    events = await resources.db.read(stored)
    # Stored bodies are already the wire JSON: join them, don't re-encode.
    body = '{"events":[' + ",".join(body for _, _, body in events) + "]}"
    return Response(body, media_type="application/json")


@router.post("/{run_id}/cancel", status_code=202)
async def cancel_run(run_id: str, principal: CurrentUser, resources: Res) -> dict[str, Any]:
    await resources.runner.cancel(principal.user_id, run_id)
    return run_rows.run_json(await _run(resources, principal.user_id, run_id))


@router.get("/{run_id}/report", response_model=None)
async def get_report(
    run_id: str,
    principal: CurrentUser,
    resources: Res,
    format: Annotated[str, Query(pattern="^(json|md)$")] = "json",
) -> dict[str, Any] | PlainTextResponse:
    report = await resources.db.read(lambda c: run_rows.report(c, principal.user_id, run_id))
    if format == "md":
        return PlainTextResponse(report.markdown, media_type="text/markdown; charset=utf-8")
    return report.body  # type: ignore[no-any-return]
