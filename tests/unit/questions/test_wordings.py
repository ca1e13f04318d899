"""Wordings an untuned probe found misread: parts of months, day ranges, short model names,
common words next to names, the month after the data, and the plans they now give."""

from __future__ import annotations

from datetime import date

from netra.questions import Vocabulary, parse
from netra.questions.windows import find_windows
from tests.unit.questions.conftest import CLAUDE, TODAY

END = date(2025, 6, 30)
JUNE_1, MAY_1, MAY_31 = date(2025, 6, 1), date(2025, 5, 1), date(2025, 5, 31)


def _days(text: str) -> list[tuple[date, date]]:
    return [(window.start, window.end) for window, _ in find_windows(text, END, True)]


def test_parts_of_a_month_are_their_own_days() -> None:
    assert _days("first week of june") == [(date(2025, 6, 1), date(2025, 6, 7))]
    assert _days("the last week of may") == [(date(2025, 5, 25), date(2025, 5, 31))]
    assert _days("second half of june") == [(date(2025, 6, 16), date(2025, 6, 30))]
    assert _days("first half of june") == [(date(2025, 6, 1), date(2025, 6, 15))]
    assert _days("end of may") == [(date(2025, 5, 25), date(2025, 5, 31))]
    assert _days("start of june") == [(date(2025, 6, 1), date(2025, 6, 7))]


def test_a_range_of_days_or_months_is_one_window() -> None:
    assert _days("from the 20th to the 25th of june") == [(date(2025, 6, 20), date(2025, 6, 25))]
    assert _days("june 3 through june 9") == [(date(2025, 6, 3), date(2025, 6, 9))]
    assert _days("spend between may and june") == [(date(2025, 5, 1), date(2025, 6, 30))]
    # a comparison of two days stays two windows
    assert _days("compare june 3 and june 25") == [
        (date(2025, 6, 3), date(2025, 6, 3)),
        (date(2025, 6, 25), date(2025, 6, 25)),
    ]


def test_lately_is_a_recent_window_never_latency(vocabulary: Vocabulary) -> None:
    plan = parse("anything weird with u7 lately", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.user) == ("anomalies", ("u7",))
    assert plan.window and (plan.window.start, plan.window.end) == (date(2025, 6, 1), END)


def test_blow_up_asks_why_not_latency(vocabulary: Vocabulary) -> None:
    plan = parse("what made classify spend blow up in june", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.feature) == ("explain", ("classify",))


def test_got_more_expensive_ranks_the_rise_by_the_group_named(vocabulary: Vocabulary) -> None:
    plan = parse("which projects got more expensive in june", vocabulary, today=TODAY)
    assert (plan.operation, plan.group_by, plan.order) == ("compare", "project", "desc")
    assert plan.versus_window and plan.versus_window.start == date(2025, 5, 1)
    fell = parse("whose requests dropped the most in june", vocabulary, today=TODAY)
    assert (fell.operation, fell.group_by, fell.order) == ("compare", "user", "asc")


def test_a_slash_joins_measures(vocabulary: Vocabulary) -> None:
    plan = parse("input/output tokens for o1", vocabulary, today=TODAY)
    assert plan.measures == ("input_tokens", "output_tokens")


def test_average_latency_is_the_median_and_says_so(vocabulary: Vocabulary) -> None:
    plan = parse("mean latency by model", vocabulary, today=TODAY)
    assert plan.measure == "latency_p50"
    assert plan.readings == ("the data has no mean latency: the median (p50) is given",)
    assert parse("p95 latency by model", vocabulary, today=TODAY).readings == ()


def test_short_model_names_resolve_to_the_datas_models(vocabulary: Vocabulary) -> None:
    def models(question: str) -> tuple[str, ...]:
        return parse(question, vocabulary, today=TODAY).filters.model

    assert models("sonnet spend") == CLAUDE
    assert models("sonnet 4.5 spend") == ("claude-sonnet-4-5",)
    assert models("4o mini spend") == ("gpt-4o-mini",)
    assert models("4o spend") == ("gpt-4o", "gpt-4o-2024-08-06")
    assert models("4.1 spend") == ("gpt-4.1",)
    previous = parse("error rate for o1", vocabulary, today=TODAY)
    versus = parse("vs 4.1?", vocabulary, previous=previous, today=TODAY)
    assert versus.versus and versus.versus.model == ("gpt-4.1",)


def test_common_words_are_not_missing_names(vocabulary: Vocabulary) -> None:
    assert parse("some spend by feature", vocabulary, today=TODAY).operation == "measure"
    plan = parse("which user throws the most errors", vocabulary, today=TODAY)
    assert (plan.group_by, plan.filters.status) == ("user", ("error",))
    # a name next to a dimension word is still declined
    assert parse("spend for user zed", vocabulary, today=TODAY).operation == "unknown"
    assert parse("which user zed spent most", vocabulary, today=TODAY).operation == "unknown"


def test_the_month_after_the_data_is_forecast(vocabulary: Vocabulary) -> None:
    plan = parse("what will openai cost us in july", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.provider, plan.window) == ("forecast", ("openai",), None)
    assert parse("openai spend in july", vocabulary, today=TODAY).operation == "unknown"


def test_a_what_if_target_is_read_by_its_short_name(vocabulary: Vocabulary) -> None:
    plan = parse("what if we put summarize on flash", vocabulary, today=TODAY)
    assert plan.what_if and plan.what_if.target_model == "gemini-2.5-flash"
    catalog = parse("what if we swapped 4o for haiku 4.5", vocabulary, today=TODAY)
    assert catalog.filters.model == ("gpt-4o", "gpt-4o-2024-08-06")
    assert catalog.what_if and catalog.what_if.target_model == "claude-haiku-4-5"


def test_thanks_is_chat(vocabulary: Vocabulary) -> None:
    assert parse("cheers, that was helpful", vocabulary, today=TODAY).operation == "chat"
    assert parse("perfect, thanks", vocabulary, today=TODAY).operation == "chat"
    asks = parse("thanks, now show spend by model", vocabulary, today=TODAY)
    assert (asks.operation, asks.group_by) == ("measure", "model")


def test_the_difference_between_two_months_compares_them(vocabulary: Vocabulary) -> None:
    plan = parse("difference between may and june", vocabulary, today=TODAY)
    assert plan.operation == "compare"
    assert plan.window and plan.window.start == date(2025, 5, 1)
    assert plan.versus_window and plan.versus_window.start == date(2025, 6, 1)


def _period(question: str, vocabulary: Vocabulary) -> tuple[date, date] | None:
    window = parse(question, vocabulary, today=TODAY).window
    return (window.start, window.end) if window else None


def test_misspelt_time_words_keep_their_window(vocabulary: Vocabulary) -> None:
    plan = parse("totl spend on anthropc last mnth", vocabulary, today=TODAY)
    assert plan.filters.provider == ("anthropic",)
    assert _period("totl spend on anthropc last mnth", vocabulary) == (MAY_1, MAY_31)
    assert _period("requets per day in jnue", vocabulary) == (JUNE_1, END)
    assert _period("waht was our spned on gemni last wek", vocabulary) == (
        date(2025, 6, 23),
        date(2025, 6, 29),
    )
    assert _period("$ by project this mo", vocabulary) == (JUNE_1, END)
    # a word one edit from a time word stays itself where no time word stands
    assert parse("what did jane spend", vocabulary, today=TODAY).operation == "unknown"


def test_the_second_after_a_part_of_a_month_is_the_same_months(vocabulary: Vocabulary) -> None:
    question = "was the first week of june more expensive than the second?"
    plan = parse(question, vocabulary, today=TODAY)
    assert plan.operation == "compare"
    assert plan.window and (plan.window.start, plan.window.end) == (JUNE_1, date(2025, 6, 7))
    assert plan.versus_window
    assert (plan.versus_window.start, plan.versus_window.end) == (
        date(2025, 6, 8),
        date(2025, 6, 14),
    )
    assert _days("first half of may vs the second")[1] == (date(2025, 5, 16), MAY_31)
    # "last week" after one is still the week before the reference day's
    assert _days("first week of june and last week")[1] == (date(2025, 6, 23), date(2025, 6, 29))


def test_a_day_of_the_month_alone_is_the_latest_such_day() -> None:
    assert _days("why did spend jump on the 25th") == [(date(2025, 6, 25), date(2025, 6, 25))]
    assert _days("spend on the 95th percentile") == []


def test_a_greeting_with_a_product_question_is_chat(vocabulary: Vocabulary) -> None:
    hello = parse("hi there, what kind of stuff can you answer?", vocabulary, today=TODAY)
    assert hello.operation == "chat"
    asks = parse("hi there, what did we spend last week?", vocabulary, today=TODAY)
    assert asks.operation == "measure"
    weather = parse("hello, what's the weather like", vocabulary, today=TODAY)
    assert weather.operation == "unknown"


def test_spenders_are_users(vocabulary: Vocabulary) -> None:
    plan = parse("top 5 spenders in june", vocabulary, today=TODAY)
    assert (plan.group_by, plan.top) == ("user", 5)


def test_requests_that_failed_are_counted(vocabulary: Vocabulary) -> None:
    question = "how many requests failed for the summarize feature"
    plan = parse(question, vocabulary, today=TODAY)
    assert (plan.measure, plan.filters.status) == ("requests", ("error",))


def test_a_family_word_with_a_short_name_is_that_model(vocabulary: Vocabulary) -> None:
    def models(question: str) -> tuple[str, ...]:
        return parse(question, vocabulary, today=TODAY).filters.model

    assert models("whats the p95 on gemini flash") == ("gemini-2.5-flash",)
    assert models("gemini 2.5 spend") == ("gemini-2.5-flash", "gemini-2.5-pro")
    assert models("claude sonnet 4 requests") == ("claude-sonnet-4-20250514",)


def test_a_version_no_model_of_the_data_has_is_declined(vocabulary: Vocabulary) -> None:
    for question in ("gemini 3 pro spend last week", "gpt 5 spend", "claude 4 requests"):
        plan = parse(question, vocabulary, today=TODAY)
        assert plan.operation == "unknown", question
        assert plan.not_in_data == " ".join(question.split()[:2])


def test_every_part_joined_by_plus_or_how_many_is_kept(vocabulary: Vocabulary) -> None:
    def measures(question: str) -> tuple[str, ...]:
        return parse(question, vocabulary, today=TODAY).measures

    assert measures("p95 + p99 for the agent feature") == ("latency_p95", "latency_p99")
    assert measures("how much did o1 cost last month and how many tokens did it use") == (
        "spend",
        "total_tokens",
    )
    assert measures("cache read share and cost per request for claude sonnet 4") == (
        "cache_read_share",
        "cost_per_request",
    )


def test_compared_to_a_past_window_is_the_period_since_it(vocabulary: Vocabulary) -> None:
    plan = parse("is anthropic spend up compared to last month?", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.provider) == ("compare", ("anthropic",))
    assert plan.window and (plan.window.start, plan.window.end) == (JUNE_1, END)
    assert plan.versus_window
    assert (plan.versus_window.start, plan.versus_window.end) == (MAY_1, MAY_31)


def test_should_with_any_subject_asks_for_advice(vocabulary: Vocabulary) -> None:
    plan = parse("should the data-platform project use batching?", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.project) == ("recommend", ("data-platform",))
    assert plan.kinds == ("batch_api",)


def test_is_up_or_down_asks_for_the_change(vocabulary: Vocabulary) -> None:
    plan = parse("is o1 spend up this month?", vocabulary, today=TODAY)
    assert (plan.operation, plan.order) == ("compare", "desc")
    assert plan.versus_window and plan.versus_window.start == MAY_1
    assert parse("was u3 spend down in june", vocabulary, today=TODAY).order == "asc"
    broken = parse("is the spend broken down by model", vocabulary, today=TODAY)
    assert (broken.operation, broken.group_by) == ("measure", "model")
