"""What an agent is: a name and ``async def run(ctx, state) -> output summary``."""

from __future__ import annotations

from typing import Any, Protocol

from netra.runtime.context import RunContext
from netra.runtime.state import RunState


class Agent(Protocol):
    name: str

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        """Do this agent's part, writing into ``state``; return a short JSON summary."""
        ...
