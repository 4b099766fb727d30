"""The matching key and the fingerprints built on it."""

from __future__ import annotations

import random
import re

import pytest

from services.cleaner.fingerprint import (
    NEAR_DUPLICATE_BITS,
    fingerprint,
    hamming_distance,
    simhash,
)
from services.cleaner.normalize import matching_key
from tests.paths import SEED


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("مَدْرَسَةٌ", "مدرسه"),  # tashkeel dropped, ta marbuta folded
        ("أحمد وإبراهيم وآمنة وٱبن", "احمد وابراهيم وامنه وابن"),  # alef forms
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("جـــمـيـل", "جميل"),  # tatweel
        ("ﻻ", "لا"),  # presentation form (NFKC)
        ("العام ٢٠٢٤ و۱۴۰۳", "العام 2024 و1403"),  # Arabic-Indic and Persian digits
        ("«السلام»، عليكم؟!", "السلام عليكم"),  # punctuation
        ("Hello, WORLD!  It's  the\u200b end.", "hello world it s the end"),
        ("Straße &amp; Co.", "strasse co"),
    ],
)
def test_matching_key(text: str, key: str) -> None:
    assert matching_key(text) == key


def test_matching_key_leaves_letters_alone_otherwise() -> None:
    assert matching_key("café naïve") == "café naïve"  # only Arabic marks are dropped


def test_simhash_format() -> None:
    signature = simhash(matching_key("a short text about nothing in particular"))

    assert re.fullmatch(r"[0-9a-f]{16}", signature)
    assert simhash("") == "0" * 16
    assert re.fullmatch(r"[0-9a-f]{16}", simhash("one"))  # shorter than one shingle


def test_simhash_is_stable_across_runs() -> None:
    # The storage service compares signatures made by other processes, other days:
    # no per-process hash seed may enter them.
    assert simhash("the quick brown fox jumps over the lazy dog") == "068f6f8fe5f1b787"


def test_hamming_distance() -> None:
    assert hamming_distance("0000000000000000", "000000000000000f") == 4
    assert hamming_distance("ffffffffffffffff", "ffffffffffffffff") == 0


def _seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


def test_spelling_variants_share_the_content_hash() -> None:
    text = _seed_text()
    respelt = text.replace("ا", "أ", 5).replace("ي", "ى", 3).replace("قال", "قَالَ")

    assert respelt != text
    assert fingerprint(respelt).content_hash == fingerprint(text).content_hash


def test_a_changed_word_keeps_the_story_near() -> None:
    text = _seed_text()
    original = fingerprint(text)
    rng = random.Random(0)
    distances = []
    for _ in range(40):
        words = text.split(" ")
        words[rng.randrange(len(words))] = "كلمة"
        edited = fingerprint(" ".join(words))
        assert edited.content_hash != original.content_hash
        distances.append(hamming_distance(original.simhash, edited.simhash))

    # SimHash is statistical: a one-word edit usually flips a bit or two, now and
    # then more (benchmarks/fingerprints.py measures how often, on many articles).
    within = sum(1 for distance in distances if distance <= NEAR_DUPLICATE_BITS)
    assert within >= 0.9 * len(distances)
    assert max(distances) < 16  # unrelated texts differ in about 32 bits


def test_different_stories_are_far_apart() -> None:
    rng = random.Random(7)
    vocabulary = [f"word{n}" for n in range(2000)]
    stories = [" ".join(rng.choices(vocabulary, k=300)) for _ in range(20)]
    prints = [fingerprint(story).simhash for story in stories]

    distances = [hamming_distance(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :]]
    assert min(distances) > NEAR_DUPLICATE_BITS
