"""Choosing an article title and keeping it out of the body text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from services.cleaner.normalize import fold, normalize

__all__ = [
    "MAX_TITLE_CHARS",
    "drop_title_repeats",
    "host_label",
    "is_site_name",
    "looks_like_title",
    "strip_site_name",
    "title_from_text",
]

# Longer than any real headline (news sites cap theirs well below this), so a first
# line beyond it is the start of the story rather than its title.
MAX_TITLE_CHARS = 250
# A title derived from the first sentence is cut here, at a clause or word boundary.
_DERIVED_TITLE_CHARS = 120

# " | Site", " - Site", " — Site", " :: Site", " · Site", " » Site".
_AFFIX_SEPARATOR_RE = re.compile(r"\s+(?:[|\-–—·•»]|::)\s+|\s*\|\s*")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?؟。])\s")
# A headline may be printed under a short kicker or two; look no deeper than this.
_TITLE_SEARCH_DEPTH = 3
_KICKER_MAX_WORDS = 6
# Second-level labels under which the site's own name sits (bbc.co.uk, gov.uk...).
_GENERIC_LABELS = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "www"})


def host_label(url: str | None) -> str | None:
    """The label that names the site in a URL's host: "theguardian" for
    https://www.theguardian.com/..., "bbc" for www.bbc.co.uk."""
    if not url:
        return None
    labels = [label for label in (urlsplit(url).hostname or "").split(".") if label]
    if len(labels) > 1:
        labels.pop()  # the TLD
    while len(labels) > 1 and labels[-1] in _GENERIC_LABELS:
        labels.pop()
    meaningful = [label for label in labels if label not in _GENERIC_LABELS]
    return meaningful[-1] if meaningful else None


def _site_key(text: str) -> str:
    # "The Guardian" and host label "theguardian" must compare equal.
    return fold(text).replace(" ", "")


def _names_site(text: str, site_keys: set[str]) -> bool:
    key = _site_key(text)
    if not key:
        return False
    return any(key == site or (len(key) >= 4 and key in site) for site in site_keys)


def _site_keys(site_names: Iterable[str | None]) -> set[str]:
    return {_site_key(name) for name in site_names if name} - {""}


def is_site_name(text: str, site_names: Iterable[str | None]) -> bool:
    """Whether ``text`` is just the site's name (a <title> on a bare page, say)."""
    return _site_key(text) in _site_keys(site_names)


def strip_site_name(title: str, site_names: Iterable[str | None]) -> str:
    """Remove a " | Site Name" suffix (or "Site Name | " prefix) naming the site."""
    title = normalize(title)
    site_keys = _site_keys(site_names)
    separators = list(_AFFIX_SEPARATOR_RE.finditer(title))
    if not site_keys or not separators:
        return title
    last, first = separators[-1], separators[0]
    if _names_site(title[last.end() :], site_keys):
        return title[: last.start()].strip()
    if _names_site(title[: first.start()], site_keys):
        return title[first.end() :].strip()
    return title


def looks_like_title(line: str) -> bool:
    """A headline: not longer than any headline and not a finished sentence."""
    return 0 < len(line) <= MAX_TITLE_CHARS and not line.endswith(".")


def title_from_text(paragraph: str) -> str:
    """A stand-in title for text that has none: its first sentence, shortened."""
    sentence = _SENTENCE_END_RE.split(paragraph.strip(), maxsplit=1)[0]
    if len(sentence) <= _DERIVED_TITLE_CHARS:
        return sentence
    cut = sentence[:_DERIVED_TITLE_CHARS].rsplit(" ", 1)[0]
    clause_end = max(cut.rfind(mark) for mark in ",;:،")
    if clause_end > _DERIVED_TITLE_CHARS // 2:  # a whole clause reads better than "... ending a…"
        cut = cut[:clause_end]
    return cut.rstrip(" ,;:،-") + "…"


def _is_kicker(paragraph: str) -> bool:
    """A label above a headline ("Festival de Valdemora", "Exclusive"), not a sentence."""
    return len(paragraph.split()) <= _KICKER_MAX_WORDS and not paragraph.endswith(".")


def _title_index(paragraphs: Sequence[str], start: int, keys: set[str]) -> int | None:
    """Index of a title repeat at ``start``, or just after kicker lines; else None."""
    for index in range(start, min(start + _TITLE_SEARCH_DEPTH, len(paragraphs))):
        if fold(paragraphs[index]) in keys:
            return index
        if not _is_kicker(paragraphs[index]):
            return None
    return None


def drop_title_repeats(paragraphs: Sequence[str], titles: Iterable[str | None]) -> list[str]:
    """Drop title repeats at the top of the body, with any kicker lines above them, and
    at its end (trafilatura puts the headline last when the story is loose text with
    ``<br>`` breaks beside it)."""
    keys = {fold(title) for title in titles if title} - {""}
    start, end = 0, len(paragraphs)
    while (found := _title_index(paragraphs, start, keys)) is not None:
        start = found + 1
    while end > start and fold(paragraphs[end - 1]) in keys:
        end -= 1
    return list(paragraphs[start:end])
