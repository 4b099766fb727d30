"""Near-duplicate stories: the banded SimHash index, pure and in the store."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Connection

from services.storage import writes
from services.storage.query import ArticleQuery
from services.storage.repository import ArticleStore
from services.storage.stories import BandIndex, Signed, band_sets, bands, parse_simhash
from tests.unit.storage.factories import T0, Database, article

BASE = 0x0123_4567_89AB_CDEF


def flipped(*bits: int, base: int = BASE) -> int:
    for bit in bits:
        base ^= 1 << bit
    return base


def hex_of(signature: int) -> str:
    return f"{signature:016x}"


def test_bands_are_the_quarters_then_those_of_the_signature_rotated_by_a_byte() -> None:
    assert bands(BASE) == (0x0123, 0x4567, 0x89AB, 0xCDEF, 0x2345, 0x6789, 0xABCD, 0xEF01)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789abcdef", BASE),
        ("0123456789ABCDEF", BASE),
        (None, None),
        ("0123", None),
        ("0123456789abcdeg", None),
        ("0000000000000000", None),  # the cleaner's signature of a text without words
    ],
)
def test_parse_simhash(value: str | None, expected: int | None) -> None:
    assert parse_simhash(value) == expected


def test_band_sets_gather_each_bands_values() -> None:
    other = flipped(0, 16)
    assert band_sets([BASE, other]) == [
        {0x0123},
        {0x4567},
        {0x89AB, 0x89AB ^ 1},
        {0xCDEF, 0xCDEF ^ 1},
        {0x2345},
        {0x6789},
        {0xABCD, 0xABCD ^ 1 << 8},
        {0xEF01, 0xEF01 ^ 1 << 8},
    ]


@pytest.mark.parametrize(
    ("bits", "distance", "joins"),
    [
        ((), 3, True),
        ((0, 20, 40), 3, True),  # three bits in three bands
        ((0, 1, 2, 3), 3, False),  # four bits, one band
        ((0, 16, 32, 48), 3, False),  # a bit in every band: no band matches exactly
        ((0, 1, 2, 3, 16, 17), 6, True),  # six bits, two bands left whole
        ((0, 1, 2, 3, 4, 5, 6), 7, True),  # seven bits, all in one band
        ((8, 20, 36, 52), 6, True),  # every quarter hit, but a rotated one whole
        ((0, 16, 32, 48), 7, False),  # within 7, but no band whole in either cut
        ((0, 1, 2, 3, 16, 17, 32, 48), 7, False),
    ],
)
def test_index_finds_exactly_the_signatures_within_the_distance(
    bits: tuple[int, ...], distance: int, joins: bool
) -> None:
    index = BandIndex(distance, [Signed(id=1, story_id=1, signature=BASE)])

    assert index.assign(2, flipped(*bits)) == (1 if joins else 2)


def test_index_prefers_the_closest_then_the_oldest_story() -> None:
    index = BandIndex(3)
    assert index.assign(10, BASE) == 10
    assert index.assign(11, flipped(20, 21, 22, 23)) == 11  # 4 bits from 10
    assert index.assign(12, flipped(20, 21)) == 10  # 2 bits from both: the older story
    assert index.assign(13, flipped(20, 21, 22, 23, 30)) == 11  # 1 bit from 11, 3 from 12
    assert index.assign(14, None) == 14


def test_first_stored_article_founds_the_story_and_near_duplicates_join(
    store: ArticleStore,
) -> None:
    store.save_articles([article("https://a.example/wire", simhash=hex_of(BASE))])
    later = [
        article("https://b.example/copy", simhash=hex_of(flipped(3, 30, 60))),
        article("https://c.example/other", simhash=hex_of(flipped(*range(12)))),  # 12 bits
        article("https://d.example/unsigned"),
    ]
    store.save_articles(later)

    by_url = {a.url: a for a in store.list_articles()}
    founder = by_url["https://a.example/wire"]
    assert founder.story_id == founder.id
    assert by_url["https://b.example/copy"].story_id == founder.id
    for url in ("https://c.example/other", "https://d.example/unsigned"):
        assert by_url[url].story_id == by_url[url].id

    page = store.find_articles(ArticleQuery(story_id=founder.id))
    assert {a.url for a in page.articles} == {"https://a.example/wire", "https://b.example/copy"}


def test_within_a_batch_the_earliest_fetched_founds_the_story(store: ArticleStore) -> None:
    first = article("https://z.example/1", simhash=hex_of(BASE), fetched_at=T0)
    second = article("https://a.example/2", simhash=hex_of(flipped(5)), fetched_at=T0)
    third = article(
        "https://m.example/3", simhash=hex_of(flipped(9)), fetched_at=T0 - timedelta(hours=1)
    )

    store.save_articles([first, second, third])

    by_url = {a.url: a for a in store.list_articles()}
    story = by_url[third.url].id
    assert {a.story_id for a in by_url.values()} == {story}


def test_story_stays_when_content_changes(store: ArticleStore) -> None:
    url = "https://a.example/edited"
    store.save_articles([article(url, simhash=hex_of(BASE))])
    story = store.list_articles()[0].story_id

    edited = article(url, text="rewritten", simhash=hex_of(~BASE & (2**64 - 1)))
    store.save_articles([edited.model_copy(update={"fetched_at": T0 + timedelta(days=1)})])

    [stored] = store.list_articles()
    assert (stored.revision, stored.story_id) == (2, story)


def test_configured_distance_is_used(database: Database) -> None:
    store = database.store(story_max_distance=7)
    store.save_articles([article("https://a.example/1", simhash=hex_of(BASE))])
    store.save_articles([article("https://b.example/2", simhash=hex_of(flipped(*range(7))))])

    assert len({a.story_id for a in store.list_articles()}) == 1
    with pytest.raises(ValueError, match="max_distance"):
        database.store(story_max_distance=8)


def test_replicas_storing_near_duplicates_at_once_make_one_story(database: Database) -> None:
    stores = [database.store() for _ in range(3)]
    start = threading.Barrier(len(stores))
    story_signatures = [random.Random(n).getrandbits(64) for n in range(10)]

    def writer(index: int) -> None:
        # Each replica's batch holds its own near-copy of each of the 10 stories.
        batch = [
            article(f"https://site{index}.example/{n}", simhash=hex_of(flipped(index, base=sig)))
            for n, sig in enumerate(story_signatures)
        ]
        start.wait()
        stores[index].save_articles(batch)

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(writer, range(len(stores))))

    stored = stores[0].list_articles(limit=100)
    stories: dict[int | None, list[str]] = {}
    for a in stored:
        stories.setdefault(a.story_id, []).append(a.url.rsplit("/", 1)[1])
    assert sorted(sorted(members) for members in stories.values()) == [
        [str(n)] * 3 for n in range(10)
    ]
    ids = {a.id for a in stored}
    assert set(stories) <= ids  # every story is named after one of its articles


def test_a_large_batch_at_the_widest_distance_is_stored(database: Database) -> None:
    # One lock per band value (2,048 here; ~35,000 when each band's one-bit neighbours
    # were probed too) overflowed PostgreSQL's lock table ("out of shared memory").
    store = database.store(story_max_distance=7)
    rng = random.Random(7)
    batch = [
        article(f"https://big.example/{n}", simhash=hex_of(rng.getrandbits(64))) for n in range(512)
    ]

    assert store.save_articles(batch) == 512
    assert len({a.story_id for a in store.list_articles(limit=600)}) == 512


def test_story_named_after_a_row_that_turned_out_to_exist_is_repointed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: another replica may insert an article between this batch's lookup and
    its insert."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite: the batch holds the only write lock from before its lookup")
    store = database.store()
    store.save_articles([article("https://a.example/raced", simhash=hex_of(BASE))])
    [raced] = store.list_articles()
    real_existing = writes._existing
    lookups: list[Sequence[str]] = []

    def first_lookup_misses(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        # As if the row had not been committed yet when the batch looked for it.
        lookups.append(keys)
        return {} if len(lookups) == 1 else real_existing(conn, keys)

    monkeypatch.setattr(writes, "_existing", first_lookup_misses)
    edited, later = ~BASE & (2**64 - 1), T0 + timedelta(hours=1)
    store.save_articles(
        [
            article("https://a.example/raced", text="v2", fetched_at=later, simhash=hex_of(edited)),
            article(
                "https://b.example/copy", fetched_at=later, simhash=hex_of(flipped(1, base=edited))
            ),
        ]
    )

    by_url = {a.url: a for a in store.list_articles()}
    assert len(lookups) == 2  # the repair looked the row up again
    assert (by_url["https://a.example/raced"].id, by_url["https://a.example/raced"].text) == (
        raced.id,
        "v2",
    )
    assert by_url["https://b.example/copy"].story_id == raced.story_id


def test_founder_joins_a_near_copy_committed_after_its_lookup(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: another replica commits a near-copy between this batch's candidate
    lookup and its story lock."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite has a single writer: nothing is committed meanwhile")
    store = database.store()
    store.save_articles([article("https://a.example/wire", simhash=hex_of(BASE))])
    [wire] = store.list_articles()
    real_candidates = writes._candidates
    lookups: list[list[Signed]] = []

    def first_lookup_misses(conn: Connection, wanted: list[set[int]]) -> list[Signed]:
        found = real_candidates(conn, wanted)
        lookups.append(found)
        return [] if len(lookups) == 1 else found

    monkeypatch.setattr(writes, "_candidates", first_lookup_misses)
    later = T0 + timedelta(hours=1)
    store.save_articles(
        [
            article("https://b.example/copy", fetched_at=later, simhash=hex_of(flipped(1))),
            article(
                "https://c.example/copy",
                fetched_at=later + timedelta(minutes=1),
                simhash=hex_of(flipped(1, 2)),
            ),
        ]
    )

    assert len(lookups) == 2
    assert {a.url: a.story_id for a in store.list_articles()} == {
        "https://a.example/wire": wire.id,
        "https://b.example/copy": wire.id,
        "https://c.example/copy": wire.id,
    }
