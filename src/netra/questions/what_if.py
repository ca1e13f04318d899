"""What a change to the selected traffic would save: over the window and per month.

- ``move_model``: the selected rows with a cost, priced at the target model's catalog prices
  (``analytics.resolve_model``, then its prices from ``analytics.search_catalog``), with the
  catalog's formula over the same tokens: (input − cache read − cache write) × input +
  cache read × cache read (the input price when none) + cache write × cache write (idem) +
  output × output + requests × the per-request price. Base-tier prices: a request the
  target would bill at a long-context tier is priced at its base tier. Unpriced rows (no
  cost today) are left out and counted.
- ``batch``: DATA.md's ``batch_api`` rule, ``analytics.recommend`` over the selected rows:
  non-interactive, not yet batched ``success`` requests of a provider with a batch
  discount save discount × their cost.
- ``cache``: DATA.md's caching rules, the same way: ``response_cache`` (serve a repeated
  prompt's answer from a cache) and ``prompt_caching`` (the provider's prompt cache for
  shared prefixes). Each stands alone; they are not added.

Per month = the saving over the window × 30 ÷ the window's days (DATA.md section 6); with
no window, over the data × 30 ÷ its ``period_days`` (section 3).
"""

from __future__ import annotations

from typing import Final

import duckdb

from netra import analytics
from netra.errors import InvalidInput
from netra.questions.plan import QuestionPlan, RecommendationKind
from netra.questions.result import Figure, PlanResult
from netra.questions.scope import DAYS_PER_MONTH, scope_days, scoped_dataset, where

TOKENS_PER_MTOK: Final = 1_000_000
_KINDS: Final[dict[str, tuple[RecommendationKind, ...]]] = {
    "batch": ("batch_api",),
    "cache": ("response_cache", "prompt_caching"),
}
# search_catalog prices one request of these sizes; the per-request price is the rest.
_PROBE_INPUT, _PROBE_OUTPUT = 1_000, 300


def what_if(con: duckdb.DuckDBPyConnection, plan: QuestionPlan) -> PlanResult:
    if plan.what_if is None:
        raise InvalidInput("a what-if question needs a change: another model, batch or cache")
    if plan.what_if.action == "move_model":
        return _move(con, plan, plan.what_if.target_model)
    return _engine_savings(con, plan, _KINDS[plan.what_if.action])


def _target_prices(target: str | None) -> tuple[str, dict[str, float]]:
    entry = analytics.resolve_model(target) if target else None
    if entry is None:
        raise InvalidInput(f"the price catalog does not know the model {target!r}")
    found = [
        model
        for model in analytics.search_catalog(
            provider=entry.provider,
            include_deprecated=True,
            limit=100_000,
            input_tokens=_PROBE_INPUT,
            output_tokens=_PROBE_OUTPUT,
        )
        if model.model == entry.model
    ]
    if not found:
        raise InvalidInput(f"the price catalog has no token prices for {entry.model!r}")
    model = found[0]
    per_token = model.input_usd_per_mtok / TOKENS_PER_MTOK
    output = (model.output_usd_per_mtok or 0.0) / TOKENS_PER_MTOK
    tokens_cost = _PROBE_INPUT * per_token + _PROBE_OUTPUT * output
    return entry.model, {
        "input": per_token,
        "output": output,
        "cache_read": (model.cache_read_usd_per_mtok or model.input_usd_per_mtok) / TOKENS_PER_MTOK,
        "cache_write": (model.cache_write_usd_per_mtok or model.input_usd_per_mtok)
        / TOKENS_PER_MTOK,
        "request": max(0.0, round(model.request_cost_usd - tokens_cost, 9)),
    }


def _move(con: duckdb.DuckDBPyConnection, plan: QuestionPlan, target: str | None) -> PlanResult:
    name, prices = _target_prices(target)
    condition, params = where(plan.filters, plan.window)
    found = con.execute(
        f"""
        SELECT model, sum(requests) FILTER (cost IS NOT NULL) AS requests,
               CAST(sum(cost) AS DOUBLE) AS cost,
               sum(CASE WHEN cost IS NOT NULL THEN
                   (input_tokens - cache_read_tokens - cache_write_tokens) * $input
                   + cache_read_tokens * $cache_read + cache_write_tokens * $cache_write
                   + output_tokens * $output + requests * $request END) AS moved_cost,
               coalesce(sum(requests) FILTER (cost IS NULL), 0) AS unpriced
        FROM usage WHERE {condition}
        GROUP BY model
        ORDER BY cost DESC NULLS LAST, model
        """,
        params | prices,
    ).fetchall()
    rows = [
        [model, requests or 0, cost or 0.0, moved or 0.0, (cost or 0.0) - (moved or 0.0)]
        for model, requests, cost, moved, _ in found
    ]
    current = sum(row[2] for row in rows)
    moved_cost = sum(row[3] for row in rows)
    saving = current - moved_cost
    days = scope_days(con, plan.window)
    unpriced = sum(row[4] for row in found)
    return PlanResult(
        plan=plan,
        headline=[
            Figure(label="saving", value=saving),
            Figure(label="monthly_saving", value=saving * DAYS_PER_MONTH / days),
            Figure(label="current_spend", value=current),
            Figure(label="spend_after", value=moved_cost),
        ],
        columns=["model", "requests", "spend", f"spend_on_{name}", "saving"],
        rows=rows,
        method=(
            f"the same tokens at {name}'s base-tier catalog prices; per month: "
            f"× {DAYS_PER_MONTH} ÷ {days:g} days"
        ),
        notes=[f"{unpriced:,} requests without a price left out"] if unpriced else [],
    )


def _engine_savings(
    con: duckdb.DuckDBPyConnection, plan: QuestionPlan, kinds: tuple[RecommendationKind, ...]
) -> PlanResult:
    with scoped_dataset(con, plan.filters, plan.window) as scoped:
        found = {item.kind: item for item in analytics.recommend(scoped).items}
    days = scope_days(con, plan.window)
    headline: list[Figure] = []
    rows: list[list[object]] = []
    for kind in kinds:
        item = found.get(kind)
        saving = float(item.evidence["saving_over_data_usd"]) if item else 0.0
        monthly = saving * DAYS_PER_MONTH / days
        headline += [
            Figure(label=f"{kind}_saving", value=saving),
            Figure(label=f"{kind}_monthly_saving", value=monthly),
        ]
        rows.append(
            [
                kind,
                item.affected_requests if item else 0,
                item.affected_cost_usd if item else 0.0,
                saving,
                monthly,
            ]
        )
    notes = [f"no request qualifies for {kind}" for kind, *_ in rows if kind not in found]
    if len(kinds) > 1:
        notes.append("each saving stands alone: they are not added")
    return PlanResult(
        plan=plan,
        headline=headline,
        columns=["kind", "requests", "affected_spend", "saving", "monthly_saving"],
        rows=rows,
        method=(
            f"DATA.md's {' and '.join(kinds)} rules over the selected requests; per month: "
            f"× {DAYS_PER_MONTH} ÷ {days:g} days"
        ),
        notes=notes,
    )
