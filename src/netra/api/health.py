"""Liveness, readiness (every dependency answers) and Prometheus metrics.

Readiness checks its dependencies at once, each bounded by ``CHECK_TIMEOUT_S``, so a dead
or hung dependency answers 503 naming it (``unavailable``) within that bound.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from netra.api.deps import Res, bearer_token
from netra.config import Environment
from netra.errors import NotFound, Unauthorized

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_S = 1.5


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    task = asyncio.ensure_future(probe())
    # Not wait_for: it would wait for the cancelled probe to unwind, which a hung
    # connection can make take seconds.
    await asyncio.wait([task], timeout=CHECK_TIMEOUT_S)
    if not task.done():
        task.cancel()
        task.add_done_callback(_ignore_result)
        return {"status": "down", "error": f"no answer within {CHECK_TIMEOUT_S} s"}
    if (exc := task.exception()) is not None:
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _ignore_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


@router.get("/health/ready")
async def ready(resources: Res) -> JSONResponse:
    probes = {
        "database": resources.db.ping,
        "bus": resources.bus.ping,
        "queue": resources.runner.queue.ping,
    }
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))
    checks = dict(zip(probes, results, strict=True))
    checks["bus"]["kind"] = "redis" if resources.settings.redis_url else "memory"
    checks["queue"]["kind"] = resources.runner.queue.kind
    down = [name for name, check in checks.items() if check["status"] != "ok"]
    status = "ok" if not down else ("down" if "database" in down else "degraded")
    body = {"status": status, "unavailable": down, "checks": checks}
    return JSONResponse(body, status_code=200 if not down else 503)


@router.get("/metrics")
async def metrics(request: Request, resources: Res) -> Response:
    """Open outside production; with NETRA_METRICS_TOKEN set, only to that bearer token."""
    token = resources.settings.metrics_token
    if token is None and resources.settings.env is Environment.production:
        raise NotFound("/metrics is off in production unless NETRA_METRICS_TOKEN is set")
    if token is not None:
        offered = bearer_token(request.headers.get("authorization"))
        if not hmac.compare_digest(offered.encode(), token.get_secret_value().encode()):
            raise Unauthorized("the metrics token is not valid")
    await resources.metrics.sample()
    return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)
