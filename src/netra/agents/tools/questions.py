"""Tools of the question plan: the dataset's names (triage) and the plan's figures (data)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from netra import questions
from netra.agents.tools import over_dataset
from netra.errors import RunError
from netra.questions.plan import QuestionPlan
from netra.questions.result import PlanResult
from netra.questions.vocabulary import Vocabulary
from netra.runtime.context import RunContext

VOCABULARIES_KEPT = 64  # datasets whose names this process keeps


@dataclass
class _Slot:
    vocabulary: Vocabulary | None = None


@lru_cache(maxsize=VOCABULARIES_KEPT)
def _slot(dataset_id: str, path: Path) -> _Slot:
    """The cache entry of one stored dataset (datasets are immutable: it never goes stale)."""
    return _Slot()


async def read_vocabulary(ctx: RunContext) -> Vocabulary:
    """The dataset's own names (distinct values of every dimension) and its period: one
    scan, then kept in the process for the dataset's later questions."""
    if ctx.dataset is None:
        raise RunError("this run has no dataset to read names from")
    slot = _slot(ctx.dataset.id, ctx.dataset.path)
    if slot.vocabulary is None:
        slot.vocabulary = await over_dataset(ctx, questions.read_vocabulary)
    return slot.vocabulary


async def answer_question(ctx: RunContext, plan: QuestionPlan) -> PlanResult:
    """The figures of the plan, computed with DuckDB over the run's dataset."""
    from netra.questions.execute import execute  # the engine: with the first analysis

    return await over_dataset(ctx, lambda con: execute(con, plan))
