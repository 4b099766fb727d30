"""Near-duplicate grouping: SimHash signatures, their banded index, and story assignment.

A signature is 64 bits, split into four 16-bit bands that are stored in indexed columns.
Two signatures at most ``d`` bits apart have, by the pigeonhole principle, some band
that differs in at most ``d // 4`` bits. So the candidates for a signature are the rows
that hold, in some band, a value within ``d // 4`` bits of its own: for d <= 3 an exact
band match (4 index lookups), for d <= 7 each band and its 16 one-bit neighbours.
Candidates are then checked against the exact Hamming distance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "BANDS",
    "DEFAULT_STORY_MAX_DISTANCE",
    "MAX_STORY_DISTANCE",
    "BandIndex",
    "Signed",
    "bands",
    "hamming",
    "parse_simhash",
    "probe_sets",
    "probes",
]

BANDS = 4
# Measured on pairs (docs/benchmarks.md, Cleaner): at 6 bits no two different articles
# matched among 48,010 pairs, while recall of lightly edited copies is far above 3 bits'.
DEFAULT_STORY_MAX_DISTANCE = 6
_BAND_BITS = 16
_BAND_MASK = (1 << _BAND_BITS) - 1
# Up to 7 bits costs 17 probes per band; more would need more, narrower bands.
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
    """The four 16-bit bands, most significant first."""
    return tuple((signature >> (_BAND_BITS * (BANDS - 1 - n))) & _BAND_MASK for n in range(BANDS))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def probes(signature: int, max_distance: int) -> list[set[int]]:
    """Per band, the values that a signature within ``max_distance`` bits shares somewhere."""
    if not 0 <= max_distance <= MAX_STORY_DISTANCE:
        raise ValueError(f"max_distance must be 0..{MAX_STORY_DISTANCE}, got {max_distance}")
    flips = max_distance // BANDS
    result = []
    for value in bands(signature):
        values = {value}
        if flips:
            values.update(value ^ (1 << bit) for bit in range(_BAND_BITS))
        result.append(values)
    return result


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
        for n, values in enumerate(probes(signature, self.max_distance)):
            for value in values:
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


def probe_sets(signatures: Sequence[int], max_distance: int) -> list[set[int]]:
    """Per band, the union of the probes of every signature: what to look up in the index."""
    union: list[set[int]] = [set() for _ in range(BANDS)]
    for signature in signatures:
        for n, values in enumerate(probes(signature, max_distance)):
            union[n] |= values
    return union
