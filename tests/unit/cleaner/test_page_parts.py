"""Helpers behind clean_html: titles, page metadata, trafilatura's tree, sniffing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.extraction import body_paragraphs
from services.cleaner.htmlpage import (
    language_code,
    looks_like_html,
    parse_datetime,
    parse_html,
    read_page_meta,
)
from services.cleaner.titles import (
    drop_title_repeats,
    host_label,
    strip_site_name,
    title_from_text,
)


@pytest.mark.parametrize(
    ("title", "sites", "expected"),
    [
        ("Storm hits coast | The Daily Planet", ["The Daily Planet"], "Storm hits coast"),
        ("Storm hits coast - Daily Planet", [None, "dailyplanet"], "Storm hits coast"),
        ("Storm hits coast — THE GUARDIAN", ["the Guardian"], "Storm hits coast"),
        ("The Daily Planet | Storm hits coast", ["The Daily Planet"], "Storm hits coast"),
        ("لافروف يطلب مشاركة | الخليج الجديد", ["الخليج الجديد"], "لافروف يطلب مشاركة"),
        # the part after the separator is not the site: the title stays whole
        ("Biden - Trump: what next", ["The Daily Planet"], "Biden - Trump: what next"),
        ("Storm hits coast | Weather", ["The Daily Planet"], "Storm hits coast | Weather"),
        ("Storm hits coast | The Daily Planet", [], "Storm hits coast | The Daily Planet"),
    ],
)  # fmt: skip
def test_strip_site_name(title: str, sites: list[str | None], expected: str) -> None:
    assert strip_site_name(title, sites) == expected


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.theguardian.com/world/2024", "theguardian"),
        ("https://www.bbc.co.uk/news/x", "bbc"),
        ("https://edition.cnn.com/2024/x", "cnn"),
        ("https://www.lemonde.fr/", "lemonde"),
        (None, None),
        ("not a url", None),
    ],
)
def test_host_label(url: str | None, label: str | None) -> None:
    assert host_label(url) == label


def test_drop_title_repeats_ignores_case_and_punctuation() -> None:
    paragraphs = ["Storm Hits Coast.", "storm hits coast", "The story starts here."]

    assert drop_title_repeats(paragraphs, ["Storm hits coast", None]) == ["The story starts here."]


def test_drop_title_repeats_takes_the_kicker_above_the_title() -> None:
    paragraphs = ["Festival de Valdemora", "Las horas quietas gana", "El certamen cierra."]

    assert drop_title_repeats(paragraphs, ["Las horas quietas gana"]) == ["El certamen cierra."]


def test_drop_title_repeats_at_the_end() -> None:
    paragraphs = ["The story starts here.", "Storm hits coast", "It ends here.", "Storm Hits Coast"]

    assert drop_title_repeats(paragraphs, ["Storm hits coast"]) == paragraphs[:3]


def test_drop_title_repeats_leaves_a_title_quoted_later() -> None:
    paragraphs = ["The story starts here.", "Storm hits coast", "More story."]

    assert drop_title_repeats(paragraphs, ["Storm hits coast"]) == paragraphs


def test_title_from_text_keeps_a_short_first_sentence() -> None:
    assert title_from_text("Rain is back. It will last all week.") == "Rain is back."


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("ar", "ar"), ("ar-SA", "ar"), ("ar_AR", "ar"), ("AR", "ar"), ("en-GB", "en"),
        ("fr_FR", "fr"), ("ara", "ar"), ("fre", "fr"), ("iw", "he"), (" fr ", "fr"),
        ("", None), (None, None), ("x-default", None), ("*", None), ("english", None),
    ],
)  # fmt: skip
def test_language_code(raw: str | None, code: str | None) -> None:
    assert language_code(raw) == code


@pytest.mark.parametrize(
    ("head", "html_attributes", "expected"),
    [
        ("", 'lang="ar"', "ar"),
        ('<meta property="og:locale" content="fr_FR">', "", "fr"),
        ('<meta http-equiv="content-language" content="ar, en">', "", "ar"),
        ('<meta property="og:locale" content="fr_FR">', 'lang="en-US"', "en"),
        ("", "", None),
    ],
)
def test_language_hint_sources(head: str, html_attributes: str, expected: str | None) -> None:
    tree = parse_html(f"<html {html_attributes}><head>{head}</head><body><p>x</p></body></html>")

    assert tree is not None
    assert read_page_meta(tree).language == expected


PLUS_3 = timezone(timedelta(hours=3))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2016-09-17T14:30:00+03:00", datetime(2016, 9, 17, 14, 30, tzinfo=PLUS_3)),
        ("2023-11-02T08:15:00Z", datetime(2023, 11, 2, 8, 15, tzinfo=UTC)),
        ("2023-11-02T08:15:00", datetime(2023, 11, 2, 8, 15, tzinfo=UTC)),
        ("2023-11-02", datetime(2023, 11, 2, tzinfo=UTC)),
        ("2024-02-28T13:06:44.083593Z", datetime(2024, 2, 28, 13, 6, 44, 83593, tzinfo=UTC)),
        ("Tue, 27 Feb 2024 10:00:00 GMT", datetime(2024, 2, 27, 10, 0, tzinfo=UTC)),
        ("0001-01-01T00:00:00", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_parse_datetime(raw: str | None, expected: datetime | None) -> None:
    parsed = parse_datetime(raw)

    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


def test_page_meta_prefers_og_title_over_truncated_twitter_title() -> None:
    tree = parse_html(
        '<html><head><meta name="twitter:title" content="Storm hits co">'
        '<meta property="og:title" content="Storm hits coast"></head><body></body></html>'
    )

    assert tree is not None
    assert read_page_meta(tree).og_title == "Storm hits coast"


def test_page_meta_h1_inside_article_beats_logo() -> None:
    tree = parse_html(
        "<html><body><header><h1>Daily Planet</h1></header>"
        "<article><h1>Storm\n   hits coast</h1><p>x</p></article></body></html>"
    )

    assert tree is not None
    assert read_page_meta(tree).h1 == "Storm hits coast"


def test_published_time_from_json_ld_graph() -> None:
    tree = parse_html(
        '<html><head><script type="application/ld+json">{"@graph": [{"@type": "WebPage"},'
        '{"@type": "NewsArticle", "datePublished": "2024-03-01T11:00:00+00:00"}]}</script>'
        '<script type="application/ld+json">{broken</script></head><body></body></html>'
    )

    assert tree is not None
    assert read_page_meta(tree).published_at == datetime(2024, 3, 1, 11, tzinfo=UTC)


def _tree(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_body_paragraphs_keep_blocks_apart() -> None:
    body = _tree(
        "<body><head rend='h2'>Subheading</head><p>First <hi rend='#b'>bold</hi> words.</p>"
        "<p>Line one<lb/>line two</p>"
        "<list><item>Apples</item><item>Pears <ref target='x'>here</ref></item></list>"
        "<quote><p>Quoted one.</p><p>Quoted two.</p></quote>"
        "<table><row><cell>Name</cell><cell>Role</cell></row>"
        "<row><cell>Jane</cell><cell>CEO</cell></row></table>"
        "<graphic src='x.jpg'/><p>  </p><p>Last &amp; final.</p></body>"
    )

    assert body_paragraphs(body) == [
        "Subheading",
        "First bold words.",
        "Line one\nline two",
        "Apples\nPears here",
        "Quoted one.",
        "Quoted two.",
        "Name | Role\nJane | CEO",
        "Last & final.",
    ]


@pytest.mark.parametrize(
    ("content", "is_html"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", True),
        ("\ufeff  <html lang='ar'>", True),
        ("<p>Just a fragment</p>", True),
        ("<DIV class='x'>y</DIV>", True),
        ("Plain text that mentions a <pre-release> and x < y > z.", False),
        ("لافروف يطلب مشاركة عسكريين أمريكيين", False),
        ("", False),
    ],
)
def test_looks_like_html(content: str, is_html: bool) -> None:
    assert looks_like_html(content) is is_html
