"""The cleaner's domain core: a fetched page (HTML or flattened text) in, an article out.

Pure functions, no I/O and no messaging: the FastStream app wraps them. Either an
:class:`Extracted` article comes out, or :class:`NotAnArticle` says why not, which
the app reports as a permanent failure rather than retrying.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.bylines import strip_author_bio
from services.cleaner.chrome import strip_chrome, strip_leading_chrome
from services.cleaner.extraction import (
    EXTRACTION_MODES,
    Attempt,
    Metadata,
    baseline_attempt,
    extract_with,
    page_metadata,
)
from services.cleaner.fingerprint import fingerprint
from services.cleaner.htmlpage import (
    PageMeta,
    drop_inert,
    looks_like_html,
    parse_datetime,
    parse_html,
    read_page_meta,
)
from services.cleaner.normalize import fold, normalize
from services.cleaner.plaintext import split_paragraphs, split_title
from services.cleaner.standfirst import missing_standfirst
from services.cleaner.titles import (
    drop_title_repeats,
    host_label,
    is_site_name,
    strip_site_name,
)

__all__ = [
    "MAX_LINK_TEXT_SHARE",
    "MAX_PAGE_CHARS",
    "MIN_ARTICLE_CHARS",
    "MIN_PROSE_COVERAGE",
    "RESCUE_LENGTH_FACTOR",
    "Extracted",
    "NotAnArticle",
    "check_size",
    "clean",
    "clean_html",
    "clean_task",
    "clean_text",
    "normalize",
]

# Longest page accepted, in characters: the largest news pages weigh a few hundred
# kilobytes; beyond this lies a data dump or an attack, not an article.
MAX_PAGE_CHARS = 5_000_000
# Shortest body accepted as an article. News briefs run to a few hundred
# characters, while what remains of a login wall, cookie page, error page or
# section front after cleaning is usually well under this.
MIN_ARTICLE_CHARS = 200
# Above this share of text that is the text of the page's own links, the
# "article" is a list of links: a home page, a section front or a sitemap.
MAX_LINK_TEXT_SHARE = 0.5
# An extraction holding less than this share of the page's paragraph text may have
# kept only the lead of a long story (live blogs trip precision mode this way), so
# the more inclusive modes get a chance ...
MIN_PROSE_COVERAGE = 0.5
# ... but one of them replaces it only when it is this many times longer: a
# little more text is more likely comments or teasers than the missing story.
RESCUE_LENGTH_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article as the cleaner hands it on."""

    title: str
    text: str  # paragraphs separated by "\n\n"; subheadings are paragraphs of their own
    description: str | None
    authors: list[str]
    published_at: datetime | None  # timezone-aware; UTC assumed when the page gives none
    site_name: str | None
    language_hint: str | None  # ISO 639-1 code declared by the page, when there is one
    method: str  # "trafilatura", "trafilatura-fallback", "trafilatura-baseline", "plaintext"
    content_hash: str  # exact-duplicate fingerprint (see fingerprint.py)
    simhash: str  # near-duplicate signature, 16 hex digits
    canonical_url: str | None = None  # absolute http(s) URL
    modified_at: datetime | None = None
    top_image: str | None = None  # absolute http(s) URL
    tags: list[str] = field(default_factory=list)


class NotAnArticle(Exception):
    """The content holds no article; ``reason`` says why, for the failure report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _tidy(
    paragraphs: Sequence[str], titles: Iterable[str | None], authors: Sequence[str] = ()
) -> list[str]:
    """Body without chrome, the title repeated at its top or the author's closing bio."""
    body = drop_title_repeats(strip_chrome(paragraphs), titles)
    body = strip_leading_chrome(body)  # chrome between a title repeat and the story
    return strip_author_bio(body, authors) if authors else body


def _link_text_share(paragraphs: Sequence[str], link_texts: frozenset[str]) -> float:
    lines = [line for paragraph in paragraphs for line in paragraph.splitlines()]
    total = sum(len(line) for line in lines)
    linked = sum(len(line) for line in lines if fold(line) in link_texts)
    return linked / total if total else 0.0


def _rejection(paragraphs: Sequence[str], link_texts: frozenset[str] = frozenset()) -> str | None:
    """Why these paragraphs are not an article, or None when they are one."""
    length = len("\n\n".join(paragraphs))
    if length == 0:
        return "no article text found"
    share = _link_text_share(paragraphs, link_texts)
    if share > MAX_LINK_TEXT_SHARE:
        return f"page is mostly links ({share:.0%} of its text)"
    if length < MIN_ARTICLE_CHARS:
        return f"text too short ({length} chars)"
    return None


# trafilatura sometimes reads a site's URL as a byline ("The Washington Times https",
# "Www Washingtontimes Com"): no person's name contains these.
_NOT_A_NAME_RE = re.compile(r"\b(?:https?|www)\b|\.(?:com|org|net)\b|@", re.IGNORECASE)


def _authors(raw: str | None) -> list[str]:
    # trafilatura joins several authors with "; "
    names = (normalize(name) for name in (raw or "").split(";"))
    return list(dict.fromkeys(n for n in names if n and not _NOT_A_NAME_RE.search(n)))


def _title_variants(page: PageMeta, meta: Metadata) -> list[str]:
    """Headline candidates, best first: og:title, <h1>, trafilatura's, <title>."""
    variants = (normalize(v or "") for v in (page.og_title, page.h1, meta.title, page.html_title))
    return [variant for variant in variants if variant]


def _choose_title(variants: Sequence[str], site_names: Sequence[str | None]) -> str | None:
    for variant in variants:
        title = strip_site_name(variant, site_names)
        if title and not is_site_name(title, site_names):
            return title
    return None


def _absolute_url(raw: str | None, base: str | None) -> str | None:
    """``raw`` resolved against the page's URL; None unless it is an http(s) URL."""
    if not raw:
        return None
    try:
        resolved = urljoin(base, raw) if base else raw
        parts = urlsplit(resolved)
    except ValueError:  # a malformed URL in the markup
        return None
    return resolved if parts.scheme in ("http", "https") and parts.netloc else None


def _html_article(
    attempt: Attempt,
    title: str | None,
    page: PageMeta,
    meta: Metadata,
    url: str | None,
    authors: list[str],
    standfirst: Sequence[str] = (),  # summary lines to put before the text
) -> Extracted:
    body = attempt.paragraphs
    if title is None:  # no usable headline markup: the text's own first line, as for plain text
        title, body = split_title(body)
    text = "\n\n".join([*standfirst, *(body or attempt.paragraphs)])
    prints = fingerprint(text)
    return Extracted(
        title=title,
        text=text,
        description=normalize(meta.description or "") or None,
        authors=authors,
        published_at=page.published_at or parse_datetime(meta.date),
        site_name=page.site_name or meta.site_name,
        language_hint=page.language,
        method=attempt.method,
        content_hash=prints.content_hash,
        simhash=prints.simhash,
        canonical_url=_absolute_url(page.canonical_url, url),
        modified_at=page.modified_at,
        top_image=_absolute_url(page.top_image, url),
        tags=[tag for raw in page.tags if (tag := normalize(raw))],
    )


def _length(attempt: Attempt) -> int:
    return sum(map(len, attempt.paragraphs))


class _Selection:
    """Judges extraction attempts; remembers the best partial one and the closest miss."""

    def __init__(
        self, page: PageMeta, titles: Sequence[str | None], authors: Sequence[str]
    ) -> None:
        self._page, self._titles, self._authors = page, titles, authors
        self.partial: Attempt | None = None
        self._miss_length, self.reason = -1, "no article text found"

    def accept(self, attempt: Attempt) -> Attempt | None:
        """The tidied attempt if it is an article, else None (noting why not)."""
        tidied = Attempt(attempt.method, _tidy(attempt.paragraphs, self._titles, self._authors))
        rejection = _rejection(tidied.paragraphs, self._page.link_texts)
        if rejection is None:
            return tidied
        if _length(tidied) > self._miss_length:  # report the closest miss
            self._miss_length, self.reason = _length(tidied), rejection
        return None

    def covers_page(self, attempt: Attempt) -> bool:
        return _length(attempt) >= MIN_PROSE_COVERAGE * self._page.prose_chars

    def keep_partial(self, attempt: Attempt) -> None:
        """Keep the first partial article, unless a later one is far longer."""
        if self.partial is None or _length(attempt) >= RESCUE_LENGTH_FACTOR * _length(self.partial):
            self.partial = attempt


def _extract_article(
    tree: HtmlElement,
    url: str | None,
    page: PageMeta,
    titles: Sequence[str | None],
    authors: Sequence[str],
) -> Attempt:
    """The first trafilatura mode giving an article that covers the page's prose;
    failing that the best partial one; failing that trafilatura's baseline."""
    selection = _Selection(page, titles, authors)
    for mode in EXTRACTION_MODES:
        if mode.rescue_only and selection.partial is not None:
            continue
        if (accepted := selection.accept(extract_with(tree, url, mode))) is None:
            continue
        if selection.covers_page(accepted):
            return accepted
        selection.keep_partial(accepted)
    baseline = selection.accept(baseline_attempt(tree))
    if selection.partial is not None:
        if baseline is not None and selection.covers_page(baseline):
            selection.keep_partial(baseline)
        return selection.partial
    if baseline is not None:
        return baseline
    raise NotAnArticle(selection.reason)


def clean_html(html: str, url: str | None = None) -> Extracted:
    """Extract the article of an HTML page.

    Tries trafilatura from its most precise mode to its most inclusive one and
    takes the first result that is long enough, not just the page's links and not
    a small part of the page's prose; trafilatura's baseline is the last resort.
    Raises :class:`NotAnArticle` when nothing qualifies.
    """
    tree = parse_html(html)
    if tree is None:
        raise NotAnArticle("not parseable as HTML")
    page = read_page_meta(tree)
    meta = page_metadata(tree, url, with_date=page.published_at is None)
    variants = _title_variants(page, meta)
    title = _choose_title(variants, (page.site_name, meta.site_name, host_label(url)))
    drop_inert(tree, furniture=page.prose_chars > 0)
    authors = _authors(meta.author)
    titles = [*variants, title]
    article = _extract_article(tree, url, page, titles, authors)
    # the summary under the headline, which trafilatura takes for header furniture
    description = normalize(meta.description or "")
    standfirst = missing_standfirst(tree, description, article.paragraphs, titles)
    return _html_article(article, title, page, meta, url, authors, standfirst)


def clean_text(text: str) -> Extracted:
    """Extract the article of a page already flattened to text.

    The first line is the title; site chrome at the start and the end (menus,
    counters, "Most read" blocks...) is dropped. Raises :class:`NotAnArticle`
    when too little text remains.
    """
    title, body = split_title(strip_chrome(split_paragraphs(text)))
    body = _tidy(body, [title])
    if (rejection := _rejection(body)) is not None:
        raise NotAnArticle(rejection)
    text = "\n\n".join(body)
    prints = fingerprint(text)
    return Extracted(
        title=title,
        text=text,
        description=None,
        authors=[],
        published_at=None,
        site_name=None,
        language_hint=None,
        method="plaintext",
        content_hash=prints.content_hash,
        simhash=prints.simhash,
    )


def check_size(content: str, max_chars: int = MAX_PAGE_CHARS) -> None:
    """Refuse a page too large to be worth parsing (and to hold in memory several times)."""
    if len(content) > max_chars:
        raise NotAnArticle(
            f"page too large ({len(content) / 1e6:.1f}M characters, limit {max_chars / 1e6:g}M)"
        )


def clean(content: str, url: str | None = None) -> Extracted:
    """Clean HTML or plain text, whichever ``content`` is."""
    check_size(content)
    if looks_like_html(content):
        return clean_html(content, url)
    return clean_text(content)


def clean_task(task: tuple[str, str | None]) -> Extracted:
    """:func:`clean` taking one argument, as a worker pool calls it."""
    content, url = task
    return clean(content, url)
