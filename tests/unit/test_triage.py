"""The admission's plan: the question read without dataset names, fast, and the agents."""

import pytest

from netra.agents.triage import agents_for, plan_question
from netra.questions.plan import QuestionPlan


@pytest.mark.parametrize(
    ("message", "operation", "agents"),
    [
        ("hello", "chat", ["triage", "reporting"]),
        ("What can you do?", "chat", ["triage", "reporting"]),
        ("What did we spend per model?", "measure", ["triage", "data", "reporting"]),
        ("Are there any anomalies?", "anomalies", ["triage", "data", "reporting"]),
        ("Why did costs jump on June 25?", "explain", ["triage", "data", "reporting"]),
        ("What will we spend next month?", "forecast", ["triage", "data", "reporting"]),
        (
            "How can we reduce our AI bill?",
            "recommend",
            ["triage", "data", "optimization", "actions", "reporting"],
        ),
        (
            "Find savings in our LLM usage",
            "recommend",
            ["triage", "data", "optimization", "reporting"],
        ),
        ("What is the weather?", "unknown", ["triage", "reporting"]),
    ],
)
def test_the_admission_plan_follows_the_question(message, operation, agents):
    question, chosen = plan_question(message)
    assert (question.operation, chosen) == (operation, agents)


def test_triage_revises_from_the_full_plan():
    recommend = QuestionPlan(operation="recommend")
    assert agents_for(recommend, "what should we do to save?")[-2:] == ["actions", "reporting"]
    assert agents_for(QuestionPlan(operation="unknown"), "x") == ["triage", "reporting"]
