"""The report (DATA.md section 4) and the Markdown answer, both from the computed figures.

``report_for`` assembles the report from what the data, optimization and actions agents
stored in the run state. ``answer_for`` writes the answer from the report only, so every
money figure in the text is a report figure rounded to cents.
"""

from __future__ import annotations

import re
from typing import TypeVar

from netra.agents.money import count, percent, usd
from netra.analytics.result import (
    Breakdown,
    BreakdownRow,
    FeatureGrowth,
    Latency,
    Recommendation,
    UserCost,
)
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
from netra.runtime.state import Intent, RunState

TOP_ROWS = 5
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
        ("growth", state.growth),
        ("user_cost", state.user_cost),
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
        intent=state.intent.kind,
        period=Period(
            start=rfc3339(summary.period_start),
            end=rfc3339(summary.period_end),
            days=summary.period_days,
        ),
        totals=Totals(
            cost_usd=summary.total_cost_usd,
            requests=summary.requests,
            input_tokens=summary.input_tokens,
            output_tokens=summary.output_tokens,
            unpriced_requests=summary.unpriced_requests,
            unpriced_models=summary.unpriced_models,
        ),
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


def answer_for(intent: Intent, report: Report) -> str:
    kind = intent.kind
    parts = [_headline(report)] if kind in {"spend", "optimize"} else []
    if kind == "spend":
        parts += _spend(report, intent.dimensions)
    elif kind == "latency":
        parts += _latency(report, intent.model)
    elif kind == "growth":
        parts += _growth(report)
    elif kind == "user_cost":
        parts += _user(report, intent.user)
    elif kind == "optimize":
        parts += _savings(report)
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


def _table(rows: list[BreakdownRow], label: str) -> str:
    lines = [f"| {label} | spend | share | requests |", "|---|---:|---:|---:|"]
    lines += [
        f"| {_md(row.key or '(none)')} | {usd(row.cost_usd)} | {percent(row.share)} | "
        f"{count(row.requests)} |"
        for row in rows[:TOP_ROWS]
    ]
    return "\n".join(lines)


def _spend(report: Report, dimensions: list[str]) -> list[str]:
    parts = []
    for by in dimensions:
        rows = report.breakdowns.get(f"by_{by}")
        if rows:
            parts.append(f"**Spend by {by.replace('_', ' ')}**\n\n" + _table(rows, by))
    return parts


def _latency(report: Report, model: str | None) -> list[str]:
    latency = _finding(report, Latency)
    if not latency or not latency.groups:
        named = f" for {_md(model)}" if model else ""
        return [f"No latency was recorded{named} in this data."]
    by = latency.by
    lines = [
        "| " + " | ".join(by) + " | p50 ms | p95 ms | requests |",
        "|" + "---|" * len(by) + "---:|---:|---:|",
    ]
    for row in latency.groups[:10]:
        keys = " | ".join(_md(row.group.get(name) or "-") for name in by)
        lines.append(f"| {keys} | {row.p50_ms:,.0f} | {row.p95_ms:,.0f} | {count(row.requests)} |")
    title = f"**Latency of {_md(model)}**" if model else "**Latency**"
    return [title + "\n\n" + "\n".join(lines)]


def _growth(report: Report) -> list[str]:
    growth = _finding(report, FeatureGrowth)
    if not growth or not growth.features:
        return ["There is not enough data to compare the last two weeks."]
    top = growth.top
    window = (
        f"{growth.recent_start} to {growth.recent_end} against "
        f"{growth.previous_start} to {growth.previous_end}"
    )
    if top is None:
        return [f"No feature grew ({window})."]
    lines = [
        f"**{_md(top.feature)}** grew most: {usd(top.previous_cost_usd)} → "
        f"{usd(top.recent_cost_usd)} (+{usd(top.growth_usd)}) over the last "
        f"{growth.days} days ({window})."
    ]
    others = [f for f in growth.features[1:TOP_ROWS] if f.growth_usd > 0]
    lines += [
        f"- {_md(f.feature)}: +{usd(f.growth_usd)} ({usd(f.previous_cost_usd)} → "
        f"{usd(f.recent_cost_usd)})"
        for f in others
    ]
    return ["\n".join(lines)]


def _user(report: Report, user: str | None) -> list[str]:
    found = _finding(report, UserCost)
    if not found or not found.requests:
        return [f"User {_md(user)} has no requests in this data."]
    parts = [
        f"User **{_md(found.user)}** cost **{usd(found.cost_usd)}** over "
        f"{count(found.requests)} requests ({percent(found.share)} of all spend)."
    ]
    if found.by_model:
        parts.append("**By model**\n\n" + _table(found.by_model, "model"))
    if found.by_feature:
        parts.append("**By feature**\n\n" + _table(found.by_feature, "feature"))
    return parts


def _savings(report: Report) -> list[str]:
    items = [item for item in report.recommendations if item.monthly_savings_usd > 0]
    if not items:
        return ["I found no saving these rules can price in this data."]
    lines = [
        f"You can save about **{usd(report.total_monthly_savings_usd)} a month** "
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
