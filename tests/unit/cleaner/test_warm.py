"""The fork server's preload leaves the workers ready and out of the collector's way."""

from __future__ import annotations

import subprocess
import sys

from tests.paths import REPO


def test_preload_loads_stop_lists_and_freezes_what_it_loaded() -> None:
    script = (
        "import gc, services.cleaner.warm\n"
        "from trafilatura.external import JT_STOPLIST\n"
        "print(gc.get_freeze_count() > 10_000, bool(JT_STOPLIST))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert run.stdout.split() == ["True", "True"]
