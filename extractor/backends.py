"""The one place the backend is decided, for `extract`, `run`'s workers and anything else that extracts.

`rules` is the template parser alone, offline; `llm` and `hybrid` need an LLM client. Settings choose
(`Settings.chosen_backend`: hybrid once an endpoint is configured, else rules); this builds what they chose.
"""

from __future__ import annotations

from extractor.inference import LLM
from extractor.settings import Settings
from extractor.store import Store


def llm_for(settings: Settings, store: Store | None = None) -> LLM | None:
    """None for the rules backend; otherwise the LLM client the llm and hybrid backends call."""
    if settings.chosen_backend == "rules":
        return None
    return LLM(settings, store if store is not None else Store(settings.store))
