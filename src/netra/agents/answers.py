"""The report (DATA.md section 4) and the Markdown answer, both from the computed figures.

``report_for`` assembles the report from what the data, optimization and actions agents
stored in the run state. ``answer_for`` writes the answer from the report only, so every
money figure in the text is a report figure rounded to cents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from netra.agents.money import count, percent, usd
from netra.protocol import rfc3339
from netra.runtime.context import RunContext
from netra.runtime.state import RunState

TOP_ROWS = 5


def _when(value: str | None) -> str | None:
    return rfc3339(datetime.fromisoformat(value)) if value else None


def _rows(breakdown: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(breakdown["rows"]) if breakdown else []


def report_for(ctx: RunContext, state: RunState) -> dict[str, Any]:
    found = state.analyses
    summary = found["summary"]
    savings = state.recommendations or {}
    findings: list[dict[str, Any]] = [
        {"kind": "anomaly", **anomaly}
        for anomaly in (found.get("anomalies") or {}).get("items", [])
    ]
    for key, kind in (
        ("latency", "latency"),
        ("growth", "growth"),
        ("user", "user_cost"),
        ("alternative", "alternative"),
    ):
        if found.get(key):
            findings.append({"kind": kind, **found[key]})
    breakdowns = {
        key: _rows(found.get(key)) for key in ("by_model", "by_feature", "by_user", "by_day")
    }
    for key, value in found.items():  # other breakdowns the question asked for
        if key.startswith("by_") and key not in breakdowns:
            breakdowns[key] = _rows(value)
    recommendations = savings.get("items", [])
    report = {
        "dataset_id": ctx.dataset.id if ctx.dataset else None,
        "question": state.message,
        "intent": state.intent.kind,
        "period": {
            "start": _when(summary["period_start"]),
            "end": _when(summary["period_end"]),
            "days": summary["period_days"],
        },
        "totals": {
            "cost_usd": summary["total_cost_usd"],
            "requests": summary["requests"],
            "input_tokens": summary["input_tokens"],
            "output_tokens": summary["output_tokens"],
            "unpriced_requests": summary["unpriced_requests"],
            "unpriced_models": summary["unpriced_models"],
        },
        "breakdowns": breakdowns,
        "recommendations": recommendations,
        "total_monthly_savings_usd": savings.get("total_monthly_savings_usd", 0.0),
        "findings": findings,
        "action_plan": state.action_plan,
        "charts": _charts(breakdowns, recommendations),
    }
    return report


def _charts(
    breakdowns: dict[str, list[dict[str, Any]]], recommendations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The report's charts: (id, type, title, rows, label key, value key) each, if it has data."""
    specs = [
        ("spend_by_day", "line", "Spend by day (USD)", breakdowns.get("by_day"), "key", "cost_usd"),
        (
            "spend_by_model",
            "bar",
            "Spend by model (USD)",
            breakdowns.get("by_model"),
            "key",
            "cost_usd",
        ),
        (
            "savings_by_recommendation",
            "bar",
            "Monthly savings by recommendation (USD)",
            recommendations,
            "kind",
            "monthly_savings_usd",
        ),
    ]
    return [
        {
            "id": chart_id,
            "type": kind,
            "title": title,
            "x": [row[label] for row in rows],
            "y": [row[value] for row in rows],
        }
        for chart_id, kind, title, rows, label, value in specs
        if rows
    ]


# --- the answer ------------------------------------------------------------------------


def answer_for(state: RunState) -> str:
    report = state.report or {}
    kind = state.intent.kind
    parts = [_headline(report)] if kind in {"spend", "optimize"} else []
    if kind == "spend":
        parts += _spend(report, state.intent.dimensions)
    elif kind == "latency":
        parts += _latency(report, state.intent.model)
    elif kind == "growth":
        parts += _growth(report)
    elif kind == "user_cost":
        parts += _user(report, state.intent.user)
    elif kind == "optimize":
        parts += _savings(report)
        parts += _alternative(report)
        if report.get("action_plan"):
            parts += _plan(report)
    unpriced = report["totals"]["unpriced_models"]
    if unpriced:
        parts.append(
            f"_{count(report['totals']['unpriced_requests'])} requests of models the price "
            f"catalog does not know ({', '.join(unpriced)}) are not priced and not counted._"
        )
    return "\n\n".join(parts) + "\n"


def _headline(report: dict[str, Any]) -> str:
    totals, period = report["totals"], report["period"]
    return (
        f"Over {period['days']:.1f} days ({period['start'][:10]} to {period['end'][:10]}) you "
        f"spent **{usd(totals['cost_usd'])}** on {count(totals['requests'])} requests."
    )


def _table(rows: list[dict[str, Any]], label: str) -> str:
    lines = [f"| {label} | spend | share | requests |", "|---|---:|---:|---:|"]
    lines += [
        f"| {row['key'] or '(none)'} | {usd(row['cost_usd'])} | {percent(row['share'])} | "
        f"{count(row['requests'])} |"
        for row in rows[:TOP_ROWS]
    ]
    return "\n".join(lines)


def _spend(report: dict[str, Any], dimensions: list[str]) -> list[str]:
    parts = []
    for by in dimensions:
        rows = report["breakdowns"].get(f"by_{by}")
        if rows:
            parts.append(f"**Spend by {by.replace('_', ' ')}**\n\n" + _table(rows, by))
    return parts


def _latency(report: dict[str, Any], model: str | None) -> list[str]:
    latency = next((f for f in report["findings"] if f["kind"] == "latency"), None)
    if not latency or not latency.get("groups"):
        named = f" for {model}" if model else ""
        return [f"No latency was recorded{named} in this data."]
    by = latency["by"]
    lines = [
        "| " + " | ".join(by) + " | p50 ms | p95 ms | requests |",
        "|" + "---|" * len(by) + "---:|---:|---:|",
    ]
    for row in latency["groups"][:10]:
        keys = " | ".join(str(row["group"].get(name) or "-") for name in by)
        lines.append(
            f"| {keys} | {row['p50_ms']:,.0f} | {row['p95_ms']:,.0f} | {count(row['requests'])} |"
        )
    title = f"**Latency of {model}**" if model else "**Latency**"
    return [title + "\n\n" + "\n".join(lines)]


def _growth(report: dict[str, Any]) -> list[str]:
    growth = next((f for f in report["findings"] if f["kind"] == "growth"), None)
    if not growth or not growth.get("features"):
        return ["There is not enough data to compare the last two weeks."]
    top = growth.get("top")
    window = (
        f"{growth['recent_start']} to {growth['recent_end']} against "
        f"{growth['previous_start']} to {growth['previous_end']}"
    )
    if top is None:
        return [f"No feature grew ({window})."]
    lines = [
        f"**{top['feature']}** grew most: {usd(top['previous_cost_usd'])} → "
        f"{usd(top['recent_cost_usd'])} (+{usd(top['growth_usd'])}) over the last "
        f"{growth['days']} days ({window})."
    ]
    others = [f for f in growth["features"][1:TOP_ROWS] if f["growth_usd"] > 0]
    lines += [
        f"- {f['feature']}: +{usd(f['growth_usd'])} ({usd(f['previous_cost_usd'])} → "
        f"{usd(f['recent_cost_usd'])})"
        for f in others
    ]
    return ["\n".join(lines)]


def _user(report: dict[str, Any], user: str | None) -> list[str]:
    found = next((f for f in report["findings"] if f["kind"] == "user_cost"), None)
    if not found or not found.get("requests"):
        return [f"User {user} has no requests in this data."]
    parts = [
        f"User **{found['user']}** cost **{usd(found['cost_usd'])}** over "
        f"{count(found['requests'])} requests ({percent(found['share'])} of all spend)."
    ]
    if found.get("by_model"):
        parts.append("**By model**\n\n" + _table(found["by_model"], "model"))
    if found.get("by_feature"):
        parts.append("**By feature**\n\n" + _table(found["by_feature"], "feature"))
    return parts


def _savings(report: dict[str, Any]) -> list[str]:
    items = [item for item in report["recommendations"] if item["monthly_savings_usd"] > 0]
    if not items:
        return ["I found no saving these rules can price in this data."]
    lines = [
        f"You can save about **{usd(report['total_monthly_savings_usd'])} a month** "
        "(recommendations combined, no request counted twice):"
    ]
    for rank, item in enumerate(items, start=1):
        lines.append(
            f"{rank}. **{item['title']}** — {usd(item['monthly_savings_usd'])}/month "
            f"({item['confidence']} confidence). {item['action']}"
        )
    return ["\n".join(lines)]


def _alternative(report: dict[str, Any]) -> list[str]:
    found = next((f for f in report["findings"] if f["kind"] == "alternative"), None)
    if not found or not found.get("alternative"):
        return []
    best = found["alternative"]
    if best["model"] == found["model"]:
        return []
    output = best["output_usd_per_mtok"]
    return [
        f"Your largest spend is on **{found['model']}**. The cheapest {found['provider']} model "
        f"with a context window of at least {count(found['context_window'])} tokens is "
        f"**{best['model']}** at {usd(best['input_usd_per_mtok'])} input"
        + (f" and {usd(output)} output" if output is not None else "")
        + " per million tokens: worth an evaluation on your own prompts."
    ]


def _plan(report: dict[str, Any]) -> list[str]:
    lines = ["**How to act**"]
    for step in report["action_plan"]:
        lines.append(
            f"\n{step['rank']}. {step['title']} — {usd(step['monthly_savings_usd'])}/month, "
            f"effort {step['effort']}"
        )
        lines += [f"   - {text}" for text in step["steps"]]
        lines.append(f"   - Validate: {step['validation']}")
        lines.append(f"   - Roll back: {step['rollback']}")
    return ["\n".join(lines)]
