"""The report (DATA.md section 4) and the Markdown answer, both from the computed figures.

The answer to how to save: ``report_for`` assembles the report from what the data,
optimization and actions agents stored in the run state; ``savings_answer`` writes the
answer from the report only, so every money figure in the text is a report figure rounded
to cents. The answers to the other questions are ``plan_answer``'s.
"""

from __future__ import annotations

import re
from typing import TypeVar

from netra.agents.money import count, usd
from netra.analytics.result import Breakdown, BreakdownRow, Recommendation
from netra.clock import rfc3339
from netra.runtime.context import RunContext
from netra.runtime.report import (
    Alternative,
    Chart,
    Detail,
    Finding,
    FindingKind,
    Period,
    Report,
    Totals,
)
from netra.runtime.state import RunState

_MARKUP = re.compile(r"([\\`<>\[\]|])")


def _md(value: object) -> str:
    """A data value (a model, user or feature name) as Markdown text that stays text.

    Backslash escapes (CommonMark) keep ``<`` from opening raw HTML or an autolink,
    ``[`` a link, a backtick a code span and ``|`` from splitting a table cell.
    """
    return _MARKUP.sub(r"\\\1", str(value))


D = TypeVar("D", bound=Detail)


def _rows(breakdown: Breakdown | None) -> list[BreakdownRow]:
    return list(breakdown.rows) if breakdown else []


def report_for(ctx: RunContext, state: RunState) -> Report:
    """The report of a question how to save (a ``recommend`` plan)."""
    summary = state.summary
    if summary is None:
        raise ValueError("the report needs the data agent's dataset summary")
    found = state.recommendations
    findings = [
        Finding(kind="anomaly", detail=anomaly)
        for anomaly in (state.anomalies.items if state.anomalies else [])
    ]
    analyses: list[tuple[FindingKind, Detail | None]] = [
        ("latency", state.latency),
        ("alternative", state.alternative),
    ]
    findings += [Finding(kind=kind, detail=detail) for kind, detail in analyses if detail]
    breakdowns = {
        f"by_{by}": _rows(state.breakdowns.get(by)) for by in ("model", "feature", "user", "day")
    }
    for by, breakdown in state.breakdowns.items():  # other breakdowns the question asked for
        breakdowns.setdefault(f"by_{by}", _rows(breakdown))
    recommendations = list(found.items) if found else []
    return Report(
        dataset_id=ctx.dataset.id if ctx.dataset else None,
        question=state.message,
        intent=state.question.operation,
        plan=state.question.describe(),
        period=Period(
            start=rfc3339(summary.period_start),
            end=rfc3339(summary.period_end),
            days=summary.period_days,
        ),
        totals=Totals.of(summary),
        breakdowns=breakdowns,
        recommendations=recommendations,
        total_monthly_savings_usd=found.total_monthly_savings_usd if found else 0.0,
        findings=findings,
        action_plan=state.action_plan,
        charts=_charts(breakdowns, recommendations),
    )


def _charts(
    breakdowns: dict[str, list[BreakdownRow]], recommendations: list[Recommendation]
) -> list[Chart]:
    """The report's charts: (id, type, title, points) each, if it has data."""
    specs: list[tuple[str, str, str, list[tuple[str | None, float]]]] = [
        (
            "spend_by_day",
            "line",
            "Spend by day (USD)",
            [(row.key, row.cost_usd) for row in breakdowns["by_day"]],
        ),
        (
            "spend_by_model",
            "bar",
            "Spend by model (USD)",
            [(row.key, row.cost_usd) for row in breakdowns["by_model"]],
        ),
        (
            "savings_by_recommendation",
            "bar",
            "Monthly savings by recommendation (USD)",
            [(item.kind, item.monthly_savings_usd) for item in recommendations],
        ),
    ]
    return [
        Chart(
            id=chart_id,
            type=kind,
            title=title,
            x=[label for label, _ in points],
            y=[value for _, value in points],
        )
        for chart_id, kind, title, points in specs
        if points
    ]


# --- the answer ------------------------------------------------------------------------


def savings_answer(report: Report, lead: list[str]) -> str:
    """The answer to how to save: ``lead`` (the savings of a scoped question), then the
    period's spend, the priced savings, the catalog lead and the action plan."""
    parts = [*lead, _headline(report), *_savings(report, scoped=bool(lead))]
    parts += _alternative(report)
    if report.action_plan:
        parts += _plan(report)
    unpriced = report.totals.unpriced_models
    if unpriced:
        names = ", ".join(_md(name) for name in unpriced)
        parts.append(
            f"_{count(report.totals.unpriced_requests)} requests of models the price "
            f"catalog does not know ({names}) are not priced and not counted._"
        )
    return "\n\n".join(parts) + "\n"


def _finding(report: Report, kind: type[D]) -> D | None:
    """The first finding of the report that reports a ``kind`` analysis."""
    return next((f.detail for f in report.findings if isinstance(f.detail, kind)), None)


def _headline(report: Report) -> str:
    totals, period = report.totals, report.period
    return (
        f"Over {period.days:.1f} days ({(period.start or '')[:10]} to {(period.end or '')[:10]})"
        f" you spent **{usd(totals.cost_usd)}** on {count(totals.requests)} requests."
    )


def _savings(report: Report, *, scoped: bool) -> list[str]:
    items = [item for item in report.recommendations if item.monthly_savings_usd > 0]
    if not items:
        return ["I found no saving these rules can price in this data."]
    across = "Across all your usage, you" if scoped else "You"
    lines = [
        f"{across} can save about **{usd(report.total_monthly_savings_usd)} a month** "
        "(recommendations combined, no request counted twice):"
    ]
    for rank, item in enumerate(items, start=1):
        lines.append(
            f"{rank}. **{_md(item.title)}** — {usd(item.monthly_savings_usd)}/month "
            f"({item.confidence} confidence). {_md(item.action)}"
        )
    return ["\n".join(lines)]


def _alternative(report: Report) -> list[str]:
    found = _finding(report, Alternative)
    if not found or not found.alternative:
        return []
    best = found.alternative
    if best.model == found.model:
        return []
    output = best.output_usd_per_mtok
    return [
        f"Your largest spend is on **{_md(found.model)}**. The cheapest "
        f"{_md(found.provider)} model "
        f"with a context window of at least {count(found.context_window)} tokens is "
        f"**{_md(best.model)}** at {usd(best.input_usd_per_mtok)} input"
        + (f" and {usd(output)} output" if output is not None else "")
        + " per million tokens: worth an evaluation on your own prompts."
    ]


def _plan(report: Report) -> list[str]:
    lines = ["**How to act**"]
    for step in report.action_plan:
        lines.append(
            f"\n{step.rank}. {_md(step.title)} — {usd(step.monthly_savings_usd)}/month, "
            f"effort {step.effort}"
        )
        lines += [f"   - {_md(text)}" for text in step.steps]
        lines.append(f"   - Validate: {_md(step.validation)}")
        lines.append(f"   - Roll back: {_md(step.rollback)}")
    return ["\n".join(lines)]
