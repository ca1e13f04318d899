"""The saving of each recommendation kind over the data, in SQL (DATA.md section 3).

Rows taken into account: ``success`` rows with a cost (every kind but ``error_waste``, which
takes ``error`` rows with a cost); unpriced rows are left out of every saving. A bucket row
(``requests`` = r > 1) holds token and cost totals over its r requests:

- per-request thresholds compare averages: ``input_tokens ≤ 1,000 × r`` and
  ``output_tokens ≤ 300 × r``;
- "the first request" of a group is one request of the group's earliest row (by
  ``timestamp``, ties by ``row_no``): of that row, (r − 1)/r belongs to "all but the first"
  and 1/r is the first request (its cost is ``cost / r``, its prefix ``prefix_tokens / r``);
  every later row belongs to "all but the first" whole;
- a group has "2+ requests" when Σ ``requests`` of its rows is at least 2.

Kinds (saving over the data):

- ``response_cache``: groups of equal (``model``, ``prompt_hash``) with 2+ requests;
  saving = Σ over the groups of (Σ ``cost`` − ``cost`` of the first request).
- ``model_routing``: rows on a model with a cheaper sibling (``siblings.toml``) under both
  thresholds; saving = Σ (``cost`` − ``sibling_cost``), the row priced at the sibling's
  catalog prices (same provider, same tokens).
- ``prompt_caching``: rows with ``cache_read_tokens`` = 0, a ``prefix_hash`` and a model
  with a cache-read price, in groups of equal (``model``, ``prefix_hash``) with 2+ requests;
  with base-tier prices per token, saving = Σ over all but the first request of
  ``prefix_tokens`` × (input − cache read) − Σ over groups of the first request's
  ``prefix_tokens`` × max(0, cache write − input) (no cache-write price: no premium).
- ``batch_api``: rows with ``interactive`` false and ``batch`` false whose provider has a
  batch discount (``cells.BATCH_DISCOUNTS``); saving = Σ discount × ``cost``.
- ``error_waste``: ``error`` rows; saving = Σ ``cost``.

``chain`` combines the four saving kinds without counting a request twice, in this order,
each applied to what the previous left: response_cache keeps of each row the share
``kept / requests`` still sent (1 for rows outside repeated groups, 1/r for a group's first
row, 0 for later rows); model_routing prices a routed row, and groups it for prompt
caching, as its sibling; prompt_caching is computed on the kept requests with the routed
model and prices; batch_api takes its discount of what a row costs after prompt caching.

Each kind and the chain aggregate the tables of ``cells.prepare``: every row with a cost
summed once by what they tell apart, and the response-cache groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from netra.analytics.analyses.cells import MAX_ROUTED_INPUT_TOKENS, MAX_ROUTED_OUTPUT_TOKENS, Names

Part = dict[str, str | int | float | None]


@dataclass(frozen=True)
class Saving:
    """A kind's saving over the data, the requests it changes and what they cost now;
    ``parts``: the same by model (or provider); ``numbers``: other figures it used."""

    saving: float = 0.0
    requests: int = 0
    cost: float = 0.0
    groups: int = 0
    parts: list[Part] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Chain:
    """The combined saving over the data, step by step (module docstring)."""

    response_cache: float
    model_routing: float
    prompt_caching: float
    batch_api: float

    @property
    def total(self) -> float:
        return self.response_cache + self.model_routing + self.prompt_caching + self.batch_api


def response_cache(con: duckdb.DuckDBPyConnection, names: Names) -> Saving:
    """Saving of a row: cost × (requests − kept) / requests (``cells.repeat_saving``); every
    group keeps one request, so its repeats are its requests − 1."""
    found = _named(
        con,
        names,
        """
        WITH grouped AS (
            SELECT model_key, count(*) AS groups, sum(requests) AS requests,
                   sum(requests) - count(*) AS repeats
            FROM prompt_groups
            GROUP BY model_key
        ),
        saved AS (
            SELECT model_key, sum(repeat_saving) AS saving
            FROM cells
            WHERE success
            GROUP BY model_key
        )
        SELECT g.*, s.saving
        FROM grouped AS g
        LEFT JOIN saved AS s ON s.model_key IS NOT DISTINCT FROM g.model_key
        """,
    )
    return Saving(
        saving=_sum(found, "saving"),
        requests=int(_sum(found, "repeats")),
        cost=_sum(found, "saving"),
        groups=int(_sum(found, "groups")),
        parts=found,
        numbers={"group_requests": _sum(found, "requests")},
    )


def model_routing(con: duckdb.DuckDBPyConnection, names: Names) -> Saving:
    found = _named(
        con,
        names,
        """
        SELECT model_key, sibling_key, sum(requests) AS requests, sum(cost) AS cost,
               sum(routed_cost) AS sibling_cost, sum(routing_saving) AS saving
        FROM cells
        WHERE success AND routed
        GROUP BY model_key, sibling_key
        """,
    )
    return Saving(
        saving=_sum(found, "saving"),
        requests=int(_sum(found, "requests")),
        cost=_sum(found, "cost"),
        parts=found,
        numbers={
            "sibling_cost": _sum(found, "sibling_cost"),
            "max_input_tokens_per_request": MAX_ROUTED_INPUT_TOKENS,
            "max_output_tokens_per_request": MAX_ROUTED_OUTPUT_TOKENS,
        },
    )


def prompt_caching(con: duckdb.DuckDBPyConnection, names: Names) -> Saving:
    found = _named(
        con,
        names,
        """
        WITH groups AS (
            SELECT model_key, sum(requests) AS requests, sum(cost) AS cost,
                   sum(prefix_tokens) AS prefix_tokens,
                   sum(prefix_tokens * (price_input - price_cache_read)) AS read_all,
                   arg_min({'prefix': first_prefix,
                            'discount': price_input - price_cache_read,
                            'premium': greatest(coalesce(price_cache_write - price_input, 0), 0)},
                           first_at) AS first
            FROM cells
            WHERE success AND uncached AND prefix_key IS NOT NULL AND has_prefix
                AND price_cache_read IS NOT NULL
            GROUP BY model_key, prefix_key
            HAVING sum(requests) >= 2
        )
        SELECT model_key, count(*) AS groups, sum(requests) AS requests, sum(cost) AS cost,
               sum(prefix_tokens) AS prefix_tokens,
               sum(read_all - first.prefix * first.discount) AS read_saving,
               sum(first.prefix * first.premium) AS write_premium,
               sum(read_all - first.prefix * (first.discount + first.premium)) AS saving
        FROM groups
        GROUP BY model_key
        """,
    )
    return Saving(
        saving=_sum(found, "saving"),
        requests=int(_sum(found, "requests")),
        cost=_sum(found, "cost"),
        groups=int(_sum(found, "groups")),
        parts=found,
        numbers={
            "prefix_tokens": _sum(found, "prefix_tokens"),
            "read_saving": _sum(found, "read_saving"),
            "write_premium": _sum(found, "write_premium"),
        },
    )


def batch_api(con: duckdb.DuckDBPyConnection, names: Names) -> Saving:
    found = _named(
        con,
        names,
        """
        SELECT provider_key, sum(requests) AS requests, sum(cost) AS cost,
               any_value(batch_rate) AS discount, sum(batch_rate * cost) AS saving
        FROM cells
        WHERE success AND batch_rate > 0
        GROUP BY provider_key
        """,
    )
    return Saving(
        saving=_sum(found, "saving"),
        requests=int(_sum(found, "requests")),
        cost=_sum(found, "cost"),
        parts=found,
    )


def error_waste(con: duckdb.DuckDBPyConnection, names: Names) -> Saving:
    found = _named(
        con,
        names,
        """
        SELECT model_key, sum(requests) AS requests, sum(cost) AS cost, sum(cost) AS saving
        FROM cells
        WHERE failed
        GROUP BY model_key
        """,
    )
    total = con.execute("SELECT sum(requests) FROM spend").fetchone()
    return Saving(
        saving=_sum(found, "saving"),
        requests=int(_sum(found, "requests")),
        cost=_sum(found, "cost"),
        parts=found,
        numbers={"all_requests": float((total[0] if total else None) or 0)},
    )


def chain(con: duckdb.DuckDBPyConnection) -> Chain:
    """The combined saving, step by step (module docstring), over the ``success`` cells.

    Per cell (``prepare``): ``cost_cached`` and ``cost_routed``; a routed cell takes its
    sibling's key and prices. Per prompt-caching group (2+ kept requests of sent, uncached
    cells with a prefix and a cache-read price): ``read_all`` = Σ kept_prefix_tokens ×
    (input − cache read), and the saving is ``read_all`` − first.prefix × (first.discount +
    first.premium), the first request's prefix_tokens / requests. The batch discount
    applies to ``cost_routed`` minus the prompt-caching saving of the same requests.
    """
    found = con.execute(
        """
        WITH steps AS (
            SELECT *,
                   CASE WHEN routed THEN sibling_key ELSE model_key END AS model_routed,
                   CASE WHEN routed THEN sibling_price_input ELSE price_input END AS input,
                   CASE WHEN routed THEN sibling_price_cache_read ELSE price_cache_read END
                       AS cache_read,
                   CASE WHEN routed THEN sibling_price_cache_write ELSE price_cache_write END
                       AS cache_write
            FROM cells
            WHERE success
        ),
        grouped AS (
            SELECT *,
                   CASE WHEN sent AND uncached AND has_prefix AND cache_read IS NOT NULL
                        THEN prefix_key END AS prefix_group
            FROM steps
        ),
        groups AS (
            SELECT prefix_group,
                   sum(cost) AS cost, sum(cost_cached) AS cost_cached,
                   sum(cost_routed) AS cost_routed,
                   sum(batch_rate * cost_routed) AS batch_before_caching,
                   sum(kept) AS kept,
                   sum(kept_prefix_tokens * (input - cache_read)) AS read_all,
                   sum(batch_rate * kept_prefix_tokens * (input - cache_read))
                       AS batch_read_all,
                   arg_min({'prefix': first_prefix,
                            'loss': input - cache_read
                                + greatest(coalesce(cache_write - input, 0), 0),
                            'batch_rate': batch_rate},
                           first_at) FILTER (WHERE prefix_group IS NOT NULL)
                       AS first
            FROM grouped
            GROUP BY model_routed, prefix_group
        ),
        saved AS (
            SELECT *,
                   CASE WHEN prefix_group IS NOT NULL AND kept >= 2
                        THEN read_all - first.prefix * first.loss ELSE 0 END AS caching,
                   CASE WHEN prefix_group IS NOT NULL AND kept >= 2
                        THEN batch_read_all - first.batch_rate * first.prefix * first.loss
                        ELSE 0 END AS batch_caching
            FROM groups
        )
        SELECT sum(cost) - sum(cost_cached), sum(cost_cached) - sum(cost_routed),
               sum(caching), sum(batch_before_caching) - sum(batch_caching)
        FROM saved
        """
    ).fetchone()
    cached, routed, caching, batched = (float(value or 0) for value in found or ())
    return Chain(
        response_cache=cached, model_routing=routed, prompt_caching=caching, batch_api=batched
    )


def _named(con: duckdb.DuckDBPyConnection, names: Names, sql: str) -> list[Part]:
    """The rows of ``sql`` as dicts, ``*_key`` columns replaced by their names (``model``,
    ``sibling``, ``provider``), largest ``saving`` first."""
    result = con.execute(sql)
    columns = [column[0] for column in result.description]
    parts = [
        {
            column.removesuffix("_key"): names.get(value)
            if column.endswith("_key")
            else float(value)
            if isinstance(value, Decimal)
            else value
            for column, value in zip(columns, row, strict=True)
        }
        for row in result.fetchall()
    ]
    parts.sort(key=lambda part: (-float(part["saving"] or 0), str(next(iter(part.values())))))
    return parts


def _sum(parts: list[Part], name: str) -> float:
    return sum(float(part[name] or 0) for part in parts)
