"""Scoring question understanding on a question bank: ``netra eval [FILE]``.

A bank has one JSON object a line: ``category``, ``question``, optional ``previous`` (the
question before it in the thread) and ``expect``: the plan fields that must match (a plan
counts correct when every field the line names equals the one read, windows as ISO dates).
The bank shipped with the package (``bank.jsonl``) is written against the demo dataset
(seed 0, May 20 - Jun 30 2025) as of ``BANK_TODAY``.

The parser is always scored; a configured language model (``NETRA_LLM_MODEL``) is scored
beside it, counting only the plans the model itself gave (a fallback to the parser counts
as a miss), so an operator can judge a model before turning it on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, Final

from netra.questions.parser import parse
from netra.questions.plan import QuestionPlan
from netra.questions.vocabulary import Vocabulary

DEFAULT_BANK: Final = Path(__file__).with_name("bank.jsonl")
BANK_TODAY: Final = date(2025, 11, 30)  # the day the shipped bank's relative windows assume
PASS_MARK: Final = 0.9

Scores = dict[str, tuple[int, int]]


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


def score(bank: Iterable[dict[str, Any]], hits: Iterable[bool]) -> Scores:
    """(correct, total) per category, and ``overall``."""
    scores: dict[str, list[int]] = {}
    for item, hit in zip(bank, hits, strict=True):
        for category in (item["category"], "overall"):
            tally = scores.setdefault(category, [0, 0])
            tally[0] += hit
            tally[1] += 1
    return {category: (good, total) for category, (good, total) in scores.items()}


def evaluate(bank: list[dict[str, Any]], vocabulary: Vocabulary, today: date) -> Scores:
    """The parser's (correct, total) per category, and ``overall``."""
    return score(bank, (correct(_read(item, vocabulary, today), item["expect"]) for item in bank))


def misses(bank: list[dict[str, Any]], vocabulary: Vocabulary, today: date) -> list[str]:
    """Each question the parser reads wrong: how it read it, and what the bank expects."""
    lines = []
    for item in bank:
        plan = _read(item, vocabulary, today)
        if not correct(plan, item["expect"]):
            after = f" (after: {item['previous']})" if item.get("previous") else ""
            lines += [
                f"[{item['category']}] {item['question']}{after}",
                f"    read:     {plan.operation}: {plan.describe()}",
                f"    expected: {json.dumps(item['expect'])}",
            ]
    return lines


def _read(item: dict[str, Any], vocabulary: Vocabulary, today: date) -> QuestionPlan:
    previous = item.get("previous")
    before = parse(previous, vocabulary, today=today) if previous else None
    return parse(item["question"], vocabulary, previous=before, today=today)


def table(columns: dict[str, Scores]) -> str:
    """Accuracy per category (rows) for each reader (columns), ``overall`` last."""
    first = next(iter(columns.values()))
    categories = sorted(first, key=lambda name: (name == "overall", name))
    lines = [f"{'category':<16} {'questions':>9} " + " ".join(f"{n:>12}" for n in columns)]
    for category in categories:
        cells = []
        for scores in columns.values():
            good, total = scores.get(category, (0, 0))
            cells.append(f"{good:>4} {good / total:>6.1%}" if total else f"{'-':>12}")
        lines.append(f"{category:<16} {first[category][1]:>9} " + " ".join(cells))
    return "\n".join(lines)


def passed(scores: Scores) -> bool:
    good, total = scores["overall"]
    return good >= PASS_MARK * total


def run_eval(
    path: Path | None,
    vocabulary: Vocabulary,
    today: date,
    *,
    model: Callable[[list[dict[str, Any]]], Scores] | None = None,
    show_misses: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """Print accuracy per category (the parser's, and ``model``'s when given), and with
    ``show_misses`` each question the parser reads wrong; 0 when the parser reads at least
    90 % of the bank right."""
    bank = load_bank(path or DEFAULT_BANK)
    columns = {"parser": evaluate(bank, vocabulary, today)}
    if model is not None:
        columns["model"] = model(bank)
    out(table(columns))
    if show_misses:
        for line in misses(bank, vocabulary, today):
            out(line)
    return 0 if passed(columns["parser"]) else 1


def _same(got: object, wanted: object) -> bool:
    if isinstance(got, list) and isinstance(wanted, list):
        return sorted(map(str, got)) == sorted(map(str, wanted))
    return got == wanted
