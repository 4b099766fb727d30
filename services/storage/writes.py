"""The write path of a batch of articles, inside the batch's one transaction.

1. Every submitted URL is bound to the canonical URL it first resolved to
   (``article_urls``), so a URL published twice is stored once even if the page's
   canonical link changes in between.
2. New articles get ids up front and a story: a stored or earlier near-duplicate's, or
   their own id when they are the first seen (by fetch time).
3. One ``INSERT ... ON CONFLICT (canonical_url) DO UPDATE`` writes them all (see
   ``upserts``: on PostgreSQL the batch is one JSON parameter, on SQLite one multi-row
   statement), so replicas saving the same article at once never race; changed
   content bumps ``revision`` and a trigger (see the migrations) keeps the superseded
   content in ``article_revisions``.
4. On PostgreSQL, an advisory lock held to commit then lets a batch see what replicas
   committed meanwhile: a new story's founder joins a near-copy stored since. (SQLite
   has one writer, so nothing is stored meanwhile.)

Rows are built before the transaction (``prepare_articles``). Locks are taken phase by
phase, each phase in key order (URLs, canonical URLs, the story lock), so concurrent
batches cannot deadlock.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.sql.expression import TextClause

from shared.contracts import MAX_URL_LENGTH, ArticleClassified, StageFailed

from .query import site_of_host
from .schema import BAND_COLUMNS, ArticleRow, ArticleUrlRow, FailureRow, UtcDateTime, as_utc
from .stories import BandIndex, Signed, band_sets, bands, parse_simhash
from .upserts import (
    POSTGRES_ARTICLE_UPSERT,
    SQLITE_ARTICLE_UPSERT,
    Written,
    as_json,
    failure_upsert,
)

__all__ = [
    "article_key",
    "chunks",
    "content_hash",
    "prepare_articles",
    "write_articles",
    "write_failures",
]

_IN_CHUNK = 500  # keeps IN lists far below every backend's bound-parameter limit
_STORY_LOCK_SPACE = 0x6E66  # first key of pg_advisory_xact_lock(int, int): newsflow's
_ARTICLES = ArticleRow.__table__.c
_URLS = ArticleUrlRow.__table__.c
_FAILURES = FailureRow.__table__.c
# The message fields that are also columns (a set, as pydantic's ``include`` wants).
_ARTICLE_FIELDS = set(_ARTICLES.keys()) & ArticleClassified.model_fields.keys()
_FAILURE_FIELDS = set(_FAILURES.keys()) & StageFailed.model_fields.keys()
_TIME_FIELDS = tuple(
    name
    for name in sorted(_ARTICLE_FIELDS | {"stored_at"})
    if isinstance(_ARTICLES[name].type, UtcDateTime)
)


def prepare_articles(
    articles: Sequence[ArticleClassified], now: datetime, dialect: str
) -> list[dict[str, Any]]:
    """The rows of a batch, built before its transaction so that, with several batches
    in hand, one is prepared while another holds the database. On SQLite that includes
    the column values as the driver takes them (see ``upserts.SqliteArticleUpsert.prebind``)."""
    rows = [_article_values(article, article_key(article), now) for article in articles]
    if dialect == "sqlite":
        for row in rows:
            SQLITE_ARTICLE_UPSERT.prebind(row)
    return rows


def write_articles(conn: Connection, prepared: Sequence[dict[str, Any]], distance: int) -> int:
    """Upsert prepared rows; returns how many articles were inserted or changed."""
    keys = _resolve_keys(conn, {values["url"]: values["canonical_url"] for values in prepared})
    latest: dict[str, dict[str, Any]] = {}
    for proposed in prepared:
        values = {**proposed, "canonical_url": keys[proposed["url"]]}
        kept = latest.get(values["canonical_url"])
        if kept is None or as_utc(values["fetched_at"]) >= as_utc(kept["fetched_at"]):
            latest[values["canonical_url"]] = values
    order = sorted(latest)
    signatures = {key: parse_simhash(latest[key]["simhash"]) for key in order}
    existing = _existing(conn, order)
    for key, (article_id, story_id) in existing.items():
        latest[key].update(id=article_id, story_id=story_id)
    first_seen = sorted(
        (key for key in order if key not in existing),
        key=lambda key: (as_utc(latest[key]["fetched_at"]), key),
    )
    allocated = dict(zip(first_seen, _allocate_ids(conn, len(first_seen)), strict=True))
    candidates = _candidates(conn, band_sets(_signed(signatures[key] for key in first_seen)))
    index = BandIndex(distance, candidates)
    for key, (article_id, story_id) in existing.items():
        # Their new content too: a near-copy of it in this batch joins their story.
        if (signature := signatures[key]) is not None:
            index.add(Signed(article_id, story_id, signature))
    for key, article_id in allocated.items():
        story_id = index.assign(article_id, signatures[key])
        latest[key].update(id=article_id, story_id=story_id)
    rows = [latest[key] for key in order]
    if conn.dialect.name != "postgresql":
        # The batch has held SQLite's only write lock since _resolve_keys: every id it
        # allocated is inserted, and no near-copy was stored meanwhile.
        return SQLITE_ARTICLE_UPSERT(conn, rows)
    written = conn.execute(POSTGRES_ARTICLE_UPSERT, {"rows": as_json(rows)}).all()
    _repair_stories(conn, written, allocated)
    _lock_stories(conn)
    founders = [
        (article_id, signature)
        for key, article_id in allocated.items()
        if latest[key]["story_id"] == article_id and (signature := signatures[key]) is not None
    ]
    seen = {c.id for c in candidates} | {article_id for article_id, _, _ in written}
    _join_stories_stored_meanwhile(conn, founders, seen, distance)
    return len(written)


def write_failures(conn: Connection, failures: Sequence[StageFailed]) -> int:
    """Upsert by URL, keeping the latest failure; returns how many rows changed."""
    chronological = sorted(failures, key=lambda failure: as_utc(failure.failed_at))
    latest = {f.url: f.model_dump(include=_FAILURE_FIELDS) for f in chronological}
    if not latest:
        return 0
    rows = [latest[url] for url in sorted(latest)]
    return len(conn.execute(failure_upsert(conn.dialect.name), rows).all())


def content_hash(title: str, text: str) -> str:
    """SHA-256 of title and text, blind to Unicode composition and whitespace reflow."""
    normalised = "\n".join(_normalise(part) for part in (title, text))
    return hashlib.sha256(normalised.encode()).hexdigest()


def _normalise(text: str) -> str:
    # The cleaner already hands over NFC text: checking is much cheaper than normalising.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def article_key(article: ArticleClassified) -> str:
    """The canonical URL when the page declared a plausible one, else the submitted URL."""
    canonical = article.canonical_url
    if canonical and _plausible_canonical(canonical, article.final_url):
        return canonical
    return article.url


def _plausible_canonical(canonical: str, final_url: str) -> bool:
    if len(canonical) > MAX_URL_LENGTH:
        return False
    parts = urlsplit(canonical)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    # Some sites point every page's canonical link at their home page; trusting that
    # would fold all their articles into one row.
    at_root = parts.path in ("", "/") and not parts.query
    return not at_root or urlsplit(final_url).path in ("", "/")


def _resolve_keys(conn: Connection, proposed: dict[str, str]) -> dict[str, str]:
    """Bind each new submitted URL to its proposed key; return every URL's key, first
    binding first."""
    urls = sorted(proposed)
    keys = [proposed[url] for url in urls]
    if conn.dialect.name == "postgresql":
        # Two statements with array parameters: executemany would run one INSERT a row.
        conn.execute(_POSTGRES_BIND_URLS, {"urls": urls, "keys": keys})
        return {url: key for url, key in conn.execute(_POSTGRES_URL_KEYS, {"urls": urls})}
    # This first write also takes the database's write lock for the batch.
    conn.execute(_SQLITE_BIND_URLS, {"pairs": json.dumps(list(zip(urls, keys, strict=True)))})
    resolved: dict[str, str] = _sqlite_aggregate(conn, _SQLITE_URL_KEYS, urls=json.dumps(urls))
    return resolved


def _sqlite_aggregate(conn: Connection, query: TextClause, **params: str) -> Any:
    """The one JSON value a SQLite query aggregates its rows into.

    The driver releases the GIL for every row it steps through. When another thread
    runs Python meanwhile (the event loop, a batch being prepared), taking it back
    waits up to the switch interval, 5 ms: a look-up of 600 rows, row by row, could
    stall the batch for seconds. One row, one wait.
    """
    return json.loads(conn.execute(query, params).scalar_one())


# "WHERE true": without it SQLite would read ON CONFLICT as part of the SELECT's join
# (the "parsing ambiguity" of its UPSERT documentation).
_SQLITE_BIND_URLS = text(
    "INSERT INTO article_urls (url, canonical_url) "
    "SELECT value ->> 0, value ->> 1 FROM json_each(:pairs) WHERE true "
    "ON CONFLICT (url) DO NOTHING"
)
_SQLITE_URL_KEYS = text(
    "SELECT json_group_object(url, canonical_url) FROM article_urls "
    "WHERE url IN (SELECT value FROM json_each(:urls))"
)
_POSTGRES_BIND_URLS = text(
    "INSERT INTO article_urls (url, canonical_url) "
    "SELECT * FROM unnest(CAST(:urls AS text[]), CAST(:keys AS text[])) "
    "ON CONFLICT (url) DO NOTHING"
)
_POSTGRES_URL_KEYS = text(
    "SELECT url, canonical_url FROM article_urls WHERE url = ANY(CAST(:urls AS text[]))"
)


def _article_values(article: ArticleClassified, key: str, now: datetime) -> dict[str, Any]:
    values = article.model_dump(include=_ARTICLE_FIELDS)
    signature = parse_simhash(article.simhash)
    host = urlsplit(article.final_url).hostname or urlsplit(article.url).hostname or ""
    values.update(
        canonical_url=key,
        site=site_of_host(host),
        stored_at=now,
        revision=1,
        content_hash=content_hash(article.title, article.text),
        simhash=None if signature is None else f"{signature:016x}",
    )
    band_values = (None,) * len(BAND_COLUMNS) if signature is None else bands(signature)
    values.update(zip(BAND_COLUMNS, band_values, strict=True))
    for name in _TIME_FIELDS:
        # Naive means UTC: never let the database read it in its own time zone.
        if (moment := values[name]) is not None and moment.tzinfo is None:
            values[name] = moment.replace(tzinfo=UTC)
    return values


def _signed(signatures: Iterable[int | None]) -> list[int]:
    return [signature for signature in signatures if signature is not None]


def _existing(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    if conn.dialect.name != "postgresql":
        found = _sqlite_aggregate(conn, _SQLITE_EXISTING, keys=json.dumps(list(keys)))
        return {key: (article_id, story_id) for key, article_id, story_id in found}
    existing: dict[str, tuple[int, int]] = {}
    for chunk in chunks(keys):
        query = select(_ARTICLES.canonical_url, _ARTICLES.id, _ARTICLES.story_id).where(
            _ARTICLES.canonical_url.in_(chunk)
        )
        existing.update(
            (key, (article_id, story_id)) for key, article_id, story_id in conn.execute(query)
        )
    return existing


_SQLITE_EXISTING = text(
    "SELECT json_group_array(json_array(canonical_url, id, story_id)) FROM articles "
    "WHERE canonical_url IN (SELECT value FROM json_each(:keys))"
)


def _allocate_ids(conn: Connection, count: int) -> list[int]:
    """Ids for new rows, known before the insert so that stories can name them."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence("articles", "id")
        query = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return sorted(conn.scalars(query))
    # SQLite: the batch holds the only write lock (taken by _resolve_keys), so no other
    # writer can take these ids before the batch commits.
    last = conn.scalar(select(func.coalesce(func.max(_ARTICLES.id), 0)))
    return list(range(int(last or 0) + 1, int(last or 0) + 1 + count))


def _lock_stories(conn: Connection) -> None:
    """Serialise the last step of story assignment between replicas, until commit.

    One lock, not one per band value: a batch of 256 has ~1,000, while PostgreSQL's lock
    table holds 64 per connection by default (a lock per probed value, 17 per band at 6
    bits, overflowed it). It is taken after the batch's rows are written, so replicas
    write side by side and queue only for a look-up and the commit.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": _STORY_LOCK_SPACE})


def _join_stories_stored_meanwhile(
    conn: Connection, founders: Sequence[tuple[int, int]], seen: set[int], distance: int
) -> None:
    """Founders of new stories join a near-copy that another replica committed since
    this batch looked for candidates (holding the story lock, every earlier batch has
    committed), and so do the batch's articles that had joined them."""
    if not founders:
        return
    wanted = band_sets(signature for _, signature in founders)
    stored = [c for c in _candidates(conn, wanted) if c.id not in seen]
    if not stored:
        return
    index = BandIndex(distance, stored)
    moves = [
        {"b_old": article_id, "b_new": match.story_id}
        for article_id, signature in founders
        if (match := index.nearest(signature)) is not None
    ]
    if moves:
        conn.execute(
            update(ArticleRow)
            .where(ArticleRow.story_id == bindparam("b_old"))
            .values(story_id=bindparam("b_new")),
            moves,
        )


def _candidates(conn: Connection, wanted: list[set[int]]) -> list[Signed]:
    """Stored articles that share a band value: one constant query per batch, each
    band's values passed as one array (PostgreSQL) or JSON (SQLite) parameter, so the
    statement is parsed once however many values a batch looks up."""
    if not any(wanted):
        return []
    as_array = conn.dialect.name == "postgresql"
    params: dict[str, Any] = {}
    for band, values in enumerate(wanted):
        ordered = sorted(values)
        params[f"band{band}"] = ordered if as_array else json.dumps(ordered)
    if as_array:
        rows = conn.execute(_CANDIDATES["postgresql"], params).all()
    else:
        rows = _sqlite_aggregate(conn, _CANDIDATES["sqlite"], **params)
    found: dict[int, Signed] = {}
    for article_id, story_id, simhash in rows:
        if (signature := parse_simhash(simhash)) is not None:
            found[article_id] = Signed(article_id, story_id, signature)
    return list(found.values())


def _candidates_query(match: str, aggregate: str = "") -> TextClause:
    # A UNION of one lookup per band: each uses its band's index (an OR of the four
    # does not reliably, on SQLite).
    union = " UNION ".join(
        f"SELECT id, story_id, simhash FROM articles WHERE {column} "
        + match.format(param=f"band{band}")
        for band, column in enumerate(BAND_COLUMNS)
    )
    return text(f"SELECT {aggregate} FROM ({union})" if aggregate else union)


# PostgreSQL plans "= ANY(array)" as an index scan; "IN (SELECT unnest(...))" as a hash
# join over the whole table.
_CANDIDATES = {
    "postgresql": _candidates_query("= ANY(CAST(:{param} AS integer[]))"),
    "sqlite": _candidates_query(
        "IN (SELECT value FROM json_each(:{param}))",
        aggregate="json_group_array(json_array(id, story_id, simhash))",
    ),
}


def _repair_stories(
    conn: Connection, written: Sequence[Written], allocated: dict[str, int]
) -> None:
    """Re-point stories named after an id that was never inserted.

    A row thought new can turn out to exist (another replica inserted the same canonical
    URL meanwhile, with other content): articles of this batch that joined its story
    then join the story of the row that does exist.
    """
    inserted = {article_id for article_id, _, _ in written}
    phantoms = {
        article_id: key for key, article_id in allocated.items() if article_id not in inserted
    }
    orphans = [
        (article_id, story_id) for article_id, _, story_id in written if story_id in phantoms
    ]
    if not orphans:
        return
    real = _existing(conn, sorted(set(phantoms.values())))
    repoint = [
        {"b_id": article_id, "b_story": real[phantoms[story_id]][1]}
        for article_id, story_id in orphans
    ]
    conn.execute(
        update(ArticleRow)
        .where(ArticleRow.id == bindparam("b_id"))
        .values(story_id=bindparam("b_story")),
        repoint,
    )


_Item = TypeVar("_Item")


def chunks(items: Sequence[_Item]) -> Iterable[Sequence[_Item]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
