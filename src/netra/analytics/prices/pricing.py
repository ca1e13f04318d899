"""Pricing a dataset: a small price table derived from the catalog, and the ``usage`` view.

``register_usage(con, path)`` prepares one DuckDB connection:

1. it reads the distinct (``model``, ``provider``) pairs of the dataset and the largest
   input of each (a bound on the largest per-request input) from the file's footer
   (``ingest.writer``), or, from a file written without them, in one scan;
2. it resolves each pair, and the pair's cheaper sibling (``siblings.toml``, priced at the
   same provider), with the catalog's matcher: a handful of calls, never one per row;
3. it writes table ``prices``: one row per pair × time-of-day segment × input-token band
   with the prices that apply there (``catalog.token_prices``);
4. it creates view ``usage``: the dataset's rows joined to their prices, so every analysis
   shares one definition of cost. The view is ``priced('stored_usage')``: table macro
   ``priced(rows)`` prices any relation of stored rows, e.g. a few rows filtered first.

Columns of ``usage`` beyond the stored ones (``schema.STORED_COLUMNS``):

- ``day``: the UTC date of ``timestamp``;
- ``provider``: the catalog's provider id when the model is known, else the stored value;
- ``catalog_model``: the catalog model id, ``NULL`` when the catalog does not know the model;
- ``cost``: ``cost_usd`` when billed, else the catalog price of the row, else ``NULL``
  (unpriced, never 0); ``billed`` and ``priced`` say which. It is a ``DECIMAL(38, 12)``
  (USD to 1e-12), so sums are exact whatever their order: a total is the same however the
  rows are grouped or split between threads;
- ``price_input``, ``price_output``, ``price_cache_read``, ``price_cache_write``: the base-tier
  catalog prices in USD per token, ``NULL`` where the catalog has none;
- ``model_key``, ``sibling_key``, ``provider_key``: integer keys of ``model``, ``sibling`` and
  the catalog provider (table ``names`` holds the names), for fast grouping; ``price_key``:
  the key of the row's ``prices`` row (``NULL`` if none), which determines these three keys
  and every price column;
- ``sibling``: the cheaper sibling's name when the model has one the catalog prices;
  ``sibling_cost``: the row priced at the sibling's prices; ``sibling_price_input``,
  ``sibling_price_cache_read``, ``sibling_price_cache_write``: its base-tier prices.

The catalog price of a row (``catalog`` module docstring has the formula) uses the prices of
its band and segment: for a bucket row of ``requests`` = r, tiers apply to the per-request
average input ``input_tokens / r`` (band), and the row's UTC time of day selects
time-of-day prices (segment); every price is the pricing day's (default: today, UTC).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Final

import duckdb
import pyarrow as pa
from genai_prices.types import ModelInfo

from netra.analytics.ingest import prompt_keys
from netra.analytics.ingest.writer import read_footer
from netra.analytics.prices import catalog
from netra.analytics.prices.catalog import CatalogEntry, TokenPrices
from netra.analytics.prices.siblings import Family, load_families, sibling_of

# The columns of table ``prices``, in order.
PRICE_COLUMNS: Final[tuple[tuple[str, pa.DataType], ...]] = (
    ("model", pa.string()),
    ("provider_in", pa.string()),
    ("segment", pa.int32()),
    ("band", pa.int32()),
    # Integer keys of the model, sibling and catalog provider names (table ``names``).
    ("model_key", pa.int32()),
    ("sibling_key", pa.int32()),
    ("provider_key", pa.int32()),
    ("catalog_provider", pa.string()),
    ("catalog_model", pa.string()),
    # Effective prices of the band and segment: a missing cache price is the input price,
    # a missing output or request price is 0 (what the catalog charges then).
    ("input", pa.float64()),
    ("output", pa.float64()),
    ("cache_read", pa.float64()),
    ("cache_write", pa.float64()),
    ("request", pa.float64()),
    # Base-tier catalog prices of the segment, NULL where the catalog has none.
    ("price_input", pa.float64()),
    ("price_output", pa.float64()),
    ("price_cache_read", pa.float64()),
    ("price_cache_write", pa.float64()),
    ("sibling", pa.string()),
    ("sibling_input", pa.float64()),
    ("sibling_output", pa.float64()),
    ("sibling_cache_read", pa.float64()),
    ("sibling_cache_write", pa.float64()),
    ("sibling_request", pa.float64()),
    ("sibling_price_input", pa.float64()),
    ("sibling_price_output", pa.float64()),
    ("sibling_price_cache_read", pa.float64()),
    ("sibling_price_cache_write", pa.float64()),
)


@dataclass(frozen=True)
class PriceTable:
    """The prices of a dataset's models, as few rows as its rows need.

    ``segments``: seconds after midnight UTC where a time-of-day segment starts (the first is
    0); ``thresholds``: per-request input tokens above which the next band starts (band 0 is
    at most the first threshold). Only thresholds below the largest input of some row of the
    dataset, for a model (or sibling) with a tier there, are kept. ``by_provider``: the same
    model name resolves differently with different ``provider`` values, so rows are keyed by
    both.
    ``rows`` match ``PRICE_COLUMNS`` (a model the catalog does not price has rows with
    ``NULL`` prices); ``names`` are the (key, name) pairs of the keys.
    """

    segments: tuple[int, ...]
    thresholds: tuple[int, ...]
    by_provider: bool
    rows: tuple[tuple[object, ...], ...]
    names: tuple[tuple[int, str], ...]

    def to_arrow(self) -> pa.Table:
        columns = list(zip(*self.rows, strict=True)) or [() for _ in PRICE_COLUMNS]
        return pa.table(
            [
                pa.array(values, type=kind)
                for values, (_, kind) in zip(columns, PRICE_COLUMNS, strict=True)
            ],
            names=[name for name, _ in PRICE_COLUMNS],
        )


@dataclass(frozen=True)
class _Pair:
    """A (model, provider) pair of the dataset and what the catalog makes of it."""

    model: str
    provider: str | None
    largest_input: float  # at least the largest per-request input tokens of the pair's rows
    entry: CatalogEntry | None  # None: the catalog does not price the model
    sibling_name: str | None
    sibling: CatalogEntry | None

    @property
    def infos(self) -> list[ModelInfo]:
        return [found.info for found in (self.entry, self.sibling) if found]

    @property
    def signature(self) -> tuple[str, ...] | None:
        if self.entry is None:
            return None
        sibling = (self.sibling.provider, self.sibling.model) if self.sibling else ()
        return (self.entry.provider, self.entry.model, *sibling)


def price_table(pairs: Iterable[tuple[str, str | None, float]], day: date) -> PriceTable:
    """The price table on ``day`` of (model, provider, largest input) triples, the largest
    input being at least the largest per-request input of the pair's rows."""
    families = load_families()
    found = [_pair(model, provider, largest, day, families) for model, provider, largest in pairs]
    signatures: dict[str, set[tuple[str, ...] | None]] = defaultdict(set)
    for pair in found:
        signatures[pair.model].add(pair.signature)
    by_provider = any(len(kinds) > 1 for kinds in signatures.values())
    if not by_provider:  # one row per model name is enough
        merged: dict[str, _Pair] = {}
        for pair in found:
            largest = (
                max(pair.largest_input, merged[pair.model].largest_input)
                if (pair.model in merged)
                else pair.largest_input
            )
            merged[pair.model] = replace(pair, provider=None, largest_input=largest)
        found = list(merged.values())

    infos = [(pair, info) for pair in found for info in pair.infos]
    bounds = {bound for _, info in infos for bound in catalog.time_of_day_bounds(info)}
    segments = (0, *sorted(bounds - {0}))
    thresholds = tuple(
        sorted(
            {
                start
                for pair, info in infos
                for second in segments
                for start in catalog.tier_starts(catalog.prices_at(info, day, second))
                if start < pair.largest_input
            }
        )
    )
    models = sorted(
        {pair.model for pair in found} | {p.sibling_name for p in found if p.sibling_name}
    )
    providers = sorted({pair.entry.provider for pair in found if pair.entry})
    keys = {name: key for key, name in enumerate(models + providers)}
    # A request in band b has more input tokens than thresholds[b - 1] and at most thresholds[b].
    representatives = (0.0, *(threshold + 0.5 for threshold in thresholds))
    rows = [
        (
            pair.model,
            pair.provider,
            segment,
            band,
            keys[pair.model],
            keys[pair.sibling_name] if pair.sibling_name else None,
            keys[pair.entry.provider] if pair.entry else None,
            *_prices(pair, day, second, input_tokens),
        )
        for pair in found
        for segment, second in enumerate(segments)
        for band, input_tokens in enumerate(representatives)
    ]
    names = tuple((key, name) for name, key in keys.items())
    return PriceTable(segments, thresholds, by_provider, tuple(rows), names)


def _pair(
    model: str, provider: str | None, largest_input: float, day: date, families: tuple[Family, ...]
) -> _Pair:
    entry = catalog.resolve(model, provider)
    if entry is None or not _priced(entry, day):
        return _Pair(model, provider, largest_input, None, None, None)
    name = sibling_of(model, families)
    sibling = catalog.resolve(name, entry.provider, infer_provider=False) if name else None
    if sibling is None or not _priced(sibling, day):
        name, sibling = None, None
    return _Pair(model, provider, largest_input, entry, name, sibling)


def _prices(pair: _Pair, day: date, second: int, input_tokens: float) -> tuple[object, ...]:
    """The catalog columns of a price row (``PRICE_COLUMNS`` from ``catalog_provider``)."""
    if pair.entry is None:
        return (None,) * (len(PRICE_COLUMNS) - 7)
    own = catalog.prices_at(pair.entry.info, day, second)
    other = catalog.prices_at(pair.sibling.info, day, second) if pair.sibling else None
    return (
        pair.entry.provider,
        pair.entry.model,
        *_effective(catalog.token_prices(own, input_tokens)),
        *_catalog(catalog.token_prices(own, 0)),
        pair.sibling_name,
        *_effective(catalog.token_prices(other, input_tokens) if other else None),
        *_catalog(catalog.token_prices(other, 0) if other else None),
    )


def register_usage(
    con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], *, day: date | None = None
) -> PriceTable:
    """Create view ``stored_usage`` and table ``repeated_prompts`` (``prompt_keys.register``),
    table ``prices`` and view ``usage``."""
    footer = read_footer(path)
    prompt_keys.register(con, path, footer)
    pairs = footer.model_pairs
    if pairs is None:  # a file written without them
        pairs = con.execute(
            """
            SELECT model, provider, coalesce(max(input_tokens), 0)
            FROM stored_usage
            GROUP BY model, provider
            """
        ).fetchall()
    table = price_table(pairs, day or datetime.now(UTC).date())
    con.register("price_rows", table.to_arrow())
    con.execute(
        "CREATE OR REPLACE TABLE prices AS "
        "SELECT *, CAST(row_number() OVER () AS INTEGER) AS price_key FROM price_rows"
    )
    con.unregister("price_rows")
    keys, names = zip(*table.names, strict=True) if table.names else ((), ())
    con.register("name_rows", pa.table({"key": pa.array(keys, pa.int32()), "name": names}))
    con.execute("CREATE OR REPLACE TABLE names AS SELECT key, name::VARCHAR AS name FROM name_rows")
    con.unregister("name_rows")
    con.execute(f"CREATE OR REPLACE MACRO priced(rows) AS TABLE {_usage_sql(table)}")
    con.execute("CREATE OR REPLACE VIEW usage AS SELECT * FROM priced('stored_usage')")
    return table


def _usage_sql(table: PriceTable) -> str:
    """The body of table macro ``priced(rows)``: the rows of the relation named ``rows``
    (columns of ``stored_usage``) joined to ``prices`` on the model, and on provider,
    segment and band only when the price table has more than one of them."""
    conditions = ["p.model = u.model"]
    if table.by_provider:
        conditions.append("p.provider_in IS NOT DISTINCT FROM u.provider")
    second = "extract('epoch' FROM CAST(u.\"timestamp\" AS TIME))"
    segment = " + ".join(f"CAST({second} >= {start} AS INTEGER)" for start in table.segments[1:])
    conditions.append(f"p.segment = {segment or 0}")
    band = " + ".join(
        f"CAST(u.input_tokens > {threshold} * u.requests AS INTEGER)"
        for threshold in table.thresholds
    )
    conditions.append(f"p.band = {band or 0}")
    return f"""
        SELECT
            u.row_no, u."timestamp", CAST(u."timestamp" AS DATE) AS day, u.model,
            coalesce(p.catalog_provider, u.provider) AS provider, p.catalog_model,
            u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens,
            u.requests,
            CAST(coalesce(u.cost_usd, {_cost("p.")}) AS DECIMAL(38, 12)) AS cost,
            u.cost_usd IS NOT NULL AS billed,
            u.cost_usd IS NOT NULL OR p.input IS NOT NULL AS priced,
            u.latency_ms, u.status, u."user", u.feature, u.project, u.api_key,
            u.prompt_hash, u.prompt_key, u.prefix_hash, u.prefix_tokens, u.interactive, u.batch,
            p.price_input, p.price_output, p.price_cache_read, p.price_cache_write,
            p.sibling, {_cost("p.sibling_")} AS sibling_cost,
            p.sibling_price_input, p.sibling_price_cache_read, p.sibling_price_cache_write,
            p.model_key, p.sibling_key, p.provider_key, p.price_key
        FROM query_table(rows) AS u
        LEFT JOIN prices AS p ON {" AND ".join(conditions)}
    """


def _cost(prefix: str) -> str:
    """The catalog price of a row with the effective prices of columns ``{prefix}input`` …"""
    return f"""(
        (u.input_tokens - u.cache_read_tokens - u.cache_write_tokens) * {prefix}input
        + u.cache_read_tokens * {prefix}cache_read
        + u.cache_write_tokens * {prefix}cache_write
        + u.output_tokens * {prefix}output
        + u.requests * {prefix}request
    )"""


def _priced(entry: CatalogEntry, day: date) -> bool:
    """The catalog has an input-token price for the model on ``day`` (any time of day)."""
    return all(
        catalog.token_prices(catalog.prices_at(entry.info, day, second), 0) is not None
        for second in (0, *catalog.time_of_day_bounds(entry.info))
    )


def _effective(prices: TokenPrices | None) -> tuple[float | None, ...]:
    if prices is None:
        return (None,) * 5
    return (
        prices.input,
        prices.output or 0.0,
        prices.input if prices.cache_read is None else prices.cache_read,
        prices.input if prices.cache_write is None else prices.cache_write,
        prices.request or 0.0,
    )


def _catalog(prices: TokenPrices | None) -> tuple[float | None, ...]:
    if prices is None:
        return (None,) * 4
    return (prices.input, prices.output, prices.cache_read, prices.cache_write)
