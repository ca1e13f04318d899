"""Understanding cost questions: a typed plan, a deterministic parser, its execution.

See docs/questions.md.
"""

from netra.questions.parser import parse
from netra.questions.plan import Filters, QuestionPlan, WhatIf, Window
from netra.questions.vocabulary import Vocabulary, read_vocabulary

__all__ = ["Filters", "QuestionPlan", "Vocabulary", "WhatIf", "Window", "parse", "read_vocabulary"]
