"""Text normalisation shared by every cleaner path.

Everything the cleaner emits goes through :func:`normalize`, so downstream stages
(language detection, classification, de-duplication) see one canonical form of
the same words whatever the page's encoding habits were.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["fold", "normalize"]

# Invisible characters that carry no meaning in extracted prose but break
# matching and tokenisation: zero-width space/non-joiner/joiner, word joiner,
# BOM/zero-width no-break space, soft hyphen. ZWNJ matters for Persian
# orthography, but the pipeline's contract is to strip it (Arabic does not use it).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"

# Bidi controls: marks (LRM, RLM, ALM), embeddings/overrides (U+202A-U+202E) and
# isolates (U+2066-U+2069). CMSs sprinkle them around numbers and Latin words in
# Arabic text; once the text leaves its original layout they are only noise, and an
# unbalanced override can visually scramble whatever is displayed after it.
_BIDI_CONTROLS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

_DROP_TABLE = dict.fromkeys(map(ord, _INVISIBLE + _BIDI_CONTROLS))

# Every other control character except the newline (tabs become spaces below).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Horizontal whitespace: tabs plus every Unicode space separator (NBSP, thin space...).
_HSPACE_RE = re.compile(r"[^\S\n]+")
_PARAGRAPH_BREAK_RE = re.compile(r"\n{3,}")
_NON_WORD_RE = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Canonical form of extracted text, keeping line and paragraph structure.

    HTML entities are decoded, the result is NFC-composed, invisible and bidi
    control characters are removed, runs of spaces collapse to one, every line is
    stripped, and paragraph breaks are capped at one blank line (``"\\n\\n"``).
    """
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_DROP_TABLE)
    # Unicode line/paragraph separators and CRs are line structure, not spaces.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2029", "\n\n").replace("\u2028", "\n")
    text = _CONTROL_RE.sub("", text)
    text = _HSPACE_RE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _PARAGRAPH_BREAK_RE.sub("\n\n", text).strip()


def fold(text: str) -> str:
    """Comparison key: case-folded words only, so "Title." matches "title" (Arabic too).

    Lighter than :func:`normalize` (no entity decoding, no line handling) because it
    runs on every link of a page; text from lxml has its entities decoded already.
    """
    text = unicodedata.normalize("NFC", text).translate(_DROP_TABLE)
    return _NON_WORD_RE.sub(" ", text.casefold()).strip()
