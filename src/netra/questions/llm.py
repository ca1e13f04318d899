"""The optional language model: a question read into the same ``QuestionPlan`` by a model.

``language_model(settings)`` builds the model named by ``NETRA_LLM_MODEL`` through
pydantic-ai (``openai:``, ``openai-chat:`` for OpenAI-compatible endpoints such as Ollama,
vLLM or a LiteLLM proxy with ``NETRA_LLM_BASE_URL``, ``azure:``, ``anthropic:``, ``google:``),
or returns None when no model is configured. ``plan_with_model`` asks it for a plan:

- the model sees the question, the thread's earlier turns (questions and their plans in
  words, the last plan as JSON) and the dataset's dimension values, never its rows;
- its answer is structured output validated against the plan's schema, and every filter
  value must be one of the dataset's; an invalid plan is retried once;
- an invalid plan after the retry, a timeout or an error of the model never raises: the
  deterministic parser answers and ``ModelPlan.fallback_reason`` says why, for triage's
  thinking.

Every call returns the model's own ``ModelUsage`` (requests, tokens, cost priced by
genai-prices) for the caller to store and meter. ``phrasing.phrase_answer`` uses the same model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Protocol, TypeVar

import structlog
from pydantic import SecretStr
from pydantic_ai import Agent, AgentRunResult, ModelRetry, RunContext, capture_run_messages
from pydantic_ai.exceptions import UnexpectedModelBehavior, UserError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, infer_model
from pydantic_ai.providers import infer_provider_class

from netra.config import SettingsError
from netra.questions.parser import parse
from netra.questions.plan import DIMENSIONS, Filters, QuestionPlan
from netra.questions.usage import ModelUsage
from netra.questions.vocabulary import Vocabulary

log = structlog.get_logger(__name__)

# Model names of pydantic-ai 1.x that 2.x spells differently.
_PROVIDER_ALIASES: Final = {"google-gla": "google"}
# Providers whose endpoint argument is not ``base_url``.
_URL_ARGUMENT: Final = {"azure": "azure_endpoint", "litellm": "api_base"}
_VALUES_SHOWN: Final = 200  # per dimension: the prompt stays small on wide datasets
_PARSER: Final = "the parser read the question"

_Output = TypeVar("_Output")


class _Settings(Protocol):
    """What ``language_model`` reads of ``netra.config.Settings``."""

    llm_model: str | None
    llm_base_url: str | None
    llm_api_key: SecretStr | None
    llm_timeout_s: float


@dataclass(frozen=True)
class LanguageModel:
    """The configured model and how long one question may wait for it."""

    model: Model
    timeout_s: float = 10.0

    @property
    def name(self) -> str:
        return self.model.model_name


@dataclass(frozen=True)
class Turn:
    """An earlier question of the thread and the plan it was read as."""

    question: str
    plan: QuestionPlan


@dataclass(frozen=True)
class ModelPlan:
    """``fallback_reason``: why the parser answered instead of the model (None: the model did)."""

    plan: QuestionPlan
    fallback_reason: str | None
    usage: ModelUsage


def language_model(settings: _Settings) -> LanguageModel | None:
    """The model of ``NETRA_LLM_MODEL``, or None when unset. Builds a client, sends nothing."""
    if not settings.llm_model:
        return None
    provider, _, name = settings.llm_model.partition(":")
    provider = _PROVIDER_ALIASES.get(provider, provider)
    options = {_URL_ARGUMENT.get(provider, "base_url"): settings.llm_base_url}
    if settings.llm_api_key is not None:
        options["api_key"] = settings.llm_api_key.get_secret_value()
    given = {key: value for key, value in options.items() if value}
    try:
        model = infer_model(
            f"{provider}:{name}",
            provider_factory=lambda found: infer_provider_class(found)(**given),
        )
    except (UserError, ValueError, TypeError) as exc:
        raise SettingsError(f"NETRA_LLM_MODEL: {exc}") from None
    return LanguageModel(model=model, timeout_s=settings.llm_timeout_s)


async def plan_with_model(
    llm: LanguageModel,
    question: str,
    vocabulary: Vocabulary,
    *,
    history: Sequence[Turn] = (),
    today: date | None = None,
) -> ModelPlan:
    """The model's plan of ``question``, or the parser's with the reason (module docstring)."""
    today = today or datetime.now(UTC).date()
    previous = history[-1].plan if history else None
    agent = Agent[Vocabulary, QuestionPlan](
        output_type=QuestionPlan,
        deps_type=Vocabulary,
        instructions=_instructions(vocabulary, today),
        retries={"output": 1},
    )
    agent.output_validator(_known_values)
    plan, usage, failure = await call_model(
        llm, lambda: agent.run(_prompt(question, history), model=llm.model, deps=vocabulary)
    )
    if plan is not None:
        return ModelPlan(plan=plan, fallback_reason=None, usage=usage)
    return ModelPlan(
        plan=parse(question, vocabulary, previous=previous, today=today),
        fallback_reason=f"{failure}; {_PARSER}",
        usage=usage,
    )


async def call_model(
    llm: LanguageModel, run: Callable[[], Awaitable[AgentRunResult[_Output]]]
) -> tuple[_Output | None, ModelUsage, str]:
    """Run one agent call within the model's time limit: its output (None when it failed),
    the usage of every request made, and why it failed. Never raises for the model."""
    with capture_run_messages() as messages:
        try:
            async with asyncio.timeout(llm.timeout_s):
                result = await run()
            return result.output, _usage(llm, messages), ""
        except TimeoutError:
            failure = f"the language model did not answer within {llm.timeout_s:g} s"
        except UnexpectedModelBehavior:
            failure = "the language model's answer was invalid twice"
        # The model is an outside service: any failure of it (HTTP, connection, a provider
        # SDK's own error) ends in the fallback, never in the caller's run.
        except Exception as exc:
            failure = f"the language model failed ({type(exc).__name__})"
    log.warning("llm.failed", model=llm.name, reason=failure)
    return None, _usage(llm, messages), failure


def _usage(llm: LanguageModel, messages: list[ModelMessage]) -> ModelUsage:
    responses = [message for message in messages if isinstance(message, ModelResponse)]
    costs = [_cost(response) for response in responses]
    return ModelUsage(
        model=llm.name,
        requests=len(responses),
        input_tokens=sum(response.usage.input_tokens for response in responses),
        output_tokens=sum(response.usage.output_tokens for response in responses),
        cost_usd=sum(c for c in costs if c is not None) if costs and None not in costs else None,
    )


def _cost(response: ModelResponse) -> float | None:
    """The response's price in the pinned genai-prices catalog, by the provider's URL or name."""
    try:
        return float(response.cost().total_price)
    except (LookupError, ValueError, AssertionError):  # unknown model, or no usage reported
        return None


def _known_values(context: RunContext[Vocabulary], plan: QuestionPlan) -> QuestionPlan:
    """Filter values must be the dataset's own: a model may not invent a name."""
    unknown = [
        f"{dimension} {value!r}"
        for filters in (plan.filters, plan.versus or Filters())
        for dimension, values in filters.items()
        for value in values
        if value not in context.deps.of(dimension)
    ]
    if unknown:
        raise ModelRetry(
            f"not values of this dataset: {', '.join(unknown)}; use only the listed values"
        )
    for window in (plan.window, plan.versus_window):
        if window is not None and window.start > window.end:
            raise ModelRetry(f"window starts {window.start} after it ends {window.end}")
    return plan


def _instructions(vocabulary: Vocabulary, today: date) -> str:
    first = vocabulary.first_at.date().isoformat() if vocabulary.first_at else "unknown"
    last = vocabulary.last_at.date().isoformat() if vocabulary.last_at else "unknown"
    values = []
    for dimension in DIMENSIONS:
        found = vocabulary.of(dimension)
        more = f" (and {len(found) - _VALUES_SHOWN} more)" if len(found) > _VALUES_SHOWN else ""
        values.append(f"- {dimension}: {', '.join(found[:_VALUES_SHOWN]) or '(none)'}{more}")
    return f"""\
You read a question about a team's LLM usage and spend into a QuestionPlan, the structured
output. The question may be in any language; the plan's values are always the dataset's own.

Today is {today.isoformat()}. The data covers {first} to {last} (UTC days). Relative windows
("last week", "last 7 days") count back from today, or from the data's last day when the data
ends before today (then set window.anchored_to_data). Weeks run Monday to Sunday. Put the
question's own time words in window.words.

Filter values must be exactly these values of the dataset:
{chr(10).join(values)}
A family name ("claude", "gemini") means every model it prefixes.

A follow-up ("and for bob?", "what about last month?", "why?") is the previous plan with what
the question changes. A greeting or a question about this product is operation "chat". A
question this data cannot answer, or naming a value it does not hold, is operation "unknown"
with "understood" (what you understood) and 2-3 "suggestions" (questions the data answers)."""


def _prompt(question: str, history: Sequence[Turn]) -> str:
    if not history:
        return f"Question: {question}"
    turns = "\n".join(f'- "{turn.question}": read as {turn.plan.describe()}' for turn in history)
    last = history[-1].plan.model_dump_json(exclude_defaults=True)
    return f"Earlier in this thread:\n{turns}\nPrevious plan: {last}\n\nQuestion: {question}"
