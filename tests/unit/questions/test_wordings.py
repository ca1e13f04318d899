"""Wordings an untuned probe found misread: parts of months, day ranges, short model names,
common words next to names, the month after the data, and the plans they now give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from netra.questions import Vocabulary, Window, parse
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


def _span(window: Window | None) -> tuple[date, date] | None:
    return (window.start, window.end) if window else None


def test_since_a_month_runs_from_its_first_day(vocabulary: Vocabulary) -> None:
    assert _days("costs since june") == [(JUNE_1, END)]
    assert _days("requests since the start of may") == [(MAY_1, END)]
    assert _days("spend after may") == [(JUNE_1, END)]
    assert _days("since june 20") == [(date(2025, 6, 20), END)]  # a date stays a date
    assert _days("spend from may") == [(MAY_1, MAY_31)]  # "the costs from may": May's


def test_grown_since_a_month_compares_the_time_after_it_with_it(
    vocabulary: Vocabulary,
) -> None:
    plan = parse("have claude costs gone up since may", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.model) == ("compare", CLAUDE)
    assert (_span(plan.window), _span(plan.versus_window)) == ((JUNE_1, END), (MAY_1, MAY_31))


def test_may_closing_a_follow_up_is_the_month(vocabulary: Vocabulary) -> None:
    previous = parse("requests on key-web in june", vocabulary, today=TODAY)
    for question in ("how about may?", "and may"):
        plan = parse(question, vocabulary, previous=previous, today=TODAY)
        assert plan.filters.api_key == ("key-web",), question
        assert _span(plan.window) == (MAY_1, MAY_31), question


def test_two_parts_of_one_month_are_two_windows(vocabulary: Vocabulary) -> None:
    both = parse("spend in the first and second week of june", vocabulary, today=TODAY)
    assert both.operation == "compare"
    assert _span(both.window) == (JUNE_1, date(2025, 6, 7))
    assert _span(both.versus_window) == (date(2025, 6, 8), date(2025, 6, 14))
    plan = parse("o1 spend in the first vs second half of june", vocabulary, today=TODAY)
    assert plan.operation == "compare"
    assert _span(plan.window) == (JUNE_1, date(2025, 6, 15))
    assert _span(plan.versus_window) == (date(2025, 6, 16), END)


def test_a_change_between_two_named_periods_is_the_later_against_the_earlier(
    vocabulary: Vocabulary,
) -> None:
    months = parse("which features grew from may to june", vocabulary, today=TODAY)
    assert (months.operation, months.group_by, months.order) == ("compare", "feature", "desc")
    assert (_span(months.window), _span(months.versus_window)) == ((JUNE_1, END), (MAY_1, MAY_31))
    days = parse("did requests drop from june 1-10 to june 11-20", vocabulary, today=TODAY)
    assert _span(days.window) == (date(2025, 6, 11), date(2025, 6, 20))
    assert _span(days.versus_window) == (JUNE_1, date(2025, 6, 10))


def test_part_of_a_month_is_measured_against_as_many_days_before(
    vocabulary: Vocabulary,
) -> None:
    plan = parse("did costs go up from the 1st to the 10th of june", vocabulary, today=TODAY)
    assert _span(plan.window) == (JUNE_1, date(2025, 6, 10))
    assert _span(plan.versus_window) == (date(2025, 5, 22), MAY_31)  # not all of May
    month = parse("did costs go up this month", vocabulary, today=TODAY)
    assert _span(month.versus_window) == (MAY_1, MAY_31)


def test_errors_alone_are_failed_requests(vocabulary: Vocabulary) -> None:
    down = parse("have errors gone down this month", vocabulary, today=TODAY)
    assert (down.operation, down.measure, down.filters.status) == (
        "compare",
        "requests",
        ("error",),
    )
    by = parse("failures by model last week", vocabulary, today=TODAY)
    assert (by.measure, by.filters.status, by.group_by) == ("requests", ("error",), "model")
    assert parse("spend on errors", vocabulary, today=TODAY).measure == "error_spend"
    assert parse("error rate by model", vocabulary, today=TODAY).filters.status == ()


def test_percent_sign_asks_for_a_share(vocabulary: Vocabulary) -> None:
    plan = parse("% of spend by feature", vocabulary, today=TODAY)
    assert (plan.measure, plan.group_by) == ("share", "feature")
    grew = parse("which models grew more than 10%", vocabulary, today=TODAY)
    assert grew.measure == "spend"  # a number's percent is no share
    assert parse("models that grew 10 %", vocabulary, today=TODAY).measure == "spend"
    assert parse("what%of spend is o1", vocabulary, today=TODAY).measure == "share"


def test_burn_is_spend_not_a_missing_name(vocabulary: Vocabulary) -> None:
    plan = parse("how much did the agent feature burn thru in may", vocabulary, today=TODAY)
    assert (plan.operation, plan.measure, plan.filters.feature) == ("measure", "spend", ("agent",))


def test_how_can_any_subject_spend_less_asks_for_advice(vocabulary: Vocabulary) -> None:
    plan = parse("how could the agent feature cost less", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.feature) == ("recommend", ("agent",))


def test_what_would_x_cost_on_a_model_is_a_what_if(vocabulary: Vocabulary) -> None:
    plan = parse("what would summarize cost us on gpt-4o-mini", vocabulary, today=TODAY)
    assert (plan.operation, plan.filters.feature) == ("what_if", ("summarize",))
    assert plan.what_if and plan.what_if.target_model == "gpt-4o-mini"
    cache = parse("what would spend be with prompt caching", vocabulary, today=TODAY)
    assert cache.what_if and cache.what_if.action == "cache"


def test_a_what_if_without_a_change_it_can_price_is_never_caching(
    vocabulary: Vocabulary,
) -> None:
    unread = parse("what if we moved the agent feature to the moon", vocabulary, today=TODAY)
    assert unread.operation == "unknown" and unread.suggestions
    cheaper = parse("what would we save moving o1 to a cheaper model", vocabulary, today=TODAY)
    assert (cheaper.operation, cheaper.kinds) == ("recommend", ("model_routing",))


def test_business_figures_and_writing_requests_are_out_of_scope(
    vocabulary: Vocabulary,
) -> None:
    for question in (
        "what is our net margin",
        "how many sign-ups came from the agent feature",
        "compose a limerick about our bill",
        "roi on claude",
    ):
        assert parse(question, vocabulary, today=TODAY).operation == "unknown", question
    values = tuple(
        (name, (*found, "sales") if name == "project" else found)
        for name, found in vocabulary.values
    )
    sales = replace(vocabulary, values=values)  # a dataset's own name is never out of scope
    assert parse("spend on the sales project", sales, today=TODAY).operation == "measure"
