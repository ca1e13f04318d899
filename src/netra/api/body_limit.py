"""A cap on request bodies, enforced before a body is read whole (pure ASGI).

A declared ``Content-Length`` over the cap is answered 413 at once, without reading; a
chunked or understated body is counted as it streams and refused as soon as it passes the
cap. Routes that stream their own large bodies (uploads) are exempt and keep their limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from netra.api.errors import error_body


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, exempt: frozenset[tuple[str, str]]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt  # (method, path) pairs with a limit of their own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.exempt:
            await self.app(scope, receive, send)
            return
        message = f"request bodies are limited to {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(error_body("payload_too_large", message), status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes HTTPException through while reading a body; the error
                    # table (api/errors.py) turns 413 into ``payload_too_large``.
                    raise HTTPException(413, message)
            return event

        await self.app(scope, counted, send)
