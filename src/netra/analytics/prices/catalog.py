"""The pinned price catalog (``genai-prices``) as the analytics engine reads it.

Everything about prices comes from the catalog and nothing is typed into the code
(DATA.md section 2):

- ``resolve(model, provider)``: which catalog provider and model a usage row means, by the
  catalog's own matcher. It is called once per distinct (model, provider) of a dataset,
  never per row. A provider the catalog does not know, or that does not offer the model,
  falls back to the catalog's inference from the model name (``openai/gpt-4o`` style names
  go through the catalog's LiteLLM rule).
- ``token_prices(model_price, input_tokens)``: USD per token and per request of a model for
  a request of that many input tokens. With these prices, the cost of a request is what
  ``genai_prices.calc_price`` returns for ``Usage(input_tokens, output_tokens,
  cache_read_tokens, cache_write_tokens)``::

      cost = (input − cache_read − cache_write) × input
           + cache_read × cache_read     (the input price when the model has none)
           + cache_write × cache_write   (the input price when the model has none)
           + output × output             (0 when the model has none)
           + 1 × request                 (0 when the model has none)

  A tiered price charges ALL tokens of the request at the price of the highest tier whose
  ``start`` the request's input tokens exceed (the catalog's "cliff" rule).
- Conditional prices: ``prices_at(info, day, second)`` is the catalog's ``get_prices`` at that
  instant. Rows are priced at the pricing day's prices (DATA.md: "current prices"), at the
  row's own time of day, which only matters for time-of-day (off-peak) prices. The
  catalog's request-context variants (service tiers, its batch prices) are not applied:
  rows are priced at standard prices.
- ``search_catalog`` / ``cheapest_model``: the catalog search tool of the optimization agent.

A model is *priced* when its prices include an input-token price. Models priced only per
character, second, page or image (speech, transcription, OCR) and models without any price
are not: their rows stay unpriced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from genai_prices import data_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    Provider,
    TieredPrices,
    TimeOfDateConstraint,
)

from netra.analytics.result import (
    CatalogModel,
)
from netra.errors import InvalidInput

TOKENS_PER_MTOK: Final = 1_000_000
REQUESTS_PER_KCOUNT: Final = 1_000

# Capabilities a catalog search can require: the model has a price for this unit.
CAPABILITIES: Final[dict[str, str]] = {
    "prompt_caching": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "audio_input": "input_audio_mtok",
    "audio_output": "output_audio_mtok",
    "image_input": "input_image_mtok",
    "image_output": "output_image_mtok",
    "video_input": "input_video_mtok",
    "video_output": "output_video_mtok",
    "web_search": "web_searches_kcount",
}


@dataclass(frozen=True)
class CatalogEntry:
    """A catalog model as a usage row resolved to it."""

    provider: str
    model: str
    info: ModelInfo = field(repr=False)


@dataclass(frozen=True)
class TokenPrices:
    """USD per token (``request``: per request); ``None`` where the catalog has no price."""

    input: float
    output: float | None
    cache_read: float | None
    cache_write: float | None
    request: float | None


def resolve(
    model: str, provider: str | None = None, *, infer_provider: bool = True
) -> CatalogEntry | None:
    """The catalog model a usage row's ``model`` and optional ``provider`` mean, or ``None``.

    With ``infer_provider=False`` only ``provider`` itself (and the providers the catalog
    says it resells, e.g. Azure for OpenAI) is searched.
    """
    snapshot = data_snapshot.get_snapshot()
    attempts: list[str | None] = [provider] if provider else []
    if infer_provider or not provider:
        attempts.append("litellm" if "/" in model else None)
    for provider_id in attempts:
        try:
            found, info = snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            continue
        return CatalogEntry(provider=found.id, model=info.id, info=info)
    return None


def prices_at(info: ModelInfo, day: date, second: float = 0.0) -> ModelPrice:
    """The model's prices on ``day`` at ``second`` seconds after midnight UTC."""
    instant = datetime.combine(day, time(), UTC) + timedelta(seconds=second)
    return info.get_prices(instant)


def time_of_day_bounds(info: ModelInfo) -> frozenset[int]:
    """Seconds after midnight UTC where the model's time-of-day prices start or end."""
    if isinstance(info.prices, ModelPrice):
        return frozenset()
    return frozenset(
        _second_of_day(moment)
        for conditional in info.prices
        if isinstance(constraint := conditional.constraint, TimeOfDateConstraint)
        for moment in (constraint.start_time, constraint.end_time)
    )


def tier_starts(model_price: ModelPrice) -> frozenset[int]:
    """Input-token thresholds above which a tier of this model's prices applies."""
    return frozenset(
        tier.start
        for key in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
        if isinstance(price := getattr(model_price, key), TieredPrices)
        for tier in price.tiers
    )


def token_prices(model_price: ModelPrice, input_tokens: float) -> TokenPrices | None:
    """Prices for a request of ``input_tokens`` input tokens; ``None`` if not priced."""
    input_price = _per_unit(model_price.input_mtok, input_tokens, TOKENS_PER_MTOK)
    if input_price is None:
        return None
    return TokenPrices(
        input=input_price,
        output=_per_unit(model_price.output_mtok, input_tokens, TOKENS_PER_MTOK),
        cache_read=_per_unit(model_price.cache_read_mtok, input_tokens, TOKENS_PER_MTOK),
        cache_write=_per_unit(model_price.cache_write_mtok, input_tokens, TOKENS_PER_MTOK),
        request=_per_unit(model_price.requests_kcount, input_tokens, REQUESTS_PER_KCOUNT),
    )


def search_catalog(
    min_context_window: int = 0,
    capabilities: Iterable[str] = (),
    provider: str | None = None,
    *,
    input_tokens: int = 1_000,
    output_tokens: int = 300,
    include_deprecated: bool = False,
    limit: int = 10,
    day: date | None = None,
) -> list[CatalogModel]:
    """Catalog models, cheapest first, that satisfy every condition.

    - ``min_context_window``: the catalog's ``context_window`` is at least this (a model
      whose window the catalog does not state only passes ``0``);
    - ``capabilities``: each of them is priced by the model, from ``CAPABILITIES``:
      ``prompt_caching`` (a cache-read price), ``cache_write``, ``audio_input``,
      ``audio_output``, ``image_input``, ``image_output``, ``video_input``,
      ``video_output``, ``web_search``. The catalog lists prices, not features: a model that
      bills images as ordinary input tokens has no ``image_input`` price and is left out;
    - ``provider``: a catalog provider id or alias (``vertex_ai`` is ``google``); any if
      ``None``.

    "Cheapest" is the cost of one request of ``input_tokens`` and ``output_tokens`` at the
    model's prices on ``day`` (today, UTC) at noon UTC, tiers included; ties by provider and
    model id. Deprecated models and models whose request costs nothing (promotional free
    variants) are left out.
    """
    wanted = list(dict.fromkeys(capabilities))
    unknown = [name for name in wanted if name not in CAPABILITIES]
    if unknown:
        raise InvalidInput(f"unknown capability {unknown[0]!r}", capabilities=sorted(CAPABILITIES))
    noon = 12 * 3600.0
    on = day or datetime.now(UTC).date()
    found: list[CatalogModel] = []
    for entry_provider, info in _catalog_models(provider):
        if info.deprecated and not include_deprecated:
            continue
        if min_context_window and (info.context_window or 0) < min_context_window:
            continue
        model_price = prices_at(info, on, noon)
        if any(getattr(model_price, CAPABILITIES[name]) is None for name in wanted):
            continue
        prices = token_prices(model_price, input_tokens)
        base = token_prices(model_price, 0)
        if prices is None or base is None:
            continue
        cost = input_tokens * prices.input + output_tokens * (prices.output or 0.0)
        cost += prices.request or 0.0
        if cost <= 0:
            continue
        found.append(
            CatalogModel(
                provider=entry_provider.id,
                model=info.id,
                name=info.name,
                context_window=info.context_window,
                input_usd_per_mtok=round(base.input * TOKENS_PER_MTOK, 9),
                output_usd_per_mtok=_per_mtok(base.output),
                cache_read_usd_per_mtok=_per_mtok(base.cache_read),
                cache_write_usd_per_mtok=_per_mtok(base.cache_write),
                capabilities=[
                    name
                    for name, key in CAPABILITIES.items()
                    if getattr(model_price, key) is not None
                ],
                request_cost_usd=round(cost, 9),
            )
        )
    found.sort(key=lambda model: (model.request_cost_usd, model.provider, model.model))
    return found[:limit]


def cheapest_model(
    min_context_window: int = 0,
    capabilities: Iterable[str] = (),
    provider: str | None = None,
    *,
    input_tokens: int = 1_000,
    output_tokens: int = 300,
    day: date | None = None,
) -> CatalogModel | None:
    """The cheapest catalog model meeting the conditions (``search_catalog`` rules)."""
    found = search_catalog(
        min_context_window,
        capabilities,
        provider,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        limit=1,
        day=day,
    )
    return found[0] if found else None


def _catalog_models(provider: str | None) -> Iterator[tuple[Provider, ModelInfo]]:
    providers = data_snapshot.get_snapshot().providers
    if provider is not None:
        match = data_snapshot.find_provider_by_id(providers, provider)
        if match is None:
            raise InvalidInput(f"unknown provider {provider!r}", provider=provider)
        providers = [match]
    for entry in providers:
        for info in entry.models:
            yield entry, info


def _per_unit(price: Decimal | TieredPrices | None, input_tokens: float, per: int) -> float | None:
    if price is None:
        return None
    if isinstance(price, TieredPrices):
        applicable = price.base
        for tier in reversed(price.tiers):
            if input_tokens > tier.start:
                applicable = tier.price
                break
        price = applicable
    return float(price / per)


def _per_mtok(price: float | None) -> float | None:
    return None if price is None else round(price * TOKENS_PER_MTOK, 9)


def _second_of_day(moment: time) -> int:
    utc = datetime.combine(date(2000, 1, 1), moment)
    if utc.tzinfo is not None:
        utc = utc.astimezone(UTC)
    return utc.hour * 3600 + utc.minute * 60 + utc.second
