"""Settings come from flags, then NIANBAO_* variables, then nianbao.toml; the key only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.settings import Settings


@pytest.fixture(autouse=True)
def in_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("NIANBAO_MODEL", "NIANBAO_BACKEND", "NIANBAO_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


TOML = """
model = "from-toml"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "DEEPSEEK_API_KEY"
[prices.from-toml]
input = 0.27
output = 1.10
"""


def test_without_an_endpoint_the_backend_is_rules() -> None:
    assert Settings().chosen_backend == "rules"


def test_with_an_endpoint_the_backend_is_hybrid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_MODEL", "qwen-plus")
    assert Settings().chosen_backend == "hybrid"
    assert Settings(backend="llm").chosen_backend == "llm"


def test_flags_beat_the_environment_which_beats_the_toml_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("nianbao.toml").write_text(TOML, "utf-8")
    assert Settings().model == "from-toml"
    monkeypatch.setenv("NIANBAO_MODEL", "from-env")
    assert Settings().model == "from-env"
    assert Settings(model="from-flag").model == "from-flag"
    assert Settings().base_url == "http://127.0.0.1:9/v1"


def test_the_price_table_turns_tokens_into_cost() -> None:
    Path("nianbao.toml").write_text(TOML, "utf-8")
    settings = Settings()
    assert settings.cost("from-toml", 1_000_000, 1_000_000) == pytest.approx(1.37)
    assert settings.cost("unknown-model", 10, 10) is None


def test_the_key_comes_from_the_named_variable_and_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-abc123")
    settings = Settings(api_key_env="DEEPSEEK_API_KEY")
    assert settings.api_key.get_secret_value() == "sk-abc123"
    assert "sk-abc123" not in repr(settings.api_key)
    assert settings.scrub("401: bad key sk-abc123") == "401: bad key ***"


def test_unknown_settings_are_refused() -> None:
    Path("nianbao.toml").write_text('modle = "typo"\n', "utf-8")
    with pytest.raises(ValueError, match="modle"):
        Settings()


def test_one_factory_decides_the_backend(tmp_path: Path) -> None:
    from extractor.backends import llm_for
    from extractor.inference import LLM

    assert llm_for(Settings(store=tmp_path / "s.db")) is None  # offline: the template parser alone
    client = llm_for(Settings(base_url="http://127.0.0.1:9/v1", model="m", store=tmp_path / "s.db"))
    assert isinstance(client, LLM) and client.settings.chosen_backend == "hybrid"
    assert llm_for(Settings(backend="rules", base_url="http://127.0.0.1:9/v1", store=tmp_path / "s.db")) is None
