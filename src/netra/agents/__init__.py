"""The agents of a run: triage → data → optimization → actions → reporting."""

from __future__ import annotations

from netra.agents.actions import Actions
from netra.agents.data import Data
from netra.agents.optimization import Optimization
from netra.agents.reporting import Reporting
from netra.agents.triage import Triage
from netra.runtime.agent import Agent


def build_agents() -> dict[str, Agent]:
    """One instance of each agent; they hold no per-run state (that is RunState's)."""
    agents: list[Agent] = [Triage(), Data(), Optimization(), Actions(), Reporting()]
    return {agent.name: agent for agent in agents}
