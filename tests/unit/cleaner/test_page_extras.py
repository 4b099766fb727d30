"""What the cleaner adds to trafilatura's text (the standfirst, key points) and what it
removes from the page first (text never on screen, teaser cards)."""

from __future__ import annotations

import pytest

from services.cleaner.core import clean_html
from services.cleaner.htmlpage import drop_inert, parse_html
from services.cleaner.standfirst import missing_standfirst

TITLE = "Harbour quay opens after two years of works"
STORY = [
    f"Paragraph {n}: the harbour authority said on Monday that the new quay would open "
    f"in spring, after two years of works and a long dispute over the costs of dredging."
    for n in range(6)
]
STORY_HTML = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
SUMMARY = "The quay cost twice its budget, but shipping lines say it was worth the wait"


def page(header: str = "", body: str = STORY_HTML, head: str = "") -> str:
    return (
        f"<html><head><title>{TITLE}</title>{head}</head><body>"
        f"<header>{header}</header><main><article>{body}</article></main></body></html>"
    )


def paragraphs(html: str) -> list[str]:
    return clean_html(html, "https://port.example/quay").text.split("\n\n")


# --- standfirst --------------------------------------------------------------------


def test_dek_after_the_headline_leads_the_text() -> None:
    result = paragraphs(page(f"<h1>{TITLE}</h1><h2>{SUMMARY}</h2>"))

    assert result[0] == SUMMARY
    assert result[1:] == STORY


def test_description_shown_in_the_page_leads_the_text() -> None:
    head = f'<meta name="description" content="{SUMMARY}.">'
    header = f'<h1>{TITLE}</h1><div class="byline">By Jane Doe</div><div><p>{SUMMARY}.</p></div>'

    assert paragraphs(page(header, head=head))[0] == f"{SUMMARY}."


def test_description_the_page_does_not_show_is_not_added() -> None:
    head = f'<meta name="description" content="{SUMMARY}.">'

    assert paragraphs(page(f"<h1>{TITLE}</h1>", head=head)) == STORY


def test_description_shown_only_as_a_teaser_link_is_not_added() -> None:
    head = f'<meta name="description" content="{SUMMARY}.">'
    teaser = f'<div class="card"><a href="/quay"><p>{SUMMARY}.</p></a></div>'

    assert paragraphs(page(f"<h1>{TITLE}</h1>", body=STORY_HTML + teaser, head=head))[0] != (
        f"{SUMMARY}."
    )


def test_headline_repeated_in_an_h2_is_not_a_dek() -> None:
    repeat = f"<h2>{TITLE}: what it means for the ferries</h2>"
    head = f'<meta property="og:title" content="{TITLE}: what it means for the ferries">'

    assert paragraphs(page(f"<h1>{TITLE}</h1>{repeat}", head=head)) == STORY


@pytest.mark.parametrize(
    "line",
    [
        "<p>By Jane Doe and John Smith, harbour correspondents in the city</p>",
        "<p>Monday 4 March 2024, 17:00 GMT (18:00 CET)</p>",
        '<p>Photo gallery: <a href="/photos">the new quay from the air and the sea</a></p>',
    ],
)
def test_byline_date_or_link_after_the_headline_is_not_a_dek(line: str) -> None:
    assert paragraphs(page(f"<h1>{TITLE}</h1>{line}")) == STORY


def test_standfirst_already_in_the_text_is_not_repeated() -> None:
    tree = parse_html(page(f"<h1>{TITLE}</h1><h2>{SUMMARY}</h2>"))
    assert tree is not None

    assert missing_standfirst(tree, None, [SUMMARY, *STORY]) == []
    assert missing_standfirst(tree, None, STORY) == [SUMMARY]


def test_key_points_list_is_added_as_one_paragraph() -> None:
    points = ["The quay opens in spring", "It cost twice its budget", "Ferries move there in May"]
    box = (
        '<div class="key-points"><div class="label">Key Points</div><div><ul>'
        + "".join(f"<li>{point}</li>" for point in points)
        + "</ul></div></div>"
    )

    assert paragraphs(page(f"<h1>{TITLE}</h1>{box}"))[0] == "\n".join(points)


def test_unlabelled_list_and_list_of_links_are_not_key_points() -> None:
    menu = '<ul><li><a href="/a">The quay opens in spring today</a></li></ul>'
    unlabelled = f"<ul><li>{SUMMARY}</li></ul>"
    tree = parse_html(page(f"<h1>{TITLE}</h1><div>Key points</div>{menu}{unlabelled}"))
    assert tree is not None

    assert missing_standfirst(tree, None, STORY) == []


# --- removed before extraction -----------------------------------------------------


def _dropped(html: str) -> str:
    tree = parse_html(html)
    assert tree is not None
    drop_inert(tree, furniture=True)
    return " ".join(piece for text in tree.itertext() if (piece := " ".join(text.split())))


def test_hidden_and_screen_reader_text_is_dropped() -> None:
    text = _dropped(
        "<html><body><p>Visible story text.</p>"
        "<div hidden><h3>Subscribe to bookmark this article</h3></div>"
        '<h2><span class="sr-only">Quay opens</span><a href="/q">Quay opens</a></h2>'
        '<a class="skip screen-reader-text" href="#main">Skip to content</a>'
        '<p class="not-sr-only-here">Kept: not the class itself.</p></body></html>'
    )

    assert text == "Visible story text. Quay opens Kept: not the class itself."


def test_text_hidden_until_found_is_kept() -> None:
    # Collapsed sections that the browser opens on a find or a link: part of the story.
    text = _dropped(
        '<html><body><p>Visible story text.</p><div hidden="until-found">'
        "<p>The rest of the story, folded.</p></div></body></html>"
    )

    assert text == "Visible story text. The rest of the story, folded."


def test_promo_card_with_a_summary_is_dropped_but_not_the_story() -> None:
    card = (
        '<div class="promo"><h3><a href="/other">Ferry fares rise again</a></h3>'
        "<p>Operators blame the price of fuel and the new harbour dues.</p></div>"
    )
    story = f'<div class="promo-layout"><h1>{TITLE}</h1>{STORY_HTML}</div>'

    text = _dropped(f"<html><body>{story}{card}</body></html>")

    assert "Ferry fares" not in text
    assert "harbour dues" not in text
    assert STORY[0] in text  # the wrapper holding the headline stays


def test_short_story_in_a_promotion_wrapper_stays() -> None:
    story = (
        f'<div class="promotion-enabled"><p><a href="/ferries">Ferries</a> move in May.</p>'
        f"{''.join(f'<p>{paragraph[:60]}</p>' for paragraph in STORY[:3])}</div>"
    )

    assert "Ferries move in May." in _dropped(f"<html><body>{story}</body></html>")


def test_promo_block_of_links_only_is_left_to_trafilatura() -> None:
    links = '<div class="most-read__promos"><a href="/a">One</a> <a href="/b">Two</a></div>'

    assert _dropped(f"<html><body><h3>Most read</h3>{links}</body></html>") == "Most read One Two"


def test_promo_summary_does_not_reach_the_article() -> None:
    card = (
        '<ps-promo class="promo promo-small"><div class="promo-title"><a href="/b">'
        'Ferry fares rise again</a></div><p class="promo-description">Operators blame '
        "the price of fuel and the new harbour dues, which rose in January.</p></ps-promo>"
    )
    body = "".join(STORY_HTML.split("</p>", 3)[:3]) + "</p>" + card
    body += "".join(f"<p>{paragraph}</p>" for paragraph in STORY[3:])

    text = clean_html(page(f"<h1>{TITLE}</h1>", body=body)).text

    assert "harbour dues" not in text
    assert STORY[5] in text
