"""What a question names that its data does not hold: never answered with unfiltered figures.

``missing_name`` finds a word that stands where a name stands but is not a name of the
dataset (nor a known word, nor a common English word):

- shaped like a name and not wholly a name of the data: joined by ``-``/``.``
  (``mistral-large``; ``claude-opus-4``, whose family word alone does not cover it), with
  letters and digits (``gpt5``, ``u99``), or followed by a number (``llama 3``; a model
  word of the data followed by a version none of its models has: ``gemini 3``, ``gpt 5``);
- next to a dimension word (``the billing feature``, ``user carol``), before a measure noun
  (``AWS bill``), after a spend word and a preposition (``spend on aws``), between ``did``
  and ``spend``/``cost``, or a side of a comparison (``compare alice and bob``);
- written with a capital letter inside the sentence (``AWS``, ``Alice``).

A word of a closed class (``some``, ``plus``, ``those``) is never a name, nor a word after a
dimension word that a determiner follows (``key throws the most``: a verb).

``missing_period`` is a window the question names that holds none of the data's days.
``COMMON`` words are never names (nor typos to fix). ``closest_names`` are the dataset's
values nearest a missing name (rapidfuzz ``ratio``; a name with a version number: of the models).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from netra.questions.names import Match, parts
from netra.questions.plan import Dimension, Window
from netra.questions.vocabulary import Vocabulary

_CHUNK: Final = re.compile(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*")
_DIMENSION_WORDS: Final[dict[str, Dimension]] = {
    "model": "model", "models": "model", "provider": "provider", "providers": "provider",
    "vendor": "provider", "feature": "feature", "features": "feature", "user": "user",
    "users": "user", "customer": "user", "team": "project", "project": "project",
    "projects": "project", "app": "project", "key": "api_key", "keys": "api_key",
}  # fmt: skip
_MEASURE_NOUNS: Final = frozenset(
    "spend spending spent cost costs bill bills usage invoice requests tokens traffic".split()
)
_SPEND_WORDS: Final = _MEASURE_NOUNS | {"money", "paid", "pay", "latency", "rate", "errors"}
_PREPOSITIONS: Final = frozenset("on for from of with to about".split())
_COMPARE_WORDS: Final = frozenset("compare vs versus between than and or against".split())
COMMON: Final = frozenset(
    """so very too really just only all any anything everything something it its that this
    these those them they their there here me my you your be been being has have had can
    could should would will shall may might must not no yes up down out over under into onto
    at as if then than when while via across within without during before after since until
    also still again ever now right overall current currently entire whole combined
    cumulative recent recently actual actually net gross api apis llm ai genai usage data
    dataset stack see look find get got know need want like seem seems go went gone going
    much many more less fewer most least big bigger high higher low lower lot lots change
    changed changes grow grew growing growth increase increased decrease decreased drop
    dropped fell fall falling rise rose shrink shrank decline declined behind let please
    kind sort type group grouped split broken sorted ranked rank order ordered versus one
    two three four five six seven eight nine ten first second third everyone anyone
    someone everybody anybody somebody other others another else same different new old
    year years hour hours quarter quarters ytd mtd spenders spender consumers consumer
    expensive costly pricey cheaper pricier costlier able anywhere everywhere somewhere
    ran run runs saw see seen shows vs than or and did does done make take took what's
    whats let's fastest faster fast quickest quicker quickly rapidly slowest went rising
    rose risen jumped climbing climbed fallen dropping shrinking declining decreasing
    increasing able with help doing day week month through via repeated duplicate
    duplicated identical retry retries retried successful success succeeded estimated
    expected typical normal usual mean max min peak annual yearly quarterly hidden wasted
    unnecessary extra additional huge large small inference completion completions
    prompts responses response answers answer date mtd wtd follow non re both either
    neither whole full half each every same various several overspend overspending
    overspent llms whose whom where why how when which who""".split()
)
# Closed word classes (determiners, quantifiers, conjunctions, prepositions, pronouns,
# auxiliaries) hold no names, and can be listed whole, unlike the open ones.
_FUNCTION_WORDS: Final = frozenset(
    """a an the some few several plus minus and or but nor yet so for of to in on at by
    with from into onto about above below among amongst around toward towards upon beside
    besides beyond despite except near off past per via each either neither both all any
    no none such own many much more most less least other another this that these those
    my your his her its our their i we you he she they me us him them who whom whose which
    what is are was were be been being am do does did has have had can could shall should
    will would may might must""".split()
)
# After a dimension word, a word followed by one of these is a verb (``key throws the most``).
_VERB_BEFORE: Final = frozenset(
    "the a an most more least less many much so any some all too".split()
)
_ORDINAL: Final = re.compile(r"^\d+(st|nd|rd|th)$|^p\d{2}$")
_CAPITALIZED: Final = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][A-Za-z0-9]*")


@dataclass(frozen=True)
class Missing:
    """``text`` as the question wrote it; ``dimension`` when the question says which."""

    text: str
    dimension: Dimension | None


def missing_name(
    question: str,
    rest: str,
    tokens: list[str],
    matches: list[Match],
    known: frozenset[str],
    *,
    shapes: bool = True,
) -> Missing | None:
    """The first name in ``rest`` (the question without its windows; ``tokens`` its parts,
    typos fixed) that ``matches`` do not cover and is no known or common word. A word the
    typo fixer turned into a known word by more than one edit (``cohere`` → ``here``) is read
    as written. Without ``shapes`` (no dataset names to compare with, as at admission) only a
    word next to a dimension word or between ``did`` and ``spend`` counts."""
    covered = {i for m in matches for i in range(m.start, m.end)}
    capitalized = {word.lower() for word in _CAPITALIZED.findall(question.strip())} - {"i"}
    written = parts(rest)

    def plain(i: int) -> bool:
        token = tokens[i]
        return (
            i in covered
            or (token in known and DamerauLevenshtein.distance(token, written[i]) <= 1)
            or written[i] in COMMON
            or written[i] in _FUNCTION_WORDS
            or written[i].isdigit()
            or bool(_ORDINAL.match(written[i]))
        )

    position = 0
    for chunk in _CHUNK.finditer(rest if shapes else ""):
        size = len(parts(chunk[0]))
        span = range(position, position + size)
        position += size
        if size > 1 and any(p.isalpha() for p in parts(chunk[0])):
            uncovered = [i for i in span if i not in covered]
            if uncovered and (len(uncovered) < size or any(not plain(i) for i in uncovered)):
                near = _dimension_near(tokens, span.start, span.stop)
                return Missing(chunk[0], near or _model_shaped(chunk[0]))
    if shapes and (versioned := _unknown_version(tokens, matches)):
        return versioned
    for i, token in enumerate(written):
        if plain(i):
            continue
        before = tokens[i - 1] if i else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        dimension = _dimension_near(tokens, i, i + 1)
        if before in _DIMENSION_WORDS and after in _VERB_BEFORE and token.isalpha():
            dimension = None  # "which api key throws the most errors"
        if after.isdigit() and shapes:
            return Missing(f"{token} {after}", dimension or "model")
        stands_for_name = (
            dimension is not None or (before == "did" and after in ("spend", "cost", "use", "pay"))
        ) or (
            shapes
            and (
                (any(c.isdigit() for c in token) and any(c.isalpha() for c in token))
                or after in _MEASURE_NOUNS
                or (before in _PREPOSITIONS and _spend_before(tokens, i - 1))
                or token in capitalized
                or ((before in _COMPARE_WORDS or after in _COMPARE_WORDS) and _compares(tokens))
            )
        )
        if stands_for_name:
            spends = before == "did" and after in ("spend", "use", "pay")
            return Missing(token, dimension or ("user" if spends else None))  # "did carol spend"
    return None


def _unknown_version(tokens: list[str], matches: list[Match]) -> Missing | None:
    """A model word followed by a version no model of the data has (``gemini 3``, ``gpt 5``:
    ``gemini 2.5`` would have been named whole)."""
    for match in matches:
        after = tokens[match.end] if match.end < len(tokens) else ""
        word = tokens[match.start] if match.end - match.start == 1 else ""
        if match.dimension == "model" and word.isalpha() and after.isdigit():
            return Missing(f"{word} {after}", "model")
    return None


def _model_shaped(name: str) -> Dimension | None:
    """A name with a version number (``claude-opus-4``, ``gpt-5``) is a model's."""
    return "model" if any(c.isdigit() for c in name) else None


def _dimension_near(tokens: list[str], start: int, end: int) -> Dimension | None:
    for i in (start - 1, end):
        if 0 <= i < len(tokens) and tokens[i] in _DIMENSION_WORDS:
            return _DIMENSION_WORDS[tokens[i]]
    return None


def _spend_before(tokens: list[str], preposition: int) -> bool:
    return any(t in _SPEND_WORDS for t in tokens[max(0, preposition - 2) : preposition])


def _compares(tokens: list[str]) -> bool:
    return bool({"compare", "vs", "versus", "between", "than"} & set(tokens))


def missing_period(windows: list[Window], vocabulary: Vocabulary) -> Window | None:
    """The first window that holds none of the data's days (None without a period)."""
    if vocabulary.first_at is None or vocabulary.last_at is None:
        return None
    first, last = vocabulary.first_at.date(), vocabulary.last_at.date()
    return next((w for w in windows if w.end < first or w.start > last), None)


def closest_names(missing: Missing, vocabulary: Vocabulary, limit: int = 3) -> list[str]:
    """The dataset's values nearest ``missing``: of its dimension when the question says
    which, else of models, providers, features and projects."""
    dimensions: tuple[Dimension, ...] = (
        (missing.dimension,) if missing.dimension else ("model", "provider", "feature", "project")
    )
    choices = [value for dimension in dimensions for value in vocabulary.of(dimension)]
    found = process.extract(missing.text, choices, scorer=fuzz.ratio, limit=limit)
    return [choice for choice, _, _ in found]


def period_words(first_at: datetime, last_at: datetime) -> str:
    """``May 20, 2025 to Jun 30, 2025``."""
    return " to ".join(f"{day:%b} {day.day}, {day.year}" for day in (first_at, last_at))
