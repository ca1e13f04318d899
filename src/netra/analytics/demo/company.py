"""The demo company: its models and its features, as ``generator.write_demo`` draws them.

Every model name is one the price catalog knows; several have a cheaper sibling
(``siblings.toml``). Token counts are log-normal: the prompt is a shared system prompt
(``prefixes``, one ``prefix_hash`` each) plus a part of median ``input_median``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    base_ms: float  # latency before the first token
    ms_per_output_token: float


MODELS: Final = (
    Model("gpt-4o", "openai", 550, 11),
    Model("gpt-4o-2024-08-06", "openai", 550, 11),
    Model("gpt-4o-mini", "openai", 330, 7),
    Model("gpt-4.1", "openai", 600, 12),
    Model("o1", "openai", 3_500, 25),
    Model("claude-sonnet-4-5", "anthropic", 900, 14),
    Model("claude-sonnet-4-20250514", "anthropic", 850, 14),
    Model("claude-3-5-sonnet-20241022", "anthropic", 800, 13),
    Model("gemini-2.5-flash", "google", 350, 5),
    Model("gemini-1.5-pro-002", "google", 700, 10),
    Model("gemini-2.5-pro", "google", 1_400, 12),
)
MODEL_INDEX: Final = {model.name: index for index, model in enumerate(MODELS)}


@dataclass(frozen=True)
class Feature:
    name: str
    share: float
    project: str
    api_keys: tuple[str, ...]
    models: tuple[tuple[str, float], ...]  # model name, share
    prefixes: tuple[int, ...]  # system prompt lengths (one prefix_hash each)
    input_median: float  # tokens after the prefix, log-normal
    input_sigma: float
    output_median: float
    output_sigma: float
    repeat_share: float  # requests that repeat a popular prompt
    error_share: float
    interactive_share: float
    batch_share: float  # of the non-interactive requests, already on a batch API
    cached_share: float = 0.0  # Anthropic requests already reading their prefix from cache
    nightly: bool = False


FEATURES: Final = (
    Feature(
        name="chat-assistant",
        share=0.36,
        project="web-app",
        api_keys=("key-web", "key-mobile"),
        models=(
            ("gpt-4o", 0.35),
            ("claude-sonnet-4-5", 0.3),
            ("gemini-2.5-flash", 0.2),
            ("gpt-4o-mini", 0.15),
        ),
        prefixes=(1_400, 1_650),
        input_median=600,
        input_sigma=0.9,
        output_median=250,
        output_sigma=0.7,
        repeat_share=0.06,
        error_share=0.02,
        interactive_share=1.0,
        batch_share=0.0,
    ),
    Feature(
        name="summarize",
        share=0.2,
        project="docs",
        api_keys=("key-docs",),
        models=(
            ("gpt-4o-2024-08-06", 0.45),
            ("claude-3-5-sonnet-20241022", 0.3),
            ("gemini-1.5-pro-002", 0.25),
        ),
        prefixes=(900,),
        input_median=3_500,
        input_sigma=0.8,
        output_median=220,
        output_sigma=0.5,
        repeat_share=0.1,
        error_share=0.02,
        interactive_share=0.85,
        batch_share=0.0,
    ),
    Feature(
        name="classify",
        share=0.24,
        project="support",
        api_keys=("key-support",),
        models=(("gpt-4.1", 0.45), ("gpt-4o", 0.3), ("claude-sonnet-4-20250514", 0.25)),
        prefixes=(450,),
        input_median=250,
        input_sigma=0.6,
        output_median=12,
        output_sigma=0.5,
        repeat_share=0.3,
        error_share=0.01,
        interactive_share=1.0,
        batch_share=0.0,
    ),
    Feature(
        name="nightly-batch",
        share=0.1,
        project="data-platform",
        api_keys=("key-data",),
        models=(("gpt-4.1", 0.4), ("claude-sonnet-4-20250514", 0.3), ("gemini-2.5-pro", 0.3)),
        prefixes=(2_000,),
        input_median=6_000,
        input_sigma=0.7,
        output_median=600,
        output_sigma=0.6,
        repeat_share=0.05,
        error_share=0.03,
        interactive_share=0.0,
        batch_share=0.25,
        nightly=True,
    ),
    Feature(
        name="agent",
        share=0.1,
        project="ops-agent",
        api_keys=("key-agent",),
        models=(("claude-sonnet-4-5", 0.5), ("o1", 0.2), ("gemini-2.5-pro", 0.3)),
        prefixes=(3_000,),
        input_median=9_000,
        input_sigma=0.8,
        output_median=900,
        output_sigma=0.7,
        repeat_share=0.01,
        error_share=0.06,
        interactive_share=1.0,
        batch_share=0.0,
        cached_share=0.5,
    ),
)
AGENT: Final = len(FEATURES) - 1  # index of the agent feature (the spike's)
MAX_INPUT_TOKENS: Final = 120_000  # keeps every demo request in the catalog's base tier
