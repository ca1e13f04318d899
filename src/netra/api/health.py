"""Liveness, readiness (every dependency answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from netra.api.deps import Res

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
    checks["queue"]["kind"] = "memory"
    down = [name for name, check in checks.items() if check["status"] != "ok"]
    status = "ok" if not down else ("down" if "database" in down else "degraded")
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if not down else 503)


@router.get("/metrics")
async def metrics(resources: Res) -> Response:
    return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)
