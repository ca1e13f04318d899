"""Triage: decide from the message which agents the question needs, and say why.

The classifier is deterministic (no language model): ordered rules over the lower-cased
message. It extracts what the later agents need (breakdown dimensions, a named model,
user or feature, whether the user asks how to act) and picks the plan:

    chat / product question      triage → reporting
    no usage data loaded         triage → reporting (how to load data or the demo)
    spend, latency, growth, user triage → data → reporting
    cut costs / optimise         triage → data → optimization → reporting
    ... and "how do we" act      triage → data → optimization → actions → reporting
"""

from __future__ import annotations

import re
from typing import Any

from netra.runtime.context import RunContext
from netra.runtime.state import Intent, RunState

_OPTIMIZE = re.compile(
    r"\b(cut|reduce|lower|sav(e|ing|ings)|cheaper|optimi[sz]\w*|recommend\w*|waste\w*|"
    r"spend less|cost[- ]effective|too (much|expensive)|cheapest|trim|shrink)\b"
)
_ACT = re.compile(
    r"\b(how (do|can|should) (we|i)|how to|action plan|implement\w*|steps?|roll ?out|"
    r"what should (we|i) do|plan)\b"
)
_LATENCY = re.compile(r"\b(latency|latencies|p50|p95|p99|slow\w*|fast\w*|response time)\b")
_GROWTH = re.compile(r"\b(grew|grow\w*|increase\w*|trend\w*|spike\w*|anomal\w*|jump\w*)\b")
_SPEND = re.compile(
    r"\b(spen[dt]\w*|cost\w*|bill\w*|pay\w*|paid|charge\w*|usage|tokens?|breakdown|"
    r"per (model|provider|feature|user|project|day|key)|by (model|provider|feature|user|"
    r"project|day|key)|how much|money|budget|expens\w*|price\w*)\b"
)
_USER = re.compile(r"\buser\s+([A-Za-z0-9_.@-]+)|\b(u\d+)\b", re.IGNORECASE)
_MODEL = re.compile(
    r"\b((gpt|o1|o3|o4|claude|gemini|mistral|llama|command|deepseek)[a-z0-9.:-]*)\b"
)
_DIMENSIONS = {
    "model": r"\bmodels?\b",
    "provider": r"\bproviders?\b|\bvendors?\b",
    "feature": r"\bfeatures?\b",
    "user": r"\busers?\b|\bcustomers?\b",
    "project": r"\bprojects?\b",
    "api_key": r"\b(api )?keys?\b",
    "day": r"\b(day|daily|per day|by day|over time)\b",
}
_NO_DATA_PLAN = ["triage", "reporting"]


def classify(message: str, *, has_data: bool) -> tuple[Intent, list[str]]:
    """The question's intent and the agents that answer it, in order."""
    text = " ".join(message.lower().split())
    dimensions = [name for name, pattern in _DIMENSIONS.items() if re.search(pattern, text)]
    model_match = _MODEL.search(text)
    user_match = _USER.search(message)
    model = model_match.group(1) if model_match else None
    user = (user_match.group(1) or user_match.group(2)) if user_match else None
    if _OPTIMIZE.search(text):
        acts = bool(_ACT.search(text))
        intent = Intent(
            kind="optimize",
            dimensions=dimensions or ["model", "feature"],
            reason="the question asks how to spend less"
            + (" and how to act on it" if acts else ""),
            model=model,
            user=user,
        )
        plan = ["triage", "data", "optimization", *(["actions"] if acts else []), "reporting"]
    elif _LATENCY.search(text):
        intent = Intent(
            kind="latency", reason="the question is about latency", model=model, user=user
        )
        plan = ["triage", "data", "reporting"]
    elif user and _SPEND.search(text):
        intent = Intent(
            kind="user_cost",
            reason=f"the question asks what user {user} costs",
            model=model,
            user=user,
        )
        plan = ["triage", "data", "reporting"]
    elif _GROWTH.search(text) and (_SPEND.search(text) or "feature" in dimensions):
        intent = Intent(
            kind="growth",
            dimensions=dimensions or ["feature"],
            reason="the question asks what changed over time",
            model=model,
            user=user,
        )
        plan = ["triage", "data", "reporting"]
    elif _SPEND.search(text):
        intent = Intent(
            kind="spend",
            dimensions=dimensions or ["model"],
            reason="the question asks where the money goes",
            model=model,
            user=user,
        )
        plan = ["triage", "data", "reporting"]
    else:
        intent = Intent(
            kind="chat", reason="a greeting or a question about the product: no data needed"
        )
        return intent, list(_NO_DATA_PLAN)
    if not has_data:
        return (
            Intent(kind="no_data", reason=intent.reason + ", but no usage data is loaded yet"),
            list(_NO_DATA_PLAN),
        )
    return intent, plan


class Triage:
    name = "triage"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        intent = state.intent
        following = [agent for agent in state.plan if agent != self.name]
        details = [
            f"{key} {value}"
            for key in ("model", "user", "feature")
            if (value := getattr(intent, key))
        ]
        if intent.dimensions and intent.kind in {"spend", "optimize", "growth"}:
            details.append("by " + ", ".join(intent.dimensions))
        await ctx.think(
            self.name,
            f"Intent: {intent.kind} — {intent.reason}"
            + (f" ({'; '.join(details)})" if details else "")
            + f". Next: {', '.join(following)}.",
        )
        return {
            "intent": intent.kind,
            "next": following,
            **({"details": details} if details else {}),
        }
