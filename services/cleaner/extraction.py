"""trafilatura, and turning its output tree into paragraphs.

trafilatura's plain-text output separates every block with a single newline, so a
subheading cannot be told from a paragraph break or a ``<br>``. Its XML body tree
does keep ``<head>`` (subheadings), ``<p>``, ``<list>``, ``<quote>`` and
``<table>`` apart, so the text is rebuilt from that tree, one paragraph per block.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import trafilatura
from htmldate import find_date
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.json_metadata import (
    JSON_UNICODE_REPLACE,
    extract_json,
    extract_json_parse_error,
)
from trafilatura.metadata import (
    JSON_MINIFY,
    examine_meta,
    extract_author,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import HTML_STRIP_TAGS, trim

from services.cleaner.normalize import normalize

__all__ = [
    "EXTRACTION_MODES",
    "Attempt",
    "Metadata",
    "Mode",
    "baseline_attempt",
    "body_paragraphs",
    "extract_with",
    "page_metadata",
]

# Tags of trafilatura's output format (not HTML) that stand on their own line.
_BLOCK_TAGS = frozenset({"p", "head", "quote", "list", "item", "table", "row", "code", "div"})
_CONTAINER_TAGS = frozenset({"quote", "div"})


@dataclass(frozen=True, slots=True)
class Metadata:
    """trafilatura's reading of the page metadata (meta tags, JSON-LD, htmldate)."""

    title: str | None
    description: str | None
    author: str | None
    date: str | None
    site_name: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One extraction strategy's result: ``method`` names it in the output."""

    method: str
    paragraphs: list[str]


def _site_name(document: Document) -> str | None:
    # as trafilatura.extract_metadata tidies it: "@handle" -> "handle", "bbc" -> "Bbc"
    name = (document.sitename or "").lstrip("@") or None
    if name and "." not in name and not name[0].isupper():
        name = name.title()
    return name


_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_JSON_SCRIPTS = etree.XPath(
    './/script[@type="application/ld+json" or @type="application/settings+json"]'
)


def _normalize_json(string: str) -> str:
    """``trafilatura.json_metadata.normalize_json``, with its filter of lone surrogates
    as one pattern instead of a Python test per character: JSON-LD that holds a whole
    article body made that filter about 3% of a page's time."""
    if "\\" in string:
        string = string.replace("\\n", "").replace("\\r", "").replace("\\t", "")
        string = JSON_UNICODE_REPLACE.sub(lambda match: chr(int(match[1], 16)), string)
        string = _SURROGATE_RE.sub("", string)
        string = html.unescape(string)
    return trim(HTML_STRIP_TAGS.sub("", string))


def _json_ld_metadata(tree: HtmlElement, document: Document) -> Document:
    """``trafilatura.metadata.extract_meta_json`` with the quicker ``_normalize_json``,
    and its minifying pass (half the cost) only for JSON that does not parse without
    it: in JSON that parses, the whitespace it removes lies outside strings."""
    for script in _JSON_SCRIPTS(tree):
        if not script.text:
            continue
        with contextlib.suppress(json.JSONDecodeError):
            schema = json.loads(_normalize_json(script.text), strict=False)
            document = extract_json(schema, document)
            continue
        text = _normalize_json(JSON_MINIFY.sub(r"\1", script.text))
        try:
            document = extract_json(json.loads(text, strict=False), document)
        except json.JSONDecodeError:
            document = extract_json_parse_error(text, document)
    return document


def page_metadata(tree: HtmlElement, url: str | None, *, with_date: bool) -> Metadata:
    """trafilatura's metadata reading without the parts the cleaner does not use.

    ``trafilatura.extract_metadata`` also collects categories, tags and the licence
    from every link of the page and always runs htmldate, which together cost more
    than the extraction of the text; ``with_date`` runs htmldate only when the page's
    own date markup (read by :mod:`services.cleaner.htmlpage`) gave nothing.
    """
    document = examine_meta(tree)
    if document.author and " " not in document.author:  # a handle, not a name
        document.author = None
    # trafilatura's JSON-LD reader trips on odd documents; the meta tags remain
    with contextlib.suppress(Exception):
        document = _json_ld_metadata(tree, document)
    document.title = document.title or extract_title(tree)
    document.author = document.author or extract_author(tree)
    document.sitename = document.sitename or extract_sitename(tree)
    date_params = {**set_date_params(True), "url": document.url or url}
    date = find_date(tree, **date_params) if with_date else None
    return Metadata(
        title=document.title,
        description=document.description,
        author=document.author,
        date=date,
        site_name=_site_name(document),
    )


def _inline_text(element: Any) -> str:
    """Text of one block; ``<lb/>`` and nested blocks become line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag in _BLOCK_TAGS:
            parts.append(f"\n{_inline_text(child)}\n")
        else:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _table_text(table: Any) -> str:
    rows = (
        " | ".join(normalize(_inline_text(cell)) for cell in row if cell.tag == "cell")
        for row in table.iter("row")
    )
    return "\n".join(row for row in rows if row.strip(" |"))


def _block_texts(element: Any) -> Iterator[str]:
    if element.tag == "list":
        items = (normalize(_inline_text(item)) for item in element if item.tag == "item")
        yield "\n".join(item for item in items if item)
    elif element.tag == "table":
        yield _table_text(element)
    elif element.tag in _CONTAINER_TAGS and any(c.tag in _BLOCK_TAGS for c in element):
        yield from _children_texts(element)  # a quote of several paragraphs
    elif element.tag != "graphic":
        yield _inline_text(element)


def _children_texts(element: Any) -> Iterator[str]:
    yield element.text or ""
    for child in element:
        yield from _block_texts(child)
        yield child.tail or ""


def body_paragraphs(body: Any) -> list[str]:
    """Paragraphs of a trafilatura body tree, in order, normalised, without empties."""
    texts = (normalize(text) for text in _children_texts(body))
    return [text for text in texts if text]


def _trafilatura(
    tree: HtmlElement,
    url: str | None,
    *,
    fast: bool,
    precision: bool = False,
    recall: bool = False,
) -> list[str]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=precision,
        favor_recall=recall,
        with_metadata=False,  # read once by page_metadata(), not per attempt
        output_format="xml",  # only the body tree is read: no plain-text rendering
        include_comments=False,
        include_tables=True,
    )
    return body_paragraphs(document.body) if isinstance(document, Document) else []


@dataclass(frozen=True, slots=True)
class Mode:
    """One way of running trafilatura; ``method`` names it in the output."""

    method: str
    fast: bool  # skip the comparison with readability and jusText
    precision: bool = False
    recall: bool = False
    rescue_only: bool = False  # only when no earlier mode found an article at all


# From the cheapest and most precise to the most inclusive: the caller stops at the
# first good enough result. Precision mode comes first because it scores better on
# news pages (less boilerplate for nearly the same recall). Its fast variant skips
# trafilatura's comparison with readability and jusText, which costs more than the
# extraction itself and changes nothing on nearly every news page; the full variant
# rescues pages where the fast one finds next to nothing (it changes nothing where the
# fast one found part of the story, which the balanced and recall modes extend).
EXTRACTION_MODES = (
    Mode("trafilatura", fast=True, precision=True),
    Mode("trafilatura", fast=False, precision=True, rescue_only=True),
    Mode("trafilatura-fallback", fast=False),
    Mode("trafilatura-fallback", fast=False, recall=True),
)


def extract_with(tree: HtmlElement, url: str | None, mode: Mode) -> Attempt:
    paragraphs = _trafilatura(
        tree, url, fast=mode.fast, precision=mode.precision, recall=mode.recall
    )
    return Attempt(mode.method, paragraphs)


def baseline_attempt(tree: HtmlElement) -> Attempt:
    """Last resort, trafilatura's baseline: JSON-LD articleBody, <article>, or all <p>.

    Not one of the :data:`EXTRACTION_MODES` because it takes any prose on the page
    (comments, teasers), so it is only worth it when those found nothing.
    """
    body, _text, _length = trafilatura.baseline(tree)
    return Attempt("trafilatura-baseline", body_paragraphs(body))
