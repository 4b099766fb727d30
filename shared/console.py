"""Small helpers for the command line: tables for people, JSON Lines for programs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["print_json_line", "print_table"]


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = 60) -> None:
    def cell(value: str) -> str:
        value = " ".join(value.split())
        return value if len(value) <= width else value[: width - 1] + "…"

    table = [list(header)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def print_json_line(record: Mapping[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False, default=str))
