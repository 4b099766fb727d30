"""How well the cleaner's fingerprints find the same story twice, and only then.

    .venv/bin/python -m benchmarks.fingerprints [--arabic 300] [--seed 0]

Positive pairs: an article's text against the same text as another site would publish
it: wrapped in other chrome (a few share/newsletter/copyright lines before and after),
with a few words changed, or re-spelt (Arabic diacritics, alef forms, tatweel, case).
Negative pairs: every pair of different articles. Texts: the 80 ground-truth bodies of
the Fundus extraction set (English) and ``--arabic`` articles of the ANT corpus, plus
the Arabic seed article; all read at run time from ../shared, never copied.

For each kind of pair: the share of positive pairs whose SimHashes are within 3 bits,
the storage service's default threshold (6) and 10 bits, the share
with equal content hashes, and how many negative pairs fall within each threshold.
"store finds": the share that storage groups into one story: within its default
distance and sharing one of its eight 16-bit bands, which is how its index finds
candidates (``services.storage.stories``).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.extraction import _SHARED_DIR, DEFAULT_DATA_DIR
from services.cleaner.fingerprint import fingerprint, hamming_distance
from services.storage.stories import DEFAULT_STORY_MAX_DISTANCE, bands

__all__ = ["EDITS", "main"]

_THRESHOLDS = (3, DEFAULT_STORY_MAX_DISTANCE, 10)
_ARABIC_CORPUS = _SHARED_DIR / "data" / "topics" / "ant21_ar.jsonl.gz"
_SEED = _SHARED_DIR / "seeds" / "000_59205ff8b6276687.txt"
_MIN_ARTICLE_CHARS = 800  # news articles, not briefs
_CHROME = (
    "Share this article",
    "Follow us on Facebook and X",
    "Sign up for our daily newsletter",
    "© 2024 All rights reserved",
    "Advertisement",
    "شارك هذا المقال",
    "تابعونا على فيسبوك",
    "جميع الحقوق محفوظة",
)
_SUBSTITUTES = ("the", "said", "on", "قال", "في", "يوم")
_TASHKEEL = ("\u064e", "\u064f", "\u0650", "\u0651", "\u0652")
_RESPELLINGS = {"ا": "أ", "ي": "ى", "ه": "ة"}

Edit = Callable[[str, random.Random], str]


def _chrome(text: str, rng: random.Random) -> str:
    before, after = rng.sample(_CHROME, 2), rng.sample(_CHROME, 2)
    return "\n\n".join([*before, text, *after])


def _substitute(count: int) -> Edit:
    def edit(text: str, rng: random.Random) -> str:
        words = text.split(" ")
        for _ in range(count):
            words[rng.randrange(len(words))] = rng.choice(_SUBSTITUTES)
        return " ".join(words)

    return edit


def _respell(text: str, rng: random.Random) -> str:
    """Spelling that the matching key folds away: diacritics, alef/ya/ha forms, tatweel, case."""
    words = [w.upper() if w.isalpha() and rng.random() < 0.1 else w for w in text.split(" ")]
    out = []
    for char in " ".join(words):
        if char in _RESPELLINGS and rng.random() < 0.3:
            char = _RESPELLINGS[char]
        out.append(char)
        if "\u0621" <= char <= "\u064a" and rng.random() < 0.3:
            out.append(rng.choice((*_TASHKEEL, "\u0640")))
    return "".join(out)


EDITS: dict[str, Edit] = {
    "respelt": _respell,
    "other chrome": _chrome,
    "1 word changed": _substitute(1),
    "chrome + 1 word": lambda text, rng: _chrome(_substitute(1)(text, rng), rng),
    "chrome + 3 words": lambda text, rng: _chrome(_substitute(3)(text, rng), rng),
    "chrome + 10 words": lambda text, rng: _chrome(_substitute(10)(text, rng), rng),
}


def _english(data_dir: Path) -> list[str]:
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    return ["\n\n".join(entry["body"]) for _, entry in sorted(truth.items())]


def _arabic(count: int) -> list[str]:
    texts = [_SEED.read_text(encoding="utf-8")] if _SEED.exists() else []
    seen = set()
    with gzip.open(_ARABIC_CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            if len(text) >= _MIN_ARTICLE_CHARS and text not in seen:  # the corpus has duplicates
                seen.add(text)
                texts.append(text)
            if len(texts) >= count:
                break
    return texts


def _within(distances: Sequence[int], threshold: int) -> int:
    return sum(1 for distance in distances if distance <= threshold)


def _store_finds(a: str, b: str) -> bool:
    first, second = int(a, 16), int(b, 16)
    close = (first ^ second).bit_count() <= DEFAULT_STORY_MAX_DISTANCE
    return close and any(x == y for x, y in zip(bands(first), bands(second), strict=True))


def _evaluate(name: str, texts: Sequence[str], rng: random.Random) -> None:
    prints = [fingerprint(text) for text in texts]
    negatives = [
        hamming_distance(a.simhash, b.simhash) for a, b in itertools.combinations(prints, 2)
    ]
    print(f"\n{name}: {len(texts)} texts, {len(negatives)} negative pairs")
    thresholds = "  ".join(f"<={t:<2}" for t in _THRESHOLDS)
    print(f"  {'positive pairs':<20} same hash  simhash recall {thresholds}  store finds")
    for edit_name, edit in EDITS.items():
        edited = [fingerprint(edit(text, rng)) for text in texts]
        same = sum(a.content_hash == b.content_hash for a, b in zip(prints, edited, strict=True))
        distances = [
            hamming_distance(a.simhash, b.simhash) for a, b in zip(prints, edited, strict=True)
        ]
        recalls = "  ".join(f"{_within(distances, t) / len(texts):.3f}" for t in _THRESHOLDS)
        found = sum(_store_finds(a.simhash, b.simhash) for a, b in zip(prints, edited, strict=True))
        print(
            f"  {edit_name:<20} {same / len(texts):9.3f}  {' ' * 14} {recalls}"
            f"  {found / len(texts):11.3f}"
        )
    false = "  ".join(f"{_within(negatives, t):>5}" for t in _THRESHOLDS)
    wrongly = sum(_store_finds(a.simhash, b.simhash) for a, b in itertools.combinations(prints, 2))
    print(
        f"  {'negatives within':<20} {'':9}  {' ' * 14} {false}  {wrongly:11}"
        f"   (closest: {min(negatives)})"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Fundus data set")
    parser.add_argument("--arabic", type=int, default=300, help="Arabic articles to use")
    parser.add_argument("--seed", type=int, default=0, help="random seed for the edits")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    _evaluate("English (Fundus ground truth)", _english(args.data), rng)
    if _ARABIC_CORPUS.exists() and args.arabic > 0:
        _evaluate("Arabic (ANT corpus + seed)", _arabic(args.arabic), rng)


if __name__ == "__main__":
    main()
