"""The language-model path against pydantic-ai's scripted models: no network.

``FunctionModel`` plays the model: it answers each request with a scripted structured output
(a call of the output tool), or fails, or takes too long.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from netra.config import Settings, SettingsError, load_settings
from netra.questions import QuestionPlan, Vocabulary, parse
from netra.questions.llm import LanguageModel, ModelUsage, Turn, language_model, plan_with_model
from netra.resources import open_resources

TODAY = date(2025, 11, 30)
VOCABULARY = Vocabulary(
    values=(
        ("model", ("claude-haiku-4-5", "claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini")),
        ("provider", ("anthropic", "openai")),
        ("feature", ("chat", "search")),
        ("user", ("alice", "bob")),
        ("project", ("apex",)),
        ("api_key", ("key-1",)),
        ("status", ("error", "success")),
    ),
    first_at=datetime(2025, 5, 20, tzinfo=UTC),
    last_at=datetime(2025, 6, 30, 23, tzinfo=UTC),
)
LAST_WEEK = {"start": "2025-06-23", "end": "2025-06-29", "words": "last week"}
ON_CLAUDE = {
    "operation": "measure",
    "filters": {"model": ["claude-haiku-4-5", "claude-sonnet-4-5"]},
    "window": {**LAST_WEEK, "anchored_to_data": True},
}


def scripted(*plans: dict[str, Any] | Exception) -> tuple[LanguageModel, list[str]]:
    """A model answering each request with the next plan (or raising it); the prompts it saw."""
    answers = list(plans)
    seen: list[str] = []

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(_text(messages, info))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, answer)])

    return LanguageModel(model=FunctionModel(reply), timeout_s=5), seen


def _text(messages: list[ModelMessage], info: AgentInfo) -> str:
    parts = [info.instructions or ""]
    for message in messages:
        if isinstance(message, ModelRequest):
            parts.extend(str(getattr(part, "content", "")) for part in message.parts)
    return "\n".join(parts)


async def test_the_models_plan_is_used_when_valid() -> None:
    llm, seen = scripted(ON_CLAUDE)
    answer = await plan_with_model(llm, "What did we spend on Claude last week?", VOCABULARY)
    assert answer.fallback_reason is None
    assert answer.plan == QuestionPlan.model_validate(ON_CLAUDE)
    assert answer.usage.requests == 1
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0
    assert len(seen) == 1


async def test_the_model_sees_the_question_the_thread_and_the_datasets_values() -> None:
    llm, seen = scripted(ON_CLAUDE)
    earlier = Turn("how much did alice spend?", parse("how much did alice spend?", VOCABULARY))
    await plan_with_model(llm, "and bob?", VOCABULARY, history=[earlier], today=TODAY)
    prompt = seen[0]
    assert "and bob?" in prompt
    assert '"how much did alice spend?": read as spend on user alice' in prompt
    assert '"user":["alice"]' in prompt  # the previous plan, to change
    assert "claude-sonnet-4-5" in prompt and "gpt-4o-mini" in prompt and "key-1" in prompt
    assert "Today is 2025-11-30" in prompt and "2025-05-20 to 2025-06-30" in prompt


async def test_an_invalid_plan_is_retried_once_and_the_second_answer_used() -> None:
    invented = {"operation": "measure", "filters": {"model": ["claude-3-opus"]}}
    llm, seen = scripted(invented, ON_CLAUDE)
    answer = await plan_with_model(llm, "spend on claude last week", VOCABULARY, today=TODAY)
    assert answer.fallback_reason is None
    assert answer.plan.filters.model == ("claude-haiku-4-5", "claude-sonnet-4-5")
    assert answer.usage.requests == 2
    assert "model 'claude-3-opus'" in seen[1]  # the retry tells the model what was wrong


async def test_a_plan_invalid_twice_falls_back_to_the_parser_and_says_so() -> None:
    llm, seen = scripted({"operation": "tally"}, {"operation": "measure", "top": "three"})
    question = "What did we spend on Claude last week?"
    answer = await plan_with_model(llm, question, VOCABULARY, today=TODAY)
    assert answer.plan == parse(question, VOCABULARY, today=TODAY)
    assert answer.fallback_reason == (
        "the language model's answer was invalid twice; the parser read the question"
    )
    assert len(seen) == 2 and answer.usage.requests == 2


async def test_the_fallback_reads_a_follow_up_against_the_threads_last_plan() -> None:
    llm, _ = scripted({"operation": "tally"}, {"operation": "tally"})
    first = parse("how much did alice spend?", VOCABULARY, today=TODAY)
    answer = await plan_with_model(
        llm, "and bob?", VOCABULARY, history=[Turn("how much did alice spend?", first)], today=TODAY
    )
    assert answer.fallback_reason is not None
    assert answer.plan.filters.user == ("bob",)


async def test_a_model_error_falls_back_to_the_parser() -> None:
    llm, _ = scripted(ConnectionResetError("peer went away"))
    answer = await plan_with_model(llm, "spend by model", VOCABULARY, today=TODAY)
    assert answer.plan == parse("spend by model", VOCABULARY, today=TODAY)
    assert answer.fallback_reason == (
        "the language model failed (ConnectionResetError); the parser read the question"
    )


async def test_a_model_slower_than_the_timeout_falls_back_to_the_parser() -> None:
    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    llm = LanguageModel(model=FunctionModel(slow), timeout_s=0.2)
    started = asyncio.get_running_loop().time()
    answer = await plan_with_model(llm, "spend by model", VOCABULARY, today=TODAY)
    assert asyncio.get_running_loop().time() - started < 2
    assert answer.plan.group_by == "model"
    assert answer.fallback_reason == (
        "the language model did not answer within 0.2 s; the parser read the question"
    )


async def test_a_question_in_another_language_is_read_by_the_model() -> None:
    plan = {**ON_CLAUDE, "window": {**LAST_WEEK, "words": "la semana pasada"}}
    llm, seen = scripted(plan)
    question = "¿Cuánto gastamos en Claude la semana pasada?"
    answer = await plan_with_model(llm, question, VOCABULARY, today=TODAY)
    assert answer.fallback_reason is None
    assert answer.plan.filters.model == ("claude-haiku-4-5", "claude-sonnet-4-5")
    assert answer.plan.window is not None and answer.plan.window.words == "la semana pasada"
    assert question in seen[0]


def test_no_model_is_built_without_netra_llm_model(tmp_path: Path) -> None:
    assert language_model(Settings(data_dir=tmp_path)) is None


@pytest.mark.parametrize(
    ("name", "system"),
    [
        ("openai:gpt-4o-mini", "openai"),
        ("openai-chat:llama3.2", "openai"),
        ("ollama:llama3.2", "ollama"),
        ("litellm:claude-haiku-4-5", "litellm"),
        ("azure:gpt-4o-mini", "azure"),
        ("anthropic:claude-haiku-4-5", "anthropic"),
        ("google-gla:gemini-2.5-flash", "google"),
        ("google:gemini-2.5-flash", "google"),
    ],
)
def test_the_configured_model_is_built_with_its_key_and_url(name: str, system: str) -> None:
    settings = load_settings(
        llm_model=name, llm_api_key="sk-test", llm_base_url="http://127.0.0.1:9/v1"
    )
    llm = language_model(settings)
    assert llm is not None
    assert llm.name == name.partition(":")[2]
    assert llm.model.system.startswith(system)
    assert llm.model.base_url is not None and llm.model.base_url.startswith("http://127.0.0.1:9")
    assert llm.timeout_s == settings.llm_timeout_s


def test_an_unknown_provider_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"^NETRA_LLM_MODEL: "):
        language_model(load_settings(llm_model="nonsense:model", llm_api_key="x"))


def test_a_timeout_that_is_not_positive_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^NETRA_LLM_TIMEOUT_S: "):
        load_settings(llm_timeout_s=0)


async def test_the_models_usage_is_counted_in_metrics(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, jwt_secret="x" * 40)
    async with open_resources(settings, resume=False) as resources:
        resources.metrics.record_llm(
            ModelUsage(
                model="gpt-4o-mini",
                requests=2,
                input_tokens=900,
                output_tokens=40,
                cost_usd=0.000159,
            )
        )
        resources.metrics.record_llm(ModelUsage(model="llama3.2", input_tokens=10))
        text = resources.metrics.render().decode()
    assert 'netra_llm_tokens_total{direction="input",model="gpt-4o-mini"} 900.0' in text
    assert 'netra_llm_tokens_total{direction="output",model="gpt-4o-mini"} 40.0' in text
    assert 'netra_llm_cost_usd_total{model="gpt-4o-mini"} 0.000159' in text
    assert 'netra_llm_tokens_total{direction="input",model="llama3.2"} 10.0' in text
