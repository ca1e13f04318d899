"""The agents of a run: triage → data → optimization → actions → reporting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netra.agents.actions import Actions
from netra.agents.data import Data
from netra.agents.optimization import Optimization
from netra.agents.reporting import Reporting
from netra.agents.triage import Triage
from netra.db import Database
from netra.questions.usage import ModelUsage
from netra.runtime.agent import Agent

if TYPE_CHECKING:
    from netra.questions.llm import LanguageModel


def build_agents(
    db: Database,
    llm: LanguageModel | None = None,
    record_llm: Callable[[ModelUsage], None] | None = None,
) -> dict[str, Agent]:
    """One instance of each agent; they hold no per-run state (that is RunState's).

    ``llm``: the configured language model (None: the parser reads questions and the
    answers are templated); ``record_llm`` counts its usage in the metrics.
    """
    agents: list[Agent] = [
        Triage(db, llm, record_llm),
        Data(),
        Optimization(),
        Actions(),
        Reporting(llm, record_llm),
    ]
    return {agent.name: agent for agent in agents}
