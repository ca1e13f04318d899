"""Actions: turn the top recommendations into an implementation plan.

For each of the top recommendations (by monthly saving): concrete steps naming the calls
to change, the effort, how to validate the saving and how to roll back. The steps are
built from the recommendation's own evidence (models, features, counts), never invented.
"""

from __future__ import annotations

from typing import Any

from netra.agents.money import count, usd
from netra.analytics.result import Recommendation
from netra.runtime.context import RunContext
from netra.runtime.report import ActionStep
from netra.runtime.state import RunState

TOP = 3


def _parts(item: Recommendation, limit: int = 3) -> list[dict[str, Any]]:
    """The largest parts of a recommendation's evidence (per model, provider or pair)."""
    parts: list[dict[str, Any]] = item.evidence.get("parts", [])
    return sorted(parts, key=lambda part: -float(part.get("saving", 0)))[:limit]


def _models(item: Recommendation) -> str:
    shown = [
        f"{part['model']} ({count(part['requests'])} requests)"
        for part in _parts(item)
        if "model" in part
    ]
    return ", ".join(shown) or "the affected models"


def _caching_how(models: list[str]) -> str:
    how = []
    if any(m.startswith(("gpt", "o1", "o3", "o4")) for m in models):
        how.append("OpenAI caches prefixes of 1,024+ tokens by itself once they come first")
    if any(m.startswith("claude") for m in models):
        how.append("for Anthropic add a cache_control breakpoint after the prefix")
    if any(m.startswith("gemini") for m in models):
        how.append("for Google create a context cache for the prefix")
    return "; ".join(how) or "enable the provider's prompt caching for the prefix"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _steps(item: Recommendation) -> tuple[list[str], str, str, str]:
    """(steps, effort, validation, rollback) for one recommendation, from its evidence."""
    n = count(item.affected_requests)
    saving = usd(item.monthly_savings_usd)
    match item.kind:
        case "response_cache":
            return (
                [
                    f"Put a response cache keyed by (model, prompt hash) in front of the calls "
                    f"that repeat: {_models(item)}.",
                    "Give entries a TTL that matches how long an answer stays valid (start with "
                    "24 h) and bypass the cache where answers must vary.",
                ],
                "medium",
                f"The cache should serve the {n} repeats; spend should fall by about {saving} "
                "a month.",
                "Turn the cache off with a flag: every request goes to the provider again.",
            )
        case "model_routing":
            rules = [
                f"route {part['model']} requests with ≤ 1,000 input and ≤ 300 output tokens to "
                f"{part['sibling']} ({count(part['requests'])} requests)"
                for part in _parts(item)
                if "sibling" in part
            ]
            return (
                [
                    "Add routing rules in the LLM client or gateway: " + "; ".join(rules) + ".",
                    "Roll them out to 10%, then 50%, then 100% of the traffic.",
                    "Compare answer quality of routed and unrouted requests on a sample "
                    "(evals or review) before each step.",
                ],
                "low",
                f"Spend of the {n} small requests should fall by about {saving} a month with "
                "no drop in quality metrics.",
                "Set the rollout back to 0%: every request uses the original model.",
            )
        case "prompt_caching":
            models = [part["model"] for part in _parts(item) if "model" in part]
            return (
                [
                    f"Put the shared prefix (system prompt, instructions) first and unchanged "
                    f"in the requests of {_models(item)}.",
                    _sentence(_caching_how(models)),
                    "Check that the usage logs now report cache-read tokens.",
                ],
                "low",
                f"cache_read_tokens should rise and input spend fall by about {saving} a month.",
                "Remove the cache breakpoints (or restore the prompt order).",
            )
        case "batch_api":
            providers = ", ".join(
                f"{part['provider']} ({count(part['requests'])} requests)"
                for part in _parts(item)
                if "provider" in part
            )
            return (
                [
                    f"Send the requests nobody waits for through the batch API of: {providers} "
                    "(OpenAI Batch, Anthropic Message Batches, Google batch prediction).",
                    "Collect the results asynchronously (within 24 h) and mark the jobs batch.",
                ],
                "medium",
                f"The {n} batched requests should be billed at the 50% batch discount: about "
                f"{saving} a month.",
                "Switch the jobs back to synchronous calls.",
            )
        case _:
            return (
                [
                    f"Find why requests fail, model by model: {_models(item)}.",
                    "Retry only retryable errors (with backoff), validate inputs before "
                    "sending, and raise timeouts that cut long answers.",
                ],
                "medium",
                "The share of failed requests, and the spend on them, should fall.",
                "Revert the client change.",
            )


class Actions:
    name = "actions"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        items = state.recommendations.items if state.recommendations else []
        top = [item for item in items if item.monthly_savings_usd > 0][:TOP]
        await ctx.think(
            self.name,
            f"Planning how to implement the top {len(top)} recommendations, largest saving first.",
        )
        plan = []
        for rank, item in enumerate(top, start=1):
            steps, effort, validation, rollback = _steps(item)
            plan.append(
                ActionStep(
                    rank=rank,
                    recommendation_id=item.id,
                    kind=item.kind,
                    title=item.title,
                    monthly_savings_usd=item.monthly_savings_usd,
                    effort=effort,
                    steps=steps,
                    validation=validation,
                    rollback=rollback,
                )
            )
        state.action_plan = plan
        return {
            "steps": len(plan),
            "savings_covered_usd": round(sum(p.monthly_savings_usd for p in plan), 2),
            "first": usd(plan[0].monthly_savings_usd) if plan else None,
        }
