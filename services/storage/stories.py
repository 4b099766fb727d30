"""Near-duplicate grouping: SimHash signatures, their banded index, and story assignment.

A signature is 64 bits. Its bands are the four 16-bit quarters of the signature and the
four of the signature rotated by 8 bits, each stored in an indexed column. The
candidates for a signature are the rows that hold one of its bands exactly (8 index
lookups); they are then checked against the exact Hamming distance. Two signatures at
most 3 bits apart always share a band (pigeonhole); 4 to 7 bits apart they do when the
differing bits leave some quarter whole in either cut, as they mostly do (see
``docs/storage.md``). The rotated cut straddles the first one's boundaries: bits that
hit all four first quarters often leave a rotated one whole.

Probing each band's 16 one-bit neighbours instead would guarantee up to 7 bits, but at
17 lookups per band each matching 1/65,536 of the table, the candidates grow 17 times as
fast with the table: measured 0.45 ms per article at 10,000 rows, and linear beyond.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BANDS",
    "DEFAULT_STORY_MAX_DISTANCE",
    "MAX_STORY_DISTANCE",
    "BandIndex",
    "Signed",
    "band_sets",
    "bands",
    "hamming",
    "parse_simhash",
]

BANDS = 8  # four quarters, twice: see bands()
# Measured on pairs (docs/benchmarks.md, Cleaner): at 6 bits no two different articles
# matched among 48,010 pairs, while recall of lightly edited copies is far above 3 bits'.
DEFAULT_STORY_MAX_DISTANCE = 6
_BAND_BITS = 16
_BAND_MASK = (1 << _BAND_BITS) - 1
_SIGNATURE_MASK = (1 << 64) - 1
_ROTATION = 8  # half a band: the second cut's boundaries fall mid-band of the first
# Beyond 7 bits, most pairs would have no band left whole: narrower bands would be needed.
MAX_STORY_DISTANCE = 7


def parse_simhash(value: str | None) -> int | None:
    """The signature as an int; None when absent, not 16 hex digits, or all zero.

    The cleaner signs a text without words as zero: such texts are not the same story.
    """
    if value is None or len(value) != 16:
        return None
    try:
        signature = int(value, 16)
    except ValueError:
        return None
    return signature or None


def bands(signature: int) -> tuple[int, ...]:
    """The four 16-bit quarters of the signature, then those of the signature rotated
    left by 8 bits; most significant first."""
    rotated = ((signature << _ROTATION) | (signature >> (64 - _ROTATION))) & _SIGNATURE_MASK
    return (
        signature >> 48 & _BAND_MASK,
        signature >> 32 & _BAND_MASK,
        signature >> 16 & _BAND_MASK,
        signature & _BAND_MASK,
        rotated >> 48 & _BAND_MASK,
        rotated >> 32 & _BAND_MASK,
        rotated >> 16 & _BAND_MASK,
        rotated & _BAND_MASK,
    )


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass(frozen=True, slots=True)
class Signed:
    """An article already in a story: its id, its story and its signature."""

    id: int
    story_id: int
    signature: int


class BandIndex:
    """Articles by band value, in memory: the candidates fetched for one batch plus the
    batch's own articles as they are assigned, so near-duplicates within a batch group too."""

    def __init__(self, max_distance: int, known: Iterable[Signed] = ()) -> None:
        self.max_distance = max_distance
        self._by_band: list[defaultdict[int, list[Signed]]] = [
            defaultdict(list) for _ in range(BANDS)
        ]
        for item in known:
            self.add(item)

    def add(self, item: Signed) -> None:
        for n, value in enumerate(bands(item.signature)):
            self._by_band[n][value].append(item)

    def nearest(self, signature: int) -> Signed | None:
        """The closest article within the distance, ties to the oldest story."""
        best: tuple[int, int, int] | None = None
        found: Signed | None = None
        for n, value in enumerate(bands(signature)):
            for item in self._by_band[n].get(value, ()):
                distance = hamming(signature, item.signature)
                rank = (distance, item.story_id, item.id)
                if distance <= self.max_distance and (best is None or rank < best):
                    best, found = rank, item
        return found

    def assign(self, article_id: int, signature: int | None) -> int:
        """The story of a new article: a near-duplicate's, or its own id if it is the first."""
        if signature is None:
            return article_id
        match = self.nearest(signature)
        story_id = match.story_id if match else article_id
        self.add(Signed(article_id, story_id, signature))
        return story_id


def band_sets(signatures: Iterable[int]) -> list[set[int]]:
    """Per band, the values of every signature's band: what to look up in the index."""
    union: list[set[int]] = [set() for _ in range(BANDS)]
    for signature in signatures:
        for n, value in enumerate(bands(signature)):
            union[n].add(value)
    return union
