from __future__ import annotations

import re

import pytest

from services.classifier import text as text_module
from services.classifier.text import (
    TOPIC_TEXT_CHARS,
    normalize,
    stem_arabic,
    tokens,
    topic_features,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),  # hamza forms of alef
        ("مستشفى", "مستشفي"),  # alef maqsura -> yaa
        ("الحكومة", "الحكومه"),  # taa marbuta -> haa
        ("مُحَمَّدٌ", "محمد"),  # harakat and shadda
        ("الســــلام", "السلام"),  # tatweel
        ("Central BANK", "central bank"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("الحكومه", "حكوم"),
        ("وللحكومات", "حكوم"),
        ("والرياضيه", "رياض"),
        ("بالمباراه", "مبارا"),  # taa marbuta, now haa, goes like the pronoun
        ("اللاعبون", "لاعب"),
        ("كتبها", "كتب"),
        ("من", "من"),  # too short to strip
        ("ball", "ball"),  # not Arabic
    ],
)
def test_light_stem(word: str, stem: str) -> None:
    assert stem_arabic(word) == stem


def _stem_by_scanning(word: str) -> str:
    """The stemmer as specified: the first (longest) affix that leaves three letters."""
    if not word or not "\u0621" <= word[0] <= "\u064a":
        return word
    for prefix in text_module._PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    for suffix in text_module._SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def test_stemmer_strips_what_scanning_the_affix_lists_would() -> None:
    cores = ["", "ب", "كت", "كتب", "مدرس", "حكومه"]
    words = {
        prefix + core + suffix
        for prefix in ("", *text_module._PREFIXES, "و", "ف")
        for core in cores
        for suffix in ("", *text_module._SUFFIXES)
    }
    assert len(words) > 1000
    assert [stem_arabic(word) for word in sorted(words)] == [
        _stem_by_scanning(word) for word in sorted(words)
    ]


def test_spelling_variants_share_features() -> None:
    assert tokens("الحُكومة") == tokens("الحكومه") == tokens("الحكومـــة")


def test_tokens_drop_numbers_punctuation_and_single_letters() -> None:
    assert tokens("Rates rose 2.5% in Q3 — a record, و 2024") == ["rates", "rose", "in", "record"]


def test_topic_features_count_the_title_twice_and_cap_the_body() -> None:
    body = "word " * (TOPIC_TEXT_CHARS // 5) + "beyond"
    features = topic_features("Cup final", body)
    assert features[:4] == ["cup", "final", "cup", "final"]
    assert "beyond" not in features


def _reference_tokens(text: str) -> list[str]:
    """The definition tokens() is a faster route to: normalise all, split, stem each."""
    return [stem_arabic(word) for word in re.findall(r"[^\W\d_]{2,}", normalize(text))]


@pytest.mark.parametrize(
    "text",
    [
        "وَلِلْحُكُومَاتِ الســــلام، مُحَمَّدٌ: (الرياضيّة) ٱلله",  # marks inside and around
        "بـ الحكومة ـه و ـــ",  # tatweel alone, or leaving one letter
        "x\u064by \u0670ab a\u0651",  # marks joining or trailing Latin letters
        "İstanbul ŞEHİR straße ﬁnal ΣΟΦΊΑ",  # lower() changes length or adds marks
        "abc1def under_score 2024م ٣٤٥كم x² ½",  # digits and underscores split words
        "tab\tnew\nline\u00a0nbsp\u2003em\u3000ideo",  # every kind of whitespace
        "",
    ],
)
def test_tokens_match_their_definition(text: str) -> None:
    assert tokens(text) == _reference_tokens(text)
    assert tokens(text) == _reference_tokens(text)  # again, now from the caches


def test_full_caches_start_again_with_the_same_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_CACHED", 2)
    text = "وللحكومات الحكومة حكومته Central bank rates rose, rates fell."
    assert tokens(text) == _reference_tokens(text)
    assert len(text_module._CHUNKS) <= 2
    assert len(text_module._WORDS) <= 2
