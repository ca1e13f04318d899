import pytest

from netra.agents.triage import classify


@pytest.mark.parametrize(
    ("message", "kind", "plan"),
    [
        ("hello", "chat", ["triage", "reporting"]),
        ("What can you do?", "chat", ["triage", "reporting"]),
        ("What did we spend per model?", "spend", ["triage", "data", "reporting"]),
        ("p95 latency of gpt-4o?", "latency", ["triage", "data", "reporting"]),
        ("Which feature grew most last week?", "growth", ["triage", "data", "reporting"]),
        ("What is the cost of user u7?", "user_cost", ["triage", "data", "reporting"]),
        (
            "How can we reduce our AI bill?",
            "optimize",
            ["triage", "data", "optimization", "actions", "reporting"],
        ),
        (
            "Find savings in our LLM usage",
            "optimize",
            ["triage", "data", "optimization", "reporting"],
        ),
    ],
)
def test_the_plan_follows_the_question(message, kind, plan):
    intent, chosen = classify(message, has_data=True)
    assert (intent.kind, chosen) == (kind, plan)


def test_without_data_a_data_question_gets_the_how_to_load_answer():
    intent, plan = classify("What did we spend per model?", has_data=False)
    assert intent.kind == "no_data"
    assert plan == ["triage", "reporting"]


def test_a_greeting_needs_no_data_even_without_a_dataset():
    assert classify("hi there", has_data=False)[0].kind == "chat"


def test_entities_are_extracted():
    intent, _ = classify("What is the p95 latency of gpt-4o for user u7?", has_data=True)
    assert intent.model == "gpt-4o"
    assert intent.user == "u7"
    spend, _ = classify("spend by feature and by provider", has_data=True)
    assert spend.dimensions == ["provider", "feature"]
