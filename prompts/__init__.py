"""Versioned prompt templates. A template's version is part of its file name and of the response cache key.

Templates are Jinja, rendered by instructor from the `context` it is given, so the
report's text arrives as a variable's value and is never parsed as a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"


@cache
def load(name: str, version: str = "v1") -> Prompt:
    """`prompts/<name>.<version>.md`: a system part and a user part, split by a line `---user---`."""
    text = resources.files("prompts").joinpath(f"{name}.{version}.md").read_text("utf-8")
    system, user = text.split("\n---user---\n")
    return Prompt(name, version, system.strip(), user.strip())
