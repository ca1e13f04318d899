"""Question words resolved to a dataset's values, and typos fixed (rapidfuzz).

Words are split into parts at every character that is not a letter or digit, so
``claude-sonnet-4-5``, ``Claude Sonnet 4.5`` and ``claude sonnet 4-5`` are the same parts.
A name covers (DATA.md section 6):

- a value named exactly, with its dated or versioned variants (``gpt-4o`` covers
  ``gpt-4o-2024-08-06``, not ``gpt-4o-mini``); a dated value's base name covers it too;
- a model family word, the first part of model names (``claude``, ``gemini``, ``gpt``):
  every model it prefixes;
- a model's short name, without its vendor prefix (``sonnet 4.5``, ``4o mini``, ``4o``,
  ``4.1``), or one word of it (``sonnet``: every sonnet model), when no value is named so;
  either after the family word too (``gemini flash``, ``claude sonnet 4``);
- a provider's name: that provider.

Status values are not names (``errors`` and ``failed`` are read as words by the parser).
A part that is neither a known word nor a name part is replaced by the closest one when
rapidfuzz scores it at least ``TYPO_CUTOFF`` (``spnd`` → ``spend``, ``antropic`` →
``anthropic``); of those, the fewest edits with a swap of two neighbours counting as one
(Damerau-Levenshtein: ``usre`` → ``user``, not ``use``), then the longest (a typo drops a
letter more often than it adds one). Parts shorter than 4 characters are left as they are, and
a part's digits are never changed (``u150`` is not a typo of ``u10``: a name, maybe missing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile
from typing import Final

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from netra.questions.plan import Dimension
from netra.questions.vocabulary import Vocabulary

TYPO_CUTOFF: Final = 75.0
_PART = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\D")
_VERSION = re.compile(r"^(?P<base>.+?)(?:-(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{3}|latest))$")
_NAMED: Final[tuple[Dimension, ...]] = (
    "model",
    "provider",
    "feature",
    "user",
    "project",
    "api_key",
)
_NOT_NAMES: Final = frozenset("latest preview exp experimental instruct chat turbo".split())
_ALIASES: Final = {("open", "ai"): "openai", ("google", "ai"): "google", ("vertex",): "google"}


def parts(text: str) -> list[str]:
    return _PART.findall(text.lower())


@dataclass(frozen=True)
class Match:
    """Tokens ``start``..``end`` (excluded) name ``values`` of ``dimension``."""

    dimension: Dimension
    values: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Names:
    index: dict[tuple[str, ...], tuple[Dimension, tuple[str, ...]]]
    longest: int
    words: frozenset[str]

    def fix_typos(self, tokens: list[str], known: frozenset[str]) -> list[str]:
        """``tokens`` with each unknown one replaced by the closest known word or name part."""
        choices = _choices(known, self.words)
        fixed = []
        for token in tokens:
            if len(token) < 4 or token in known or token in self.words or token.isdigit():
                fixed.append(token)
                continue
            close = process.extract(
                token, choices, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None
            )
            digits = _DIGITS.sub("", token)  # u150 is no typo of u10: numbers are kept
            best = min(
                (found for found in close if _DIGITS.sub("", found[0]) == digits),
                key=lambda found: (DamerauLevenshtein.distance(token, found[0]), -len(found[0])),
                default=None,
            )
            fixed.append(best[0] if best else token)
        return fixed

    def find(self, tokens: list[str]) -> list[Match]:
        """The names in ``tokens``, longest first at each position, left to right."""
        found, position = [], 0
        while position < len(tokens):
            for size in range(min(self.longest, len(tokens) - position), 0, -1):
                key = tuple(tokens[position : position + size])
                if key in self.index:
                    dimension, values = self.index[key]
                    found.append(Match(dimension, values, position, position + size))
                    position += size
                    break
            else:
                position += 1
        return found


def _short_names(model: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A model's names without its vendor prefix: its parts after the first (``sonnet 4 5``,
    ``4o mini``; of the dated value's base too; numbers only with two parts: ``4 1``); then
    each word part alone (``sonnet``, ``mini``) and with the version numbers (``sonnet 3 5``
    of ``claude-3-5-sonnet``), weaker: a short name of another value wins over them."""
    base = _VERSION.match(model)
    plain = parts(base["base"] if base else model)[1:]
    short = [tuple(parts(model)[1:]), tuple(plain)]
    numbers = tuple(p for p in plain if p.isdigit())
    words = [p for p in plain if p.isalpha() and p not in _NOT_NAMES]
    loose = [(word,) for word in words] + [(word, *numbers) for word in words if numbers]
    return [key for key in short if len(key) > 1 or (key and not key[0].isdigit())], loose


def _versions(model: str) -> tuple[str, ...]:
    """The version numbers just after a model's family word (``2 5`` of ``gemini-2.5-pro``,
    so ``gemini 2.5`` names both 2.5 models); empty without."""
    return tuple(takewhile(str.isdigit, parts(model)[1:]))


@lru_cache(maxsize=64)
def _choices(known: frozenset[str], words: frozenset[str]) -> list[str]:
    return sorted(known | words)


@lru_cache(maxsize=64)
def names_of(vocabulary: Vocabulary) -> Names:
    """The name index of one vocabulary (built once per vocabulary)."""
    index: dict[tuple[str, ...], tuple[Dimension, set[str]]] = {}

    def add(key: tuple[str, ...], dimension: Dimension, values: set[str]) -> None:
        if not key:
            return
        if key in index and index[key][0] != dimension:
            return  # the first dimension to claim a name keeps it (model before feature...)
        index.setdefault(key, (dimension, set()))[1].update(values)

    models = vocabulary.of("model")
    for model in models:
        base = _VERSION.match(model)
        add(tuple(parts(model)), "model", {model})
        if base:
            add(tuple(parts(base["base"])), "model", {model})
    for model in models:
        family = parts(model)[0]
        if not family.isdigit():
            add((family,), "model", {m for m in models if parts(m)[0] == family})
    short: dict[tuple[str, ...], set[str]] = {}
    loose: dict[tuple[str, ...], set[str]] = {}
    for model in models:
        exact, partial = _short_names(model)
        prefix = parts(model)[:1]  # "gemini flash": the family's models of that short name
        for key in exact:
            short.setdefault(key, set()).add(model)
            short.setdefault((*prefix, *key), set()).add(model)
        for key in partial:
            loose.setdefault(key, set()).add(model)
            loose.setdefault((*prefix, *key), set()).add(model)
        loose.setdefault((*prefix, *_versions(model)), set()).add(model)
    for key, values in (*short.items(), *loose.items()):
        if key not in index:  # a value's own name wins over another's short name
            add(key, "model", values)
    for dimension in _NAMED[1:]:
        for value in vocabulary.of(dimension):
            add(tuple(parts(value)), dimension, {value})
    providers = set(vocabulary.of("provider"))
    for key, provider in _ALIASES.items():
        if provider in providers:
            add(key, "provider", {provider})
    frozen = {key: (dimension, tuple(sorted(values))) for key, (dimension, values) in index.items()}
    words = frozenset(part for key in frozen for part in key if not part.isdigit())
    return Names(index=frozen, longest=max(map(len, frozen), default=1), words=words)
