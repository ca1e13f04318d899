"""Which export a file is, and how each maps to the canonical usage record (DATA.md 1).

Every mapping returns one SQL expression per canonical column, over the parsed values of
the fields it declared on a :class:`~netra.analytics.mapping.Mapping`; :func:`map_export`
then applies what all sources share (defaults, provider names, masked secret keys). The
table of every export column and its transformation is in docs/data.md, "Ingestion and
export mappings"; keep the two in step.

Input tokens are normalised to the canonical meaning, ALL input tokens including cache reads
and writes: OpenAI counts cached tokens inside its input/prompt tokens, Anthropic beside
them, and each export passes one or the other through (see each mapping). Prompt and
response texts are never selected; a prompt becomes ``sha256(text)`` in ``prompt_hash``.
Exports carry no prompt prefix, so ``prefix_hash``/``prefix_tokens`` stay NULL for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from netra.analytics.ingest.formats import Column, quote_ident, quote_literal
from netra.analytics.ingest.mapping import Mapping
from netra.errors import InvalidDataset

SourceName = Literal["canonical", "litellm", "openai_usage", "langfuse", "helicone"]
Canonical = dict[str, str]

# Provider names as exports spell them -> the price catalog's (genai-prices) provider ids.
PROVIDER_ALIASES: dict[str, str] = {
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "vertex": "google",
    "google_ai_studio": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "azure_openai": "azure",
    "azure_ai": "azure",
    "xai": "x-ai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "mistralai": "mistral",
    "text-completion-openai": "openai",
}

# Langfuse observation levels.
LEVEL_WORDS: dict[str, str] = {
    "debug": "success",
    "default": "success",
    "info": "success",
    "warning": "success",
    "error": "error",
}


def c(name: str) -> str:
    """SQL reference to an already computed canonical column (usable in checks)."""
    return quote_ident(f"c:{name}")


def _coalesce(*values: str) -> str:
    present = [v for v in values if v != "NULL"]
    if not present:
        return "NULL"
    return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"


def _prompt_hash(text: str) -> str:
    """SQL: sha256 of a prompt's text, unless it is absent or an empty JSON value."""
    if text == "NULL":
        return "NULL"
    return f"CASE WHEN {text} NOT IN ('{{}}', '[]', 'null', '\"\"') THEN sha256({text}) END"


def _billed(cost: str, tokens: str, *, free: str = "false") -> str:
    """SQL: the billed cost, except that a zero cost for a request with tokens is unknown.

    Exports record a zero spend when they could not price a model (LiteLLM #10598 and kin);
    taking it literally would price the request at zero, so it is left NULL and priced from
    the catalog. ``free`` marks rows where zero is true (a proxy cache hit).
    """
    if cost == "NULL":
        return "NULL"
    return f"CASE WHEN {cost} = 0 AND {tokens} > 0 AND NOT ({free}) THEN NULL ELSE {cost} END"


def _input_tokens(prompt: str, read: str, write: str, beside: str) -> str:
    """SQL: ALL input tokens from a provider-style count and its cache counts.

    ``beside``: the cache counts are beside ``prompt`` (Anthropic style) and are added.
    Otherwise they are inside it (OpenAI style), unless ``prompt`` is smaller than them,
    which only the Anthropic style allows.
    """
    added = f"{prompt} + {read} + {write}"
    return f"CASE WHEN ({beside}) OR {prompt} < {read} + {write} THEN {added} ELSE {prompt} END"


def _duration_ms(start: str, end: str) -> str:
    """SQL: milliseconds from ``start`` to ``end`` (timestamps), NULL if ``end`` is earlier."""
    if end == "NULL":
        return "NULL"
    return f"CASE WHEN {end} >= {start} THEN (epoch_us({end}) - epoch_us({start})) / 1e3 END"


def _check_cache(m: Mapping, col: Column | None) -> None:
    m.check(
        f"{c('cache_read_tokens')} + {c('cache_write_tokens')} > {c('input_tokens')}",
        col,
        "'cache tokens exceed input_tokens, which must count ALL input tokens including "
        "cache reads and writes'",
    )


def _check_requests(m: Mapping, col: Column | None) -> None:
    m.check(f"{c('requests')} < 1", col, "'requests must be at least 1'")


# Canonical ---------------------------------------------------------------------------------


def canonical(m: Mapping) -> Canonical:
    """A file with the canonical columns (DATA.md 1); a ``prompt`` text column is hashed."""
    out: Canonical = {
        "timestamp": m.field("timestamp", "timestamp", required=True),
        "model": m.field("text", "model", required=True),
        "provider": m.field("text", "provider"),
        "input_tokens": m.field("count", "input_tokens", required=True),
        "output_tokens": m.field("count", "output_tokens", required=True),
        "cache_read_tokens": m.field("count", "cache_read_tokens"),
        "cache_write_tokens": m.field("count", "cache_write_tokens"),
        "requests": m.field("count", "requests"),
        "cost_usd": m.field("amount", "cost_usd"),
        "latency_ms": m.field("amount", "latency_ms"),
        "status": m.field("status", "status"),
        "user": m.field("text", "user"),
        "feature": m.field("text", "feature"),
        "project": m.field("text", "project"),
        "api_key": m.field("text", "api_key"),
        "prompt_hash": _coalesce(
            m.field("text", "prompt_hash"), _prompt_hash(m.field("text", "prompt"))
        ),
        "prefix_hash": m.field("text", "prefix_hash"),
        "prefix_tokens": m.field("count", "prefix_tokens"),
        "interactive": m.field("bool", "interactive"),
        "batch": m.field("bool", "batch"),
    }
    _check_requests(m, m.column("requests"))
    _check_cache(m, m.column("cache_read_tokens", "cache_write_tokens"))
    return out


# LiteLLM SpendLogs ---------------------------------------------------------------------------


def litellm(m: Mapping) -> Canonical:
    """LiteLLM proxy ``LiteLLM_SpendLogs`` rows (CSV/JSONL/Parquet export of the table).

    LiteLLM reports OpenAI-style ``prompt_tokens``; for Anthropic models it adds the cache
    reads (and, since late 2025, the cache writes) to them. The cache counts come from
    ``metadata.usage_object``; a write count outside ``prompt_tokens_details`` (older LiteLLM)
    was not added and is added here.
    """
    start = m.field("timestamp", "startTime", required=True)
    provider = m.field("text", "custom_llm_provider")
    model = m.field("text", "model", required=True)
    prompt = m.field("count", "prompt_tokens", required=True)
    completion = m.field("count", "completion_tokens", required=True)
    read = write = "0"
    writes_included = "false"
    status = m.field("status", "status")
    if (meta := m.column("metadata")) is not None:
        usage = "$.usage_object"
        read = _coalesce(
            m.json_field("count", meta, f"{usage}.cache_read_input_tokens"),
            m.json_field("count", meta, f"{usage}.prompt_tokens_details.cached_tokens"),
            "0",
        )
        inside = m.json_field("count", meta, f"{usage}.prompt_tokens_details.cache_creation_tokens")
        write = _coalesce(
            m.json_field("count", meta, f"{usage}.cache_creation_input_tokens"), inside, "0"
        )
        writes_included = f"{inside} IS NOT NULL"
        if status == "NULL":
            status = m.json_field("status", meta, "$.status")
    base = f"{prompt} + CASE WHEN {writes_included} THEN 0 ELSE {write} END"
    cache_hit = m.field("text", "cache_hit")
    hit = "false" if cache_hit == "NULL" else f"coalesce(lower({cache_hit}) = 'true', false)"
    end = m.field("timestamp", "endTime")
    cache_key = m.field("text", "cache_key")
    return {
        "timestamp": start,
        "model": (
            f"CASE WHEN starts_with({model}, {provider} || '/') "
            f"THEN substr({model}, length({provider}) + 2) ELSE {model} END"
            if provider != "NULL"
            else model
        ),
        "provider": provider,
        "input_tokens": f"CASE WHEN {base} >= {read} + {write} THEN {base} "
        f"ELSE {prompt} + {read} + {write} END",
        "output_tokens": completion,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "requests": "1",
        "cost_usd": _billed(m.field("amount", "spend"), f"{prompt} + {completion}", free=hit),
        "latency_ms": _coalesce(m.field("amount", "request_duration_ms"), _duration_ms(start, end)),
        "status": status,
        "user": _coalesce(m.field("text", "end_user"), m.field("text", "user")),
        "feature": _feature_from_tags(m.field("json", "request_tags")),
        "project": m.field("text", "team_id"),
        "api_key": m.field("text", "api_key"),
        "prompt_hash": _coalesce(
            _prompt_hash(m.field("text", "messages")),
            "NULL"
            if cache_key == "NULL"
            else f"CASE WHEN {cache_key} <> 'Cache OFF' THEN {cache_key} END",
        ),
    }


def _feature_from_tags(tags: str) -> str:
    """SQL: from a JSON array of tags, X of the first ``feature:X`` tag, else the first tag."""
    if tags == "NULL":
        return "NULL"
    tag_list = f"CASE WHEN json_type({tags}) = 'ARRAY' THEN json_extract_string({tags}, '$[*]') END"
    tagged = (
        f"list_transform(list_filter({tag_list}, lambda t: lower(t) LIKE 'feature:%'), "
        "lambda t: NULLIF(trim(substr(t, 9)), ''))[1]"
    )
    return f"coalesce({tagged}, NULLIF(trim({tag_list}[1]), ''))"


# OpenAI Usage API ----------------------------------------------------------------------------


def openai_usage(m: Mapping) -> Canonical:
    """OpenAI Usage API completions results (buckets expanded by the JSON Lines reader).

    One row is a bucket of ``num_model_requests`` requests; ``input_tokens`` already counts
    the cached ones (OpenAI style). Export with ``group_by=model`` so ``model`` is set.
    """
    out: Canonical = {
        "timestamp": m.field("timestamp", "start_time", "start_time_iso", required=True),
        "model": m.field(
            "text", "model", required=True, empty="empty value (export the usage grouped by model)"
        ),
        "provider": "'openai'",
        "input_tokens": m.field("count", "input_tokens", required=True),
        "output_tokens": m.field("count", "output_tokens", required=True),
        "cache_read_tokens": m.field("count", "input_cached_tokens"),
        "requests": m.field("count", "num_model_requests"),
        "user": m.field("text", "user_id"),
        "project": m.field("text", "project_id"),
        "api_key": m.field("text", "api_key_id"),
        "batch": m.field("bool", "batch"),
    }
    _check_requests(m, m.column("num_model_requests"))
    _check_cache(m, m.column("input_cached_tokens"))
    return out


# Langfuse observations -----------------------------------------------------------------------

_KEY = "lower(e.key)"
_OUT = f"({_KEY} LIKE '%output%' OR {_KEY} LIKE '%completion%')"
_WRITE = f"({_KEY} LIKE '%cache%' AND ({_KEY} LIKE '%creat%' OR {_KEY} LIKE '%write%'))"
_CACHE = f"({_KEY} LIKE '%cache%' AND NOT {_OUT})"
_IN = (
    f"({_KEY} <> 'total' AND NOT {_OUT} AND "
    f"({_KEY} LIKE '%input%' OR {_KEY} LIKE '%prompt%' OR {_KEY} LIKE '%cache%'))"
)
_TOKEN = f"({_KEY} = 'total' OR {_OUT} OR {_IN})"


def _usage_sum(entries: str, keys: str) -> str:
    """SQL: the sum of the ``usage_details`` entries whose key matches ``keys``."""
    return (
        f"coalesce(list_sum(list_transform(list_filter({entries}, lambda e: {keys}), "
        "lambda e: TRY_CAST(e.value AS DOUBLE))), 0)"
    )


def langfuse(m: Mapping) -> Canonical:
    """Langfuse observations of type GENERATION (other types are skipped).

    ``usage_details`` keys are token kinds: keys with "input"/"prompt"/"cache" are input,
    with "output"/"completion" output; cache keys with "creat"/"write" are cache writes,
    other cache keys reads. Langfuse keeps the kinds disjoint (``input`` excludes cached
    tokens), so ALL input tokens are their sum; when ``total`` shows that ``input`` already
    included the cache counts (input + output = total), they are not added twice. Missing
    usage counts as 0 tokens. ``latency`` is in seconds.
    """
    if (kind := m.column("type")) is not None:
        m.where(f"upper(trim(CAST({kind.sql} AS VARCHAR))) = 'GENERATION'")
    start = m.field("timestamp", "start_time", "startTime", required=True)
    model = m.field("text", "provided_model_name", "providedModelName", "model", required=True)
    usage_col = m.need("usage_details", "usageDetails")  # an empty cell is 0 tokens
    usage = m.field("json", usage_col.name)
    # The (key, value) entries, parsed once per row.
    entries = m.derive(f"map_entries(TRY_CAST(CAST({usage} AS JSON) AS MAP(VARCHAR, VARCHAR)))")
    read = _usage_sum(entries, f"{_CACHE} AND NOT {_WRITE}")
    write = _usage_sum(entries, f"{_CACHE} AND {_WRITE}")
    inputs = _usage_sum(entries, _IN)
    outputs = _usage_sum(entries, _OUT)
    total = f"TRY_CAST(list_filter({entries}, lambda e: {_KEY} = 'total')[1].value AS DOUBLE)"
    included = (
        f"{total} IS NOT NULL AND {read} + {write} > 0 "
        f"AND {inputs} - {read} - {write} + {outputs} = {total}"
    )
    d = "TRY_CAST(e.value AS DOUBLE)"
    m.check(
        f"{usage} IS NOT NULL AND ({entries} IS NULL OR list_bool_or(list_transform("
        f"list_filter({entries}, lambda e: {_TOKEN} AND e.value IS NOT NULL), "
        f"lambda e: NOT coalesce(isfinite({d}) AND {d} >= 0 AND {d} = trunc({d}), false))))",
        usage_col,
        "'is not an object of whole, non-negative token counts'",
    )
    _check_cache(m, usage_col)
    latency = m.field("amount", "latency")
    end = m.field("timestamp", "end_time", "endTime")
    cost = _coalesce(
        m.field("amount", "total_cost", "totalCost"),
        m.field("amount", "calculated_total_cost", "calculatedTotalCost"),
    )
    return {
        "timestamp": start,
        "model": model,
        "input_tokens": f"CASE WHEN {included} THEN {inputs} - {read} - {write} ELSE {inputs} END",
        "output_tokens": outputs,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cost_usd": _billed(cost, f"{inputs} + {outputs}"),
        "latency_ms": _coalesce(
            "NULL" if latency == "NULL" else f"{latency} * 1000", _duration_ms(start, end)
        ),
        "status": m.field("status", "level", status_words=LEVEL_WORDS, http=False),
        "user": m.field("text", "user_id", "userId"),
        "feature": _coalesce(m.field("text", "trace_name", "traceName"), m.field("text", "name")),
        "project": m.field("text", "project_id", "projectId"),
        "prompt_hash": _prompt_hash(m.field("text", "input")),
    }


# Helicone ----------------------------------------------------------------------------------

_PROPERTY_KEYS = {
    "feature": ("feature", "Feature", "FEATURE", "Helicone-Property-Feature"),
    "project": ("project", "Project", "PROJECT", "Helicone-Property-Project"),
}


def helicone(m: Mapping) -> Canonical:
    """Helicone request logs (the request API / UI export).

    Helicone passes the provider's own prompt count through: Anthropic models count cache
    tokens beside ``prompt_tokens`` (added here), the others inside it.
    ``response_status`` is an HTTP status: 100-399 success, anything else error.
    """
    model = m.field("text", "model", "response_model", "request_model", required=True)
    provider = m.field("text", "provider")
    prompt = m.field("count", "prompt_tokens", required=True)
    completion = m.field("count", "completion_tokens", required=True)
    read = _coalesce(m.field("count", "prompt_cache_read_tokens"), "0")
    write = _coalesce(m.field("count", "prompt_cache_write_tokens"), "0")
    anthropic = f"lower({model}) LIKE '%claude%'"
    if provider != "NULL":
        anthropic = f"lower({provider}) = 'anthropic' OR {anthropic}"
    props = m.field("json", "properties", "request_properties")

    def prop(name: str) -> str:
        if props == "NULL":
            return "NULL"
        paths = ", ".join(quote_literal('$."' + k + '"') for k in _PROPERTY_KEYS[name])
        return (
            f"NULLIF(trim(list_filter(json_extract_string({props}, [{paths}]), "
            "lambda v: v IS NOT NULL)[1]), '')"
        )

    return {
        "timestamp": m.field("timestamp", "request_created_at", required=True),
        "model": model,
        "provider": provider,
        "input_tokens": _input_tokens(prompt, read, write, anthropic),
        "output_tokens": completion,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cost_usd": _billed(
            _coalesce(m.field("amount", "cost"), m.field("amount", "cost_usd")),
            f"{prompt} + {completion}",
        ),
        "latency_ms": _coalesce(m.field("amount", "delay_ms"), m.field("amount", "latency")),
        "status": m.field("status", "response_status", "status"),
        "user": m.field("text", "request_user_id", "user_id"),
        "feature": prop("feature"),
        "project": prop("project"),
        "prompt_hash": _prompt_hash(m.field("text", "request_body")),
    }


# Detection -----------------------------------------------------------------------------------

Mapper = Callable[[Mapping], Canonical]

# (name, mapper, columns any of which identifies it), tried in order.
EXPORTS: tuple[tuple[SourceName, Mapper, Callable[[set[str]], bool]], ...] = (
    ("canonical", canonical, lambda cols: "timestamp" in cols),
    ("litellm", litellm, lambda cols: "starttime" in cols
        and bool(cols & {"spend", "custom_llm_provider", "prompt_tokens"})),
    ("openai_usage", openai_usage, lambda cols: "num_model_requests" in cols),
    ("langfuse", langfuse, lambda cols: bool(
        cols & {"usage_details", "usagedetails", "provided_model_name", "providedmodelname"})),
    ("helicone", helicone, lambda cols: "request_created_at" in cols),
)  # fmt: skip


def detect(columns: set[str]) -> tuple[SourceName, Mapper]:
    """The export whose columns these are (lower-case names); canonical is tried first."""
    for name, mapper, matches in EXPORTS:
        if matches(columns):
            return name, mapper
    raise InvalidDataset(
        "The required column timestamp is missing, and the columns are not those of a known "
        "export (LiteLLM SpendLogs, OpenAI Usage API, Langfuse observations, Helicone).",
        column="timestamp",
    )


def map_export(m: Mapping, mapper: Mapper) -> Canonical:
    """The canonical columns of the export, with the rules every source shares applied."""
    out = mapper(m)
    provider = out.get("provider", "NULL")
    if provider not in ("NULL", "'openai'"):
        aliases = " ".join(
            f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in PROVIDER_ALIASES.items()
        )
        p = f"lower({provider})"
        common = " ".join(f"WHEN '{n}' THEN '{n}'" for n in ("openai", "anthropic", "google"))
        provider = f"CASE {provider} {common} ELSE CASE {p} {aliases} ELSE {p} END END"
    api_key = out.get("api_key", "NULL")
    if api_key != "NULL":
        api_key = (
            f"CASE WHEN starts_with({api_key}, 'sk-') AND length({api_key}) > 12 "
            f"THEN 'sk-…' || right({api_key}, 4) ELSE {api_key} END"
        )
    defaults = {
        "cache_read_tokens": "0",
        "cache_write_tokens": "0",
        "requests": "1",
        "status": "'success'",
        "interactive": "true",
        "batch": "false",
    }
    for name, default in defaults.items():
        out[name] = _coalesce(out.get(name, "NULL"), default)
    out["provider"] = provider
    out["api_key"] = api_key
    for name in ("cost_usd", "latency_ms", "user", "feature", "project", "prompt_hash",
                 "prefix_hash", "prefix_tokens"):  # fmt: skip
        out.setdefault(name, "NULL")
    return out


__all__ = ["EXPORTS", "PROVIDER_ALIASES", "SourceName", "detect", "map_export"]
