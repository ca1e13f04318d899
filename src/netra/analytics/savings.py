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

``prepare`` never stores the rows whole: table ``prompt_groups`` holds one row per
response-cache group, table ``cells`` every row with a cost summed by what the kinds and the
chain tell apart (a few thousand cells at most for usual data), from which each kind and the
chain aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

# Providers with a batch API and its discount (DATA.md section 3).
BATCH_DISCOUNTS: Final[dict[str, float]] = {"openai": 0.5, "anthropic": 0.5, "google": 0.5}
MAX_ROUTED_INPUT_TOKENS: Final = 1_000
MAX_ROUTED_OUTPUT_TOKENS: Final = 300

# The top 32 bits of a row's stored ``prompt_key`` (``schema.PROMPT_KEY``): repeated prompts
# are first looked for under it (sorting 32-bit keys is fast; collisions only add candidates).
SHORT_KEY: Final = "CAST(prompt_key >> 32 AS UINTEGER)"


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
    prompt_hash) with 2+ requests: its ``prompt_key``, ``model``, ``prompt_hash``,
    ``model_key``, ``requests`` and ``first_row``, the ``row_no`` of its first row. Only
    rows of ``repeated_prompts`` (``_register_repeated_prompts``) or of 2+ requests can be
    in such a group; the groups are formed among them, exactly, on the ``prompt_hash`` text
    (``candidate_prompts`` holds every prompt among them). A row finds its group by its
    ``prompt_key``, and by its text too only when two candidate prompts share a key. A
    row's ``kept`` (the requests still sent after response caching) is 1 for a group's
    first row, 0 for its later rows and ``requests`` for a row in no group.

    ``cells``: the rows with a cost summed by ``success``/``failed`` (from ``status``),
    ``model_key``, ``sibling_key``, ``provider_key``, ``routed`` (the row may be routed: a
    sibling and both thresholds), ``sent`` (``kept`` > 0, ``kept`` being the requests of the
    row still sent after response caching),
    ``prefix_key`` (an integer per ``prefix_hash``), ``uncached`` (``cache_read_tokens`` =
    0), ``has_prefix`` (``prefix_tokens`` is set), ``batch_rate`` (the batch discount of a
    non-interactive, not-yet-batched row of a provider that has one, else 0) and the
    base-tier prices of the row and of its sibling. Each cell holds sums over its rows
    (``requests``, ``cost``, ``routed_cost``: the sibling's cost, ``routing_saving`` = cost −
    routed cost, ``prefix_tokens``, ``kept``, and weighted by ``share`` = kept / requests:
    ``cost_cached`` = share × cost, ``cost_routed`` = share × routed cost (cost if not
    routed), ``kept_prefix_tokens`` = share × prefix_tokens, ``repeat_saving`` = cost ×
    (requests − kept) / requests) and its earliest row by
    (``timestamp``, ``row_no``): ``first_at`` and ``first_prefix`` (its prefix_tokens /
    requests). The kinds' and the chain's groups are unions of cells, so their sums are
    sums of cells and their first request is the first of their cells' first requests.
    """
    names: Names = dict(con.execute("SELECT key, name FROM names").fetchall())
    rates = " ".join(
        f"WHEN {key} THEN {BATCH_DISCOUNTS[name]}"
        for key, name in names.items()
        if name in BATCH_DISCOUNTS
    )
    batch_rate = f"CASE p.provider_key {rates} ELSE 0 END" if rates else "0"
    _register_repeated_prompts(con)
    # Filtered before pricing: only these rows are priced for the groups.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW repeat_candidates AS
        SELECT * FROM stored_usage
        WHERE status = 'success' AND prompt_key IS NOT NULL AND (requests >= 2
            OR {SHORT_KEY} IN (SELECT short_key FROM repeated_prompts))
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE candidate_prompts AS
        SELECT prompt_key, model, prompt_hash, any_value(model_key) AS model_key,
               sum(requests) AS requests, arg_min(row_no, {_position()}) AS first_row
        FROM priced('repeat_candidates')
        WHERE priced
        GROUP BY prompt_key, model, prompt_hash
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE prompt_groups AS
        SELECT * FROM candidate_prompts WHERE requests >= 2
        """
    )
    # A row finds its group by its key alone unless two candidate prompts share a key
    # (every row whose key is another prompt's is a candidate); then by the text too.
    shared = con.execute(
        "SELECT count(*) - count(DISTINCT prompt_key) FROM candidate_prompts"
    ).fetchone()
    same_prompt = (
        "AND g.model = u.model AND g.prompt_hash = u.prompt_hash" if shared and shared[0] else ""
    )
    # Rows are summed by few integer columns (the price row determines the keys and
    # prices).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cells AS
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
                   CASE WHEN g.first_row IS NULL THEN u.requests
                        WHEN g.first_row = u.row_no THEN 1 ELSE 0 END AS kept,
                   {_position("u.")} AS position
            FROM usage AS u
            LEFT JOIN prefixes AS x ON x.prefix_hash = u.prefix_hash
            LEFT JOIN prompt_groups AS g
                ON g.prompt_key = u.prompt_key AND u.status = 'success' {same_prompt}
            WHERE u.priced
        ),
        summed AS (
            SELECT price_key, prefix_key, success, failed, uncached, batchable,
                   routed_cost IS NOT NULL AS routed, kept > 0 AS sent,
                   prefix_tokens IS NOT NULL AS has_prefix,
                   sum(requests) AS requests, sum(cost) AS cost,
                   sum(routed_cost) AS routed_cost, sum(cost - routed_cost) AS routing_saving,
                   sum(prefix_tokens) AS prefix_tokens, sum(kept) AS kept,
                   sum(kept / requests * cost) AS cost_cached,
                   sum(kept / requests * coalesce(routed_cost, cost)) AS cost_routed,
                   sum(kept / requests * prefix_tokens) AS kept_prefix_tokens,
                   sum(CASE WHEN kept < requests
                            THEN CAST(cost * (requests - kept) / requests AS DECIMAL(38, 12))
                       END) AS repeat_saving,
                   min(position) AS first_at,
                   arg_min(prefix_tokens / requests, position) AS first_prefix
            FROM rows
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


def _position(rows: str = "") -> str:
    """A row's place in time, ``timestamp`` then ``row_no``, as one HUGEINT."""
    return f'CAST(epoch_us({rows}"timestamp") AS HUGEINT) * {2**64} + {rows}row_no'


def _register_repeated_prompts(con: duckdb.DuckDBPyConnection) -> None:
    """Table ``repeated_prompts``: every ``short_key`` (``SHORT_KEY``) of 2+ ``success``
    rows: the key of every (model, prompt_hash) of 2+ such rows, and any key two different
    prompts share (the groups are then formed on the prompt).

    Among millions of distinct prompts, sorting their keys finds the repeated ones several
    times faster than DuckDB's hash aggregate, which builds a table of every prompt.
    """
    keys = con.execute(
        f"""
        SELECT {SHORT_KEY} AS short_key
        FROM stored_usage
        WHERE status = 'success' AND prompt_key IS NOT NULL
        """
    ).fetchnumpy()["short_key"]
    keys.sort()
    repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
    con.register("repeated_keys", pa.table({"short_key": pa.array(repeated, pa.uint32())}))
    con.execute("CREATE OR REPLACE TEMP TABLE repeated_prompts AS SELECT * FROM repeated_keys")
    con.unregister("repeated_keys")


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
