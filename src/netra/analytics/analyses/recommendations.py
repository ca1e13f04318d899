"""Priced recommendations (DATA.md section 3), one per kind with something to show.

Each recommendation's saving stands alone (``savings`` has the formulas); money figures:

- ``period_days`` = (last − first timestamp) in seconds / 86,400, not rounded, at least 1;
- ``monthly_savings_usd`` = saving over the data × 30 / ``period_days``;
- ``affected_requests`` / ``affected_cost_usd``: the requests the action changes and what
  they cost now — the repeats (all but the first request of each group) for
  ``response_cache``, the routed requests for ``model_routing``, every request of the
  groups for ``prompt_caching`` (the first writes the cache, the others read it), the
  batchable requests for ``batch_api``, the failed requests for ``error_waste``.

``total_monthly_savings_usd`` combines response_cache, model_routing, prompt_caching and
batch_api in that order without counting a request twice (``savings.chain``);
``error_waste`` is shown beside it (``error_waste_monthly_usd``), not added.

Confidence, written down so it can be checked:

- ``low`` whenever fewer than 100 requests are affected (too few to act on);
- otherwise ``response_cache``: ``medium`` (the repeats are certain; whether a stored answer
  may be served again depends on the product); ``model_routing``: ``medium`` (a smaller
  model may answer worse: try it on a sample first); ``prompt_caching``: ``high`` when the
  affected requests' prefixes average at least 1,024 tokens (the providers' smallest
  cacheable prefix), else ``medium``; ``batch_api``: ``high`` (same model, same answers,
  only later); ``error_waste``: ``medium`` (not every failure can be avoided).
"""

from __future__ import annotations

from typing import Final

from netra.analytics.analyses import cells, savings
from netra.analytics.analyses.savings import Saving
from netra.analytics.analyses.summary import period_days
from netra.analytics.connection import Source, connect
from netra.analytics.result import (
    Confidence,
    Kind,
    Recommendation,
    RecommendationSet,
    usd,
)

MIN_CONFIDENT_REQUESTS: Final = 100
MIN_CACHEABLE_PREFIX_TOKENS: Final = 1_024


def recommendations(source: Source) -> RecommendationSet:
    """Every recommendation kind with affected requests, and the combined saving."""
    with connect(source) as con:
        bounds = con.execute("SELECT first_at, last_at FROM period").fetchone()
        days = period_days(*(bounds or (None, None)))
        names = cells.prepare(con)
        found: dict[Kind, Saving] = {
            "response_cache": savings.response_cache(con, names),
            "model_routing": savings.model_routing(con, names),
            "prompt_caching": savings.prompt_caching(con, names),
            "batch_api": savings.batch_api(con, names),
            "error_waste": savings.error_waste(con, names),
        }
        chain = savings.chain(con)

    def monthly(amount: float) -> float:
        return usd(amount * 30 / days)

    items = [
        _recommendation(kind, saving, days, monthly(saving.saving))
        for kind, saving in found.items()
        if saving.requests > 0
    ]
    items.sort(key=lambda item: (-item.monthly_savings_usd, item.kind))
    return RecommendationSet(
        period_days=days,
        items=items,
        total_monthly_savings_usd=monthly(chain.total),
        combined={
            "response_cache": monthly(chain.response_cache),
            "model_routing": monthly(chain.model_routing),
            "prompt_caching": monthly(chain.prompt_caching),
            "batch_api": monthly(chain.batch_api),
        },
        error_waste_monthly_usd=monthly(found["error_waste"].saving),
    )


def _recommendation(kind: Kind, saving: Saving, days: float, monthly: float) -> Recommendation:
    title, action = _words(kind, saving)
    return Recommendation(
        id=kind,
        kind=kind,
        title=title,
        action=action,
        monthly_savings_usd=monthly,
        affected_requests=saving.requests,
        affected_cost_usd=usd(saving.cost),
        confidence=_confidence(kind, saving),
        evidence={
            "period_days": days,
            "saving_over_data_usd": usd(saving.saving),
            **({"groups": saving.groups} if saving.groups else {}),
            **{name: _rounded(name, value) for name, value in saving.numbers.items()},
            "parts": [
                {name: _rounded(name, value) for name, value in part.items()}
                for part in saving.parts
            ],
        },
    )


def _confidence(kind: Kind, saving: Saving) -> Confidence:
    if saving.requests < MIN_CONFIDENT_REQUESTS:
        return "low"
    if kind == "batch_api":
        return "high"
    if kind == "prompt_caching":
        mean_prefix = saving.numbers["prefix_tokens"] / saving.requests
        return "high" if mean_prefix >= MIN_CACHEABLE_PREFIX_TOKENS else "medium"
    return "medium"


def _words(kind: Kind, saving: Saving) -> tuple[str, str]:
    parts = saving.parts
    if kind == "response_cache":
        return (
            "Cache repeated responses",
            f"Serve the {saving.requests:,} requests that repeat an earlier identical prompt "
            f"(same model and prompt hash, {saving.groups:,} prompts) from a response cache.",
        )
    if kind == "model_routing":
        routes = ", ".join(
            f"{part['model']} → {part['sibling']} ({part['requests']:,} requests)"
            for part in parts[:3]
        )
        return (
            "Route small requests to cheaper sibling models",
            f"Send requests of at most {cells.MAX_ROUTED_INPUT_TOKENS:,} input and "
            f"{cells.MAX_ROUTED_OUTPUT_TOKENS:,} output tokens to the cheaper sibling: "
            f"{routes}.",
        )
    if kind == "prompt_caching":
        mean_prefix = saving.numbers["prefix_tokens"] / saving.requests
        return (
            "Cache shared prompt prefixes",
            f"Turn on the provider's prompt caching for the {saving.groups:,} shared prefixes "
            f"(system prompts) that {saving.requests:,} requests send uncached, "
            f"{mean_prefix:,.0f} tokens on average.",
        )
    if kind == "batch_api":
        providers = ", ".join(str(part["provider"]) for part in parts)
        return (
            "Send non-interactive requests through batch APIs",
            f"Submit the {saving.requests:,} requests nobody waits for through the batch API "
            f"of {providers} at the batch discount.",
        )
    all_requests = saving.numbers["all_requests"] or 1
    return (
        "Reduce failed requests",
        f"{saving.requests:,} requests ({saving.requests / all_requests:.1%}) failed and "
        "were billed: check retries, timeouts and input validation.",
    )


_MONEY_FIELDS: Final = frozenset({"saving", "cost", "sibling_cost", "read_saving", "write_premium"})


def _rounded(name: str, value: object) -> object:
    return usd(value) if name in _MONEY_FIELDS and isinstance(value, float) else value
