"""The code stays ruff clean (lint and format), so `pytest` alone is the whole check."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    command = (
        "python3 -m venv .venv && CMAKE_ARGS=-DGGML_NATIVE=OFF .venv/bin/pip install -e '.[test]'"
        " && .venv/bin/python -m pytest"
    )
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text("utf-8")


def test_import_contracts_hold() -> None:
    """The layers in pyproject.toml's [tool.importlinter]: the verifier never consults the parser it checks."""
    linter = Path(sys.executable).parent / "lint-imports"
    completed = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_nianbaos_own_errors_share_one_base() -> None:
    from extractor.document import IngestError
    from extractor.errors import NianbaoError
    from extractor.parser import NotAReport

    assert issubclass(IngestError, NianbaoError) and issubclass(NotAReport, NianbaoError)


def test_the_type_checker_passes() -> None:
    """mypy over extractor, schemas and prompts ([tool.mypy] in pyproject.toml)."""
    completed = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
