"""Question benchmark: one question's work over an N-row demo dataset, as a run does it.

For each question a run opens the dataset (priced, rolled up: ``open_dataset(rollup=True)``,
what the run's ``RunDataset`` opens), reads the dataset's names (``read_vocabulary``: once
per dataset and process, then cached, so timed here both cold and as a cached lookup), parses
the question against them and executes the plan. Timed in this process, not through the
server: the events a run stores around this work add a few milliseconds (bench/load.py).

    python bench/question.py                      # 1,000,000 rows
    python bench/question.py --rows 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from netra.agents.triage import plan_question
from netra.analytics.connection import open_dataset
from netra.analytics.demo.generator import write_demo
from netra.questions import Vocabulary, parse, read_vocabulary
from netra.questions.execute import execute

QUESTIONS = (
    "Which user costs the most?",
    "What did we spend on Claude last week?",
    "Compare OpenAI and Anthropic spend",
    "Why did costs jump on June 25?",
    "Show daily spend for the last 7 days",
    "What's the p95 latency of claude?",
    "How much would we save by moving gpt-4o to gpt-4o-mini?",
    "what will we spend next month?",
    "Are there any anomalies?",
    "waht did we spnd per modle",
    "which models grew the most",
    "total spend and error rate by provider",
    "how much did we spend on mistral-large?",
)
PARSES: Final = 200  # parses of each question timed for the parse-only figures


def one(path: Path, question: str, *, cold_names: bool) -> dict[str, float]:
    """Seconds of each step of one question (a fresh connection, as a new run has)."""
    started = time.perf_counter()
    with open_dataset(path, rollup=True) as connection:
        opened = time.perf_counter()
        vocabulary = read_vocabulary(connection)
        named = time.perf_counter()
        plan = parse(question, vocabulary, today=datetime.now(UTC).date())
        parsed = time.perf_counter()
        if plan.operation not in ("chat", "unknown"):  # declined: no figures to run
            execute(connection, plan)
        done = time.perf_counter()
    names = named - opened if cold_names else 0.0
    return {
        "open": opened - started,
        "names": named - opened,
        "parse": parsed - named,
        "execute": done - parsed,
        "total": done - started - (named - opened) + names,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rows:,} demo rows")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.parquet"
        write_demo(path, rows=args.rows, seed=0)
        one(path, QUESTIONS[0], cold_names=True)  # warm the engine's import
        print(f"{'question':<58} {'open':>6} {'names':>6} {'parse':>6} {'exec':>6} {'total':>6}")
        worst = 0.0
        for question in QUESTIONS:
            runs = [one(path, question, cold_names=False) for _ in range(args.repeat)]
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            worst = max(worst, median["total"])
            print(
                f"{question[:58]:<58} "
                + " ".join(
                    f"{median[key] * 1000:>6.0f}"
                    for key in ("open", "names", "parse", "execute", "total")
                )
            )
        print(
            f"ms, median of {args.repeat}; total = open + parse + execute (names cached after "
            f"a dataset's first question, which adds the names column once); "
            f"slowest question {worst:.2f} s"
        )
        with open_dataset(path, rollup=True) as connection:
            vocabulary = read_vocabulary(connection)
        print(parse_times(vocabulary))


def parse_times(vocabulary: Vocabulary) -> str:
    """Mean parse time of each question over ``PARSES`` parses: against the dataset's names,
    and the admission's plan (no names); the slowest question of each."""
    today = datetime.now(UTC).date()
    named, admission = [], []
    for question in QUESTIONS:
        started = time.perf_counter()
        for _ in range(PARSES):
            parse(question, vocabulary, today=today)
        named.append((time.perf_counter() - started) / PARSES)
        started = time.perf_counter()
        for _ in range(PARSES):
            plan_question(question)
        admission.append((time.perf_counter() - started) / PARSES)
    return (
        f"parse, mean of {PARSES}: with the names {statistics.mean(named) * 1000:.3f} ms "
        f"(slowest question {max(named) * 1000:.3f} ms); admission "
        f"{statistics.mean(admission) * 1000:.3f} ms (slowest {max(admission) * 1000:.3f} ms)"
    )


if __name__ == "__main__":
    main()
