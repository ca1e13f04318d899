"""The language-model path over the wire: pydantic-ai's real OpenAI provider and client,
pointed by NETRA_LLM_BASE_URL at a local stand-in server speaking the chat-completions API
with scripted answers. No network beyond 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from genai_prices import Usage, calc_price
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from netra.config import load_settings
from netra.questions import parse
from netra.questions.llm import LanguageModel, language_model, plan_with_model
from netra.questions.phrasing import phrase_answer
from netra.questions.plan import QuestionPlan
from netra.questions.result import Figure, PlanResult
from tests.support import free_port
from tests.unit.questions.test_llm import ON_CLAUDE, TODAY, VOCABULARY

KEY = "sk-local-test"


@dataclass
class StandIn:
    """The scripted answers (a JSON body, or an HTTP status) and the requests received."""

    url: str
    answers: list[dict[str, Any] | int] = field(default_factory=list)
    by_question: dict[str, dict[str, Any] | int] = field(default_factory=dict)  # not used up
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def llm(self, timeout_s: float = 10) -> LanguageModel:
        settings = load_settings(
            llm_model="openai-chat:gpt-4o-mini",
            llm_base_url=f"{self.url}/v1",
            llm_api_key=KEY,
            llm_timeout_s=timeout_s,
        )
        built = language_model(settings)
        assert built is not None
        return built


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    port = free_port()
    stand_in = StandIn(url=f"http://127.0.0.1:{port}")

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        stand_in.requests.append((dict(request.headers), body))
        asked = json.dumps(body["messages"][-1])  # the question, not the instructions
        found = [answer for question, answer in stand_in.by_question.items() if question in asked]
        answer = found[0] if found else stand_in.answers.pop(0)
        if isinstance(answer, int):
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=answer)
        return JSONResponse(answer)

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "the stand-in server did not start"
        time.sleep(0.02)
    yield stand_in
    uvicorn_server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def stand_in(server: StandIn) -> StandIn:
    server.answers.clear()
    server.by_question.clear()
    server.requests.clear()
    return server


def completion(message: dict[str, Any], prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_750_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def tool_call(name: str, arguments: dict[str, Any], tokens: tuple[int, int] = (812, 41)) -> dict:
    call = {"id": "call_1", "type": "function"}
    call["function"] = {"name": name, "arguments": json.dumps(arguments)}  # type: ignore[assignment]
    return completion({"role": "assistant", "content": None, "tool_calls": [call]}, *tokens)


async def test_a_plan_comes_back_over_the_openai_chat_completions_api(stand_in: StandIn) -> None:
    stand_in.answers.append(tool_call("final_result", ON_CLAUDE))
    answer = await plan_with_model(
        stand_in.llm(), "What did we spend on Claude last week?", VOCABULARY, today=TODAY
    )
    assert answer.fallback_reason is None
    assert answer.plan == QuestionPlan.model_validate(ON_CLAUDE)
    headers, body = stand_in.requests[0]
    assert headers["authorization"] == f"Bearer {KEY}"
    assert body["model"] == "gpt-4o-mini"
    [tool] = body["tools"]  # the structured output: the plan's JSON schema as the output tool
    schema = tool["function"]["parameters"]
    assert tool["function"]["name"] == "final_result"
    assert "operation" in schema["required"]
    assert "forecast" in json.dumps(schema) and "claude-sonnet-4-5" not in json.dumps(schema)
    sent = json.dumps(body["messages"])
    assert "What did we spend on Claude last week?" in sent and "claude-sonnet-4-5" in sent


async def test_the_models_usage_is_priced_with_the_catalog(stand_in: StandIn) -> None:
    stand_in.answers.append(tool_call("final_result", ON_CLAUDE, tokens=(1000, 50)))
    answer = await plan_with_model(stand_in.llm(), "spend on claude", VOCABULARY, today=TODAY)
    expected = calc_price(
        Usage(input_tokens=1000, output_tokens=50), "gpt-4o-mini", provider_id="openai"
    )
    assert answer.usage.model == "gpt-4o-mini"
    assert (answer.usage.requests, answer.usage.input_tokens, answer.usage.output_tokens) == (
        1,
        1000,
        50,
    )
    assert answer.usage.cost_usd == pytest.approx(float(expected.total_price))
    assert answer.usage.cost_usd == pytest.approx(1000 * 0.15e-6 + 50 * 0.6e-6)


async def test_an_invalid_plan_over_the_wire_is_retried_then_the_parser_answers(
    stand_in: StandIn,
) -> None:
    stand_in.answers += [
        tool_call("final_result", {"operation": "measure", "filters": {"user": ["carol"]}}),
        tool_call("final_result", {"operation": "measure", "filters": {"user": ["carol"]}}),
    ]
    question = "how much did alice spend in May?"
    answer = await plan_with_model(stand_in.llm(), question, VOCABULARY, today=TODAY)
    assert answer.plan == parse(question, VOCABULARY, today=TODAY)
    assert answer.fallback_reason is not None and "invalid twice" in answer.fallback_reason
    assert len(stand_in.requests) == 2 and answer.usage.requests == 2
    assert "user 'carol'" in json.dumps(stand_in.requests[1][1]["messages"])


async def test_a_server_error_of_the_endpoint_falls_back_to_the_parser(stand_in: StandIn) -> None:
    stand_in.answers += [500] * 5
    answer = await plan_with_model(stand_in.llm(), "spend by model", VOCABULARY, today=TODAY)
    assert answer.plan.group_by == "model"
    assert answer.fallback_reason is not None
    assert answer.fallback_reason.startswith("the language model failed (")


async def test_an_answer_is_phrased_over_the_wire_when_its_figures_are_the_results(
    stand_in: StandIn,
) -> None:
    plan = QuestionPlan.model_validate(ON_CLAUDE)
    result = PlanResult(plan=plan, headline=[Figure(label="spend", value=1234.5612)])
    text = "You spent $1,234.56 on Claude models in the week of Jun 23-29."
    stand_in.answers += [
        completion({"role": "assistant", "content": text}, 300, 20),
        completion({"role": "assistant", "content": "You spent about $1,300 on Claude."}, 300, 9),
    ]
    templated = "Spend on claude-haiku-4-5 and claude-sonnet-4-5, Jun 23-29: $1,234.56."
    phrased = await phrase_answer(stand_in.llm(), "spend on claude last week?", result, templated)
    assert phrased.text == text and phrased.usage.input_tokens == 300
    refused = await phrase_answer(stand_in.llm(), "spend on claude last week?", result, templated)
    assert refused.text is None
    assert refused.reason == "the language model's answer has figures not in the result: 1,300"


def _eval(*args: str, model_url: str | None = None, tmp_path: Any) -> Any:
    env = {**os.environ, "NETRA_ENV": "test", "NETRA_DATA_DIR": str(tmp_path / "data")}
    env.pop("NETRA_LLM_MODEL", None)
    if model_url is not None:
        env |= {
            "NETRA_LLM_MODEL": "openai-chat:gpt-4o-mini",
            "NETRA_LLM_BASE_URL": f"{model_url}/v1",
            "NETRA_LLM_API_KEY": KEY,
        }
    return subprocess.run(
        [sys.executable, "-m", "netra.cli", "eval", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_netra_eval_scores_the_parser_on_the_shipped_bank(tmp_path: Any) -> None:
    done = _eval(tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.strip().splitlines()
    assert header.split()[:3] == ["category", "questions", "parser"]
    overall = rows[-1].split()
    assert overall[0] == "overall" and int(overall[1]) >= 150, rows[-1]
    assert float(overall[3].rstrip("%")) >= 90, rows[-1]
    assert {"measure", "compare", "explain", "forecast"} <= {row.split()[0] for row in rows}


def test_netra_eval_scores_a_configured_model_beside_the_parser(
    stand_in: StandIn, tmp_path: Any
) -> None:
    """The model's plan counts when right; a question the model failed counts as a miss even
    though the parser then answered it right."""
    bank = tmp_path / "bank.jsonl"
    items = [
        ("What did we spend on Claude last week?", {"operation": "measure"}),
        ("Are there any anomalies?", {"operation": "anomalies"}),
    ]
    bank.write_text(
        "".join(json.dumps({"category": "c", "question": q, "expect": e}) + "\n" for q, e in items)
    )
    on_claude = {"operation": "measure", "filters": {"model": ["claude-sonnet-4-5"]}}
    stand_in.by_question[items[0][0]] = tool_call("final_result", on_claude)
    stand_in.by_question[items[1][0]] = 400  # the model fails: the parser's plan is no hit
    done = _eval(str(bank), "--today", "2025-11-30", model_url=stand_in.url, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    overall = done.stdout.strip().splitlines()[-1].split()
    assert overall == ["overall", "2", "2", "100.0%", "1", "50.0%"], done.stdout
    assert "model usage: 1 requests, 812 input" in done.stdout, done.stdout
