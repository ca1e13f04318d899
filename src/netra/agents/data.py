"""Data: compute the figures the question plan asks for over the user's usage data.

A plan of ``measure``, ``compare``, ``explain``, ``anomalies``, ``forecast`` or ``what_if``
runs through ``answer_question`` (the plan executed with DuckDB). A ``recommend`` plan
runs the analyses the optimization agent prices savings from (breakdowns, anomalies,
latency) and, when the question is scoped (a filter, a window or the kinds of saving asked
about), the plan too, for the savings of that scope. A question about change over time also
gets the anomalous days.
"""

from __future__ import annotations

from typing import Any

from netra.agents.tools import questions, usage
from netra.analytics.result import DatasetSummary
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

SAVINGS_BREAKDOWNS = ("model", "feature", "user", "day")


class Data:
    name = "data"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        question = state.question
        summary: DatasetSummary = await ctx.call(self.name, usage.dataset_summary)
        state.summary = summary
        start, end = (
            str(day.date()) if day else "" for day in (summary.period_start, summary.period_end)
        )
        await ctx.think(
            self.name,
            f"The dataset has {summary.rows:,} rows over {summary.period_days:.1f} days "
            f"({start} to {end}); computing {question.describe()}.",
        )
        scoped = bool(question.filters.items() or question.window or question.kinds)
        if question.operation != "recommend" or scoped:
            state.result = await ctx.call(self.name, questions.answer_question, plan=question)
        over_time = question.group_by in ("day", "week", "month")
        if question.operation == "compare" or (question.operation == "measure" and over_time):
            state.anomalies = await ctx.call(self.name, usage.find_anomalies)  # for the answer
        if question.operation == "recommend":
            for by in SAVINGS_BREAKDOWNS:
                state.breakdowns[by] = await ctx.call(self.name, usage.spend_breakdown, by=by)
            state.anomalies = await ctx.call(self.name, usage.find_anomalies)
            state.latency = await ctx.call(self.name, usage.latency_percentiles)
        return {
            "operation": question.operation,
            "analyses": state.analysis_names() + (["plan"] if state.result else []),
        }
