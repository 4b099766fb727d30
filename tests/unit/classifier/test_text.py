from __future__ import annotations

import pytest

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


def test_spelling_variants_share_features() -> None:
    assert tokens("الحُكومة") == tokens("الحكومه") == tokens("الحكومـــة")


def test_tokens_drop_numbers_punctuation_and_single_letters() -> None:
    assert tokens("Rates rose 2.5% in Q3 — a record, و 2024") == ["rates", "rose", "in", "record"]


def test_topic_features_count_the_title_twice_and_cap_the_body() -> None:
    body = "word " * (TOPIC_TEXT_CHARS // 5) + "beyond"
    features = topic_features("Cup final", body)
    assert features[:4] == ["cup", "final", "cup", "final"]
    assert "beyond" not in features
