"""Triage: read the question into a ``QuestionPlan`` and pick the agents that answer it.

At admission, ``plan_question`` reads the message with the deterministic parser and no
dataset names (well under a millisecond: it runs before the admission's transaction) and
picks the agents announced in ``run_started``:

    chat / not understood        triage → reporting
    no usage data loaded         triage → reporting (how to load data or the demo)
    how to save (recommend)      triage → data → optimization → reporting
    ... and "how do we" act      triage → data → optimization → actions → reporting
    any other data question      triage → data → reporting

In the run, triage reads it again against the dataset's own names (a tool, cached per
dataset) and the thread's previous plan, or asks the configured language model; it shows
the plan in words and revises the agents that follow (``state.plan``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from netra.agents.tools import questions as question_tools
from netra.db import Database
from netra.db import runs as run_rows
from netra.questions.parser import parse
from netra.questions.plan import QuestionPlan
from netra.questions.usage import ModelUsage
from netra.questions.vocabulary import Vocabulary
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

if TYPE_CHECKING:
    from netra.questions.llm import LanguageModel

_ACT = re.compile(
    r"\b(how (do|can|should) (we|i)|how to|action plan|implement\w*|steps?|roll ?out|"
    r"what should (we|i) do|plan)\b"
)
_NO_NAMES = Vocabulary()
EARLIER_TURNS = 5  # of the thread, for follow-ups and the language model


def agents_for(question: QuestionPlan, message: str) -> list[str]:
    """The agents that answer ``question`` over a dataset, in order."""
    if question.operation in ("chat", "unknown"):
        return ["triage", "reporting"]
    if question.operation == "recommend":
        acts = ["actions"] if _ACT.search(message.lower()) else []
        return ["triage", "data", "optimization", *acts, "reporting"]
    return ["triage", "data", "reporting"]


def plan_question(message: str) -> tuple[QuestionPlan, list[str]]:
    """The admission's reading of ``message`` (no dataset names) and the agents that answer
    it when the user has data (without data, admission runs triage → reporting)."""
    question = parse(message, _NO_NAMES, today=datetime.now(UTC).date())
    return question, agents_for(question, message)


class Triage:
    name = "triage"

    def __init__(
        self,
        db: Database,
        llm: LanguageModel | None = None,
        record_llm: Callable[[ModelUsage], None] | None = None,
    ) -> None:
        self.db = db
        self.llm = llm
        self.record_llm = record_llm

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        question, note = state.question, ""
        if ctx.dataset is None:
            if question.operation != "chat":
                note = " No usage data is loaded yet."
        elif question.operation != "chat":  # a greeting needs no dataset names
            question, note = await self._read(ctx, state)
            state.question = question
            state.plan = agents_for(question, state.message)
        following = [agent for agent in state.plan if agent != self.name]
        await ctx.think(
            self.name,
            f"Read as: {question.describe()}.{note} Next: {', '.join(following)}.",
        )
        return {"operation": question.operation, "plan": question.describe(), "next": following}

    async def _read(self, ctx: RunContext, state: RunState) -> tuple[QuestionPlan, str]:
        """The plan against the dataset's names and the thread's earlier turns, and a note
        on how it was read (why the parser answered instead of the model)."""
        vocabulary: Vocabulary = await ctx.call(self.name, question_tools.read_vocabulary)
        turns = await self._earlier_turns(ctx)
        today = datetime.now(UTC).date()
        if self.llm is None:
            previous = turns[-1][1] if turns else None
            return parse(state.message, vocabulary, previous=previous, today=today), ""
        from netra.questions.llm import Turn, plan_with_model  # the model library: when used

        history = [Turn(question=message, plan=plan) for message, plan in turns]
        found = await plan_with_model(
            self.llm, state.message, vocabulary, history=history, today=today
        )
        state.llm_usage.append(found.usage)
        if self.record_llm is not None:
            self.record_llm(found.usage)
        if found.fallback_reason:
            return found.plan, f" ({found.fallback_reason}.)"
        return found.plan, f" (read by {self.llm.name}.)"

    async def _earlier_turns(self, ctx: RunContext) -> list[tuple[str, QuestionPlan]]:
        """The thread's earlier questions and their plans, oldest first."""
        rows = await self.db.read(
            lambda conn: run_rows.earlier_turns(conn, ctx.thread_id, ctx.run_id, EARLIER_TURNS)
        )
        turns = []
        for row in rows:
            try:
                plan = QuestionPlan.model_validate((row.state or {}).get("question"))
            except ValidationError:
                continue  # a run of an earlier version: no plan stored
            turns.append((row.message, plan))
        return turns
