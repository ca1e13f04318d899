"""Liveness, readiness (every dependency answers) and Prometheus metrics."""

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
CHECK_TIMEOUT_S = 2.0


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except Exception as exc:
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/health/ready")
async def ready(resources: Res) -> JSONResponse:
    checks = {
        "database": await _check(resources.db.ping),
        "bus": await _check(resources.bus.ping),
        "queue": await _check(resources.runner.queue.ping),
    }
    checks["bus"]["kind"] = "redis" if resources.settings.redis_url else "memory"
    checks["queue"]["kind"] = resources.runner.queue.kind
    down = [name for name, check in checks.items() if check["status"] != "ok"]
    status = "ok" if not down else ("down" if "database" in down else "degraded")
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if not down else 503)


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
