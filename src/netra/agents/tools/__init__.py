"""Agent tools: plain async functions ``tool(ctx, **typed_args) -> JSON``.

Each runs one analysis of the analytics engine over the run's dataset, in a worker
thread (DuckDB is synchronous), and returns JSON-ready data. Agents call them through
``ctx.call(agent, tool, **args)`` so every call streams ``tool_executing`` and
``tool_completed`` with its arguments, duration and a short result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from netra.errors import RunError
from netra.runtime.context import RunContext


async def over_dataset(ctx: RunContext, analysis: Callable[[Path], Any]) -> Any:
    """Run ``analysis(dataset_path)`` in a worker thread; return its result as JSON data."""
    if ctx.dataset is None:
        raise RunError("this run has no dataset to analyse")
    path = ctx.dataset.path
    return await asyncio.to_thread(lambda: to_jsonable_python(analysis(path)))
