"""Plain text (a page already flattened to text) into a title and paragraphs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.cleaner.normalize import normalize
from services.cleaner.titles import drop_title_repeats, looks_like_title, title_from_text

__all__ = ["split_paragraphs", "split_title"]

# A line ending like this finishes its paragraph; anything else may be hard-wrapped.
_LINE_END_RE = re.compile(r"[.!?؟…:;\"'»”’)\]]$")
# Hard-wrapped text wraps at 60-80 columns; a shorter line is a heading or a list item.
_WRAPPED_LINE_MIN_CHARS = 40


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` is the hard-wrapped continuation of ``previous``.

    Only a lower-case start is trusted as evidence, so scripts without case
    (Arabic) keep one paragraph per line, which is how flattened pages come.
    """
    return (
        len(previous) >= _WRAPPED_LINE_MIN_CHARS
        and not _LINE_END_RE.search(previous)
        and line[:1].islower()
    )


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-empty line, hard-wrapped lines joined back together."""
    paragraphs: list[str] = []
    for line in normalize(text).split("\n"):
        if not line:
            continue
        if paragraphs and _continues(paragraphs[-1], line):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
    return paragraphs


def split_title(paragraphs: Sequence[str]) -> tuple[str, list[str]]:
    """The first line is the title when it reads like one; its repeats are dropped.

    Text that starts straight with the story gets a title made from its first
    sentence, and keeps that sentence.
    """
    if not paragraphs:
        return "", []
    first = paragraphs[0]
    if looks_like_title(first):
        return first, drop_title_repeats(paragraphs[1:], [first])
    return title_from_text(first), list(paragraphs)
