"""An answer phrased by the language model, kept only when its numbers are the result's.

``phrase_answer`` gives the model the question, the plan in words, the executed
``PlanResult`` and the templated answer, and asks for a short answer in the question's
language. ``unsupported_numbers`` lists every number of the text that the result does not
hold: a figure ($1,234.56, 12.3%, 1,234 requests) must equal a value of the result at the
precision written (a share or a rate may be written as a percentage), and any other number
(a day, a year, a model's version, a top-N) must appear in the result's words, the plan's
or the templated answer. The caller uses the templated answer when ``Phrasing.text`` is None.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from pydantic_ai import Agent

from netra.questions.llm import LanguageModel, ModelUsage, call_model
from netra.questions.result import PlanResult

_NUMBER: Final = re.compile(r"\d(?:[\d,]*\d)?(?:\.\d+)?")
_VERSION: Final = re.compile(r"(?<=\d)-(?=\d)")  # claude-sonnet-4-5, as people write 4.5
_ROWS_SHOWN: Final = 50
_INSTRUCTIONS: Final = """\
You phrase the answer to a question about a team's LLM usage and spend, in the question's
language, in one to three sentences: the figure asked for first, then what supports it.
Use only the figures of the result given, formatted like $1,234.56, $0.0132, 12.3% and
1,234 requests; never compute, estimate or round to a new figure. Say the window used."""


@dataclass(frozen=True)
class Phrasing:
    """``text``: the model's answer, or None (use the templated answer) with ``reason``."""

    text: str | None
    reason: str | None
    usage: ModelUsage


async def phrase_answer(
    llm: LanguageModel, question: str, result: PlanResult, templated: str
) -> Phrasing:
    """The model's phrasing of ``result`` when every number in it is the result's."""
    agent = Agent(output_type=str, instructions=_INSTRUCTIONS)
    text, usage, failure = await call_model(
        llm, lambda: agent.run(_prompt(question, result, templated), model=llm.model)
    )
    if text is None:
        return Phrasing(text=None, reason=failure, usage=usage)
    text = text.strip()
    if not text:
        return Phrasing(text=None, reason="the language model's answer was empty", usage=usage)
    if unsupported := unsupported_numbers(text, result, templated):
        figures = ", ".join(unsupported)
        reason = f"the language model's answer has figures not in the result: {figures}"
        return Phrasing(text=None, reason=reason, usage=usage)
    return Phrasing(text=text, reason=None, usage=usage)


def unsupported_numbers(text: str, result: PlanResult, templated: str) -> list[str]:
    """The numbers written in ``text`` that ``result`` does not hold (module docstring)."""
    values = [figure.value for figure in result.headline if figure.value is not None]
    words = [templated, result.plan.describe(), *result.columns, result.method or ""]
    for row in result.rows:
        for cell in row:
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                values.append(float(cell))
            elif cell is not None:
                words.append(str(cell))
    for window in (result.window, result.plan.window, result.plan.versus_window):
        if window is not None:
            words.append(f"{window.start} {window.end} {window.days}")
    named = {number for word in words for number in _numbers(word)}
    magnitudes = [Decimal(repr(abs(value))) for value in values]
    unsupported = []
    for found in _NUMBER.finditer(text):
        written = Decimal(found.group().replace(",", ""))
        if written in named:
            continue
        percent = text[found.end() : found.end() + 2].lstrip().startswith("%")
        if not any(_shown_as(value, written, percent) for value in magnitudes):
            unsupported.append(found.group() + ("%" if percent else ""))
    return unsupported


def _numbers(text: str) -> set[Decimal]:
    """The numbers of ``text``, reading ``claude-sonnet-4-5`` also as ``4.5``."""
    dotted = _VERSION.sub(".", text)
    return {Decimal(found.replace(",", "")) for found in _NUMBER.findall(f"{text} {dotted}")}


def _shown_as(value: Decimal, written: Decimal, percent: bool) -> bool:
    """``value`` rounded to the decimals of ``written`` is ``written`` (a fraction may be
    written as a percentage)."""
    exponent = written.as_tuple().exponent
    assert isinstance(exponent, int)  # a parsed digit string is finite
    half = Decimal(5).scaleb(exponent - 1)
    candidates = (value, value * 100) if percent else (value,)
    return any(abs(candidate - written) <= half for candidate in candidates)


def _prompt(question: str, result: PlanResult, templated: str) -> str:
    figures = {figure.label: figure.value for figure in result.headline}
    table = {"columns": result.columns, "rows": result.rows[:_ROWS_SHOWN]}
    window = result.window or result.plan.window
    return (
        f"Question: {question}\n"
        f"Read as: {result.plan.describe()}\n"
        f"Window used: {window.describe() if window else 'the whole period'}\n"
        f"Figures: {json.dumps(figures)}\n"
        f"Table: {json.dumps(table, default=str)}\n"
        f"Method: {result.method or '-'}\n"
        f"Templated answer: {templated}"
    )
