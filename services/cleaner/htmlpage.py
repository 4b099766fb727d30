"""What the page's own markup says about the article, read with lxml.

trafilatura finds the text; these helpers read the few facts it does not return
in the form the pipeline needs: the declared language, the headline candidates, a
timezone-aware publication time, and the page's link texts (to recognise a page
that is only links).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import lxml.html  # type: ignore[import-untyped,unused-ignore]
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.jsonld import json_ld_documents, json_ld_strings, json_ld_values
from services.cleaner.normalize import fold, normalize_line

__all__ = [
    "MetaIndex",
    "PageMeta",
    "drop_inert",
    "language_code",
    "looks_like_html",
    "meta_index",
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
_MODIFIED_META_KEYS = (
    "article:modified_time", "og:updated_time", "article:modified", "datemodified",
    "last-modified", "dcterms.modified",
)  # fmt: skip
_IMAGE_META_KEYS = (
    "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src",
)  # fmt: skip
_TAG_LIST_META_KEYS = ("news_keywords", "parsely-tags", "sailthru.tags")
_MAX_TAGS = 30  # beyond this, keyword stuffing rather than tagging
_MAX_TAG_CHARS = 100
_EARLIEST_PLAUSIBLE_YEAR = 1990  # the web; older values are placeholder dates

# Paragraphs outside the page furniture: the most text an article on the page can have.
_PROSE_XPATH = etree.XPath(
    "//p[not(ancestor::header or ancestor::nav or ancestor::aside or ancestor::footer)]"
)
_ITEMPROP_XPATH = etree.XPath("//@itemprop")

# The start of a document that is markup rather than prose.
_HTML_SNIFF_RE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|article|main|div|p|h[1-6]|br|section|span)\b",
    re.IGNORECASE,
)
_SNIFF_CHARS = 4096
# trafilatura's parser settings and repairs (trafilatura.utils.load_html), which its
# extraction rules are written for.
_HTML_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
    remove_pis=True,
)  # fmt: skip
# Every element an HtmlElement, chosen in C: lxml.html's own lookup is a Python method
# called for each element proxy (about 4% of a page's instructions, measured with
# callgrind); it only adds form-field classes that nothing here uses.
_HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
_DOCTYPE_WITH_URL_RE = re.compile("^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
_SELF_CLOSING_HTML_RE = re.compile(r"(<html.*?)\s*/>", re.IGNORECASE)
# What XML forbids (with U+FFFE and U+FFFF): C0 controls but tab, newline and return.
_XML_INVALID_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# Elements that never hold article text (see drop_inert).
_INERT_TAGS = ("style", "svg", "noscript", "template", "link", "meta", "iframe")
_FURNITURE_TAGS = ("nav", "aside", "footer")
# Text never on screen: elements the browser does not render (HTML's hidden attribute:
# closed dialogs, AMP's layout="nodisplay" lightboxes) and the screen-reader-only
# classes of the common CSS frameworks and CMSs (Bootstrap and Tailwind "sr-only",
# Bootstrap 5 and Drupal "visually-hidden", WordPress "screen-reader-text", HTML5
# Boilerplate "visuallyhidden", Drupal 7 "element-invisible"): "Skip to content",
# "Search", a second copy of each teaser headline for screen readers.
_SCREEN_READER_CLASSES = frozenset(
    {"sr-only", "visually-hidden", "screen-reader-text", "visuallyhidden", "element-invisible"}
)
# hidden="until-found" is the opposite: collapsed text the page wants found and shown
# (an article's folded sections), so it stays.
_HIDDEN_XPATH = etree.XPath("descendant::*[@hidden and @hidden != 'until-found']")
# Teaser cards for other articles: "promo" in a class is the CMSs' name for them
# (Brightspot's <ps-promo class="promo">, AP's "PagePromo", "promote-related-post").
# trafilatura drops their linked headline but keeps the summary under it, which then
# reads as a paragraph of the story.
_MAX_PROMO_CHARS = 2000  # a card is a headline and a sentence or two, not a story
_MAX_PROMO_LINKED_SHARE = 0.95
_MAX_PROMO_PARAGRAPHS = 3  # kicker, summary, date


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
    modified_at: datetime | None = None
    canonical_url: str | None = None  # as written: may be relative
    top_image: str | None = None  # as written: may be relative
    tags: list[str] = field(default_factory=list)


def _utf8_for_libxml2(html: str) -> bytes:
    """The page as UTF-8 for libxml2, repaired as ``trafilatura.load_html`` repairs it.

    trafilatura removes the characters XML forbids with a regular expression over the
    whole page (a few milliseconds on a news page); on the UTF-8 bytes a translate does
    the same in a tenth of the time: those control characters are single bytes that
    never occur inside a multi-byte sequence.
    """
    if "doctype" in html[:50].lower():  # a doctype with a URL confuses libxml2
        line_end = html.find("\n")
        first_line = html[:line_end] if line_end >= 0 else html
        if (repaired := _DOCTYPE_WITH_URL_RE.sub("", first_line, count=1)) != first_line:
            html = repaired + (html[line_end:] if line_end >= 0 else "")
    for line in html[:4096].splitlines()[:4]:  # a self-closing <html/> would end the page
        if "<html" in line and line.endswith("/>"):
            html = _SELF_CLOSING_HTML_RE.sub(r"\1>", html, count=1)
            break
    if "\ufffe" in html or "\uffff" in html:  # far quicker to look for in the text than in bytes
        html = html.replace("\ufffe", "").replace("\uffff", "")
    return html.encode("utf-8", "surrogatepass").translate(None, _XML_INVALID_BYTES)


def _load_html(html: str) -> HtmlElement | None:
    """``trafilatura.load_html`` for a string, parsing UTF-8 bytes (see above)."""
    try:
        tree = lxml.html.fromstring(_utf8_for_libxml2(html), parser=_HTML_PARSER)
    except (etree.LxmlError, ValueError):  # empty or unparseable
        return None
    # as trafilatura: no "html" in the first characters and one element is not a page
    if "html" not in html[:50].lower() and len(tree) < 2:
        return None
    return tree if isinstance(tree, HtmlElement) else None


def parse_html(html: str) -> HtmlElement | None:
    """Parse a page; fragments ("<p>...</p>") are wrapped so they parse too."""
    tree = _load_html(html)
    if tree is None:  # a lone fragment is not taken for a page
        tree = _load_html(f"<html><body><div>{html}</div></body></html>")
    return tree


MetaIndex = dict[str, list[str]]


def meta_index(tree: HtmlElement) -> MetaIndex:
    """Non-empty <meta> contents by lower-cased property/name/http-equiv, in page order.

    Built once per page: a page has dozens of <meta> and the cleaner asks for many keys.
    """
    index: MetaIndex = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if not content or not (content := normalize_line(content)):
            continue
        for name in (meta.get("property"), meta.get("name"), meta.get("http-equiv")):
            if key := (name or "").strip().lower():
                index.setdefault(key, []).append(content)
    return index


def _meta_values(index: MetaIndex, *keys: str) -> list[str]:
    """The first content of each of ``keys`` present, in key order.

    Key order, not document order: og:title wins over a twitter:title that some
    sites truncate, wherever each one sits.
    """
    return [index[key][0] for key in keys if key in index]


def _meta_content(index: MetaIndex, *keys: str) -> str | None:
    return next(iter(_meta_values(index, *keys)), None)


def _element_text(element: HtmlElement) -> str:
    return normalize_line(element.text_content())


def _first_h1(tree: HtmlElement) -> str | None:
    # A headline inside <article>/<main> beats a logo wrapped in <h1> in the header.
    headings = [h for h in tree.iter("h1") if _element_text(h)]
    in_content = [
        h for h in headings if any(a.tag in ("article", "main") for a in h.iterancestors())
    ]
    chosen = (in_content or headings)[:1]
    return _element_text(chosen[0]) if chosen else None


def _html_title(tree: HtmlElement) -> str | None:
    title = next(tree.iter("title"), None)  # the first in document order, found in C
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


def _language(tree: HtmlElement, metas: MetaIndex) -> str | None:
    # <html lang> is what the page declares for its own content; og:locale and
    # content-language are site-wide settings, so they only fill in.
    declared = (
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        _meta_content(metas, "og:locale"),
        _meta_content(metas, "content-language", "language", "dc.language"),
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


def _first_datetime(raw_values: Iterable[str | None]) -> datetime | None:
    return next((parsed for raw in raw_values if (parsed := parse_datetime(raw))), None)


ItempropDates = dict[str, list[str | None]]


def _itemprop_dates(tree: HtmlElement) -> ItempropDates:
    """Microdata datePublished/dateModified values, in one pass over the page."""
    dates: ItempropDates = {"datePublished": [], "dateModified": []}
    for itemprop in _ITEMPROP_XPATH(tree):  # every value: quicker than an XPath predicate
        if itemprop in dates and isinstance(element := itemprop.getparent(), HtmlElement):
            dates[itemprop].append(element.get("content") or element.get("datetime"))
    return dates


def _declared_time(
    key: str, meta_keys: Iterable[str], metas: MetaIndex, json_ld: list[Any], items: ItempropDates
) -> datetime | None:
    """The first parseable time among <meta>, JSON-LD ``key`` and microdata ``key``."""
    return _first_datetime(
        (*_meta_values(metas, *meta_keys), next(json_ld_strings(json_ld, key), None), *items[key])
    )


def _canonical_url(tree: HtmlElement, metas: MetaIndex) -> str | None:
    canonical = [
        (link.get("href") or "").strip()
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    return next((url for url in canonical if url), None) or _meta_content(metas, "og:url")


def _keyword_lists(metas: MetaIndex, json_ld: list[Any]) -> Iterator[str]:
    """Tags one by one: article:tag <meta>s and JSON-LD lists hold one tag per value
    (which may contain a comma); news_keywords, a lone article:tag and JSON-LD strings
    hold a comma-separated list."""
    article_tags = metas.get("article:tag", [])
    if len(article_tags) == 1:  # some sites pack the whole list into one
        yield from article_tags[0].split(",")
    else:
        yield from article_tags
    for key in _TAG_LIST_META_KEYS:
        for value in metas.get(key, []):
            yield from value.split(",")
    for value in json_ld_values(json_ld, "keywords"):
        if isinstance(value, list):
            yield from (item for item in value if isinstance(item, str))
        elif isinstance(value, str):
            yield from value.split(",")


def _tags(metas: MetaIndex, json_ld: list[Any]) -> list[str]:
    """Editorial tags; the catch-all "keywords" <meta> only when nothing better is given."""
    fallback = (tag for value in metas.get("keywords", []) for tag in value.split(","))
    tags: dict[str, str] = {}
    for source in (_keyword_lists(metas, json_ld), fallback):
        for raw in source:
            if (tag := normalize_line(raw)) and len(tag) <= _MAX_TAG_CHARS:
                tags.setdefault(fold(tag), tag)
        if tags:
            break
    return list(tags.values())[:_MAX_TAGS]


def _link_texts(tree: HtmlElement) -> frozenset[str]:
    texts = {a.text_content() for a in tree.iter("a")}  # menus repeat: fold each text once
    return frozenset(key for text in texts if (key := fold(text)))


def _prose_chars(tree: HtmlElement) -> int:
    # An estimate, so whitespace is collapsed without a full normalize().
    return sum(len(" ".join(p.text_content().split())) for p in _PROSE_XPATH(tree))


def read_page_meta(tree: HtmlElement) -> PageMeta:
    metas, json_ld, items = meta_index(tree), json_ld_documents(tree), _itemprop_dates(tree)
    # Explicit "published" markup carries a time and a zone; trafilatura's date
    # (htmldate) only has the day, so it is used later as the last resort.
    published = _declared_time("datePublished", _PUBLISHED_META_KEYS, metas, json_ld, items)
    return PageMeta(
        og_title=_meta_content(metas, "og:title", "twitter:title"),
        h1=_first_h1(tree),
        html_title=_html_title(tree),
        site_name=_meta_content(metas, "og:site_name", "application-name"),
        language=_language(tree, metas),
        published_at=published,
        link_texts=_link_texts(tree),
        prose_chars=_prose_chars(tree),
        modified_at=_declared_time("dateModified", _MODIFIED_META_KEYS, metas, json_ld, items),
        canonical_url=_canonical_url(tree, metas),
        top_image=_meta_content(metas, *_IMAGE_META_KEYS),
        tags=_tags(metas, json_ld),
    )


def _is_teaser_card(element: HtmlElement) -> bool:
    """A link (the headline) with text outside it (the summary); short, no <h1>, a few
    <p> at most (a short story in a wrapper whose class says "promotion" stays).

    Cards whose text is all links are left to trafilatura, which drops link lists
    whole: removing them first could leave their section's heading behind alone.
    """
    text_chars = len("".join(element.text_content().split()))
    if not 0 < text_chars <= _MAX_PROMO_CHARS or next(element.iter("h1"), None) is not None:
        return False
    if sum(1 for _ in element.iter("p")) > _MAX_PROMO_PARAGRAPHS:
        return False
    linked_chars = sum(len("".join(a.text_content().split())) for a in element.iter("a"))
    return 0 < linked_chars <= _MAX_PROMO_LINKED_SHARE * text_chars


def _is_unseen_or_promo(element: HtmlElement, classes: str) -> bool:
    if not _SCREEN_READER_CLASSES.isdisjoint(classes.split()):
        return True
    return ("promo" in classes or "Promo" in classes) and _is_teaser_card(element)


def _unseen_and_promos(tree: HtmlElement) -> list[HtmlElement]:
    """Text never on screen and teaser cards (see _SCREEN_READER_CLASSES and
    _is_teaser_card): one pass over the body's classes, cheaper than an XPath test
    per class name."""
    body = tree.find("body")
    root = body if body is not None else tree
    found: list[HtmlElement] = _HIDDEN_XPATH(root)
    for element in root.iterdescendants():
        if (classes := element.get("class")) and _is_unseen_or_promo(element, classes):
            found.append(element)
    return found


def drop_inert(tree: HtmlElement, *, furniture: bool) -> None:
    """Remove, in place, what holds no article text and that trafilatura would only
    remove itself after walking it with its many XPath rules: scripts (JSON-LD kept,
    for trafilatura's baseline), styles, inline SVG, embedded frames, metadata; with
    ``furniture``, also <nav>, <aside> and <footer>.

    trafilatura deletes all of these in every mode; the only exception is its recall
    mode, which keeps the furniture when no paragraph exists outside it, so pass
    ``furniture`` only when the page has prose elsewhere. Call this once the page's
    metadata has been read.

    Two kinds trafilatura would keep go too: text never on screen (the ``hidden``
    attribute, screen-reader-only classes) and teaser cards for other articles (a
    "promo" class holding a linked headline and an unlinked summary).
    """
    scripts = [s for s in tree.iter("script") if s.get("type") != "application/ld+json"]
    for script in scripts:
        script.drop_tree()  # keeps the tail text
    etree.strip_elements(tree, *_INERT_TAGS, with_tail=False)
    if furniture:
        etree.strip_elements(tree, *_FURNITURE_TAGS, with_tail=False)
    for element in _unseen_and_promos(tree):  # on what is left: fewer elements to test
        element.drop_tree()


def looks_like_html(content: str) -> bool:
    """Whether content is HTML: a known tag in its first few kilobytes."""
    return _HTML_SNIFF_RE.search(content, 0, _SNIFF_CHARS) is not None
