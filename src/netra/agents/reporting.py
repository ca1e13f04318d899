"""Reporting: write the answer in Markdown from what the earlier agents computed.

Every money figure in the answer is formatted from a number in the report, so the two
always agree (DATA.md section 4). A chat or a question without data gets a useful answer
that says how to load data or the demo.
"""

from __future__ import annotations

from typing import Any

from netra.agents.answers import answer_for, report_for
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

PRODUCT_ANSWER = """\
Hi! I'm **Netra Apex**. I analyse your team's LLM usage logs and tell you, with priced
figures, where the money goes and how to spend less without hurting the product.

Ask me things like:
- *What did we spend per model last month?*
- *Which feature grew most last week?*
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

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        kind = state.intent.kind
        if kind == "chat":
            await ctx.think(self.name, "No data needed: answering about the product.")
            state.answer = PRODUCT_ANSWER + ("" if ctx.dataset is not None else LOAD_DATA)
            return {"answer_chars": len(state.answer), "report": False}
        if kind == "no_data":
            await ctx.think(self.name, "No usage data yet: explaining how to load it.")
            state.answer = "I need your usage data to answer that.\n\n" + LOAD_DATA
            return {"answer_chars": len(state.answer), "report": False}
        await ctx.think(self.name, "Writing the answer and the report from the computed figures.")
        state.report = report_for(ctx, state)
        state.answer = answer_for(state.intent, state.report)
        return {
            "answer_chars": len(state.answer),
            "report": True,
            "recommendations": len(state.report.recommendations),
        }
