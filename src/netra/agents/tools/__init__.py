"""Agent tools: plain async functions ``tool(ctx, **typed_args) -> JSON``.

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


async def over_dataset(
    ctx: RunContext, analysis: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run ``analysis(dataset_path, *args, **kwargs)`` in a thread; return it as JSON data."""
    if ctx.dataset is None:
        raise RunError("this run has no dataset to analyse")
    result = await asyncio.to_thread(analysis, ctx.dataset.path, *args, **kwargs)
    return to_jsonable_python(result)
