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
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Final, Literal

from rapidfuzz import fuzz, process

from netra.questions.missing import (
    COMMON,
    Missing,
    closest_names,
    missing_name,
    missing_period,
    period_words,
)
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
from netra.questions.windows import (
    find_windows,
    fix_time_typos,
    over_periods,
    period_before,
    recent_days,
    since_month,
    spread_parts,
)

_GROUP_WORDS: Final[dict[str, Grouping]] = {
    "model": "model", "models": "model", "llm": "model", "llms": "model",
    "provider": "provider", "providers": "provider", "vendor": "provider", "vendors": "provider",
    "feature": "feature", "features": "feature",
    "user": "user", "users": "user", "who": "user", "whose": "user", "people": "user",
    "person": "user", "spender": "user", "spenders": "user",
    "project": "project", "projects": "project", "team": "project", "teams": "project",
    "key": "api_key", "keys": "api_key",
    "status": "status",
    "day": "day", "days": "day", "daily": "day",
    "week": "week", "weeks": "week", "weekly": "week",
    "month": "month", "months": "month", "monthly": "month",
}  # fmt: skip
_MOST: Final = frozenset(
    "most least biggest largest highest lowest cheapest expensive priciest costliest"
    " heaviest".split()
)
_TRIGGERS: Final = frozenset(
    "by per each every which what top across whose most biggest largest highest cheapest least"
    " lowest heaviest between".split()
)
_WORDS: Final = frozenset(
    """what which who how much many did do does we our us i is are was were the a an of on in
    for to by per each every top most least team teams spend spent spending spends cost costs
    costing money bill price paid pay expensive cheap cheapest biggest largest highest lowest
    request
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
    morning afternoon evening slowest fastest slower faster odd strange lately recently
    cheers helpful great perfect awesome nice whose costing driving drives pushing blow blew
    blown swap swapped swapping putting heaviest estimate estimated trending worth kind sort
    stuff things answer priciest costliest burn burned burnt burning thru""".split()
)
_KNOWN: Final = _WORDS | COMMON
_GREETINGS: Final = re.compile(
    r"^(hi|hello|hey|yo|good (morning|afternoon|evening)|thanks?( you)?|thx|cheers|ok(ay)?|"
    r"(that|this) (is|was) (helpful|great|perfect|useful)|great|perfect|awesome|nice|"
    r"got it|appreciate|much appreciated|"
    r"who are you|what are you|what can you do|how do(es)? (this|netra|it) work|help|"
    r"what (are you able to|can you) help|how can you help|"
    r"what (kind|sort)s? of (stuff|things|questions) can you|what can you answer|"
    r"what is netra|how are you)\b"
)
_GREETING_LEAD: Final = re.compile(
    r"^(hi|hello|hey|yo|good (morning|afternoon|evening))( there| team| all| folks| netra)?"
    r"( and)? "  # a comma is read as "and"
)
_OUT_OF_SCOPE: Final = re.compile(
    r"\b(revenue|profits?|salary|salaries|weather|stock|customers?|churn|headcount|employees|"
    r"gpus?|invoice number|password|delete|ceo|lunch|marketing budget|carbon|energy|"
    # business figures usage records do not hold
    r"(gross |net |profit )?margins?|sign[- ]?ups?|signed up|subscribers?|subscriptions?|"
    r"conversions?|sales|mrr|arr|ltv|roi|"
    # writing something other than an answer about usage
    r"(write|compose|draft) (me |us )?(a|an|some) (poem|story|song|joke|essay|limerick|"
    r"haiku|tweet|email|letter)s?|tell (me |us )?a (joke|story))\b"
)
_FOLLOW_UP: Final = re.compile(
    r"^(and|what about|how about|same for|now|ok and|also|then|only|just|break (that|it|this)"
    r" down|split (that|it)|why\b|and why|how come)"
)
_TARGET: Final = re.compile(r"\b(?P<to>to|with|onto|into|on|as|use|used|using|for)\s+")
_MODEL_SHAPE: Final = re.compile(r"[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+\b|o\d[a-z0-9-]*\b")
_SHORT_MODEL: Final = re.compile(r"(?P<word>[a-z]+)\s+(?P<version>\d+(?:[.-]\d+)*)\b")
_OPERATIONS: Final[tuple[tuple[Operation, re.Pattern[str]], ...]] = (
    (
        "what_if",
        re.compile(
            r"\bwhat if\b|\bwould (we|it|that)\b.*\b(save|cost)|\bif we\b.*\b(move|moved|switch|"
            r"switched|swap|swapped|put|use|used|cache|cached|batch|batched|route|routed)|"
            r"\bsave\b.*\b(putting|moving|switching|swapping|running)\b|"
            r"\b(swap|swapping)\b.*\b(to|with|for)\b|\b(switch|switching|move|"
            r"moving|migrate|migrating|replace|replacing|route|routing)\b.*\b(to|with|onto)\b|"
            r"\bif\b.*\b(ran|run|runs)\s+on\b|\bwould\b.*\bbe\s+(as|on)(\s|$)|"
            r"\bwould\b.*\b(cost|run)( us| me)?\s+(on|with|using|via)(\s|$)|"
            r"\bwould\b.*\b(with|using) (prompt |response )?(caching|cache|batching|batch)\b|"
            r"\bbatch api\b|\bcach(e|ing) (the |our |those |these |repeated |duplicate )?"
            r"(requests|responses|prompts|calls|it|them)\b|\bcaching\b.*\bsave"
        ),
    ),
    (
        "recommend",
        re.compile(
            r"\brecommend|\bhow (can|could|do|does|should) (\w+ ){1,4}?(save|reduce|cut|lower|"
            r"spend less|cost less|pay less)\b|"
            r"\bsave money\b|\b(reduce|cut|lower|optimi[sz]e)\b.*\b(cost|costs|spend|bill)|"
            r"\bsavings?\b|\bsuggest|\bwhere can we save|\bwaste\b|"
            r"\bhow much (can|could|would|will) (we|i) save\b|"
            r"\bhow (can|could|do|should) (we|i) (decrease|optimi[sz]e)|\boverspend|"
            r"\b(is|are|would) \w+( \w+)? worth (it|doing|trying|using)\b"
        ),
    ),
    (
        "forecast",
        re.compile(
            r"\bforecast|\bpredict|\bprojection|\bprojected\b|\bwill (we|it|our|the)\b|"
            r"\bestimated? (\w+ )?(spend|cost|bill)|"
            r"\b(what|where|how much) will\b|"
            r"\bnext month\b|\brun rate\b|\bexpect(ed)? to\b|\bgoing to (spend|cost)"
        ),
    ),
    (
        "explain",
        re.compile(
            r"\bwhy\b|\bwhat caused\b|\bexplain\b|\bwhat drove\b|\breason\b|\bwhat happened\b|"
            r"\bhow come\b|\bwhat'?s? behind\b|\bwhat (made|makes|caused|causes)\b|"
            r"\bbl(ew|ow|owing|own|ows) up\b|\bwhat('?s| is| was)? (driving|pushing)\b|"
            r"\bwhat (drives|is behind)\b"
        ),
    ),
    (
        "anomalies",
        re.compile(
            r"\banomal|\bspikes?\b|\bunusual\b|\boutliers?\b|\babnormal\b|\bweird\b|\bodd\b|"
            r"\bstrange\b|\bsuspicious\b|\bout of the ordinary\b"
        ),
    ),
    ("compare", re.compile(r"\bcompar|\bvs\b|\bversus\b|\bdifference between\b|\bagainst\b")),
)
_ADVICE: Final = re.compile(r"^(should|shall)\b|\bshould (we|i) (be )?us")  # any subject
_CHANGES: Final[tuple[tuple[Literal["desc", "asc"], re.Pattern[str]], ...]] = (
    (
        "asc",
        re.compile(
            r"\b(drop|dropped|drops|dropping|fell|fall|falls|falling|declin\w*|decreas\w*|"
            r"shr[iau]nk\w*|(went|go|gone|going|goes|came|come) down|down the most|reduced|"
            r"trending down|(is|are|was|were)( \w+){1,3} (?<!break )(?<!broken )down(?! to)|"
            r"(less|lower|fewer) than (before|usual|last)|"
            r"(got|get|gets|getting|became|become|becoming) (less expensive|cheaper))\b"
        ),
    ),
    (
        "desc",
        re.compile(
            r"\b(grew|grow|grows|growing|growth|increas\w*|rise|rises|rose|risen|rising|"
            r"(went|go|gone|going|goes|came|come) up|climb\w*|surg\w*|jump|jumped|doubled|"
            r"trending up|(is|are|was|were)( \w+){1,3} up(?! to| until| till)|"
            r"changed?|changes|(more|higher) than (before|usual|last)|"
            r"(got|get|gets|getting|became|become|becoming) (more expensive|pricier|costlier))\b"
        ),
    ),
)
_SPEED: Final = re.compile(r"\b(fast|faster|fastest|quick|quicker|quickest|quickly|rapidly)\b")
_AGAINST: Final = re.compile(r"\b(since|compared (to|with)|than|vs|versus|over|from)\s*$")
_TEAM: Final = re.compile(r"\bteams?\b", re.IGNORECASE)  # usage records have no team
_ERROR_COUNT: Final = re.compile(
    r"^how many (errors|failed)|\b(most|least|fewest|more|fewer|many|number of|count of) "
    r"(errors|failures|failed)\b|\b(requests|calls) (that )?(failed|errored)\b"
)
_ERRORS: Final = re.compile(r"\b(errors|failures|failed calls|errored|erroring)\b")
_SHORT: Final = {"wk": "week", "mth": "month", "mnth": "month", "mo": "month"}
_SHORTENED: Final = re.compile(r"\b(" + "|".join(_SHORT) + r")(s?)\b")
_MEAN_LATENCY: Final = re.compile(r"\b(avg|average|mean|typical) (latency|response)")
_PARTS: Final = re.compile(r",|&|\b(and|plus|as well as|along with|vs|versus)\b")
_RECENT_DAYS: Final = 7
_MEASURES: Final[tuple[tuple[Measure, re.Pattern[str]], ...]] = (
    (
        "cache_read_share",
        re.compile(
            r"\bcache (read|hit)( share| rate| ratio)?|\bcached (input|tokens)|\bcache rate|"
            r"\bfrom (the )?cache"
        ),
    ),
    ("latency_p99", re.compile(r"\b(latency )?p99( latency)?\b")),
    (
        "latency_p50",
        re.compile(
            r"\b(latency )?p50( latency)?\b|\bmedian (latency|response)|"
            r"\b(avg|average|mean|typical) (latency|response times?)\b"
        ),
    ),
    (
        "latency_p95",
        re.compile(r"\b(latency )?p95( latency)?\b|\blatency\b|\bslow|\bresponse times?\b|\bfast"),
    ),
    ("error_rate", re.compile(r"\b(error|failure|fail) rate|\bhow often\b.*\bfail|\bfail rate")),
    (
        "error_spend",
        re.compile(
            r"\b(spend|spent|cost|costs|waste|wasted|lose|lost|money)\b.*\b(errors?|failed|"
            r"failures?)\b|\b(errors?|failed|failures?)\b.*\b(cost|costs|spend|money)\b"
        ),
    ),
    (
        "cost_per_request",
        re.compile(
            r"\b((cost|spend|price) )?per (request|call)\b|\baverage cost|\bavg cost|\bunit"
        ),
    ),
    ("share", re.compile(r"\bshare\b|\bpercent|\bfraction\b|\bproportion\b|%")),
    (
        "input_tokens",
        re.compile(
            r"\b(input|prompt)(?= (and|&|vs|versus) (output|completion) tokens?)"
            r"|\b(input|prompt) tokens?\b"
        ),
    ),
    ("output_tokens", re.compile(r"\b(output|completion) tokens?\b")),
    ("total_tokens", re.compile(r"\btokens?\b")),
    (
        "requests",  # not "how many" of another measure ("how many tokens")
        re.compile(r"\brequests?\b|\bcalls?\b|\bhow many\b(?! #)|\bvolume\b|\btraffic\b"),
    ),
    (
        "spend",
        re.compile(
            r"\bspen[dt]|\bcost(s|ing)?\b|\bmoney\b|\bbill\b|\bexpensive\b|\bpaid\b|"
            r"\bburn(ed|t|ing)?\b"
        ),
    ),
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
    plan = _read(question, vocabulary, previous, today, suggest=True)
    readings = []
    if plan.group_by == "project" and _TEAM.search(question) and "project" not in question.lower():
        readings.append('the data has no team field: "team" is read as project')
    if _MEAN_LATENCY.search(question.lower()) and "latency_p50" in (plan.measure, *plan.measures):
        readings.append("the data has no mean latency: the median (p50) is given")
    return plan.model_copy(update={"readings": tuple(readings)}) if readings else plan


def _read(
    question: str,
    vocabulary: Vocabulary,
    previous: QuestionPlan | None,
    today: date | None,
    *,
    suggest: bool,
) -> QuestionPlan:
    """``parse``; ``suggest``: check that rewrites of a question naming what the data does
    not hold are answerable (not when reading such a rewrite)."""
    text = " ".join(question.lower().replace("’", "'").split())
    text = re.sub(r"(?<=[a-z0-9])'s\b", "", text).strip(" ?!.")
    text = re.sub(r"\s*,\s*(?=[a-z])", " and ", text)  # "requests, tokens and spend"
    text = re.sub(r"(?<=[a-z]{2})/(?=[a-z]{2})", " and ", text)  # "input/output tokens"
    text = re.sub(r"(?<=\w)\s*\+\s*(?=\w)", " and ", text)  # "p95 + p99"
    text = re.sub(r"(?<!\d)(?<!\d )%", " percent ", text)  # "what % of spend", not "10 %"
    text = " ".join(text.split())
    text = re.sub(_SHORTENED, lambda m: _SHORT[m[1]] + m[2], text)  # "last wk"
    if not text:
        return _unknown(text, vocabulary, "")
    names = names_of(vocabulary)
    text = fix_time_typos(text, _KNOWN, names.words)  # "last mnth"
    text, two_parts = spread_parts(text)  # "the first and second week of june"
    today = today or datetime.now(UTC).date()
    last_day = vocabulary.last_at.date() if vocabulary.last_at else today
    reference, anchored = (last_day, True) if last_day < today else (today, False)
    changes = any(pattern.search(text) for _, pattern in _CHANGES)
    windows = find_windows(text, reference, anchored, change=changes)
    over = over_periods(text, reference, anchored)
    rest = text
    operation = next((op for op, pattern in _OPERATIONS if pattern.search(text)), None)
    target, target_span = _target(text, operation, vocabulary)
    spans = [span for _, span in windows] + ([over[2]] if over else [])
    if target_span:
        spans.append(target_span)
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    tokens = names.fix_typos(parts(rest), _KNOWN)
    words = " ".join(tokens)
    matches = names.find(tokens)
    if _out_of_scope(text, words, names.words):  # as written, or misspelt
        return _unknown(words, vocabulary, "a question about something usage data does not hold")
    if _is_chat(words, len(tokens)) and not matches and not windows:
        return QuestionPlan(operation="chat")
    shapes = bool(vocabulary.values)  # without names (admission) every name would be missing
    if missing := missing_name(question, rest, tokens, matches, _WORDS, shapes=shapes):
        return _not_in_data(question, missing, vocabulary, today, suggest)
    if operation == "forecast":  # "where will we land for july": the month after the data
        windows = [(w, span) for w, span in windows if not _month_after(w, last_day)]
    if empty := missing_period([window for window, _ in windows], vocabulary):
        return _no_data_in(question, empty, vocabulary, today, suggest)
    operation = next((op for op, pattern in _OPERATIONS if pattern.search(words)), None)
    if _ADVICE.search(words) and operation in (None, "what_if"):
        operation = "recommend"
    change = next((order for order, pattern in _CHANGES if pattern.search(words)), None)
    if change and operation is None and not _GREETINGS.match(words):
        operation = "compare"
    measures = _measures(_SPEED.sub(" ", words) if change else words)
    measure = measures[0] if measures else None
    group_by, top, order = _grouping(tokens, matches, operation)
    if previous is not None and previous.operation not in ("chat", "unknown"):
        # "why?" asks about the previous answer; "why did costs jump on June 25?" names its
        # own day or names and stands alone.
        asks_why = words.startswith(("why", "and why", "how come"))
        stands_alone = asks_why and bool(windows or matches)
        # A short question with no verb of its own carries on the previous one only when it
        # says something the plan can take: a name, a window, a grouping ("and in June?").
        says = bool(matches or windows or group_by)
        short = operation is None and measure is None and len(tokens) <= 6 and says
        one_side = operation == "compare" and not change and _one_side(matches, windows)
        if not stands_alone and (_FOLLOW_UP.match(words) or short or one_side):
            return _follow_up(
                previous, words, operation, measure, matches, windows, (group_by, top, order)
            )
    if operation is None and measure is None and not matches and not windows and group_by is None:
        return _unknown(words, vocabulary, "")
    failed = bool(_ERROR_COUNT.search(words)) or "failed requests" in words
    if operation in (None, "compare", "explain", "anomalies") and not measures:
        failed = failed or bool(_ERRORS.search(words))  # "are errors down": failed requests
    status: tuple[str, ...] = ("error",) if failed and measure in (None, "requests") else ()
    if status:
        measure = "requests"
    two_sides = len(matches) == 2 or len(windows) == 2  # "june 1-7 more than june 8-14?"
    if operation is None and two_sides and (two_parts or re.search(r"\b(than|or)\b", words)):
        operation = "compare"
    filters, versus = _sides(matches, operation)
    if status:
        filters = filters.model_copy(update={"status": status})
    window = windows[0][0] if windows else None
    versus_window = windows[1][0] if operation == "compare" and len(windows) > 1 else None
    operation = operation or "measure"
    if operation == "compare" and change:
        order = change
        if window and versus_window and versus_window.start > window.start:
            window, versus_window = versus_window, window  # the change is the later's
        if versus is None and versus_window is None:
            window, versus_window = _periods(text, windows, over, reference, anchored)
        group_by = _changed_by(tokens, matches, group_by)
    if operation == "compare" and versus is None and versus_window is None and len(windows) == 1:
        window, versus_window = _measured_against(text, windows, reference) or (window, None)
    if operation == "what_if" and target is None and not re.search(r"\b(batch|cach)", words):
        if not _kinds(words):  # never another what-if's figures (caching) for an unread target
            return _unknown(
                words, vocabulary, "a what-if without a model to move to, batching or caching"
            )
        operation = "recommend"  # "moving o1 to a cheaper model": the routing advice
    if operation == "compare" and versus is None and versus_window is None:
        operation = "measure"
        if group_by is None and len(matches) == 1 and len(matches[0].values) > 1:
            group_by = matches[0].dimension
    return QuestionPlan(
        operation=operation,
        measure=measure or "spend",
        measures=tuple(measures) if len(measures) > 1 else (),
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


def _out_of_scope(text: str, words: str, names: frozenset[str]) -> bool:
    """A topic usage data does not hold (``revenue``, ``signups``, ``write me a poem``), as
    written or misspelt; not when the word is one of the dataset's names (a ``sales``
    project)."""
    return any(
        not set(parts(hit[0])) <= names
        for found in (text, words)
        for hit in _OUT_OF_SCOPE.finditer(found)
    )


def _is_chat(words: str, size: int) -> bool:
    """A greeting, thanks or product question naming no measure (not ``thanks, now the
    spend``): short, or a product question after a greeting (``hi there, what kind of stuff
    can you answer?``)."""
    if not _GREETINGS.match(words) or _measures(words):
        return False
    tail = _GREETING_LEAD.sub("", words, count=1)
    return size <= 8 or (tail != words and bool(_GREETINGS.match(tail)))


def _month_after(window: Window, last_day: date) -> bool:
    """``window`` is the calendar month after ``last_day``'s (``july`` read without a year
    is last July: a forecast means the coming one)."""
    following = (last_day.replace(day=1) + timedelta(days=32)).month
    return window.start.day == 1 and window.start.month == following and window.days >= 28


def _measures(words: str) -> list[Measure]:
    """The measure asked for; several when the question joins them (``spend and error
    rate``), in the order asked. Each pattern takes its words from the next ones (marked
    ``#``: ``how many`` just before another measure's words is that measure's count)."""
    found: list[tuple[int, int, Measure]] = []
    left = words
    for measure, pattern in _MEASURES:
        if hit := pattern.search(left):
            found.append((hit.start(), hit.end(), measure))
            left = left[: hit.start()] + "#" * (hit.end() - hit.start()) + left[hit.end() :]
    if not found:
        return []
    first = found[0][2]  # the most specific measure named, when they are not joined
    found.sort()
    joined = all(_PARTS.search(words[end:start]) for (_, end, _), (start, _, _) in pairwise(found))
    return [measure for _, _, measure in found] if joined and len(found) > 1 else [first]


def _periods(
    text: str,
    windows: list[tuple[Window, tuple[int, int]]],
    over: tuple[Window, Window, tuple[int, int]] | None,
    reference: date,
    anchored: bool,
) -> tuple[Window, Window]:
    """The two periods of a question about growth or decline: ``week over week``; a window
    it is measured against (``since last month``: this month vs. last month); a window and
    the period before it; else the last 7 days and the 7 before."""
    if over:
        return over[0], over[1]
    if against := _measured_against(text, windows, reference):
        return against
    if windows:
        return windows[0][0], period_before(windows[0][0])
    recent = recent_days(_RECENT_DAYS, reference, anchored)
    return recent, period_before(recent)


def _measured_against(
    text: str, windows: list[tuple[Window, tuple[int, int]]], reference: date
) -> tuple[Window, Window] | None:
    """The period since a window the question measures against (``compared to last
    month``: this month), and that window; None when the first window is not such."""
    if not windows:
        return None
    window, (start, _) = windows[0]
    if since := since_month(window, reference):  # "grown since may": June vs. May
        return since
    if not _AGAINST.search(text[:start]) or window.end >= reference:
        return None
    latest = Window(
        start=window.end + timedelta(days=1),
        end=reference,
        words=(
            window.words.replace("last", "this")
            if "last" in window.words
            else f"after {window.words}"
        ),
        anchored_to_data=window.anchored_to_data,
    )
    return latest, window


def _changed_by(
    tokens: list[str], matches: list[Match], group_by: Grouping | None
) -> Grouping | None:
    """What a change is broken down by: a dimension the question names (``model spend
    change``), else the models when it asks ``what`` changed; never days or weeks."""
    if group_by not in (None, "day", "week", "month"):
        return group_by
    named = {i for m in matches for i in range(m.start, m.end)}
    for position, token in enumerate(tokens):
        found = _GROUP_WORDS.get(token)
        if position not in named and found not in (None, "day", "week", "month"):
            return found
    return "model" if not matches and tokens[:1] in (["what"], ["which"]) else None


def _one_side(matches: list[Match], windows: list[tuple[Window, tuple[int, int]]]) -> bool:
    """A compare naming one side only (``compare with u4``): the other is the thread's."""
    return (len(matches) == 1 and not windows) or (len(windows) == 1 and not matches)


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
            elif tokens[position - 1 : position] in (["which"], ["what"]) and _MOST & set(tokens):
                group, singular = group or candidate, True  # "which day cost the most"
            continue
        plural = (token.endswith("s") and token != "status") or token in ("who", "whose", "people")
        if plural or before & _TRIGGERS:
            if any(m.dimension == candidate and m.start == position + 1 for m in matches):
                continue
            group = candidate
            singular = not plural
            break
    top: int | None = None
    joined = " ".join(tokens)
    if found := re.search(
        r"\btop (\d+|one|two|three|five|ten)\b|\b(\d+|three|five|ten) (?:most|biggest|largest|"
        r"highest|heaviest|priciest|costliest)\b",
        joined,
    ):
        count = found[1] or found[2]
        top = int(count) if count.isdigit() else _COUNT_WORDS[count]
    elif group and re.search(
        r"\b(most|biggest|largest|highest|heaviest|cheapest|least|lowest)\b", joined
    ):
        top = 1 if singular or {"who", "whose"} & set(tokens) else None
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
        if len(matches) == 2:  # "gemini vs openai": two names of two dimensions
            one, other = matches
            return Filters(**{one.dimension: one.values}), Filters(
                **{other.dimension: other.values}
            )
    return Filters(**{k: tuple(dict.fromkeys(v)) for k, v in values.items()}), None


def _target(
    text: str, operation: Operation | None, vocabulary: Vocabulary
) -> tuple[str | None, tuple[int, int] | None]:
    """The model a what-if moves traffic to, and its span: the last model named after
    ``to``/``on``/``with``... (after ``for`` only when no other: ``swap X for Y``)."""
    if operation != "what_if":
        return None, None
    found = [
        (at["to"] != "for", at.end(), named)
        for at in _TARGET.finditer(text)
        if (named := _model_at(text, at.end(), vocabulary))
    ]
    if not found:
        return None, None
    _, start, (target, end) = max(found, key=lambda item: (item[0], item[1]))
    return target, (start, end)


def _model_at(text: str, start: int, vocabulary: Vocabulary) -> tuple[str, int] | None:
    """The model named at ``start``, and where its name ends: a name of the data (the
    shortest value it covers: ``4o`` is gpt-4o), written like a model id, or a short name
    the price catalog knows with one of the data's model families before it (``haiku 4.5``
    is claude-haiku-4-5)."""
    ends = [m.end() for m in re.finditer(r"[a-z0-9]+", text[start:])][:4]
    tokens = parts(text[start : start + ends[-1]]) if ends else []
    found = [m for m in names_of(vocabulary).find(tokens) if m.start == 0]
    shaped = _MODEL_SHAPE.match(text, start)
    if found and found[0].dimension != "model":
        return None  # "for nightly-batch": a feature
    if found and (shaped is None or start + ends[found[0].end - 1] >= shaped.end()):
        return min(found[0].values, key=len), start + ends[found[0].end - 1]
    if shaped:  # a model id the data does not hold (claude-haiku-4-5)
        return shaped[0], shaped.end()
    if short := _SHORT_MODEL.match(text, start):
        from netra import analytics  # the price catalog loads with the first what-if

        version = "-".join(parts(short["version"]))
        families = dict.fromkeys(parts(model)[0] for model in vocabulary.of("model"))
        for family in families:
            entry = analytics.resolve_model(f"{family}-{short['word']}-{version}")
            if entry is not None:
                return entry.model, short.end()
    return None


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
    grouping: tuple[Grouping | None, int | None, Literal["desc", "asc"]],
) -> QuestionPlan:
    group_by, top, order = grouping
    update: dict[str, object] = {}
    changed: dict[str, object] = {m.dimension: m.values for m in matches}
    if operation == "compare":  # the thread's scope against the one side named
        if matches:
            update["versus"] = previous.filters.model_copy(update=changed)
        else:
            update["versus_window"] = windows[0][0]
        return previous.model_copy(update=update | {"operation": "compare", "group_by": None})
    if matches:
        update["filters"] = previous.filters.model_copy(update=changed)
    if windows:
        window = windows[0][0]
        if window.words.endswith("before") and previous.window:  # "and the week before?"
            window = period_before(previous.window, "week" if "week" in window.words else "")
        update["window"] = window
    if group_by:  # a new grouping comes with its own order and top-N ("cheapest model")
        update |= {"group_by": group_by, "top": top, "order": order}
    if measure:
        update["measure"] = measure
    if operation == "explain":
        update |= {"operation": "explain", "group_by": None, "top": None}
    elif operation and operation != previous.operation:
        update["operation"] = operation
    elif previous.operation == "explain" and group_by:  # "why?", then "by feature": the
        # change by feature, the window against the period before it (no window: the total)
        scope = update.get("window", previous.window)
        if isinstance(scope, Window):
            before = period_before(scope)
            update |= {"operation": "compare", "versus_window": before, "top": None}
        else:
            update["operation"] = "measure"
    return previous.model_copy(update=update)


def _unknown(
    words: str,
    vocabulary: Vocabulary,
    understood: str,
    *,
    first: tuple[str, ...] = (),
    not_in_data: str = "",
) -> QuestionPlan:
    """An ``unknown`` plan: ``first`` (answerable rewrites of the question), then the
    generic questions closest to ``words``, 3 in all."""
    providers = (*vocabulary.of("provider"), "openai", "anthropic")
    filled = [
        s.format(provider_a=providers[0].capitalize(), provider_b=providers[1].capitalize())
        for s in _SUGGESTIONS
    ]
    closest = process.extract(words, filled, scorer=fuzz.token_set_ratio, limit=3)
    suggestions = [*first, *(choice for choice, _, _ in closest)]
    return QuestionPlan(
        operation="unknown",
        understood=understood,
        suggestions=tuple(dict.fromkeys(suggestions))[:3],
        not_in_data=not_in_data,
    )


def _not_in_data(
    question: str, missing: Missing, vocabulary: Vocabulary, today: date, suggest: bool
) -> QuestionPlan:
    """``mistral-large`` is not in the data: the closest names it holds, and the question
    asked of them when that is answerable."""
    closest = closest_names(missing, vocabulary)
    kind = f"{missing.dimension.replace('_', ' ')}s" if missing.dimension else "names"
    rewrites = [_replaced(question, missing.text, name) for name in closest[:2]]
    return _unknown(
        question.lower(),
        vocabulary,
        f"{missing.text!r} is not in this data (the closest {kind} it holds: "
        + ", ".join(closest)
        + ")",
        first=_answerable(rewrites, vocabulary, today) if suggest else (),
        not_in_data=missing.text,
    )


def _no_data_in(
    question: str, empty: Window, vocabulary: Vocabulary, today: date, suggest: bool
) -> QuestionPlan:
    """A period outside the data: the period the data covers, and the question asked of the
    data's last month and last week when that is answerable."""
    assert vocabulary.first_at is not None and vocabulary.last_at is not None
    latest = f"in {vocabulary.last_at:%B %Y}"
    rewrites = [_replaced(question, empty.words, words) for words in (latest, "last week")]
    return _unknown(
        question.lower(),
        vocabulary,
        f"there is no data {empty.words} (the data covers "
        + period_words(vocabulary.first_at, vocabulary.last_at)
        + ")",
        first=_answerable(rewrites, vocabulary, today) if suggest else (),
        not_in_data=empty.words,
    )


def _replaced(question: str, old: str, new: str) -> str:
    """``question`` with ``old`` (and a preposition just before it) replaced by ``new``."""
    before = r"(\b(in|during|for|of|over)\s+)?"
    return re.sub(before + re.escape(old), new, question, count=1, flags=re.IGNORECASE)


def _answerable(questions: list[str], vocabulary: Vocabulary, today: date) -> tuple[str, ...]:
    return tuple(
        q
        for q in questions
        if _read(q, vocabulary, None, today, suggest=False).operation not in ("unknown", "chat")
    )
