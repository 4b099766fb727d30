"""The article metadata added for de-duplication and display: URLs, dates, image, tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.cli import main as newsflow_main
from services.cleaner.core import MAX_PAGE_CHARS, NotAnArticle, clean, clean_html
from services.cleaner.htmlpage import drop_inert, parse_html, read_page_meta

BODY = "".join(
    f"<p>Paragraph {n}: the harbour authority said on Monday that the new quay would "
    f"open in spring, after two years of works and a long dispute over costs.</p>"
    for n in range(4)
)


def html(head: str, body: str = BODY) -> str:
    return (
        f"<html><head><title>Quay opens</title>{head}</head>"
        f"<body><article>{body}</article></body></html>"
    )


def json_ld(document: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(document)}</script>'


def test_canonical_link_wins_over_og_url_and_is_resolved() -> None:
    page = html(
        '<meta property="og:url" content="https://port.example/og">'
        '<link rel="canonical" href="/news/quay">'
    )

    article = clean_html(page, "https://port.example/news/quay?utm_source=x")

    assert article.canonical_url == "https://port.example/news/quay"


def test_og_url_is_the_fallback_and_odd_schemes_are_dropped() -> None:
    og = html('<meta property="og:url" content="https://port.example/og">')
    odd = html('<link rel="canonical" href="javascript:void(0)">')

    assert clean_html(og).canonical_url == "https://port.example/og"
    assert clean_html(odd, "https://port.example/").canonical_url is None


def test_modified_time_from_meta_or_json_ld() -> None:
    meta = html('<meta property="article:modified_time" content="2024-03-02T08:30:00+01:00">')
    ld = html(json_ld({"@graph": [{"@type": "NewsArticle", "dateModified": "2024-03-03"}]}))

    assert clean_html(meta).modified_at == datetime(2024, 3, 2, 7, 30, tzinfo=UTC)
    assert clean_html(ld).modified_at == datetime(2024, 3, 3, tzinfo=UTC)
    assert clean_html(html("")).modified_at is None


def test_top_image_is_og_image_made_absolute() -> None:
    page = html('<meta property="og:image" content="//cdn.port.example/quay.jpg">')

    assert (
        clean_html(page, "https://port.example/a").top_image == "https://cdn.port.example/quay.jpg"
    )


def test_tags_from_article_tag_news_keywords_and_json_ld() -> None:
    page = html(
        '<meta property="article:tag" content="Ports, harbours and docks">'
        '<meta property="article:tag" content="Maritime">'
        '<meta name="news_keywords" content="Shipping, harbour authority">'
        '<meta name="keywords" content="news, cheap flights, best deals">'
        + json_ld({"@type": "NewsArticle", "keywords": ["Infrastructure", "shipping"]})
    )

    # one tag per article:tag and per JSON-LD list item (commas kept); lists split;
    # duplicates by case dropped; the catch-all keywords meta ignored when others exist
    assert clean_html(page).tags == [
        "Ports, harbours and docks",
        "Maritime",
        "Shipping",
        "harbour authority",
        "Infrastructure",
    ]


def test_a_lone_article_tag_may_hold_a_list() -> None:
    page = html('<meta property="article:tag" content="Health,Mental health,Society">')

    assert clean_html(page).tags == ["Health", "Mental health", "Society"]


def test_keywords_meta_is_the_fallback_for_tags() -> None:
    page = html('<meta name="keywords" content="ports, quay">' + json_ld({"keywords": "  "}))

    assert clean_html(page).tags == ["ports", "quay"]


def test_drop_inert_keeps_text_and_json_ld() -> None:
    tree = parse_html(
        "<html><head><style>p{}</style>"
        + json_ld({"datePublished": "2024-03-01"})
        + "</head><body><p>before <script>track()</script>after</p><svg><text>x</text></svg>"
        "<noscript>enable js</noscript></body></html>"
    )
    assert tree is not None

    drop_inert(tree, furniture=True)

    text = tree.text_content()
    assert "before after" in text
    assert "track" not in text
    assert "enable js" not in text
    assert "p{}" not in text
    assert read_page_meta(tree).published_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_a_page_too_large_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle, match="page too large"):
        clean("<html>" + " " * MAX_PAGE_CHARS + "</html>")


def test_extract_command_prints_the_new_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "quay.html"
    page.write_text(
        html(
            '<link rel="canonical" href="https://port.example/quay">'
            '<meta property="article:modified_time" content="2024-03-02T08:30:00Z">'
        ),
        encoding="utf-8",
    )

    status = newsflow_main(["extract", str(page)])

    record = json.loads(capsys.readouterr().out)
    assert status == 0
    assert record["canonical_url"] == "https://port.example/quay"
    assert record["modified_at"] == "2024-03-02T08:30:00+00:00"
    assert len(record["simhash"]) == 16
    assert len(record["content_hash"]) == 64
    assert record["extraction_method"] == "trafilatura"
