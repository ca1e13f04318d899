"""Time expressions in a question, read as windows of UTC calendar days (DATA.md section 6).

``find_windows(text, reference)`` returns every window named in ``text`` (lower case),
in order, with the span of text it came from. Relative words count back from
``reference``: today, or the data's last day when the data ends before today.

- ``yesterday``, ``today``; ``this/last week`` (Monday-Sunday); ``this/last month``;
  ``last/past N days|weeks|months`` (the N days ending with the reference day);
  ``lately``/``recently`` (the last 30 days);
- ``first/last/second week|half|fortnight of <month>``, ``start/end/middle of <month>``
  (a week at either end; days 11-20); after one, ``than/vs/and the second`` (that part of
  the same month);
  ``the day/week/month before`` (the one before the previous window found);
- dates ``2025-06-25``, ``June 25``, ``25 June``, ``Jun 25th``, ``on the 25th`` (without a
  year or month: the latest such day not after the reference day); a month (``in May``: the
  latest such month not after the reference day; ``March 2025`` with its year); a year
  (``in 2024``);
  ``since <date>``; ranges ``from <date> to <date>``, ``between <date> and <date>``,
  ``<date> through <date>``, ``June 1-15``, ``from the 20th to the 25th of June``,
  ``between May and June`` (May 1 - Jun 30; not in a comparison, which reads two months).

``fix_time_typos`` first rewrites a misspelt time word where one stands (``last mnth``).
``over_periods`` reads ``week over week`` / ``month over month``; ``period_before`` is the
period a change is measured against; ``recent_days`` the last N days.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Final

from rapidfuzz.distance import DamerauLevenshtein

from netra.questions.plan import Window

_MONTHS: Final = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
} | {"sept": 9}
_MONTH = r"(?P<{0}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<{0}>20\d\d))?"
_NUMBERS: Final = {
    **{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7},
    **{"ten": 10, "fourteen": 14, "thirty": 30, "a": 1},
}


def _date(tag: str) -> str:
    """A date pattern whose groups end with ``tag``: ISO, "June 25", "25 June"."""
    iso = rf"(?P<iso{tag}>20\d\d-\d\d-\d\d)"
    month_day = _MONTH.format(f"m{tag}") + r"\s+" + _DAY.format(f"d{tag}") + _YEAR.format(f"y{tag}")
    day_month = (
        _DAY.format(f"e{tag}")
        + r"\s+(?:of\s+)?"
        + _MONTH.format(f"n{tag}")
        + _YEAR.format(f"z{tag}")
    )
    return rf"(?:{iso}|{month_day}|{day_month})"


_ORDINAL_DAY = r"(?:the\s+)?(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)"
_PATTERNS: Final = [
    (
        "since_month",  # "since may": from its first day (after may: from the next month's)
        re.compile(
            r"\b(?P<after>since|after)\s+(?:the\s+(?:start|beginning)\s+of\s+)?"
            + _MONTH.format("sm")
            + r"(?:\s+(?P<ys>20\d\d))?\b(?!\s*[0-3]?\d)(?!\s+(?:to|until|till|through|thru|-)\b)"
        ),
    ),
    (
        "part",
        re.compile(
            r"\b(?:the\s+)?(?P<part>first|last|second|final|1st|2nd)\s+(?P<unit>week|half|"
            r"fortnight)\s+(?:of|in)\s+" + _MONTH.format("mp") + r"(?:\s+(?P<yp>20\d\d))?"
            r"|\b(?:the\s+)?(?P<edge>start|beginning|end|middle|mid)\s+(?:of\s+)?"
            + _MONTH.format("me")
            + r"(?:\s+(?P<ye>20\d\d))?"
        ),
    ),
    (
        "other_part",  # "the first week of june ... than the second": the same month's
        re.compile(
            r"\b(?:than|vs|versus|and|or|to|with)\s+(?!last\s+(?:week|month)\b)"  # that's relative
            r"(?P<at>(?:the\s+)?(?P<other>first|second|"
            r"last|final|1st|2nd)(?:\s+(?:one|week|half|fortnight))?)\b"
            r"(?!\s+(?:week|half|fortnight|of)\b)"
        ),
    ),
    (
        "day_range",
        re.compile(
            r"\b(?:from|between)\s+"
            + _ORDINAL_DAY.format("o1")
            + r"\s+(?:to|and|until|till|through|-)\s+"
            + _ORDINAL_DAY.format("o2")
            + r"\s+(?:of\s+)?"
            + _MONTH.format("mo2")
        ),
    ),
    (
        "month_range",
        re.compile(
            r"\b(?:from|between)\s+"
            + _MONTH.format("ma")
            + r"\s+(?:to|and|until|till|through|-)\s+"
            + _MONTH.format("mb")
            + r"(?!\s*[0-3]?\d)"
        ),
    ),
    (
        "range",
        re.compile(
            rf"(?:\b(?:from|between)\s+{_date('a')}\s+(?:to|and|until|till|through|thru|-)"
            rf"|{_date('c')}\s+(?:until|till|through|thru))\s+"
            rf"(?:{_date('b')}|(?P<dayb>[0-3]?\d)(?:st|nd|rd|th)?\b)"
        ),
    ),
    (
        "short_range",
        re.compile(
            _MONTH.format("mr") + r"\s+(?P<dr1>[0-3]?\d)\s*(?:-|to|–)\s*(?P<dr2>[0-3]?\d)\b"
        ),
    ),
    ("since", re.compile(rf"\b(?:since|after|from)\s+{_date('s')}")),
    (
        "ordinal_day",  # "on the 25th": that day of the latest month that has it
        re.compile(
            r"\b(?:on|for)\s+" + _ORDINAL_DAY.format("od") + r"\b(?!\s+(?:of|percentile)\b)"
        ),
    ),
    ("date", re.compile(rf"(?<!-)\b{_date('')}(?![\w-])")),  # not in gpt-4o-2024-08-06
    (
        "last_n",
        re.compile(
            r"\b(?:last|past|previous|prior|trailing)\s+(?P<n>\d+|"
            + "|".join(_NUMBERS)
            + r")\s+(?P<unit>days?|weeks?|months?)\b"
        ),
    ),
    ("named", re.compile(r"\b(?:yesterday|today|this week|last week|this month|last month)\b")),
    ("recent", re.compile(r"\b(?:lately|recently|of late|these days)\b")),
    ("previous_period", re.compile(r"\b(?:the|a)\s+(?:day|week|month)\s+before\b")),
    ("previous_week", re.compile(r"\b(?:the\s+)?(?:previous|prior)\s+(?:week|month)\b")),
    (
        "month",
        re.compile(
            r"(?:\b(?:in|during|for|of|over|through|throughout|to|and|vs|versus|with|than|"
            r"compare|between|from|about|since|after)"
            r"\s+(?P<mm>may|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
            r"|^(?P<ms>may)(?!\s+(?:i|we|you|it|be|have)\b)|\b(?P<mz>may)$|"
            r"\b(?P<mo>january|february|march|april|june|july|august|september|october|"
            r"november|december))(?:\s+(?P<my>(?:19|20)\d\d))?\b(?!\s+[0-3]?\d)"
        ),
    ),
    ("year", re.compile(r"\b(?:in|during|for|of|over|throughout)\s+(?P<yr>(?:19|20)\d\d)\b(?!-)")),
]
_PART: Final = dict(_PATTERNS)["part"]
_UNITS: Final = ("day", "days", "week", "weeks", "month", "months", "fortnight")
_DAYS: Final = ("yesterday", "today")
_MONTH_NAMES: Final = tuple(calendar.month_name[number].lower() for number in range(1, 13))
_BEFORE_UNIT: Final = frozenset("last past this previous prior per each every a the".split())
_BEFORE_MONTH: Final = frozenset(
    "in during of for since from to until till through and vs versus than early late mid".split()
)
RECENT_DAYS: Final = 30  # "lately", "recently": the last 30 days
_COMPARES: Final = re.compile(r"\b(?:compar\w*|difference|vs|versus|against)\b")
_OVER: Final = re.compile(
    r"\b(?P<unit>week|month)[- ]over[- ](?:week|month)\b|\b(?P<short>wow|mom|w/w|m/m)\b"
)


def fix_time_typos(text: str, *known: frozenset[str]) -> str:
    """``text`` with each misspelt time word written right, when it is one edit from it (a
    swap of two letters counting as one) and stands where that word stands: ``last mnth``,
    ``last wek``, ``in jnue``, ``yesterdya``. Known words and names are kept (``jane`` is
    no ``june`` unless after ``in``...)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) < 3 or not word.isalpha() or word in _MONTHS or any(word in k for k in known):
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        candidates = (
            (_UNITS if before in _BEFORE_UNIT or before.isdigit() else ())
            + (_MONTH_NAMES if before in _BEFORE_MONTH or after.isdigit() else ())
            + (_DAYS if len(word) >= 5 else ())
        )
        close = [c for c in candidates if DamerauLevenshtein.distance(word, c) == 1]
        if len(close) == 1:
            words[i] = close[0]
    return " ".join(words)


_TWO_PARTS: Final = re.compile(
    r"\b(?P<one>first|second|last|final|1st|2nd)\s+(?P<joint>and|vs|versus|or|to)\s+"
    r"(?P<the>the\s+)?(?P<two>first|second|last|final|1st|2nd)\s+(?P<unit>week|half|fortnight)s?"
    r"\s+(?P<of>of|in)\s+(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b"
)


def spread_parts(text: str) -> tuple[str, bool]:
    """``the first and second half of june`` written as two parts of the month (``first
    half of june and the second half of june``), and whether any was."""
    spread = _TWO_PARTS.sub(
        lambda m: (
            f"{m['one']} {m['unit']} {m['of']} {m['month']} {m['joint']} "
            f"{m['the'] or ''}{m['two']} {m['unit']} {m['of']} {m['month']}"
        ),
        text,
    )
    return spread, spread != text


def find_windows(
    text: str, reference: date, anchored: bool, *, change: bool = False
) -> list[tuple[Window, tuple[int, int]]]:
    """The windows named in ``text`` in order of appearance, each with its span;
    ``change``: the question asks how a figure changed (``from may to june`` is then two
    months, as in a comparison)."""
    found: list[tuple[Window, tuple[int, int]]] = []
    taken: list[tuple[int, int]] = []
    compares = change or bool(_COMPARES.search(text))
    for kind, pattern in _PATTERNS:
        if kind == "month_range" and compares:
            continue  # "difference between may and june": two months, not one span
        for match in pattern.finditer(text):
            # a month after a word that only tells "may" the month from "may" the verb, or a
            # part after "than": the word stays the question's ("june vs may" keeps its "vs")
            key = next((k for k in ("mm", "at") if match.groupdict().get(k)), None)
            span = (match.start(key), match.end()) if key else match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            window = _window(kind, match, reference, found)
            if window is None:
                continue
            words = text[span[0] : span[1]].strip()
            relative = kind in ("last_n", "named", "recent")
            found.append(
                (
                    Window(
                        start=window[0],
                        end=window[1],
                        words=words,
                        anchored_to_data=anchored and relative,
                    ),
                    span,
                )
            )
            taken.append(span)
    found.sort(key=lambda item: item[1])
    return found


def _window(
    kind: str,
    match: re.Match[str],
    reference: date,
    found: list[tuple[Window, tuple[int, int]]],
) -> tuple[date, date] | None:
    groups = match.groupdict()
    if kind == "part":
        return _part(groups, reference)
    if kind == "other_part":
        return _other_part(groups["other"], match.start(), found, reference)
    if kind == "day_range":
        month = _MONTHS[groups["mo2"]]
        year = _year_for(month, int(groups["o2"]), reference)
        start, end = (_safe_date(year, month, int(groups[k])) for k in ("o1", "o2"))
        return (start, end) if start and end and start <= end else None
    if kind == "month_range":
        first, last = (_month(_MONTHS[groups[k]], None, reference) for k in ("ma", "mb"))
        if first[0] > last[0]:  # "from november to february": across a new year
            first = _month(_MONTHS[groups["ma"]], str(last[0].year - 1), reference)
        return first[0], last[1]
    if kind == "range":
        start = _parsed(groups, "a", reference) or _parsed(groups, "c", reference)
        end = _parsed(groups, "b", reference)
        if end is None and start is not None and groups.get("dayb"):
            end = _safe_date(start.year, start.month, int(groups["dayb"]))
        return (start, end) if start and end and start <= end else None
    if kind == "short_range":
        month = _MONTHS[groups["mr"]]
        year = _year_for(month, int(groups["dr1"]), reference)
        start, end = (_safe_date(year, month, int(groups[k])) for k in ("dr1", "dr2"))
        return (start, end) if start and end and start <= end else None
    if kind == "since":
        start = _parsed(groups, "s", reference)
        return (start, reference) if start and start <= reference else None
    if kind == "since_month":
        start, end = _month(_MONTHS[groups["sm"]], groups.get("ys"), reference)
        if groups["after"] == "after":
            start = end + timedelta(days=1)
        return (start, reference) if start <= reference else None
    if kind == "ordinal_day":
        number = int(groups["od"])
        latest = reference if number <= reference.day else _month_before(reference)
        on = _safe_date(latest.year, latest.month, number)
        return (on, on) if on else None
    if kind == "date":
        day = _parsed(groups, "", reference)
        return (day, day) if day else None
    if kind == "last_n":
        count = _NUMBERS.get(groups["n"]) or int(groups["n"])
        days = count * {"d": 1, "w": 7, "m": 30}[groups["unit"][0]]
        return (reference - timedelta(days=days - 1), reference) if days > 0 else None
    if kind == "named":
        return _named(match.group(0), reference)
    if kind == "recent":
        return reference - timedelta(days=RECENT_DAYS - 1), reference
    if kind in ("previous_period", "previous_week"):
        unit = next(u for u in ("day", "week", "month") if u in match.group(0))
        if found and kind == "previous_period":
            before = found[-1][0]
            length = timedelta(days=before.days)
            return (before.start - length, before.start - timedelta(days=1))
        return _named("yesterday" if unit == "day" else f"last {unit}", reference)
    if kind == "year":
        year = int(groups["yr"])
        return date(year, 1, 1), date(year, 12, 31)
    month_name = groups.get("mm") or groups.get("ms") or groups.get("mz") or groups.get("mo")
    if month_name is None:
        return None
    return _month(_MONTHS[month_name], groups.get("my"), reference)


def _month(month: int, year_text: str | None, reference: date) -> tuple[date, date]:
    """A calendar month: of ``year_text``, else the latest not after ``reference``."""
    if year_text:
        year = int(year_text)
    else:
        year = reference.year if month <= reference.month else reference.year - 1
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _month_before(day: date) -> date:
    """The first day of the month before ``day``'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _other_part(
    part: str, at: int, found: list[tuple[Window, tuple[int, int]]], reference: date
) -> tuple[date, date] | None:
    """``the second`` after ``the first week of june``: that part of the same month, in the
    same unit (None without such a part before it)."""
    named = [window for window, (_, end) in found if end <= at]
    earlier = _PART.fullmatch(named[-1].words) if named else None
    if earlier is None or earlier["part"] is None:
        return None
    return _part(earlier.groupdict() | {"part": part}, reference)


def _part(groups: dict[str, str | None], reference: date) -> tuple[date, date]:
    """``first week of june`` (1-7), ``last week of may`` (its last 7 days), ``second half
    of june`` (16-end), ``end of may`` (its last 7 days), ``start of june`` (1-7),
    ``mid june`` (11-20)."""
    name = groups.get("mp") or groups.get("me")
    assert name is not None  # one of the two alternatives matched
    start, end = _month(_MONTHS[name], groups.get("yp") or groups.get("ye"), reference)
    part = groups.get("part") or groups.get("edge") or ""
    unit = groups.get("unit") or "week"
    length = {"week": 7, "fortnight": 14}.get(unit, 15)
    if part in ("middle", "mid"):
        return start.replace(day=11), start.replace(day=20)
    if part in ("last", "final", "end"):
        return (start.replace(day=16) if unit == "half" else end - timedelta(days=length - 1)), end
    if part in ("second", "2nd"):
        if unit == "half":
            return start.replace(day=16), end
        return start + timedelta(days=length), start + timedelta(days=2 * length - 1)
    return start, start + timedelta(days=length - 1)


def over_periods(
    text: str, reference: date, anchored: bool
) -> tuple[Window, Window, tuple[int, int]] | None:
    """``week over week``: last week and the week before; ``month over month``: this month
    and last month (``wow``, ``mom`` too); with the span of the words."""
    found = _OVER.search(text)
    if found is None:
        return None
    unit = found["unit"] or ("week" if found["short"][0] == "w" else "month")
    latest = _named("last week" if unit == "week" else "this month", reference)
    words = "last week" if unit == "week" else "this month"
    window = Window(start=latest[0], end=latest[1], words=words, anchored_to_data=anchored)
    return window, period_before(window), found.span()


_SINCE_MONTH: Final = re.compile(
    r"^(?:since|after)\s+(?:the\s+(?:start|beginning)\s+of\s+)?"
    + _MONTH.format("m")
    + r"(?:\s+(?P<y>20\d\d))?$"
)


def since_month(window: Window, reference: date) -> tuple[Window, Window] | None:
    """A window ``since may`` (or ``after may``) in a question about change: the period
    after that month, and the month it is measured against; None for any other window."""
    found = _SINCE_MONTH.match(window.words)
    if found is None:
        return None
    start, end = _month(_MONTHS[found["m"]], found["y"], reference)
    if end >= window.end:
        return None
    month = Window(start=start, end=end, words=found["m"])
    after = window.model_copy(
        update={"start": end + timedelta(days=1), "words": f"after {found['m']}"}
    )
    return after, month


def period_before(window: Window, unit: str = "") -> Window:
    """The period just before ``window``: the previous calendar month of a calendar month
    (or of this month so far), else as many days just before it (``june 1-10``: May
    22-31); the 7 days before it when ``unit`` is ``week`` (the week before June)."""
    start, end = window.start, window.end
    if unit == "week" and window.days != 7:
        return Window(
            start=start - timedelta(days=7), end=start - timedelta(days=1), words="the week before"
        )
    whole = end.day == calendar.monthrange(end.year, end.month)[1] or "month" in window.words
    if start.day == 1 and (start.year, start.month) == (end.year, end.month) and whole:
        before_end = start - timedelta(days=1)
        return Window(start=before_end.replace(day=1), end=before_end, words="the month before")
    length = timedelta(days=window.days)
    words = {1: "the day before", 7: "the week before"}.get(
        window.days, f"the {window.days} days before"
    )
    return Window(start=start - length, end=start - timedelta(days=1), words=words)


def recent_days(days: int, reference: date, anchored: bool) -> Window:
    """The last ``days`` days up to ``reference``."""
    return Window(
        start=reference - timedelta(days=days - 1),
        end=reference,
        words=f"last {days} days",
        anchored_to_data=anchored,
    )


def _named(words: str, reference: date) -> tuple[date, date]:
    if words == "today":
        return reference, reference
    if words == "yesterday":
        return reference - timedelta(days=1), reference - timedelta(days=1)
    monday = reference - timedelta(days=reference.weekday())
    if words == "this week":
        return monday, reference
    if words == "last week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    first = reference.replace(day=1)
    if words == "this month":
        return first, reference
    last_end = first - timedelta(days=1)
    return last_end.replace(day=1), last_end


def _parsed(groups: dict[str, str | None], tag: str, reference: date) -> date | None:
    if iso := groups.get(f"iso{tag}"):
        try:
            return date.fromisoformat(iso)
        except ValueError:
            return None
    month_name, day = groups.get(f"m{tag}"), groups.get(f"d{tag}")
    year = groups.get(f"y{tag}")
    if month_name is None:
        month_name, day, year = groups.get(f"n{tag}"), groups.get(f"e{tag}"), groups.get(f"z{tag}")
    if month_name is None or day is None:
        return None
    month = _MONTHS[month_name]
    resolved = int(year) if year else _year_for(month, int(day), reference)
    return _safe_date(resolved, month, int(day))


def _year_for(month: int, day: int, reference: date) -> int:
    """The year of the latest ``month``/``day`` not after ``reference``."""
    candidate = _safe_date(reference.year, month, day)
    return reference.year if candidate is None or candidate <= reference else reference.year - 1


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
