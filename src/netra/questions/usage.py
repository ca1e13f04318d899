"""A language model's own usage for one question: what the run stores and /metrics counts.

Its own module so the run state can hold it without importing the model library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelUsage:
    """The model's own usage for one question. ``cost_usd``: None when the price catalog
    does not know the model (a local model, a private deployment name)."""

    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
