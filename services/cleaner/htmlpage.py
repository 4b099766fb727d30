"""What the page's own markup says about the article, read with lxml.

trafilatura finds the text; these helpers read the few facts it does not return
in the form the pipeline needs: the declared language, the headline candidates, a
timezone-aware publication time, and the page's link texts (to recognise a page
that is only links).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import trafilatura
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.normalize import fold, normalize

__all__ = [
    "PageMeta",
    "language_code",
    "looks_like_html",
    "parse_datetime",
    "parse_html",
    "read_page_meta",
]

# ISO 639-2 codes some CMSs put in lang attributes, for the languages we see most.
_ISO639_2_TO_1 = {
    "ara": "ar", "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de",
    "spa": "es", "tur": "tr", "fas": "fa", "per": "fa", "urd": "ur", "heb": "he",
    "rus": "ru", "ita": "it", "por": "pt", "zho": "zh", "chi": "zh",
}  # fmt: skip
# Codes that ISO 639-1 renamed; browsers and old CMSs still emit the old ones.
_DEPRECATED_639_1 = {"iw": "he", "in": "id", "ji": "yi"}
_LANGUAGE_RE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")

# <meta> names for the publication time, most specific first ("date" is anyone's guess).
_PUBLISHED_META_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "article.published", "parsely-pub-date", "sailthru.date", "pubdate",
    "publishdate", "publish-date", "publication_date", "dc.date.issued", "dcterms.issued",
    "dc.date", "dcterms.created", "date",
)  # fmt: skip
_EARLIEST_PLAUSIBLE_YEAR = 1990  # the web; older values are placeholder dates

# Paragraphs outside the page furniture: the most text an article on the page can have.
_PROSE_XPATH = "//p[not(ancestor::header or ancestor::nav or ancestor::aside or ancestor::footer)]"

# The start of a document that is markup rather than prose.
_HTML_SNIFF_RE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|article|main|div|p|h[1-6]|br|section|span)\b",
    re.IGNORECASE,
)
_SNIFF_CHARS = 4096  # markup shows up at the top of any real page


@dataclass(frozen=True, slots=True)
class PageMeta:
    """Facts read straight from the markup; every field may be missing."""

    og_title: str | None
    h1: str | None
    html_title: str | None
    site_name: str | None
    language: str | None
    published_at: datetime | None
    link_texts: frozenset[str]
    prose_chars: int  # text in <p> outside header/nav/aside/footer: the most an article can be


def parse_html(html: str) -> HtmlElement | None:
    """Parse a page; fragments ("<p>...</p>") are wrapped so they parse too."""
    tree = trafilatura.load_html(html)
    if tree is None:  # trafilatura rejects lone fragments as "dubious HTML"
        tree = trafilatura.load_html(f"<html><body><div>{html}</div></body></html>")
    return tree if isinstance(tree, HtmlElement) else None


def _one_line(text: str) -> str:
    # Titles and meta values are single-line; source line breaks in them are layout.
    return " ".join(normalize(text).split())


def _meta_values(tree: HtmlElement, *keys: str) -> list[str]:
    """Non-empty <meta> contents for ``keys`` (property/name/http-equiv), in key order.

    Key order, not document order: og:title wins over a twitter:title that some
    sites truncate, wherever each one sits.
    """
    wanted = [key.lower() for key in keys]
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        for name in (meta.get("property"), meta.get("name"), meta.get("http-equiv")):
            key = (name or "").strip().lower()
            if (
                key in wanted
                and key not in found
                and (content := _one_line(meta.get("content") or ""))
            ):
                found[key] = content
    return [found[key] for key in wanted if key in found]


def _meta_content(tree: HtmlElement, *keys: str) -> str | None:
    return next(iter(_meta_values(tree, *keys)), None)


def _element_text(element: HtmlElement) -> str:
    return _one_line(element.text_content())


def _first_h1(tree: HtmlElement) -> str | None:
    # A headline inside <article>/<main> beats a logo wrapped in <h1> in the header.
    headings = [h for h in tree.iter("h1") if _element_text(h)]
    in_content = [
        h for h in headings if any(a.tag in ("article", "main") for a in h.iterancestors())
    ]
    chosen = (in_content or headings)[:1]
    return _element_text(chosen[0]) if chosen else None


def _html_title(tree: HtmlElement) -> str | None:
    title = tree.find(".//title")
    return (_element_text(title) or None) if title is not None else None


def language_code(raw: str | None) -> str | None:
    """ "ar", "ar-SA", "ar_AR", "AR", "ara" -> "ar"; None when it is not a language tag."""
    match = _LANGUAGE_RE.fullmatch((raw or "").strip().lower())
    if match is None:
        return None
    primary = match.group(1)
    if len(primary) == 3:
        return _ISO639_2_TO_1.get(primary, primary)
    return _DEPRECATED_639_1.get(primary, primary)


def _language(tree: HtmlElement) -> str | None:
    # <html lang> is what the page declares for its own content; og:locale and
    # content-language are site-wide settings, so they only fill in.
    declared = (
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        _meta_content(tree, "og:locale"),
        _meta_content(tree, "content-language", "language", "dc.language"),
    )
    for raw in declared:
        # content-language may list several ("ar, en"): the first is the main one
        code = language_code((raw or "").split(",")[0])
        if code:
            return code
    return None


def parse_datetime(raw: str | None) -> datetime | None:
    """ISO 8601 or RFC 2822 timestamp -> aware datetime (UTC when no zone is given)."""
    text = (raw or "").strip()
    if not text:
        return None
    parsed: datetime | None = None
    for candidate in (text, text[:19], text[:10]):  # full, without zone/fraction, date only
        try:
            parsed = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.year < _EARLIEST_PLAUSIBLE_YEAR:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _json_ld_values(node: Any, key: str) -> Iterator[str]:
    """Every string value of ``key`` anywhere in a JSON-LD document (they nest in @graph)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key and isinstance(value, str):
                yield value
            else:
                yield from _json_ld_values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _json_ld_values(item, key)


def _json_ld_published(tree: HtmlElement) -> str | None:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            document = json.loads(script.text or "")
        except ValueError:  # broken JSON-LD is common; the other sources remain
            continue
        for value in _json_ld_values(document, "datePublished"):
            return value
    return None


def _published_at(tree: HtmlElement) -> datetime | None:
    # Explicit "published" markup carries a time and a zone; trafilatura's date
    # (htmldate) only has the day, so it is used later as the last resort.
    itemprop = tree.xpath("//*[@itemprop='datePublished']")
    candidates = (
        *_meta_values(tree, *_PUBLISHED_META_KEYS),
        _json_ld_published(tree),
        *(
            el.get("content") or el.get("datetime")
            for el in itemprop
            if isinstance(el, HtmlElement)
        ),
    )
    for raw in candidates:
        parsed = parse_datetime(raw)
        if parsed is not None:
            return parsed
    return None


def _link_texts(tree: HtmlElement) -> frozenset[str]:
    return frozenset(key for a in tree.iter("a") if (key := fold(a.text_content())))


def _prose_chars(tree: HtmlElement) -> int:
    # An estimate, so whitespace is collapsed without a full normalize().
    return sum(len(" ".join(p.text_content().split())) for p in tree.xpath(_PROSE_XPATH))


def read_page_meta(tree: HtmlElement) -> PageMeta:
    return PageMeta(
        og_title=_meta_content(tree, "og:title", "twitter:title"),
        h1=_first_h1(tree),
        html_title=_html_title(tree),
        site_name=_meta_content(tree, "og:site_name", "application-name"),
        language=_language(tree),
        published_at=_published_at(tree),
        link_texts=_link_texts(tree),
        prose_chars=_prose_chars(tree),
    )


def looks_like_html(content: str) -> bool:
    """Whether content is HTML: a known tag in its first few kilobytes."""
    return _HTML_SNIFF_RE.search(content, 0, _SNIFF_CHARS) is not None
