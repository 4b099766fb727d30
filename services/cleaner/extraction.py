"""trafilatura, and turning its output tree into paragraphs.

trafilatura's plain-text output separates every block with a single newline, so a
subheading cannot be told from a paragraph break or a ``<br>``. Its XML body tree
does keep ``<head>`` (subheadings), ``<p>``, ``<list>``, ``<quote>`` and
``<table>`` apart, so the text is rebuilt from that tree, one paragraph per block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]
from trafilatura.settings import Document

from services.cleaner.normalize import normalize

__all__ = [
    "Attempt",
    "Metadata",
    "baseline_attempt",
    "body_paragraphs",
    "extraction_attempts",
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


def page_metadata(tree: HtmlElement, url: str | None) -> Metadata:
    document = trafilatura.extract_metadata(tree, default_url=url)
    return Metadata(
        title=document.title,
        description=document.description,
        author=document.author,
        date=document.date,
        site_name=document.sitename,
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
    tree: HtmlElement, url: str | None, *, precision: bool = False, recall: bool = False
) -> list[str]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precision,
        favor_recall=recall,
        with_metadata=False,  # read once by page_metadata(), not per attempt
        include_comments=False,
        include_tables=True,
    )
    return body_paragraphs(document.body) if isinstance(document, Document) else []


def extraction_attempts(tree: HtmlElement, url: str | None) -> Iterator[Attempt]:
    """trafilatura's modes from the most precise to the most inclusive, lazily:
    the caller stops at the first good enough result.

    Precision mode comes first because it scores better on news pages (less
    boilerplate for nearly the same recall); balanced and recall modes rescue
    pages where it keeps too little.
    """
    yield Attempt("trafilatura", _trafilatura(tree, url, precision=True))
    yield Attempt("trafilatura-fallback", _trafilatura(tree, url))
    yield Attempt("trafilatura-fallback", _trafilatura(tree, url, recall=True))


def baseline_attempt(tree: HtmlElement) -> Attempt:
    """Last resort, trafilatura's baseline: JSON-LD articleBody, <article>, or all <p>.

    Not one of :func:`extraction_attempts` because it takes any prose on the page
    (comments, teasers), so it is only worth it when those found nothing.
    """
    body, _text, _length = trafilatura.baseline(tree)
    return Attempt("trafilatura-baseline", body_paragraphs(body))
