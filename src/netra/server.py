"""Run the app under uvicorn with the protocol's WebSocket limits and graceful shutdown.

On SIGTERM/SIGINT the server stops accepting, closes every WebSocket with 1001, gives
running runs ``NETRA_SHUTDOWN_GRACE_S`` to finish (the rest stay stored and resume at the
next start), and exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import math
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from netra.app import create_app
from netra.config import Settings


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # The shutdown was graceful: exit 0 instead of re-raising SIGTERM/SIGINT.
            self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        exempt_startup_objects_from_gc()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # stop accepting first
        app = _find_app(self.config.loaded_app)
        if app is not None and hasattr(app.state, "gateway"):
            await app.state.gateway.close_all()
        await super().shutdown(sockets)


def _find_app(asgi: Any) -> Any:
    """The FastAPI app under uvicorn's middleware wrappers."""
    while asgi is not None and not hasattr(asgi, "router"):
        asgi = getattr(asgi, "app", None)
    return asgi


_QUERY = re.compile(r"\?[^\s\"]*")


class _RedactQueries(logging.Filter):
    """Drop query strings from uvicorn's lines: a client may put a token in one (``/ws?token=``).

    uvicorn logs every WebSocket handshake at info with the path and its query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("?[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1024 * 1024


def _return_large_buffers_to_the_os() -> None:
    """Serve allocations of 1 MiB and more (argon2's 19 MiB, DuckDB results) with mmap.

    glibc raises its mmap threshold after such a buffer is freed, so the next ones come from
    per-thread heaps that are never given back: each login would leave ~19 MiB resident.
    Setting the threshold explicitly turns that adjustment off (glibc only; a no-op elsewhere).
    """
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name)
    if hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def exempt_startup_objects_from_gc() -> None:
    """Move what start-up built (modules, the app, the schema) out of the collector's reach.

    A full collection walks every tracked object: with the ~125k that FastAPI, SQLAlchemy
    and pydantic leave behind it paused the event loop for 60-80 ms every few seconds under
    load (bench/load.py). Frozen objects are never collected (they live as long as the
    process anyway), so a full collection walks only what the server created since (~20k).
    """
    gc.collect()
    gc.freeze()


def run_server(settings: Settings) -> int:
    _return_large_buffers_to_the_os()
    logging.getLogger("uvicorn.error").addFilter(_RedactQueries())
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=settings.heartbeat_interval_s,
        ws_ping_timeout=settings.heartbeat_interval_s,
        ws_per_message_deflate=False,  # small JSON frames: compression costs more than it saves
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s) + 2,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = _Server(config)
    url = f"http://{settings.host}:{settings.port}/"
    print(f"Netra Apex is serving at {url}", flush=True)
    server.run()
    return 0
