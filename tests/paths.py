"""Where the project's read-only data lives: ``../shared`` beside the checkout.

``NEWSFLOW_SHARED_DIR`` overrides it. Tests that need a file from there skip, saying
so, when it is absent; nothing from there is ever copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("NEWSFLOW_SHARED_DIR", REPO.parent / "shared"))
SEED = SHARED_DIR / "seeds" / "000_59205ff8b6276687.txt"
TOPICS_DIR = SHARED_DIR / "data" / "topics"
EXTRACTION_DIR = SHARED_DIR / "data" / "extraction"
