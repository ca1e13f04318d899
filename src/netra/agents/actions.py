"""Actions: turn the top recommendations into an implementation plan.

For each of the top recommendations (by monthly saving): concrete steps naming the calls
to change, the effort, how to validate the saving and how to roll back. The steps are
built from the recommendation's own evidence (models, features, counts), never invented.
"""

from __future__ import annotations

from typing import Any

from netra.agents.money import count, usd
from netra.agents.state import RunState
from netra.runtime.context import RunContext

TOP = 3


def _scope(evidence: dict[str, Any]) -> str:
    parts = []
    for key in ("model", "from_model", "features", "feature", "provider", "providers"):
        value = evidence.get(key)
        if value:
            shown = ", ".join(map(str, value[:3])) if isinstance(value, list) else str(value)
            parts.append(f"{key.replace('_', ' ')} {shown}")
    return "; ".join(parts) or "the affected calls"


def _steps(item: dict[str, Any]) -> tuple[list[str], str, str, str]:
    """(steps, effort, validation, rollback) for one recommendation kind."""
    evidence = item.get("evidence", {})
    scope = _scope(evidence)
    n = count(item["affected_requests"])
    match item["kind"]:
        case "response_cache":
            return (
                [
                    f"Add a response cache keyed by (model, full prompt hash) in front of {scope}.",
                    "Set a TTL that matches how long an answer stays valid (start with 24 h).",
                    "Bypass the cache for requests with temperature > 0 that must vary.",
                ],
                "medium",
                f"The cache hit rate should approach the {n} repeated requests seen; spend on "
                "those prompts should drop accordingly within a week.",
                "Turn the cache off with a feature flag; requests go to the provider again.",
            )
        case "model_routing":
            target = evidence.get("to_model") or evidence.get("sibling") or "the cheaper sibling"
            return (
                [
                    f"Add a routing rule: requests of {scope} with ≤ 1,000 input and ≤ 300 "
                    f"output tokens go to {target}.",
                    "Ship it behind a percentage rollout (10% → 50% → 100%).",
                    "Compare answer quality on a sample of routed requests (evals or review).",
                ],
                "low",
                f"Spend of the {n} small requests should fall to the sibling's prices; watch "
                "quality metrics and error rates of the routed share.",
                "Set the rollout percentage back to 0%: all requests use the original model.",
            )
        case "prompt_caching":
            return (
                [
                    f"Move the shared prefix of {scope} to the start of the prompt, unchanged "
                    "between calls.",
                    "OpenAI caches prefixes of 1,024+ tokens automatically; for Anthropic add "
                    "cache_control breakpoints after the prefix; for Google use context caching.",
                    "Check the provider's usage fields report cache-read tokens.",
                ],
                "low",
                "cache_read_tokens in the usage logs should rise and input spend fall.",
                "Remove the cache breakpoints or reorder the prompt as before.",
            )
        case "batch_api":
            return (
                [
                    f"Send the non-interactive requests of {scope} through the provider's batch "
                    "API (OpenAI Batch, Anthropic Message Batches, Vertex batch prediction).",
                    "Collect results asynchronously; they arrive within 24 h.",
                ],
                "medium",
                f"The {n} batched requests should be billed at the 50% batch discount.",
                "Switch the job back to synchronous calls.",
            )
        case _:
            return (
                [
                    f"Find why the failing requests of {scope} fail (logs by status and model).",
                    "Add retries with backoff only for retryable errors; fix request validation.",
                ],
                "medium",
                "The error share and the spend on failed requests should fall.",
                "Revert the client change.",
            )


class Actions:
    name = "actions"

    async def run(self, ctx: RunContext, state: RunState) -> dict[str, Any]:
        found = state.recommendations or {"recommendations": []}
        top = [item for item in found["recommendations"] if item["monthly_savings_usd"] > 0][:TOP]
        await ctx.think(
            self.name,
            f"Planning how to implement the top {len(top)} recommendations, largest saving first.",
        )
        plan = []
        for rank, item in enumerate(top, start=1):
            steps, effort, validation, rollback = _steps(item)
            plan.append(
                {
                    "rank": rank,
                    "recommendation_id": item["id"],
                    "kind": item["kind"],
                    "title": item["title"],
                    "monthly_savings_usd": item["monthly_savings_usd"],
                    "effort": effort,
                    "steps": steps,
                    "validation": validation,
                    "rollback": rollback,
                }
            )
        state.action_plan = plan
        return {
            "steps": len(plan),
            "savings_covered_usd": round(sum(p["monthly_savings_usd"] for p in plan), 2),
            "first": usd(plan[0]["monthly_savings_usd"]) if plan else None,
        }
