"""The generator of synthetic reports (eval/generate/) is a test-time tool: importable as `generate`.

Every test gets its own default store (NIANBAO_STORE), so no test writes nianbao.db where pytest runs.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "eval"))


@pytest.fixture(autouse=True)
def own_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_STORE", str(tmp_path / "default-store.db"))
