"""Scoring the parser on a question bank (tests/data/questions.jsonl by default).

One JSON object a line: ``category``, ``question``, optional ``previous`` (the question
before it in the thread) and ``expect``: the plan fields that must match (a plan counts
correct when every field the line names equals the parser's, windows as ISO dates).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Final

from netra.questions.parser import parse
from netra.questions.plan import QuestionPlan
from netra.questions.vocabulary import Vocabulary

DEFAULT_BANK: Final = Path(__file__).resolve().parents[3] / "tests" / "data" / "questions.jsonl"


def load_bank(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def correct(plan: QuestionPlan, expect: dict[str, Any]) -> bool:
    """Whether every field of ``expect`` equals the plan's (JSON form)."""
    dumped = plan.model_dump(mode="json")
    for name, wanted in expect.items():
        got = dumped.get(name)
        if isinstance(wanted, dict) and isinstance(got, dict):
            if any(_same(got.get(key), value) is False for key, value in wanted.items()):
                return False
        elif not _same(got, wanted):
            return False
    return True


def evaluate(
    bank: list[dict[str, Any]], vocabulary: Vocabulary, today: date
) -> dict[str, tuple[int, int]]:
    """(correct, total) per category, and ``overall``."""
    scores: dict[str, list[int]] = {}
    for item in bank:
        previous = (
            parse(item["previous"], vocabulary, today=today) if item.get("previous") else None
        )
        plan = parse(item["question"], vocabulary, previous=previous, today=today)
        for category in (item["category"], "overall"):
            score = scores.setdefault(category, [0, 0])
            score[0] += correct(plan, item["expect"])
            score[1] += 1
    return {category: (hits, total) for category, (hits, total) in scores.items()}


def run_eval(path: Path | None, vocabulary: Vocabulary, today: date) -> int:
    """Print the parser's accuracy per category; 0 when overall accuracy is at least 90 %."""
    scores = evaluate(load_bank(path or DEFAULT_BANK), vocabulary, today)
    print(f"{'category':<16} {'correct':>8} {'total':>6} {'accuracy':>9}")
    for category, (hits, total) in sorted(scores.items(), key=lambda item: item[0] == "overall"):
        print(f"{category:<16} {hits:>8} {total:>6} {hits / total:>9.1%}")
    hits, total = scores["overall"]
    return 0 if hits >= 0.9 * total else 1


def _same(got: object, wanted: object) -> bool:
    if isinstance(got, list) and isinstance(wanted, list):
        return sorted(map(str, got)) == sorted(map(str, wanted))
    return got == wanted
