"""The script: `python eval/generate --count 1000 --out DIR [...]` (see the package's docstring)."""

import sys
from pathlib import Path

if not __package__:  # run as a folder: Python put this folder on sys.path, where the package needs the one above
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))

from generate import main

if __name__ == "__main__":
    main()
