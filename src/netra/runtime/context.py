"""RunContext: the small, explicit context every agent and tool of one run receives."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python

from netra.ids import new_id
from netra.protocol import (
    AgentThinking,
    RunEventData,
    ToolCompleted,
    ToolExecuting,
)
from netra.runtime.dataset import RunDataset
from netra.runtime.events import Emitter

# A tool is a plain async function ``tool(ctx, **typed_args) -> result``.
Tool = Callable[..., Awaitable[Any]]
SUMMARY_MAX_ITEMS = 5
SUMMARY_MAX_CHARS = 200


def summarise(result: Any) -> Any:
    """The JSON a ``tool_completed`` carries, bounded whatever the dataset's width: at any
    depth a list (or tuple) of more than ``SUMMARY_MAX_ITEMS`` becomes ``{"items": n,
    "first": [...]}`` and a string is cut to ``SUMMARY_MAX_CHARS``. The full result stays
    in the run's state and report."""
    value = to_jsonable_python(result)
    if isinstance(value, list):
        shown = [summarise(item) for item in value[:SUMMARY_MAX_ITEMS]]
        return shown if len(value) <= SUMMARY_MAX_ITEMS else {"items": len(value), "first": shown}
    if isinstance(value, dict):
        return {key: summarise(item) for key, item in value.items()}
    if isinstance(value, str) and len(value) > SUMMARY_MAX_CHARS:
        return value[:SUMMARY_MAX_CHARS] + "…"
    return value


@dataclass(frozen=True, slots=True)
class RunContext:
    user_id: str
    thread_id: str
    run_id: str
    request_id: str | None
    message: str
    dataset: RunDataset | None
    emitter: Emitter

    async def emit(self, data: RunEventData, *, state: dict[str, Any] | None = None) -> None:
        await self.emitter.emit(data, state=state)

    async def think(self, agent: str, text: str) -> None:
        await self.emit(AgentThinking(agent=agent, text=text))

    async def call(self, agent: str, tool: Tool, **args: Any) -> Any:
        """Run a tool as ``agent``: ``tool_executing``, the call, ``tool_completed``."""
        call_id = f"call-{new_id()}"
        await self.emit(ToolExecuting(agent=agent, tool=tool.__name__, call_id=call_id, args=args))
        started = time.perf_counter()
        result = await tool(self, **args)
        duration_ms = round((time.perf_counter() - started) * 1000)
        await self.emit(
            ToolCompleted(
                agent=agent,
                tool=tool.__name__,
                call_id=call_id,
                duration_ms=duration_ms,
                result=summarise(result),
            )
        )
        return result
