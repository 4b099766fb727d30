"""Text to tokens for the topic model: the one analyzer shared by training and inference.

Training (scikit-learn) and the runtime model (numpy) both call :func:`tokens`, so a
feature means the same thing on both sides. Arabic is normalised the usual way for
retrieval, because outlets spell the same word differently: hamza forms of alef become
bare alef, alef maqsura becomes yaa, taa marbuta becomes haa; diacritics and tatweel go.
A light stemmer then drops the article and clitic prefixes (و ف ب ك ل + ال) and the
commonest plural, feminine and pronoun suffixes, so that "الحكومة", "وللحكومات" and
"حكومته" share the stem "حكوم". Numbers and one-letter tokens carry no topic.

Speed: a text is lower-cased and split at whitespace in C; each distinct chunk is
normalised, split into letter runs and stemmed once, then found in a cache (news repeats
its words), so the usual cost per word is one dict look-up.
"""

from __future__ import annotations

import re
from itertools import chain

__all__ = ["TOPIC_TEXT_CHARS", "normalize", "stem_arabic", "tokens", "topic_features"]

# The opening of an article says what it is about; the rest only costs time.
TOPIC_TEXT_CHARS = 4000

# Harakat, shadda, sukun (U+064B..U+0652), superscript alef, tatweel. A regex and
# str.replace run in C; str.translate with a mapping is ten times slower on Arabic text.
_DROPPED = re.compile("[\u064b-\u0652\u0670\u0640]+")
_LETTER_FORMS = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"))
# The combining marks among them are not \w: they would split words, so they go before
# the text is split (each str.replace only when the mark occurs: cheaper than a regex).
_MARKS = tuple("\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670")
_LETTER_RUN = re.compile(r"[^\W\d_]+")  # letters: no digits, no underscore

# Longest first, so "وال" wins over "و". A stem keeps at least three letters.
_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "ال", "لل")
_SUFFIXES = (
    "هما", "كما", "تين", "تان", "ات", "ون", "ين", "ان", "يه", "ها", "هم", "كم", "نا", "ه", "ي",
)  # fmt: skip
_MIN_STEM = 3
# The same affixes grouped by length, longest first: a word has one candidate of each
# length (its first or last L letters), so one set look-up per length replaces a scan.
_PREFIXES_BY_LENGTH = tuple(
    (length, frozenset(p for p in _PREFIXES if len(p) == length))
    for length in sorted({len(p) for p in _PREFIXES}, reverse=True)
)
_SUFFIXES_BY_LENGTH = tuple(
    (length, frozenset(s for s in _SUFFIXES if len(s) == length))
    for length in sorted({len(s) for s in _SUFFIXES}, reverse=True)
)
_CACHED = 200_000  # entries per cache (~35 MB for both when full); emptied when full
# normalize() for one lower-cased word without marks: translate is cheap on a few letters.
_WORD_FORMS = str.maketrans({"\u0640": None, **dict(_LETTER_FORMS)})


class _ChunkCache(dict[str, tuple[str, ...]]):
    """Whitespace-separated chunk ("وللحكومات،") -> its tokens, computed once.

    News repeats its words, so nearly every chunk is a hit, and ``__missing__`` keeps
    hits inside dict's C code: ``map(cache.__getitem__, chunks)`` runs no Python code
    per known chunk. A miss looks its letter runs up in the word cache below.
    """

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        # isalpha() letters are all [^\W\d_]: the chunk is one run, no regex needed.
        runs = (chunk,) if chunk.isalpha() else _LETTER_RUN.findall(chunk)
        found = tuple(filter(None, map(_WORDS.__getitem__, runs)))
        if len(self) >= _CACHED:
            self.clear()
        self[chunk] = found
        return found


class _WordCache(dict[str, str]):
    """Letter run -> its token, or "" when one letter is left once tatweel goes."""

    def __missing__(self, letters: str) -> str:
        word = letters.translate(_WORD_FORMS)
        token = stem_arabic(word) if len(word) >= 2 else ""
        if len(self) >= _CACHED:
            self.clear()
        self[letters] = token
        return token


_WORDS = _WordCache()
_CHUNKS = _ChunkCache()


def normalize(text: str) -> str:
    """Lower-case; unify Arabic letter forms; drop Arabic diacritics and tatweel."""
    text = _DROPPED.sub("", text.lower())
    for variant, letter in _LETTER_FORMS:
        text = text.replace(variant, letter)
    return text


def stem_arabic(word: str) -> str:
    """Light stem of a normalised Arabic word; other words come back unchanged."""
    if not word or not "\u0621" <= word[0] <= "\u064a":
        return word
    for length, prefixes in _PREFIXES_BY_LENGTH:
        if len(word) - length >= _MIN_STEM and word[:length] in prefixes:
            word = word[length:]
            break
    for length, suffixes in _SUFFIXES_BY_LENGTH:
        if len(word) - length >= _MIN_STEM and word[-length:] in suffixes:
            return word[:-length]
    return word


def tokens(text: str) -> list[str]:
    """The features of a text: normalised, lightly stemmed words (at least two letters).

    The same tokens as ``findall("[^\\W\\d_]{2,}", normalize(text))``, each stemmed, but
    each distinct chunk is read once per process.
    """
    text = text.lower()
    for mark in _MARKS:
        if mark in text:
            text = text.replace(mark, "")
    return list(chain.from_iterable(map(_CHUNKS.__getitem__, text.split())))


def topic_features(title: str, text: str) -> list[str]:
    """Tokens the topic model sees: the title counts twice, the body up to a cap."""
    title_tokens = tokens(title)
    return title_tokens + title_tokens + tokens(text[:TOPIC_TEXT_CHARS])
