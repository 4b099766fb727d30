"""Synthetic article pages, for load tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_pages"]


def write_pages(directory: Path, count: int, paragraphs: int = 5) -> list[str]:
    """``count`` distinct English article pages in ``directory``; returns their file names."""
    names = []
    for n in range(count):
        body = "".join(
            f"<p>Report {n}, paragraph {p}: the harbour authority of town {n} said on Monday "
            f"that cargo volumes rose for the {p + 2}th month in a row, and that new cranes "
            f"ordered last year would arrive before the winter season begins.</p>"
            for p in range(paragraphs)
        )
        name = f"story-{n}.html"
        (directory / name).write_text(
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Harbour report {n}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Harbour report {n}</h1>{body}</article>"
            f"<footer>© Port News</footer></body></html>",
            encoding="utf-8",
        )
        names.append(name)
    return names
