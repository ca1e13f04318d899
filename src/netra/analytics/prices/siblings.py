"""The cheaper-sibling table (``siblings.toml``) and which family a model name belongs to.

A model name belongs to a family when, lower-cased and without a provider prefix
(``openai/``, ``models/``, ``anthropic.``, ``us.anthropic.``), it is one of the family's
names followed by nothing but version suffixes: a date (``-2024-08-06``, ``-20241022``,
``@20240620``), ``-latest``, a three-digit revision (``-002``), a Bedrock version
(``-v2:0``), ``-preview[-MM-DD]`` or ``-exp[-MM-DD]``. So ``gpt-4o-2024-08-06`` routes to
``gpt-4o-mini`` while ``gpt-4o-mini`` itself belongs to no family.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Final

_PREFIX: Final = re.compile(r"^(?:.*/)?(?:[a-z]{2,4}\.)?(?:anthropic\.|openai\.|google\.)?")
_SUFFIXES: Final = (
    r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3}|-v\d+(?::\d+)?"
    r"|-preview(?:-\d{2}-\d{2})?|-exp(?:-\d{2}-\d{2})?)*"
)


@dataclass(frozen=True)
class Family:
    """Model names that route to the cheaper ``sibling``."""

    names: tuple[str, ...]
    sibling: str

    def matches(self, model: str) -> bool:
        name = _PREFIX.sub("", model.strip().lower(), count=1)
        return any(re.fullmatch(re.escape(own) + _SUFFIXES, name) for own in self.names)


def versions_of(model: str) -> str:
    """A regular expression (Python and RE2) for ``model`` and its dated or versioned names:
    ``gpt-4o`` matches ``gpt-4o-2024-08-06`` but not ``gpt-4o-mini``; compare lower-cased."""
    return re.escape(_PREFIX.sub("", model.strip().lower(), count=1)) + _SUFFIXES


def load_families() -> tuple[Family, ...]:
    """The families of ``siblings.toml``, in file order."""
    text = resources.files("netra.analytics.prices").joinpath("siblings.toml").read_text("utf-8")
    return tuple(
        Family(names=tuple(entry["models"]), sibling=entry["sibling"])
        for entry in tomllib.loads(text)["family"]
    )


def sibling_of(model: str, families: tuple[Family, ...]) -> str | None:
    """The cheaper sibling of ``model``, or ``None`` if it belongs to no family."""
    return next((family.sibling for family in families if family.matches(model)), None)
