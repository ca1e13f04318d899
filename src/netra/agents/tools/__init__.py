"""Agent tools: plain async functions ``tool(ctx, **typed_args) -> result``.

Each runs one analysis of the analytics engine over the run's dataset, in a worker
thread (DuckDB is synchronous), and returns JSON-ready data. Agents call them through
``ctx.call(agent, tool, **args)`` so every call streams ``tool_executing`` and
``tool_completed`` with its arguments, duration and a short result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic_core import to_jsonable_python

from netra.errors import RunError
from netra.runtime.context import RunContext


async def over_dataset(ctx: RunContext, analysis: Callable[[Any], Any]) -> Any:
    """Run ``analysis(source)`` in a worker thread over the run's shared dataset connection
    (opened, priced and rolled up by the first call); return the result as JSON data."""
    dataset = ctx.dataset
    if dataset is None:
        raise RunError("this run has no dataset to analyse")
    return await asyncio.to_thread(
        dataset.query, lambda source: to_jsonable_python(analysis(source))
    )
