"""Agent tools: plain async functions ``tool(ctx, **typed_args) -> JSON``.

Each runs one analysis of the analytics engine over the run's dataset, in a worker
thread (DuckDB is synchronous), and returns JSON-ready data. Agents call them through
``ctx.call(agent, tool, **args)`` so every call streams ``tool_executing`` and
``tool_completed`` with its arguments, duration and a short result.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from pydantic_core import to_jsonable_python

from netra import analytics
from netra.errors import RunError
from netra.runtime.context import RunContext

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


async def over_dataset(ctx: RunContext, analysis: Callable[[Any], Any]) -> Any:
    """Run ``analysis(source)`` in a worker thread over the run's shared dataset connection
    (opened, priced and rolled up by the first call); return the result as JSON data."""
    dataset = ctx.dataset
    if dataset is None:
        raise RunError("this run has no dataset to analyse")

    def run() -> Any:
        if dataset.connection is None:
            opened = ExitStack()  # closed with the run's context, when it is collected
            dataset.connection = opened.enter_context(
                analytics.open_dataset(dataset.path, rollup=True)
            )
            dataset.closer = opened
            _exempt_engine_from_gc()
        return to_jsonable_python(analysis(dataset.connection))

    return await asyncio.to_thread(run)
