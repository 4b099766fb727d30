"""Text to tokens for the topic model: the one analyzer shared by training and inference.

Training (scikit-learn) and the runtime model (numpy) both call :func:`tokens`, so a
feature means the same thing on both sides. Arabic is normalised the usual way for
retrieval, because outlets spell the same word differently: hamza forms of alef become
bare alef, alef maqsura becomes yaa, taa marbuta becomes haa; diacritics and tatweel go.
A light stemmer then drops the article and clitic prefixes (و ف ب ك ل + ال) and the
commonest plural, feminine and pronoun suffixes, so that "الحكومة", "وللحكومات" and
"حكومته" share the stem "حكوم". Numbers and one-letter tokens carry no topic.
"""

from __future__ import annotations

import re

__all__ = ["TOPIC_TEXT_CHARS", "normalize", "stem_arabic", "tokens", "topic_features"]

# The opening of an article says what it is about; the rest only costs time.
TOPIC_TEXT_CHARS = 4000

# Harakat, shadda, sukun (U+064B..U+0652), superscript alef, tatweel. A regex and
# str.replace run in C; str.translate with a mapping is ten times slower on Arabic text.
_DROPPED = re.compile("[\u064b-\u0652\u0670\u0640]+")
_LETTER_FORMS = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"))
# Letters only (no digits, no underscore), at least two of them.
_TOKEN = re.compile(r"[^\W\d_]{2,}")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")

# Longest first, so "وال" wins over "و". A stem keeps at least three letters.
_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "ال", "لل")
_SUFFIXES = (
    "هما", "كما", "تين", "تان", "ات", "ون", "ين", "ان", "يه", "ها", "هم", "كم", "نا", "ه", "ي",
)  # fmt: skip
_MIN_STEM = 3
# A plain dict beats functools.lru_cache here; news vocabulary fits well within the cap.
_STEMS: dict[str, str] = {}
_STEMS_CACHED = 200_000  # words; bounds the cache near 40 MB


def normalize(text: str) -> str:
    """Lower-case; unify Arabic letter forms; drop Arabic diacritics and tatweel."""
    text = _DROPPED.sub("", text.lower())
    for variant, letter in _LETTER_FORMS:
        text = text.replace(variant, letter)
    return text


def stem_arabic(word: str) -> str:
    """Light stem of a normalised Arabic word; other words come back unchanged."""
    stem = _STEMS.get(word)
    if stem is None:
        stem = _stem(word)
        if len(_STEMS) < _STEMS_CACHED:
            _STEMS[word] = stem
    return stem


def _stem(word: str) -> str:
    if not _ARABIC_LETTER.match(word):
        return word
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM:
            word = word[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """The features of a text: normalised, lightly stemmed words."""
    stems = _STEMS  # the cache inline: a function call per word is most of the time
    return [stems.get(word) or stem_arabic(word) for word in _TOKEN.findall(normalize(text))]


def topic_features(title: str, text: str) -> list[str]:
    """Tokens the topic model sees: the title counts twice, the body up to a cap."""
    title_tokens = tokens(title)
    return title_tokens + title_tokens + tokens(text[:TOPIC_TEXT_CHARS])
