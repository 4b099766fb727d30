"""Commands of this service for the ``newsflow`` command line."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add this service's subcommands to ``newsflow`` (none yet)."""
    del commands
