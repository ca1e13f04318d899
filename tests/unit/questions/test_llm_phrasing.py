"""A phrased answer is kept only when every number in it is the executed result's."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from netra.questions.llm import LanguageModel
from netra.questions.phrasing import phrase_answer, unsupported_numbers
from netra.questions.plan import Filters, QuestionPlan, Window
from netra.questions.result import Figure, PlanResult

PLAN = QuestionPlan(
    operation="measure",
    measure="share",
    filters=Filters(model=("claude-sonnet-4-5",)),
    window=Window(start=date(2025, 6, 23), end=date(2025, 6, 29), words="last week"),
    group_by="user",
)
RESULT = PlanResult(
    plan=PLAN,
    headline=[Figure(label="share", value=0.12345), Figure(label="spend", value=1234.5612)],
    columns=["user", "requests", "cost_per_request"],
    rows=[["alice", 1234, 0.013217], ["bob", 87, -2.5]],
)
TEMPLATED = "claude-sonnet-4-5 was 12.3% of spend, Jun 23-29 (last week)."


@pytest.mark.parametrize(
    "text",
    [
        "Claude Sonnet 4.5 was 12.3% of spend last week (Jun 23-29, 2025).",
        "That is 12.35 % of the total: $1,234.56, of which alice made 1,234 requests.",
        "Alice paid $0.0132 per request; bob's figure fell by 2.5.",
        "Over the 7 days, $1,235 in all.",
    ],
)
def test_figures_of_the_result_written_as_people_write_them_are_accepted(text: str) -> None:
    assert unsupported_numbers(text, RESULT, TEMPLATED) == []


@pytest.mark.parametrize(
    ("text", "unsupported"),
    [
        ("Claude was 13% of spend.", ["13%"]),
        ("You spent $1,250.00 on it.", ["1,250.00"]),
        ("Alice made 1,200 requests, about 0.02 each.", ["1,200", "0.02"]),
        ("Claude Sonnet 4.5 fue el 12,3 % del gasto.", ["12,3%"]),  # a decimal comma: 123
        ("Next month you will spend $2,469.12.", ["2,469.12"]),
        ("It was 0.12345 of spend, up 40% from June 16.", ["40%", "16"]),
    ],
)
def test_a_figure_the_result_does_not_hold_is_named(text: str, unsupported: list[str]) -> None:
    assert unsupported_numbers(text, RESULT, TEMPLATED) == unsupported


def replying(text: str) -> LanguageModel:
    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(text)])

    return LanguageModel(model=FunctionModel(reply), timeout_s=5)


async def test_a_phrasing_with_the_results_figures_is_used() -> None:
    text = "Claude Sonnet 4.5 representó el 12.3% del gasto del 23 al 29 de junio."
    phrased = await phrase_answer(replying(text), "¿qué parte es claude?", RESULT, TEMPLATED)
    assert phrased.text == text and phrased.reason is None
    assert phrased.usage.requests == 1


async def test_a_phrasing_with_an_invented_figure_is_refused_with_the_reason() -> None:
    llm = replying("Claude was 12.3% of spend; expect 15% next week.")
    phrased = await phrase_answer(llm, "what share is claude?", RESULT, TEMPLATED)
    assert phrased.text is None
    assert phrased.reason == "the language model's answer has figures not in the result: 15%"


async def test_a_failing_model_leaves_the_templated_answer() -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise OSError("connection refused")

    llm = LanguageModel(model=FunctionModel(broken), timeout_s=5)
    phrased = await phrase_answer(llm, "what share is claude?", RESULT, TEMPLATED)
    assert phrased.text is None
    assert phrased.reason == "the language model failed (OSError)"


async def test_the_model_is_given_the_result_and_the_templated_answer() -> None:
    prompts: list[str] = []

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompts.append(str(messages[0].parts[-1].content))  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart("12.3% of spend.")])

    await phrase_answer(LanguageModel(model=FunctionModel(reply)), "share?", RESULT, TEMPLATED)
    assert '"share": 0.12345' in prompts[0] and '["alice", 1234, 0.013217]' in prompts[0]
    assert TEMPLATED in prompts[0] and "Jun 23-29 (last week)" in prompts[0]
