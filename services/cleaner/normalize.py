"""Text normalisation shared by every cleaner path.

Everything the cleaner emits goes through :func:`normalize`, so downstream stages
(language detection, classification, de-duplication) see one canonical form of
the same words whatever the page's encoding habits were.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["fold", "matching_key", "normalize", "normalize_line"]

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

# A pattern scans a text holding none of them several times faster than str.translate
# looks up each character in a table.
_DROP_RE = re.compile(f"[{_INVISIBLE}{_BIDI_CONTROLS}]+")

# Every other control character except the newline (tabs become spaces below).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Horizontal whitespace: tabs plus every Unicode space separator (NBSP, thin space...).
# Written so that a lone ordinary space, by far the most common case, does not match.
_HSPACE_RE = re.compile(r"[^\S\n]{2,}|[^\S \n]")
_PARAGRAPH_BREAK_RE = re.compile(r"\n{3,}")
_NON_WORD_RE = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Canonical form of extracted text, keeping line and paragraph structure.

    HTML entities are decoded, the result is NFC-composed, invisible and bidi
    control characters are removed, runs of spaces collapse to one, every line is
    stripped, and paragraph breaks are capped at one blank line (``"\\n\\n"``).
    """
    text = html.unescape(text)
    text = _DROP_RE.sub("", unicodedata.normalize("NFC", text))
    # Unicode line/paragraph separators and CRs are line structure, not spaces.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2029", "\n\n").replace("\u2028", "\n")
    text = _CONTROL_RE.sub("", text)
    text = _HSPACE_RE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _PARAGRAPH_BREAK_RE.sub("\n\n", text).strip()


def normalize_line(text: str) -> str:
    """:func:`normalize` with every run of whitespace, line breaks included, as one space:
    for titles and meta values, whose source line breaks are layout. The same result as
    ``" ".join(normalize(text).split())``, with less work (it runs on every ``<meta>``).
    """
    text = _DROP_RE.sub("", unicodedata.normalize("NFC", html.unescape(text)))
    return " ".join(_CONTROL_RE.sub("", text).split())


def fold(text: str) -> str:
    """Comparison key: case-folded words only, so "Title." matches "title" (Arabic too).

    Lighter than :func:`normalize` (no entity decoding, no line handling) because it
    runs on every link of a page; text from lxml has its entities decoded already.
    """
    if not text.isascii():  # most link texts are: skip what cannot change them
        text = _DROP_RE.sub("", unicodedata.normalize("NFC", text))
    return _NON_WORD_RE.sub(" ", text.casefold()).strip()


# Arabic marks that spelling may or may not show: tashkeel (fathatan..sukun), maddah and
# hamza above/below, the other Arabic combining marks, superscript alef, Quranic
# annotation marks, and tatweel (kashida), which only stretches a word.
_ARABIC_OPTIONAL = (
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u0640"
)
_ARABIC_OPTIONAL_RE = re.compile(f"[{_ARABIC_OPTIONAL}]+")
# Letters written interchangeably: hamzated and wasla alefs, alef maqsura for ya, ta
# marbuta for ha; Arabic-Indic and Persian digits for ASCII digits.
_ARABIC_FOLDS = str.maketrans(
    {
        **dict.fromkeys("أإآٱ", "ا"),
        "ى": "ي",
        "ة": "ه",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_ARABIC_FOLDABLE_RE = re.compile("[" + "".join(map(chr, _ARABIC_FOLDS)) + "]")


def matching_key(text: str) -> str:
    """The form two texts share when they say the same thing: for de-duplication and
    classification only, never shown (the published text keeps its spelling).

    NFKC (Arabic presentation forms and full-width letters become plain letters),
    invisible and bidi controls dropped, Arabic diacritics and tatweel removed, alef
    forms, alef maqsura and ta marbuta folded, digits made ASCII, case folded,
    punctuation and symbols removed and whitespace collapsed to single spaces.
    """
    text = _DROP_RE.sub("", unicodedata.normalize("NFKC", html.unescape(text)))
    text = _ARABIC_OPTIONAL_RE.sub("", text)
    if _ARABIC_FOLDABLE_RE.search(text):  # translate() is slow on text it leaves unchanged
        text = text.translate(_ARABIC_FOLDS)
    return _NON_WORD_RE.sub(" ", text.casefold()).strip()
