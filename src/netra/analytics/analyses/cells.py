"""The savings cells: every row with a cost, summed once by what the recommendation kinds
and their chain tell apart (``savings``, which has the formulas of DATA.md section 3).

``prepare`` never stores the rows whole: one pass sums them into a few thousand cells
(``row_cells``), from which table ``prompt_groups`` (one row per response-cache group) and
table ``cells`` are derived; each kind and the chain aggregate those.
"""

from __future__ import annotations

from typing import Final

import duckdb

from netra.analytics.ingest.prompt_keys import SHORT_KEY

# Providers with a batch API and its discount (DATA.md section 3).
BATCH_DISCOUNTS: Final[dict[str, float]] = {"openai": 0.5, "anthropic": 0.5, "google": 0.5}
# Model routing's thresholds per request (DATA.md section 3).
MAX_ROUTED_INPUT_TOKENS: Final = 1_000
MAX_ROUTED_OUTPUT_TOKENS: Final = 300

Names = dict[int, str]  # integer key -> model, sibling or provider name


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
