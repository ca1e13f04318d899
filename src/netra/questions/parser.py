"""The deterministic parser: a question in, a ``QuestionPlan`` out, without a model.

``parse(question, vocabulary, previous=None, today=...)`` reads, in order:

1. time expressions (``windows``), counted back from the data's last day when the data
   ends before ``today`` (the window records it);
2. the remaining words, typos fixed against the known words and the dataset's names, and
   names resolved to the dataset's values (``names``);
3. the operation, the measure, the grouping, the order and top-N from keyword rules;
4. a follow-up (``and on claude-haiku-4-5?``, ``what about last month?``, ``break that
   down by user``, ``why?``) is the ``previous`` plan with what the question changes.

A greeting or a product question is ``chat``. A question naming something the data does not
hold, or nothing it can measure, is ``unknown`` with what was understood and the closest
answerable questions: never a different question.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Final, Literal

from rapidfuzz import fuzz, process

from netra.questions.names import Match, names_of, parts
from netra.questions.plan import (
    Filters,
    Grouping,
    Measure,
    Operation,
    QuestionPlan,
    RecommendationKind,
    WhatIf,
    Window,
)
from netra.questions.vocabulary import Vocabulary
from netra.questions.windows import find_windows

_GROUP_WORDS: Final[dict[str, Grouping]] = {
    "model": "model", "models": "model", "llm": "model", "llms": "model",
    "provider": "provider", "providers": "provider", "vendor": "provider", "vendors": "provider",
    "feature": "feature", "features": "feature",
    "user": "user", "users": "user", "who": "user", "people": "user", "person": "user",
    "project": "project", "projects": "project",
    "key": "api_key", "keys": "api_key",
    "status": "status",
    "day": "day", "days": "day", "daily": "day",
    "week": "week", "weeks": "week", "weekly": "week",
    "month": "month", "months": "month", "monthly": "month",
}  # fmt: skip
_TRIGGERS: Final = frozenset(
    "by per each every which what top across whose most biggest largest highest cheapest least"
    " lowest between".split()
)
_WORDS: Final = frozenset(
    """what which who how much many did do does we our us i is are was were the a an of on in
    for to by per each every top most least spend spent spending spends cost costs costing
    money bill price paid pay expensive cheap cheapest biggest largest highest lowest request
    requests call calls volume traffic token tokens input output prompt completion total
    average avg share percent percentage fraction proportion error errors failed failure
    failures fail rate latency slow fast median response time cache cached caching hit read
    compare versus compared difference against why caused explain drove reason happened jump
    jumped spike spikes anomaly anomalies anomalous unusual outlier outliers abnormal weird
    forecast predict projection projected will next expect going run would save saving
    savings switch switching switched move moving moved migrate migrating migrated replace
    replaced batch batching batched route routed routing caches
    recommend recommendations recommendation reduce cut lower optimize optimise suggest
    model models provider providers vendor vendors feature features user users project
    projects key keys status day days daily week weeks weekly month months monthly break down
    breakdown show list give tell trend about and or with from since between last this past
    yesterday today hello thanks thank help use used using make made where there when good
    morning afternoon evening slowest fastest slower faster""".split()
)
_GREETINGS: Final = re.compile(
    r"^(hi|hello|hey|yo|good (morning|afternoon|evening)|thanks?( you)?|thx|cheers|ok(ay)?|"
    r"who are you|what are you|what can you do|how do(es)? (this|netra|it) work|help|"
    r"what is netra|how are you)\b"
)
_OUT_OF_SCOPE: Final = re.compile(
    r"\b(revenue|profit|salary|salaries|weather|stock|customers?|churn|headcount|employees|"
    r"gpus?|invoice number|password|delete|ceo|lunch|marketing budget|carbon|energy)\b"
)
_UNRESOLVED: Final = re.compile(
    r"\b(?:user|model|feature|project|provider|key)\s+(?P<a>[a-z][\w.-]*)|"
    r"\bdid\s+(?P<b>[a-z][\w.-]*)\s+(?:spend|cost|use)\b"
)
_FOLLOW_UP: Final = re.compile(
    r"^(and|what about|how about|same for|now|ok and|also|then|only|just|break (that|it|this)"
    r" down|split (that|it)|why\b|and why|how come)"
)
_TARGET: Final = re.compile(
    r"\b(?:to|with|onto|into|on|use|used|using)\s+(?P<model>[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+|o\d[a-z0-9-]*)"
)
_OPERATIONS: Final[tuple[tuple[Operation, re.Pattern[str]], ...]] = (
    (
        "what_if",
        re.compile(
            r"\bwhat if\b|\bwould (we|it|that)\b.*\b(save|cost)|\bif we\b.*\b(move|moved|switch|"
            r"switched|use|used|cache|cached|batch|batched|route|routed)|\b(switch|switching|move|"
            r"moving|migrate|migrating|replace|replacing|route|routing)\b.*\b(to|with|onto)\b|"
            r"\bbatch api\b|\bcach(e|ing) (the |our |those |these |repeated |duplicate )?"
            r"(requests|responses|prompts|calls|it|them)\b|\bcaching\b.*\bsave"
        ),
    ),
    (
        "recommend",
        re.compile(
            r"\brecommend|\bhow (can|could|do|should) (we|i) (save|reduce|cut|lower|spend less)|"
            r"\bsave money\b|\b(reduce|cut|lower|optimi[sz]e)\b.*\b(cost|costs|spend|bill)|"
            r"\bsavings?\b|\bsuggest|\bwhere can we save|\bwaste\b"
        ),
    ),
    (
        "forecast",
        re.compile(
            r"\bforecast|\bpredict|\bprojection|\bprojected\b|\bwill (we|it|our|the)\b|"
            r"\bnext month\b|\brun rate\b|\bexpect(ed)? to\b|\bgoing to (spend|cost)"
        ),
    ),
    (
        "explain",
        re.compile(
            r"\bwhy\b|\bwhat caused\b|\bexplain\b|\bwhat drove\b|\breason\b|\bwhat happened\b|"
            r"\bhow come\b"
        ),
    ),
    (
        "anomalies",
        re.compile(r"\banomal|\bspikes?\b|\bunusual\b|\boutliers?\b|\babnormal\b|\bweird\b"),
    ),
    ("compare", re.compile(r"\bcompar|\bvs\b|\bversus\b|\bdifference between\b|\bagainst\b")),
)
_MEASURES: Final[tuple[tuple[Measure, re.Pattern[str]], ...]] = (
    ("cache_read_share", re.compile(r"\bcache (read|hit)|\bcached (input|tokens)|\bcache rate")),
    ("latency_p99", re.compile(r"\bp99\b")),
    ("latency_p50", re.compile(r"\bp50\b|\bmedian (latency|response)")),
    ("latency_p95", re.compile(r"\bp95\b|\blatency\b|\bslow|\bresponse times?\b|\bfast")),
    ("error_rate", re.compile(r"\b(error|failure|fail) rate|\bhow often\b.*\bfail|\bfail rate")),
    (
        "error_spend",
        re.compile(
            r"\b(spend|spent|cost|costs|waste|wasted|lose|lost|money)\b.*\b(errors?|failed|"
            r"failures?)\b|\b(errors?|failed|failures?)\b.*\b(cost|costs|spend|money)\b"
        ),
    ),
    ("cost_per_request", re.compile(r"\bper (request|call)\b|\baverage cost|\bavg cost|\bunit")),
    ("share", re.compile(r"\bshare\b|\bpercent|\bfraction\b|\bproportion\b|%")),
    ("input_tokens", re.compile(r"\b(input|prompt) tokens?\b")),
    ("output_tokens", re.compile(r"\b(output|completion) tokens?\b")),
    ("total_tokens", re.compile(r"\btokens?\b")),
    ("requests", re.compile(r"\brequests?\b|\bcalls?\b|\bhow many\b|\bvolume\b|\btraffic\b")),
    ("spend", re.compile(r"\bspen[dt]|\bcosts?\b|\bmoney\b|\bbill\b|\bexpensive\b|\bpaid\b")),
)
_COUNT_WORDS: Final = {"one": 1, "two": 2, "three": 3, "five": 5, "ten": 10}
_SUGGESTIONS: Final = (
    "What did we spend by model last week?",
    "Which user costs the most?",
    "What is our error rate?",
    "Are there any anomalies?",
    "What will we spend next month?",
    "How can we save money?",
    "Compare {provider_a} and {provider_b} spend",
    "What is the p95 latency by model?",
    "Show daily spend for the last 7 days",
    "How many requests did each feature make?",
)


def parse(
    question: str,
    vocabulary: Vocabulary,
    *,
    previous: QuestionPlan | None = None,
    today: date | None = None,
) -> QuestionPlan:
    """The plan of ``question`` against ``vocabulary`` (module docstring)."""
    text = " ".join(question.lower().replace("’", "'").split())
    text = text.strip(" ?!.")
    if not text:
        return _unknown(text, vocabulary, "")
    today = today or datetime.now(UTC).date()
    last_day = vocabulary.last_at.date() if vocabulary.last_at else today
    reference, anchored = (last_day, True) if last_day < today else (today, False)
    windows = find_windows(text, reference, anchored)
    rest = text
    operation = next((op for op, pattern in _OPERATIONS if pattern.search(text)), None)
    target = _target(text, operation)
    spans = [span for _, span in windows]
    if target and (found := re.search(rf"\b{re.escape(target)}\b", text)):
        spans.append(found.span())
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    names = names_of(vocabulary)
    tokens = names.fix_typos(parts(rest), _WORDS)
    words = " ".join(tokens)
    matches = names.find(tokens)
    if _GREETINGS.match(words) and not matches and not windows and len(tokens) <= 6:
        return QuestionPlan(operation="chat")
    if _OUT_OF_SCOPE.search(words):
        return _unknown(words, vocabulary, "a question about something usage data does not hold")
    if unresolved := _unresolved(words, tokens, matches):
        return _unknown(words, vocabulary, f"{unresolved!r} is not a name in this data")
    operation = next((op for op, pattern in _OPERATIONS if pattern.search(words)), None)
    measure = next((m for m, pattern in _MEASURES if pattern.search(words)), None)
    group_by, top, order = _grouping(tokens, matches, operation)
    filters_matches = matches
    if previous is not None and previous.operation not in ("chat", "unknown"):
        # "why?" asks about the previous answer; "why did costs jump on June 25?" names its
        # own day or names and stands alone.
        asks_why = words.startswith(("why", "and why", "how come"))
        stands_alone = asks_why and bool(windows or matches)
        # A short question with no verb of its own carries on the previous one only when it
        # says something the plan can take: a name, a window, a grouping ("and in June?").
        says = bool(matches or windows or group_by)
        short = operation is None and measure is None and len(tokens) <= 6 and says
        if not stands_alone and (_FOLLOW_UP.match(words) or short):
            return _follow_up(
                previous, words, operation, measure, filters_matches, windows, group_by
            )
    if operation is None and measure is None and not matches and not windows and group_by is None:
        return _unknown(words, vocabulary, "")
    failed = words.startswith(("how many errors", "how many failed")) or "failed requests" in words
    if failed and measure in (None, "requests"):
        measure, filters_matches = "requests", filters_matches
        status: tuple[str, ...] = ("error",)
    else:
        status = ()
    filters, versus = _sides(filters_matches, operation)
    if status:
        filters = filters.model_copy(update={"status": status})
    window = windows[0][0] if windows else None
    versus_window = windows[1][0] if operation == "compare" and len(windows) > 1 else None
    operation = operation or "measure"
    if operation == "compare" and versus is None and versus_window is None:
        operation = "measure"
        if group_by is None and len(matches) == 1 and len(matches[0].values) > 1:
            group_by = matches[0].dimension
    if operation == "explain" and measure not in ("spend", "requests", None):
        measure = "spend"
    return QuestionPlan(
        operation=operation,
        measure=measure or "spend",
        filters=filters,
        window=window,
        group_by=None if operation in ("forecast", "what_if", "recommend") else group_by,
        order=order,
        top=top,
        versus=versus,
        versus_window=versus_window,
        what_if=_what_if(words, target) if operation == "what_if" else None,
        kinds=_kinds(words) if operation == "recommend" else (),
    )


def _unresolved(words: str, tokens: list[str], matches: list[Match]) -> str | None:
    """A word that stands where a name should, which the data does not hold."""
    named = {tokens[i] for m in matches for i in range(m.start, m.end)}
    for found in _UNRESOLVED.finditer(words):
        word = found["a"] or found["b"]
        if word and word not in _WORDS and word not in named and not word.isdigit():
            return word
    return None


def _grouping(
    tokens: list[str], matches: list[Match], operation: Operation | None
) -> tuple[Grouping | None, int | None, Literal["desc", "asc"]]:
    named = {i for m in matches for i in range(m.start, m.end)}
    group: Grouping | None = None
    singular = False
    for position, token in enumerate(tokens):
        if position in named or token not in _GROUP_WORDS:
            continue
        candidate = _GROUP_WORDS[token]
        before = set(tokens[max(0, position - 3) : position])
        if candidate in ("day", "week", "month"):
            if token in ("daily", "weekly", "monthly") or before & {"by", "per", "each", "every"}:
                if operation != "what_if":
                    group = group or candidate
            continue
        plural = (token.endswith("s") and token != "status") or token in ("who", "people")
        if plural or before & _TRIGGERS:
            if any(m.dimension == candidate and m.start == position + 1 for m in matches):
                continue
            group = candidate
            singular = not plural
            break
    top: int | None = None
    joined = " ".join(tokens)
    if found := re.search(r"\btop (\d+|one|two|three|five|ten)\b", joined):
        top = int(found[1]) if found[1].isdigit() else _COUNT_WORDS[found[1]]
    elif group and re.search(r"\b(most|biggest|largest|highest|cheapest|least|lowest)\b", joined):
        top = 1 if singular or "who" in tokens else None
    elif group and singular and re.search(r"\b(which|who)\b", joined):
        top = 1
    order: Literal["desc", "asc"] = (
        "asc" if re.search(r"\b(least|cheapest|lowest|bottom)\b", joined) else "desc"
    )
    return group, top, order


def _sides(matches: list[Match], operation: Operation | None) -> tuple[Filters, Filters | None]:
    """The filters, and for a compare of two names of one dimension, the second side."""
    values: dict[str, list[str]] = {}
    for match in matches:
        values.setdefault(match.dimension, []).extend(match.values)
    if operation == "compare":
        for dimension in values:
            same = [m for m in matches if m.dimension == dimension]
            if len(same) == 2:
                common = {k: tuple(v) for k, v in values.items() if k != dimension}
                first = Filters(**common, **{dimension: same[0].values})
                return first, Filters(**common, **{dimension: same[1].values})
    return Filters(**{k: tuple(dict.fromkeys(v)) for k, v in values.items()}), None


def _target(text: str, operation: Operation | None) -> str | None:
    if operation != "what_if":
        return None
    found = list(_TARGET.finditer(text))
    return found[-1]["model"] if found else None


def _what_if(words: str, target: str | None) -> WhatIf:
    if target:
        return WhatIf(action="move_model", target_model=target)
    return WhatIf(action="batch" if "batch" in words else "cache")


def _kinds(words: str) -> tuple[RecommendationKind, ...]:
    rules: tuple[tuple[RecommendationKind, str], ...] = (
        ("response_cache", r"\b(response cach|duplicate|repeated)"),
        ("prompt_caching", r"\bprompt cach"),
        ("model_routing", r"\b(routing|cheaper model|smaller model)"),
        ("batch_api", r"\bbatch"),
        ("error_waste", r"\berror|\bfail"),
    )
    return tuple(kind for kind, pattern in rules if re.search(pattern, words))


def _follow_up(
    previous: QuestionPlan,
    words: str,
    operation: Operation | None,
    measure: Measure | None,
    matches: list[Match],
    windows: list[tuple[Window, tuple[int, int]]],
    group_by: Grouping | None,
) -> QuestionPlan:
    update: dict[str, object] = {}
    if matches:
        changed: dict[str, object] = {m.dimension: m.values for m in matches}
        update["filters"] = previous.filters.model_copy(update=changed)
    if windows:
        update["window"] = windows[0][0]
    if group_by:
        update["group_by"] = group_by
    if measure:
        update["measure"] = measure
    if operation == "explain":
        update |= {"operation": "explain", "group_by": None, "top": None}
    elif operation and operation != previous.operation:
        update["operation"] = operation
    return previous.model_copy(update=update)


def _unknown(words: str, vocabulary: Vocabulary, understood: str) -> QuestionPlan:
    providers = (*vocabulary.of("provider"), "openai", "anthropic")
    filled = [
        s.format(provider_a=providers[0].capitalize(), provider_b=providers[1].capitalize())
        for s in _SUGGESTIONS
    ]
    closest = process.extract(words, filled, scorer=fuzz.token_set_ratio, limit=3)
    return QuestionPlan(
        operation="unknown",
        understood=understood,
        suggestions=tuple(choice for choice, _, _ in closest),
    )
