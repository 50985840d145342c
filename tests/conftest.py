"""The generator of synthetic reports (eval/generate/) is a test-time tool: importable as `generate`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "eval"))
