"""The typed question plan: what a cost question asks, independent of how it was worded.

A plan says what to measure (``Measure``), over which rows (``Filters`` on DATA.md's
dimensions and a ``Window`` of UTC calendar days), how to group and order the figures, and
which ``Operation`` to run. ``parser.parse`` builds one from a question without a model;
``execute.execute`` runs it with DuckDB. ``describe()`` renders it in words for triage's
``agent_thinking`` ("spend on claude-sonnet-4-5, Jun 24-30 (last week), by day").
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict

Measure = Literal[
    "spend",
    "requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_per_request",
    "share",
    "error_rate",
    "error_spend",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "cache_read_share",
]
Dimension = Literal["model", "provider", "feature", "user", "project", "api_key", "status"]
Grouping = Literal[
    "model", "provider", "feature", "user", "project", "api_key", "status", "day", "week", "month"
]
Operation = Literal[
    "measure",
    "compare",
    "explain",
    "anomalies",
    "forecast",
    "what_if",
    "recommend",
    "chat",
    "unknown",
]
RecommendationKind = Literal[
    "response_cache", "model_routing", "prompt_caching", "batch_api", "error_waste"
]

DIMENSIONS: Final[tuple[Dimension, ...]] = get_args(Dimension)

MEASURE_WORDS: Final[dict[str, str]] = {
    "spend": "spend",
    "requests": "requests",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "total_tokens": "tokens",
    "cost_per_request": "cost per request",
    "share": "share of spend",
    "error_rate": "error rate",
    "error_spend": "spend on errors",
    "latency_p50": "p50 latency",
    "latency_p95": "p95 latency",
    "latency_p99": "p99 latency",
    "cache_read_share": "cache-read share of input",
}


RECOMMENDATION_WORDS: Final[dict[str, str]] = {
    "response_cache": "a response cache",
    "model_routing": "routing to cheaper models",
    "prompt_caching": "prompt caching",
    "batch_api": "a batch API",
    "error_waste": "fewer failed requests",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filters(_Frozen):
    """Rows kept: for each dimension, any of its values (an empty tuple keeps every row)."""

    model: tuple[str, ...] = ()
    provider: tuple[str, ...] = ()
    feature: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    api_key: tuple[str, ...] = ()
    status: tuple[str, ...] = ()

    def items(self) -> list[tuple[Dimension, tuple[str, ...]]]:
        """The dimensions that filter, with their values, in ``DIMENSIONS`` order."""
        return [(name, values) for name in DIMENSIONS if (values := getattr(self, name))]

    def describe(self) -> str:
        """``claude-sonnet-4-5 and claude-haiku-4-5, user alice``; empty when no filter."""
        parts = []
        for name, values in self.items():
            label = "" if name in ("model", "provider") else f"{name.replace('_', ' ')} "
            parts.append(label + " and ".join(values))
        return ", ".join(parts)


class Window(_Frozen):
    """UTC calendar days ``start`` to ``end``, both included; ``words`` the question's own
    ("last week"); ``anchored_to_data``: a relative window counted back from the data's
    last day because the data ends before today."""

    start: date
    end: date
    words: str = ""
    anchored_to_data: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def describe(self) -> str:
        """``Jun 24-30 (last week)``, ``Jun 25``, ``May 28-Jun 3 (last 7 days)``."""
        if self.start == self.end:
            span = _day(self.start)
        elif (self.start.year, self.start.month) == (self.end.year, self.end.month):
            span = f"{_day(self.start)}-{self.end.day}"
        else:
            span = f"{_day(self.start)}-{_day(self.end)}"
        if self.start.year != self.end.year:
            span += f" {self.end.year}"
        return f"{span} ({self.words})" if self.words and not _RESTATED.match(self.words) else span


class WhatIf(_Frozen):
    """The change to price: move the selected traffic to ``target_model``, send it through
    a batch API, or cache repeated requests."""

    action: Literal["move_model", "batch", "cache"]
    target_model: str | None = None


class QuestionPlan(_Frozen):
    """One question, understood. ``versus``/``versus_window``: the other side of a
    ``compare`` (a second filter set, or a second period). ``measures``: every measure a
    question asks for when it asks for more than one (``measure`` is the first).
    ``understood`` and ``suggestions``: for ``unknown``, what was understood and 2-3
    answerable questions; ``not_in_data``: the name or period asked about that the data
    does not hold; ``readings``: how a word the data has no field for was read ("team read
    as project"), said with the answer."""

    operation: Operation
    measure: Measure = "spend"
    measures: tuple[Measure, ...] = ()
    filters: Filters = Filters()
    window: Window | None = None
    group_by: Grouping | None = None
    order: Literal["desc", "asc"] = "desc"
    top: int | None = None
    versus: Filters | None = None
    versus_window: Window | None = None
    what_if: WhatIf | None = None
    kinds: tuple[RecommendationKind, ...] = ()
    understood: str = ""
    suggestions: tuple[str, ...] = ()
    not_in_data: str = ""
    readings: tuple[str, ...] = ()

    def describe(self) -> str:
        """The plan in words, as triage shows how the question was read."""
        if self.operation == "chat":
            return "a conversation, not a data question"
        if self.operation == "unknown":
            known = f" (understood: {self.understood})" if self.understood else ""
            if self.not_in_data:
                return f"not in the data: {self.not_in_data}"
            return "not understood" + known
        scope = self._scope(self.filters, self.window)
        if self.operation == "compare":
            other = self._scope(self.versus or self.filters, self.versus_window or self.window)
            words = f"compare {MEASURE_WORDS[self.measure]}: {scope} vs. {other}"
            if self.group_by:
                first = "largest fall" if self.order == "asc" else "largest rise"
                words += f", by {self.group_by.replace('_', ' ')}, {first} first"
            return words + (f", top {self.top}" if self.top else "")
        head = {
            "measure": " and ".join(MEASURE_WORDS[m] for m in self.measures or (self.measure,)),
            "explain": f"why {MEASURE_WORDS[self.measure]} changed",
            "anomalies": "anomalous days of spend",
            "forecast": "spend forecast for the month ahead",
            "recommend": "how to save" + (f" ({', '.join(self.kinds)})" if self.kinds else ""),
            "what_if": self._what_if_words(),
        }[self.operation]
        words = f"{head} {scope}".strip() if scope.startswith("on ") else f"{head}, {scope}"
        words = words.rstrip(", ")
        if self.group_by:
            words += f", by {self.group_by.replace('_', ' ')}"
        if self.top:
            words += f", {'bottom' if self.order == 'asc' else 'top'} {self.top}"
        return words

    def _what_if_words(self) -> str:
        change = self.what_if or WhatIf(action="cache")
        if change.action == "move_model":
            return f"saving from moving to {change.target_model}"
        return "saving from a batch API" if change.action == "batch" else "saving from caching"

    @staticmethod
    def _scope(filters: Filters, window: Window | None) -> str:
        parts = []
        if described := filters.describe():
            parts.append(f"on {described}")
        parts.append(window.describe() if window else "the whole period")
        return ", ".join(parts)


_MONTH: Final = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?"
    r"|oct(ober)?|nov(ember)?|dec(ember)?"
)
# Window words that only restate the dates ("june 25", "in may", "2025-06-01 to 2025-06-07"):
# the answer's own dates say it, so they are not echoed.
_RESTATED: Final = re.compile(
    rf"^(?:(?:in|on|during|for|of|the|over|from|to|through|until|and|between|"
    rf"{_MONTH}|\d+(?:st|nd|rd|th)?)\b|[\s,./-])+$",
    re.IGNORECASE,
)


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"
