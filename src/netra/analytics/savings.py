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
  batch discount (``BATCH_DISCOUNTS``); saving = Σ discount × ``cost``.
- ``error_waste``: ``error`` rows; saving = Σ ``cost``.

``chain`` combines the four saving kinds without counting a request twice, in this order,
each applied to what the previous left: response_cache keeps of each row the share
``kept / requests`` still sent (1 for rows outside repeated groups, 1/r for a group's first
row, 0 for later rows); model_routing prices a routed row, and groups it for prompt
caching, as its sibling; prompt_caching is computed on the kept requests with the routed
model and prices; batch_api takes its discount of what a row costs after prompt caching.

``prepare`` never stores the rows whole: one pass sums them into a few thousand cells
(``row_cells``), from which table ``prompt_groups`` (one row per response-cache group) and
table ``cells`` (every row with a cost summed by what the kinds and the chain tell apart)
are derived; each kind and the chain aggregate those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import duckdb

from netra.analytics.prompt_keys import SHORT_KEY

# Providers with a batch API and its discount (DATA.md section 3).
BATCH_DISCOUNTS: Final[dict[str, float]] = {"openai": 0.5, "anthropic": 0.5, "google": 0.5}
MAX_ROUTED_INPUT_TOKENS: Final = 1_000
MAX_ROUTED_OUTPUT_TOKENS: Final = 300

Part = dict[str, str | int | float | None]
Names = dict[int, str]  # integer key -> model, sibling or provider name


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


def prepare(con: duckdb.DuckDBPyConnection) -> Names:
    """Tables ``prompt_groups`` (response-cache groups) and ``cells`` (every row with a
    cost, summed); returns the names of the integer keys (table ``names``).

    ``prompt_groups``: one row per group of ``success`` rows with a cost and equal (model,
    prompt_hash) with 2+ requests: its ``model_key``, ``prompt_key`` (unique per model and
    prompt in a dataset: ``prompt_keys``), ``requests`` and ``first_at``, the position
    (``_position``) of its first row. Only rows whose short key is in ``repeated_prompts``
    (every ``prompt_keys.SHORT_KEY`` of 2+ rows of the dataset) or of 2+ requests can be in
    such a group: the candidates. A row's ``kept`` (the requests still sent after response
    caching) is 1 for a group's first row, 0 for its later rows and ``requests`` for a row
    in no group.

    ``cells``: the rows with a cost summed by ``success``/``failed`` (from ``status``),
    ``model_key``, ``sibling_key``, ``provider_key``, ``routed`` (the row may be routed: a
    sibling and both thresholds), ``sent`` (``kept`` > 0), ``prefix_key`` (an integer per
    ``prefix_hash``), ``uncached`` (``cache_read_tokens`` = 0), ``has_prefix``
    (``prefix_tokens`` is set), ``batch_rate`` (the batch discount of a non-interactive,
    not-yet-batched row of a provider that has one, else 0) and the base-tier prices of the
    row and of its sibling. Each cell holds sums over its rows (``requests``, ``cost``,
    ``routed_cost``: the sibling's cost, ``routing_saving`` = cost − routed cost,
    ``prefix_tokens``, ``kept``, and weighted by ``share`` = kept / requests:
    ``cost_cached`` = share × cost, ``cost_routed`` = share × routed cost (cost if not
    routed), ``kept_prefix_tokens`` = share × prefix_tokens, ``repeat_saving`` = cost ×
    (requests − kept) / requests) and its earliest row by (``timestamp``, ``row_no``):
    ``first_at`` and ``first_prefix`` (its prefix_tokens / requests). The kinds' and the
    chain's groups are unions of cells, so their sums are sums of cells and their first
    request is the first of their cells' first requests.

    One pass over the rows sums them into ``row_cells`` (``_register_row_cells``): the
    cells before response caching, with each candidate prompt in cells of its own. The
    groups are found among those few thousand rows, and ``cells`` is derived from them: a
    candidate cell of a group keeps no request, except the one holding the group's first
    row, which is split into that row (kept 1) and the rest. The rest's earliest row is not
    known: its ``first_at`` and ``first_prefix`` are the group's first row's, which lies in
    the sent cell of the same keys, so any union holding both has its true first request;
    no kind or chain step takes the first request of unsent cells alone.
    """
    names: Names = dict(con.execute("SELECT key, name FROM names").fetchall())
    rates = " ".join(
        f"WHEN {key} THEN {BATCH_DISCOUNTS[name]}"
        for key, name in names.items()
        if name in BATCH_DISCOUNTS
    )
    batch_rate = f"CASE p.provider_key {rates} ELSE 0 END" if rates else "0"
    _register_row_cells(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE prompt_groups AS
        SELECT any_value(p.model_key) AS model_key, r.prompt_key,
               sum(r.requests) AS requests, min(r.first.position) AS first_at
        FROM row_cells AS r JOIN prices AS p USING (price_key)
        WHERE r.prompt_key IS NOT NULL
        GROUP BY r.prompt_key
        HAVING sum(r.requests) >= 2
        """
    )
    keys = "price_key, prefix_key, success, failed, uncached, batchable, routed, has_prefix"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cells AS
        WITH placed AS (
            SELECT r.*, r.first.position AS first_at, g.first_at IS NOT NULL AS grouped,
                   r.first.position = g.first_at AS holds_first,
                   r.first.requests AS f_requests, r.first.cost AS f_cost,
                   r.first.routed_cost AS f_routed_cost, r.first.prefix_tokens AS f_prefix
            FROM row_cells AS r
            LEFT JOIN prompt_groups AS g USING (prompt_key)
        ),
        parts AS (
            -- Rows in no group: every request is still sent.
            SELECT {keys}, true AS sent, requests, cost, routed_cost, prefix_tokens,
                   requests AS kept, CAST(cost AS DOUBLE) AS cost_cached,
                   CAST(coalesce(routed_cost, cost) AS DOUBLE) AS cost_routed,
                   CAST(prefix_tokens AS DOUBLE) AS kept_prefix_tokens,
                   NULL AS repeat_saving, first_at, f_prefix / f_requests AS first_prefix
            FROM placed WHERE NOT grouped
            UNION ALL
            -- A group's first row: one request kept.
            SELECT {keys}, true, f_requests, f_cost, f_routed_cost, f_prefix,
                   1, 1 / f_requests * f_cost,
                   1 / f_requests * coalesce(f_routed_cost, f_cost), 1 / f_requests * f_prefix,
                   CASE WHEN f_requests > 1
                        THEN CAST(f_cost * (f_requests - 1) / f_requests AS DECIMAL(38, 12))
                   END,
                   first_at, f_prefix / f_requests
            FROM placed WHERE holds_first
            UNION ALL
            -- Every later row of a group: nothing kept, the whole cost saved.
            SELECT {keys}, false, requests - f_requests, cost - f_cost,
                   routed_cost - f_routed_cost, prefix_tokens - f_prefix,
                   0, 0, 0, 0 * prefix_tokens, cost - f_cost, first_at, f_prefix / f_requests
            FROM placed WHERE holds_first AND requests > f_requests
            UNION ALL
            SELECT {keys}, false, requests, cost, routed_cost, prefix_tokens,
                   0, 0, 0, 0 * prefix_tokens, cost,
                   first_at, f_prefix / f_requests
            FROM placed WHERE grouped AND NOT holds_first
        ),
        summed AS (
            SELECT {keys}, sent,
                   sum(requests) AS requests, sum(cost) AS cost,
                   sum(routed_cost) AS routed_cost,
                   sum(cost) - sum(routed_cost) AS routing_saving,
                   sum(prefix_tokens) AS prefix_tokens, sum(kept) AS kept,
                   sum(cost_cached) AS cost_cached, sum(cost_routed) AS cost_routed,
                   sum(kept_prefix_tokens) AS kept_prefix_tokens,
                   sum(repeat_saving) AS repeat_saving,
                   min(first_at) AS first_at, arg_min(first_prefix, first_at) AS first_prefix
            FROM parts
            GROUP BY ALL
        )
        SELECT s.* EXCLUDE (price_key, batchable),
               p.model_key, p.sibling_key, p.provider_key,
               CASE WHEN s.batchable THEN {batch_rate} ELSE 0 END AS batch_rate,
               p.price_input, p.price_cache_read, p.price_cache_write,
               p.sibling_price_input, p.sibling_price_cache_read, p.sibling_price_cache_write
        FROM summed AS s LEFT JOIN prices AS p USING (price_key)
        """
    )
    return names


def _register_row_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Table ``row_cells``: the rows with a cost summed by the keys of ``cells`` but
    ``sent``, and, for the candidates of response caching (``success`` rows with a prompt
    whose short key is in ``repeated_prompts``, or holding 2+ requests), by their
    ``prompt_key`` too (unique per model and prompt: ``prompt_keys``). Each holds the sums
    of ``cells`` that do not depend on response caching and its first row's ``position``,
    ``requests``, ``cost``, ``routed_cost`` and ``prefix_tokens`` (``first``).
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE row_cells AS
        WITH prefixes AS (
            SELECT prefix_hash, CAST(row_number() OVER () AS INTEGER) AS prefix_key
            FROM (SELECT DISTINCT prefix_hash FROM stored_usage WHERE prefix_hash IS NOT NULL)
        ),
        rows AS (
            SELECT u.price_key, x.prefix_key, u.requests, u.cost, u.prefix_tokens,
                   u.status = 'success' AS success, u.status = 'error' AS failed,
                   u.cache_read_tokens = 0 AS uncached,
                   u.interactive IS FALSE AND u.batch IS NOT TRUE AS batchable,
                   CASE WHEN u.input_tokens <= {MAX_ROUTED_INPUT_TOKENS} * u.requests
                        AND u.output_tokens <= {MAX_ROUTED_OUTPUT_TOKENS} * u.requests
                        THEN u.sibling_cost END AS routed_cost,
                   CASE WHEN u.status = 'success' AND (u.requests >= 2
                            OR {SHORT_KEY.format(rows="u.")}
                                IN (SELECT short_key FROM repeated_prompts))
                        THEN u.prompt_key END AS prompt_key,
                   {_position("u.")} AS position
            FROM usage AS u
            LEFT JOIN prefixes AS x ON x.prefix_hash = u.prefix_hash
            WHERE u.priced
        )
        SELECT price_key, prefix_key, success, failed, uncached, batchable,
               routed_cost IS NOT NULL AS routed, prefix_tokens IS NOT NULL AS has_prefix,
               prompt_key, sum(requests) AS requests, sum(cost) AS cost,
               sum(routed_cost) AS routed_cost, sum(prefix_tokens) AS prefix_tokens,
               arg_min({{'position': position, 'requests': requests, 'cost': cost,
                        'routed_cost': routed_cost, 'prefix_tokens': prefix_tokens}},
                       position) AS first
        FROM rows
        GROUP BY ALL
        """
    )


def _position(rows: str = "") -> str:
    """A row's place in time, ``timestamp`` then ``row_no``, as one HUGEINT."""
    return f'CAST(epoch_us({rows}"timestamp") AS HUGEINT) * {2**64} + {rows}row_no'


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
