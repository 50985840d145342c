"""Settings for the LLM stages, from flags, the environment (NIANBAO_*) or `nianbao.toml`, in that order.

    # nianbao.toml
    model = "deepseek-chat"
    base_url = "https://api.deepseek.com/v1"
    api_key_env = "DEEPSEEK_API_KEY"
    [prices."deepseek-chat"]   # USD per million tokens
    input = 0.27
    output = 1.10

The API key itself is never a setting: it is read from the environment variable
named by `api_key_env`, held as a secret, and kept out of logs, the store and errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Backend = Literal["rules", "llm", "hybrid"]
InstructorMode = Literal["tools", "json_schema", "json", "md_json"]


class Price(BaseModel):
    input: float  # USD per million prompt tokens
    output: float  # USD per million completion tokens


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", toml_file="nianbao.toml", extra="forbid")

    backend: Backend | None = None  # None: hybrid when an endpoint is configured, else rules
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    mode: InstructorMode = "tools"
    max_attempts: int = 3  # LLM rounds per report: the first extraction plus re-asks
    transient_retries: int = 5  # per call, for timeouts, 429, 5xx and dropped connections
    timeout: float = 120.0  # seconds per HTTP request
    deadline: float = 600.0  # seconds per report, for all its LLM calls, retries and waits together
    temperature: float = 0.0
    max_tokens: int = 2048
    store: Path = Path("nianbao.db")
    concurrency: int = 8  # LLM calls in flight at once, across reports
    requests_per_minute: int | None = None  # the endpoint's rate limits, where it has them
    tokens_per_minute: int | None = None
    prices: dict[str, Price] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @property
    def endpoint_configured(self) -> bool:
        return bool(self.model or self.base_url)

    @property
    def chosen_backend(self) -> Backend:
        return self.backend or ("hybrid" if self.endpoint_configured else "rules")

    @property
    def api_key(self) -> SecretStr | None:
        value = os.environ.get(self.api_key_env)
        return SecretStr(value) if value else None

    def scrub(self, text: str) -> str:
        """`text` with the API key, if it appears, replaced by ***."""
        key = self.api_key
        return text.replace(key.get_secret_value(), "***") if key else text

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        price = self.prices.get(model)
        return None if price is None else (tokens_in * price.input + tokens_out * price.output) / 1_000_000
