"""RunState: what the agents of one run know, flowing forward from agent to agent.

Each agent reads what earlier agents wrote and adds its own part; the orchestrator stores
the whole state with every ``agent_completed``, so a resumed run restarts only the agent
that was open. Everything here is JSON-serialisable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

IntentKind = Literal["chat", "no_data", "spend", "latency", "growth", "user_cost", "optimize"]


class Intent(BaseModel):
    kind: IntentKind
    reason: str
    dimensions: list[str] = Field(default_factory=list)  # spend breakdowns asked for
    model: str | None = None  # a model the question names
    user: str | None = None  # a user the question names
    feature: str | None = None  # a feature the question names


class RunState(BaseModel):
    message: str
    intent: Intent
    plan: list[str]
    completed: list[str] = Field(default_factory=list)
    analyses: dict[str, Any] = Field(default_factory=dict)  # data agent: tool name -> result
    recommendations: dict[str, Any] | None = None  # optimization agent
    action_plan: list[dict[str, Any]] = Field(default_factory=list)  # actions agent
    answer: str | None = None  # reporting agent
    report: dict[str, Any] | None = None  # reporting agent
