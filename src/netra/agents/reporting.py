"""Reporting: write the answer in Markdown from what the earlier agents computed.

A data question's answer leads with the figure asked for (``plan_answer``); how to save
is ``answers.savings_answer``; every figure is formatted from a number in the report. A
question it cannot answer says so, with what it understood and questions it can answer
(``run_completed.data.response.suggestions``). A chat or a question without data gets a
useful answer that says how to load data or the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netra.agents.answers import _md, report_for, savings_answer
from netra.agents.plan_answer import plan_answer, plan_report
from netra.questions.plan import QuestionPlan
from netra.questions.result import AnomalousDay, PlanResult
from netra.questions.usage import ModelUsage
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

if TYPE_CHECKING:
    from netra.questions.llm import LanguageModel

PRODUCT_ANSWER = """\
Hi! I'm **Netra Apex**. I analyse your team's LLM usage logs and tell you, with priced
figures, where the money goes and how to spend less without hurting the product.

Ask me things like:
- *What did we spend per model last month?*
- *Why did costs jump on June 25?*
- *What is the p95 latency of gpt-4o?*
- *How do we cut our AI costs?*

"""

LOAD_DATA = """\
**To get started, load usage data:**
- Click **Load demo data** on the page, or `POST /api/datasets/demo` for a realistic
  synthetic company;
- or upload your own logs (CSV, JSONL or Parquet: canonical columns, LiteLLM SpendLogs,
  OpenAI Usage API, Langfuse or Helicone exports) with **Upload** or `POST /api/datasets`,
  or from a terminal: `netra ingest usage.csv --email you@example.com`.
"""


class Reporting:
    name = "reporting"

    def __init__(
        self,
        llm: LanguageModel | None = None,
        record_llm: Callable[[ModelUsage], None] | None = None,
    ) -> None:
        self.llm = llm
        self.record_llm = record_llm

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        question = state.question
        if question.operation == "chat":
            await ctx.think(self.name, "No data needed: answering about the product.")
            state.answer = PRODUCT_ANSWER + ("" if ctx.dataset is not None else LOAD_DATA)
            return {"answer_chars": len(state.answer), "report": False}
        if ctx.dataset is None:
            await ctx.think(self.name, "No usage data yet: explaining how to load it.")
            state.answer = "I need your usage data to answer that.\n\n" + LOAD_DATA
            return {"answer_chars": len(state.answer), "report": False}
        if question.operation == "unknown":
            await ctx.think(self.name, "Not a question I can answer: offering ones I can.")
            state.answer = declined(question)
            return {"answer_chars": len(state.answer), "report": False}
        await ctx.think(self.name, "Writing the answer and the report from the computed figures.")
        summary, result = state.summary, state.result
        if summary is None:
            raise ValueError("the answer needs the data agent's dataset summary")
        if question.operation == "recommend":
            state.report = report_for(ctx, state)
            lead = [plan_answer(result, summary, []).strip()] if result else []
            state.answer = savings_answer(state.report, lead)
        else:
            if result is None:
                raise ValueError("the answer needs the data agent's executed plan")
            window_days = _window_anomalies(state)
            state.answer = plan_answer(result, summary, window_days)
            state.report = plan_report(
                result,
                summary,
                dataset_id=ctx.dataset.id,
                question=state.message,
            )
            await self._phrase(ctx, state, result)
        return {
            "answer_chars": len(state.answer),
            "report": True,
            "recommendations": len(state.report.recommendations),
        }

    async def _phrase(self, ctx: RunContext, state: RunState, result: PlanResult) -> None:
        """With a language model, its phrasing of the lead sentence, kept when every number
        in it is the result's (else the templated answer stays)."""
        if self.llm is None or state.answer is None:
            return
        from netra.questions.phrasing import phrase_answer  # the model library: when used

        lead, _, rest = state.answer.partition("\n\n")
        phrased = await phrase_answer(self.llm, state.message, result, lead)
        state.llm_usage.append(phrased.usage)
        if self.record_llm is not None:
            self.record_llm(phrased.usage)
        if phrased.text is None:
            await ctx.think(self.name, f"Kept the templated answer: {phrased.reason}.")
            return
        state.answer = phrased.text + ("\n\n" + rest if rest else "\n")


def declined(question: QuestionPlan) -> str:
    if question.not_in_data:  # never the unfiltered figures instead
        lines = [
            f"I have no figures for that: {_md(question.understood)}.",
            "",
            "Questions I can answer:",
        ]
        lines += [f"- {_md(suggestion)}" for suggestion in question.suggestions]
        return "\n".join(lines) + "\n"
    understood = (
        f"What I understood: {_md(question.understood)}."
        if question.understood
        else "I did not find in it what to measure in your usage data."
    )
    lines = [f"I can't answer that yet. {understood}", "", "Questions I can answer:"]
    lines += [f"- {_md(suggestion)}" for suggestion in question.suggestions]
    return "\n".join(lines) + "\n"


def _window_anomalies(state: RunState) -> list[AnomalousDay]:
    """The anomalous days the answer mentions: the explanation's own, or, for a question
    about change over time, the dataset's anomalous days inside the window."""
    result = state.result
    if result is None:
        return []
    if result.anomalies:
        return list(result.anomalies)
    window = result.plan.window
    found = state.anomalies.items if state.anomalies else []
    return [
        AnomalousDay.of(item)
        for item in found
        if item.scope == "overall" and (window is None or window.start <= item.day <= window.end)
    ]
