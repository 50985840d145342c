"""Versioned prompt templates. A template's version is part of its file name and of the response cache key.

Templates are Jinja, compiled once and rendered in a sandbox with the report's text as a
variable's value, so text holding "{{" or "{%" is never parsed as a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from openai.types.chat import ChatCompletionMessageParam

_JINJA = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    @cached_property
    def _templates(self) -> tuple[Template, Template]:
        return _JINJA.from_string(self.system), _JINJA.from_string(self.user)

    def messages(self, context: dict[str, Any]) -> list[ChatCompletionMessageParam]:
        """A fresh list of chat messages (the caller may mutate it)."""
        system, user = self._templates
        return [
            {"role": "system", "content": system.render(context)},
            {"role": "user", "content": user.render(context)},
        ]


@cache
def load(name: str, version: str = "v1") -> Prompt:
    """`prompts/<name>.<version>.md`: a system part and a user part, split by a line `---user---`."""
    text = resources.files("prompts").joinpath(f"{name}.{version}.md").read_text("utf-8")
    system, user = text.split("\n---user---\n")
    return Prompt(name, version, system.strip(), user.strip())
