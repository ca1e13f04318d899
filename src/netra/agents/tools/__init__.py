"""Agent tools: plain async functions ``tool(ctx, **typed_args) -> result``.

Each runs one analysis of the analytics engine over the run's dataset, in a worker
thread (DuckDB is synchronous), and returns the engine's typed result model. Agents call
them through ``ctx.call(agent, tool, **args)`` so every call streams ``tool_executing``
and ``tool_completed`` with its arguments, duration and a short result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from netra.errors import RunError
from netra.runtime.context import RunContext

T = TypeVar("T")


async def over_dataset(ctx: RunContext, analysis: Callable[[Any], T]) -> T:
    """Run ``analysis(source)`` in a worker thread over the run's shared dataset connection
    (opened, priced and rolled up by the first call)."""
    dataset = ctx.dataset
    if dataset is None:
        raise RunError("this run has no dataset to analyse")
    return await asyncio.to_thread(dataset.query, analysis)
