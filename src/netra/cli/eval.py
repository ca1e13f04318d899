"""``netra eval [FILE]``: how well questions are understood, per category of a question bank.

Without ``--dataset`` the names of the bank are resolved against the demo dataset (seed 0),
written to a temporary folder, and relative windows count from the bank's day; with it,
against that Parquet dataset (a file ``netra ingest`` or the demo wrote) as of today.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from netra.config import Settings
from netra.questions.evaluate import BANK_TODAY, Scores, correct, run_eval, score
from netra.questions.vocabulary import Vocabulary

MODEL_CALLS_AT_ONCE = 4


def evaluate_questions(
    settings: Settings,
    bank: Path | None,
    dataset: Path | None,
    today: date | None,
    show_misses: bool = False,
) -> int:
    from netra import analytics
    from netra.questions.llm import language_model
    from netra.questions.vocabulary import read_vocabulary

    with tempfile.TemporaryDirectory(prefix="netra-eval-") as folder:
        path = dataset
        if path is None:
            path = Path(folder) / "demo.parquet"
            analytics.write_demo(path, rows=20_000, seed=0)
        with analytics.open_dataset(path) as connection:
            vocabulary = read_vocabulary(connection)
    day = today or (BANK_TODAY if dataset is None else datetime.now(UTC).date())
    llm = language_model(settings)
    model = None
    if llm is not None:
        print(f"scoring the parser and {settings.llm_model} on the bank")

        def model(items: list[dict[str, Any]]) -> Scores:
            return asyncio.run(_model_scores(llm, items, vocabulary, day))

    return run_eval(bank, vocabulary, day, model=model, show_misses=show_misses)


async def _model_scores(
    llm: Any, bank: list[dict[str, Any]], vocabulary: Vocabulary, today: date
) -> Scores:
    """The model's plans scored: a question the parser had to answer counts as a miss."""
    from netra.questions.llm import Turn, plan_with_model
    from netra.questions.parser import parse

    slots = asyncio.Semaphore(MODEL_CALLS_AT_ONCE)

    async def read(item: dict[str, Any]) -> tuple[bool, Any]:
        previous = item.get("previous")
        history = [Turn(previous, parse(previous, vocabulary, today=today))] if previous else []
        async with slots:
            found = await plan_with_model(
                llm, item["question"], vocabulary, history=history, today=today
            )
        return found.fallback_reason is None and correct(found.plan, item["expect"]), found.usage

    results = await asyncio.gather(*(read(item) for item in bank))
    usages = [usage for _, usage in results]
    costs = [usage.cost_usd for usage in usages if usage.cost_usd is not None]
    print(
        f"model usage: {sum(u.requests for u in usages)} requests, "
        f"{sum(u.input_tokens for u in usages):,} input and "
        f"{sum(u.output_tokens for u in usages):,} output tokens"
        + (f", ${sum(costs):.4f}" if costs else ", cost unknown to the price catalog")
    )
    return score(bank, (hit for hit, _ in results))
