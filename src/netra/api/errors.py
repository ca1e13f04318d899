"""Errors to HTTP answers, in one table; every body is PROTOCOL.md's error shape."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from netra import errors

log = structlog.get_logger(__name__)

STATUS: dict[type[errors.NetraError], int] = {
    errors.InvalidInput: 422,
    errors.Unauthorized: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyRuns: 429,
    errors.RateLimited: 429,
    errors.PayloadTooLarge: 413,
    errors.Unavailable: 503,
    errors.RunError: 500,
}
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    413: "payload_too_large",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def status_of(exc: errors.NetraError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 500


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.NetraError)
    async def domain_error(_: Request, exc: errors.NetraError) -> JSONResponse:
        headers = {}
        if isinstance(exc, errors.Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if "retry_after_s" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after_s"])
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=status_of(exc),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":  # the body is not JSON at all
            field = "body"
        else:
            skipped = ("body", "query", "path", "header")
            field = ".".join(str(p) for p in first.get("loc", ()) if p not in skipped) or "body"
        return JSONResponse(
            error_body(
                "invalid_request", f"{field}: {first.get('msg', 'invalid')}", {"field": field}
            ),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error")
        return JSONResponse(
            error_body("internal", "an unexpected error occurred; it has been logged"),
            status_code=500,
        )
