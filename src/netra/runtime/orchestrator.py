"""The per-run orchestrator: runs the planned agents in order, one event pair per agent.

The plan is read live, agent by agent: triage revises the agents that follow it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from netra.protocol import AgentCompleted, AgentStarted
from netra.runtime.agent import Agent
from netra.runtime.context import RunContext
from netra.runtime.state import RunState


class Orchestrator:
    """Created for one run; holds nothing but the agents it was given."""

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self.agents = agents

    async def run(self, ctx: RunContext, state: RunState) -> RunState:
        # The live list: an agent (triage) may revise the ones that follow it. An agent
        # already completed finished before the run was resumed.
        while (name := _next_agent(state)) is not None:
            agent = self.agents[name]
            await ctx.emit(AgentStarted(agent=name))
            started = time.perf_counter()
            output = await agent.run(ctx, state)
            state.completed.append(name)
            duration_ms = round((time.perf_counter() - started) * 1000)
            await ctx.emit(
                AgentCompleted(agent=name, duration_ms=duration_ms, output=output),
                # Stored so a resumed run skips it: after the last agent's, a resume only
                # ends the run, with the answer and report this state holds.
                state=state.model_dump(mode="json"),
            )
        return state


def _next_agent(state: RunState) -> str | None:
    return next((name for name in state.plan if name not in state.completed), None)
