"""compose.yaml as Docker Compose v2 resolves it (`docker compose config --format json`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.tools import compose_config

__all__ = ["PIPELINE_SERVICES", "resolved_compose"]

PIPELINE_SERVICES = ("fetcher", "cleaner", "classifier", "storage")


def resolved_compose() -> dict[str, Any]:
    """Every service, the monitoring profile's included, with .env.example interpolated."""
    result = compose_config("--format", "json", profiles=("monitoring",))
    if result.returncode != 0:
        pytest.fail(f"docker compose config failed:\n{result.stderr}")
    model: dict[str, Any] = json.loads(result.stdout)
    return model
