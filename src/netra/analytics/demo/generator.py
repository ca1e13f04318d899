"""Demo usage data: a plausible company's LLM traffic, deterministic from a seed (DATA.md §5).

``write_demo(path, rows, seed)`` writes a canonical dataset (``schema.SCHEMA``) covering the
``DAYS`` days that end on ``END`` (fixed, so a seed always gives the same file):

- five features with their own models, prompt sizes and habits: ``chat-assistant``,
  ``summarize``, ``classify``, ``nightly-batch``, ``agent``; OpenAI, Anthropic and Google
  models that the catalog knows, several with a cheaper sibling, and ``classify`` sends many
  small requests (so model routing has something to show);
- a daily rhythm (interactive traffic peaks mid-afternoon UTC, nightly jobs run 01:00-04:00)
  and a weekly one (weekends are quieter), with traffic growing over the period;
- repeated prompts (a pool of popular prompts per feature: same ``prompt_hash``, model and
  input), shared system prompts (``prefix_hash``, ``prefix_tokens``; the agent already reads
  half of its prefixes from the provider cache), non-interactive nightly jobs (a quarter
  already on a batch API), a few percent of errors;
- one spend spike: on ``SPIKE_DAY`` a runaway agent sends very large requests;
- users ``u1`` … ``uN`` with a long tail; ``provider`` and a billed ``cost_usd`` only on the
  fifth of rows that went through the company's gateway (``cost_usd`` is then the catalog
  price on ``END``), so most rows are priced by the analytics engine.

Rows are generated with numpy (``default_rng(seed)``) in chunks of ``CHUNK_ROWS`` and sorted
by time within a chunk; ``row_no`` is the position in the file. ``prompt_key`` is derived and
made unique as ingestion does it (``prompt_keys``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.analytics.demo.company import (
    AGENT,
    FEATURES,
    MAX_INPUT_TOKENS,
    MODEL_INDEX,
    MODELS,
    Feature,
)
from netra.analytics.ingest.prompt_keys import make_unique, with_prompt_keys
from netra.analytics.ingest.writer import DatasetWriter
from netra.analytics.prices import catalog
from netra.analytics.schema import COLUMN_NAMES, SCHEMA

DAYS: Final = 42
END: Final = date(2025, 6, 30)  # the last day of the demo period
START: Final = END - timedelta(days=DAYS - 1)
SPIKE_DAY: Final = DAYS - 6  # index of the spike day (2025-06-25)
SPIKE_SHARE: Final = 0.004  # of the rows, on top of the spike day's normal traffic
CHUNK_ROWS: Final = 1_000_000
GATEWAY_SHARE: Final = 0.2  # rows with provider and billed cost_usd


def write_demo(path: str | os.PathLike[str], rows: int = 20_000, seed: int = 0) -> None:
    """Write ``rows`` demo usage rows to the Parquet file ``path`` (see module docstring)."""
    rng = np.random.default_rng(seed)
    users = max(8, min(400, rows // 250))
    pools = [_pool(rng, feature, max(20, rows // 2_000)) for feature in FEATURES]
    prices = _gateway_prices()
    spike = max(1, round(rows * SPIKE_SHARE)) if rows >= 100 else 0
    with DatasetWriter(path) as writer:
        done = 0
        normal_left, spike_left = rows - spike, spike
        while normal_left + spike_left > 0:
            size = min(CHUNK_ROWS, normal_left + spike_left)
            spike_part = round(spike_left * size / (normal_left + spike_left))
            chunk = _chunk(rng, size - spike_part, spike_part, users, pools, prices, done)
            writer.write(chunk)
            done += size
            normal_left -= size - spike_part
            spike_left -= spike_part
    try:
        with duckdb.connect() as con:
            make_unique(con, Path(path))
    except BaseException:
        Path(path).unlink(missing_ok=True)  # never leave a file with unchecked keys
        raise


@dataclass(frozen=True)
class _Pool:
    """A feature's popular prompts: each has a fixed model, input size and prefix."""

    model: np.ndarray
    input_tokens: np.ndarray
    prefix: np.ndarray
    weights: np.ndarray


def _pool(rng: np.random.Generator, feature: Feature, size: int) -> _Pool:
    weights = 1.0 / np.arange(1, size + 1) ** 0.9
    return _Pool(
        model=_pick_models(rng, feature, size),
        input_tokens=_lognormal(rng, feature.input_median, feature.input_sigma, size),
        prefix=rng.integers(0, len(feature.prefixes), size),
        weights=weights / weights.sum(),
    )


def _chunk(
    rng: np.random.Generator,
    normal: int,
    spike: int,
    users: int,
    pools: list[_Pool],
    prices: np.ndarray,
    first_row: int,
) -> pa.Table:
    """``normal`` requests over the period and ``spike`` on the spike day, as a table."""
    n = normal + spike
    shares = np.array([feature.share for feature in FEATURES])
    feature = np.concatenate(
        [rng.choice(len(FEATURES), normal, p=shares / shares.sum()), np.full(spike, AGENT)]
    )
    is_spike = np.arange(n) >= normal
    model = np.zeros(n, np.int64)
    tail = np.zeros(n)
    prefix_index = np.zeros(n, np.int64)
    prompt = np.full(n, -1, np.int64)  # popular prompt id, -1 for a unique prompt
    day = np.zeros(n, np.int64)
    second = np.zeros(n)
    for index, spec in enumerate(FEATURES):
        rows = np.flatnonzero(feature == index)
        count = rows.size
        model[rows] = _pick_models(rng, spec, count)
        tail[rows] = _lognormal(rng, spec.input_median, spec.input_sigma, count)
        prefix_index[rows] = rng.integers(0, len(spec.prefixes), count)
        repeat = rows[rng.random(count) < spec.repeat_share]
        pool = pools[index]
        chosen = rng.choice(pool.weights.size, repeat.size, p=pool.weights)
        prompt[repeat] = index * 1_000_000 + chosen
        model[repeat] = pool.model[chosen]
        tail[repeat] = pool.input_tokens[chosen]
        prefix_index[repeat] = pool.prefix[chosen]
        day[rows], second[rows] = _times(rng, spec, count)

    spike_rows = np.flatnonzero(is_spike)
    model[spike_rows] = MODEL_INDEX["claude-sonnet-4-5"]
    tail[spike_rows] = rng.uniform(60_000, 110_000, spike)
    prompt[spike_rows] = -1
    day[spike_rows] = SPIKE_DAY
    second[spike_rows] = rng.uniform(9 * 3600, 13 * 3600, spike)

    prefix_tokens = np.where(
        prefix_index == 1,
        np.array([spec.prefixes[-1] for spec in FEATURES])[feature],
        np.array([spec.prefixes[0] for spec in FEATURES])[feature],
    )
    input_tokens = np.minimum(prefix_tokens + tail.astype(np.int64), MAX_INPUT_TOKENS)
    output_medians = np.array([spec.output_median for spec in FEATURES])[feature]
    output_sigmas = np.array([spec.output_sigma for spec in FEATURES])[feature]
    output_tokens = np.maximum(
        1, np.exp(np.log(output_medians) + output_sigmas * rng.standard_normal(n))
    ).astype(np.int64)
    output_tokens[spike_rows] = rng.integers(1_500, 4_000, spike)

    anthropic = np.array([m.provider == "anthropic" for m in MODELS])[model]
    cached_share = np.array([spec.cached_share for spec in FEATURES])[feature]
    cached = anthropic & (rng.random(n) < cached_share) & ~is_spike
    cache_read = np.where(cached, prefix_tokens, 0)

    error = rng.random(n) < np.array([spec.error_share for spec in FEATURES])[feature]
    output_tokens[error] = 0
    interactive = rng.random(n) < np.array([s.interactive_share for s in FEATURES])[feature]
    batch = ~interactive & (rng.random(n) < np.array([s.batch_share for s in FEATURES])[feature])

    base_ms = np.array([m.base_ms for m in MODELS])[model]
    per_token = np.array([m.ms_per_output_token for m in MODELS])[model]
    latency = (base_ms + per_token * output_tokens + 0.02 * input_tokens) * rng.lognormal(
        0.0, 0.25, n
    )
    latency = np.where(error, rng.uniform(200, 30_000, n), latency).round(1)

    gateway = rng.random(n) < GATEWAY_SHARE
    in_price, out_price, read_price = prices[model].T
    billed = (input_tokens - cache_read) * in_price + cache_read * read_price
    billed = (billed + output_tokens * out_price).round(8)

    ranks = 1.0 / np.arange(1, users + 1) ** 0.8
    user = rng.choice(users, n, p=ranks / ranks.sum())
    user[spike_rows] = 2  # u3's runaway agent
    api_key_choice = rng.integers(0, 2, n)

    timestamp = (
        np.datetime64(START, "us")
        + day * np.timedelta64(86_400_000_000, "us")
        + (second * 1e3).astype(np.int64) * np.timedelta64(1_000, "us")
    )
    drawn = {
        "timestamp": timestamp,
        "feature": feature,
        "model": model,
        "prompt": prompt,
        "prefix_index": prefix_index,
        "prefix_tokens": prefix_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read,
        "error": error,
        "interactive": interactive,
        "batch": batch,
        "latency_ms": latency,
        "gateway": gateway,
        "billed": billed,
        "user": user,
        "api_key_choice": api_key_choice,
    }
    return _table(drawn, users, first_row)


def _table(drawn: dict[str, np.ndarray], users: int, first_row: int) -> pa.Table:
    """The drawn requests as canonical columns, in time order (stable for equal times)."""
    order = np.argsort(drawn["timestamp"], kind="stable")
    rows = {name: values[order] for name, values in drawn.items()}
    n = order.size
    key_names = sorted({key for spec in FEATURES for key in spec.api_keys})
    key_index = np.array(
        [
            [key_names.index(spec.api_keys[i % len(spec.api_keys)]) for i in range(2)]
            for spec in FEATURES
        ]
    )[rows["feature"], rows["api_key_choice"]]
    row_numbers = np.arange(first_row, first_row + n)
    prompt_hash = pc.if_else(
        pa.array(rows["prompt"] >= 0),
        pc.binary_join_element_wise("pop", pc.cast(pa.array(rows["prompt"]), pa.string()), "-"),
        pc.binary_join_element_wise("req", pc.cast(pa.array(row_numbers), pa.string()), "-"),
    )
    columns = {
        "row_no": row_numbers,
        "timestamp": rows["timestamp"],
        "model": _strings([m.name for m in MODELS], rows["model"]),
        "provider": pc.if_else(
            pa.array(rows["gateway"]),
            _strings([m.provider for m in MODELS], rows["model"]),
            pa.nulls(n, pa.string()),
        ),
        "input_tokens": rows["input_tokens"],
        "output_tokens": rows["output_tokens"],
        "cache_read_tokens": rows["cache_read_tokens"],
        "cache_write_tokens": np.zeros(n, np.int64),
        "requests": np.ones(n, np.int64),
        "cost_usd": pa.array(rows["billed"], mask=~rows["gateway"]),
        "latency_ms": rows["latency_ms"],
        "status": _strings(["success", "error"], rows["error"].astype(np.int64)),
        "user": _strings([f"u{i + 1}" for i in range(users)], rows["user"]),
        "feature": _strings([spec.name for spec in FEATURES], rows["feature"]),
        "project": _strings([spec.project for spec in FEATURES], rows["feature"]),
        "api_key": _strings(key_names, key_index),
        "prompt_hash": prompt_hash,
        "prefix_hash": _strings(
            [f"sys-{spec.name}-v{version + 1}" for spec in FEATURES for version in range(2)],
            rows["feature"] * 2 + rows["prefix_index"],
        ),
        "prefix_tokens": rows["prefix_tokens"],
        "interactive": rows["interactive"],
        "batch": rows["batch"],
    }
    return with_prompt_keys(
        pa.table({name: pa.array(columns[name], SCHEMA.field(name).type) for name in COLUMN_NAMES})
    )


def _pick_models(rng: np.random.Generator, feature: Feature, count: int) -> np.ndarray:
    names = [name for name, _ in feature.models]
    shares = np.array([share for _, share in feature.models])
    picked = rng.choice(len(names), count, p=shares / shares.sum())
    return np.array([MODEL_INDEX[name] for name in names])[picked]


def _lognormal(rng: np.random.Generator, median: float, sigma: float, count: int) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(count))


def _times(rng: np.random.Generator, feature: Feature, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Day index and second of day: nightly jobs run 01:00-04:00 every day; interactive
    traffic follows the week (weekends at 40 %), grows 1.2 % a day and peaks at 15:00 UTC."""
    if feature.nightly:
        return rng.integers(0, DAYS, count), rng.uniform(3_600, 4 * 3_600, count)
    weekdays = (np.arange(DAYS) + START.weekday()) % 7
    weights = np.where(weekdays >= 5, 0.4, 1.0) * (1 + 0.012 * np.arange(DAYS))
    days = rng.choice(DAYS, count, p=weights / weights.sum())
    seconds = (rng.normal(15 * 3_600, 3.5 * 3_600, count)) % 86_400
    return days, seconds


def _strings(names: list[str], indices: np.ndarray) -> pa.Array:
    dictionary = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(names))
    return dictionary.cast(pa.string())


def _gateway_prices() -> np.ndarray:
    """Per model: base-tier USD per input, output and cache-read token on ``END``."""
    rows = []
    for model in MODELS:
        entry = catalog.resolve(model.name, model.provider)
        prices = catalog.token_prices(catalog.prices_at(entry.info, END), 0) if entry else None
        if prices is None:
            raise LookupError(f"the price catalog does not price demo model {model.name!r}")
        rows.append((prices.input, prices.output or 0.0, prices.cache_read or prices.input))
    return np.array(rows)
