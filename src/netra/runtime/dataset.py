"""RunDataset: a run's dataset and the one priced DuckDB connection its analyses share.

The run's tool calls are sequential, so they share one connection: the price join and the
roll-up happen once per run, not once per call. The first analysis opens it (in its worker
thread); the runner owns it with ``async with`` and closes it when the run's work ends. A
call still running in its thread after a cancel keeps it open until that call returns.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from netra import analytics
from netra.errors import RunError

T = TypeVar("T")

_engine_frozen = False


def _exempt_engine_from_gc() -> None:
    """Move the analytics engine out of the garbage collector's reach, once per process.

    The engine (DuckDB, pyarrow, numpy and the price catalog: ~40k tracked objects) is
    imported with the first analysis, after start-up froze the server's own objects
    (``server._exempt_startup_objects_from_gc``; importing it at start-up would cost every
    server its memory). Without this, each later full collection walks it again: 7-19 ms
    each, measured in a process that had run one analysis, against 0.1 ms once frozen.
    """
    global _engine_frozen
    if not _engine_frozen:
        _engine_frozen = True
        gc.freeze()


class RunDataset:
    """``fetch``: brings the file to ``path`` before the first analysis opens it (an object
    store's read cache); it raises when the dataset's file is gone."""

    def __init__(self, id: str, path: Path, fetch: Callable[[], object] | None = None) -> None:
        self.id = id
        self.path = path
        self._fetch = fetch
        self._lock = threading.Lock()  # one analysis at a time; close waits for none
        self._stack: ExitStack | None = None
        self._connection: Any = None
        self._closed = False

    @property
    def is_open(self) -> bool:
        return self._connection is not None

    def query(self, analysis: Callable[[Any], T]) -> T:
        """Run ``analysis(connection)`` (blocking: call it in a worker thread)."""
        with self._lock:
            if self._closed:
                raise RunError("the run's dataset is closed")
            try:
                if self._stack is None:
                    if self._fetch is not None:
                        self._fetch()
                    stack = ExitStack()
                    self._connection = stack.enter_context(
                        analytics.open_dataset(self.path, rollup=True)
                    )
                    self._stack = stack
                    _exempt_engine_from_gc()
                return analysis(self._connection)
            finally:
                if self._closed:  # closed while this call ran: it closes on its way out
                    self._close_open()

    def close(self) -> None:
        """Close the connection now, or as the analysis running in its thread returns."""
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                self._close_open()
            finally:
                self._lock.release()

    def _close_open(self) -> None:
        stack, self._stack, self._connection = self._stack, None, None
        if stack is not None:
            stack.close()

    async def __aenter__(self) -> RunDataset:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
