"""The cleaner's JSON-LD metadata reader reads exactly what trafilatura's does."""

from __future__ import annotations

import pytest
from trafilatura.json_metadata import normalize_json
from trafilatura.metadata import extract_meta_json
from trafilatura.settings import Document

from services.cleaner.extraction import _json_ld_metadata, _normalize_json
from services.cleaner.htmlpage import parse_html

JSON_TEXTS = [
    '{"headline": "Plain"}',
    '{"headline": "Escaped \\u00e9t\\u00e9 and \\ud83d\\ude00 and a lone \\ud83d end"}',
    '{"headline": "Breaks\\n\\r\\tgone", "url": "https:\\/\\/example.org\\/a"}',
    '{"headline": "Entities &amp; <b>tags</b> \\"quoted\\""}',
    '{"headline": "Raw lone surrogate \ud800 here\\\\"}',
    '{"headline": "هدنة في سوريا \\u0627"}',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_normalize_json_as_trafilatura(text: str) -> None:
    assert _normalize_json(text) == normalize_json(text)


PAGES = [
    """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "NewsArticle",
     "headline": "Lavrov and Kerry \\u2013 ceasefire",
     "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "عمر"}],
     "publisher": {"@type": "Organization", "name": "Example News"},
     "articleSection": "World", "description": "A summary &amp; more"}
    </script></head><body><p>x</p></body></html>""",
    # no-break spaces between tokens
    """<html><head><script type="application/ld+json">
    {\u00a0"@context": "https://schema.org",\u00a0"@type": "NewsArticle",
     "headline":\u00a0"Spaced out", "author": {"@type": "Person", "name": "Ann Lee"}}
    </script></head><body><p>x</p></body></html>""",
    # broken JSON: trafilatura's regular expressions read what they can, once minified
    """<html><head><script type="application/ld+json">
    {"@type": "Article", "author" : {"@type" : "Person", "name" : "John Smith"},
     "headline": "Broken" "publisher": {"name" : "Broken Daily"}
    </script></head><body><p>x</p></body></html>""",
    """<html><head><script type="application/ld+json">
    [{"@context": "https://schema.org", "@type": "WebSite", "name": "List Site"},
     {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "In a list",
      "author": {"@type": "Person", "name": "Ann Lee"}}]
    </script></head><body><p>x</p></body></html>""",
]


@pytest.mark.parametrize("page", PAGES)
def test_json_ld_metadata_as_trafilatura(page: str) -> None:
    tree = parse_html(page)
    assert tree is not None

    ours = _json_ld_metadata(tree, Document())
    theirs = extract_meta_json(tree, Document())

    assert _fields(ours) == _fields(theirs)
    assert ours.title or ours.author  # the page's JSON-LD was read at all


def _fields(document: Document) -> dict[str, object]:
    return {k: v for k, v in document.as_dict().items() if k not in ("body", "commentsbody")}
