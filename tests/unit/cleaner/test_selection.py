"""Which extraction clean_html keeps, and what it trims from it."""

from __future__ import annotations

import pytest

from services.cleaner import core
from services.cleaner.core import MIN_PROSE_COVERAGE, clean_html
from services.cleaner.extraction import Attempt, Mode
from tests.unit.cleaner.test_core import ENGLISH_PAGE

STORY = [
    f"Paragraph {i} of the council's bridge story, with enough words to count." for i in range(12)
]
PAGE = "<html><head><title>Bridge</title></head><body><article>{}</article></body></html>".format(
    "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
)
PAGE_PROSE = sum(map(len, STORY))


def test_closing_bio_of_the_byline_author_is_dropped() -> None:
    bio = "Jane Doe is the Daily Planet's environment correspondent. Follow her on Mastodon."
    page = ENGLISH_PAGE.replace("</article>", f"<p>{bio}</p></article>")

    text = clean_html(page, "https://planet.example/storm").text

    assert "safely as we can" in text  # the story's last paragraph stays
    assert "Jane Doe is" not in text


def _partial_extraction(tree: object, url: str | None, mode: Mode) -> Attempt:
    # every trafilatura mode finds only the first few paragraphs, as on some live blogs
    return Attempt(mode.method, STORY[:4])


def test_baseline_replaces_a_partial_article_when_it_covers_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert sum(map(len, STORY[:4])) < MIN_PROSE_COVERAGE * PAGE_PROSE
    monkeypatch.setattr(core, "extract_with", _partial_extraction)
    monkeypatch.setattr(core, "baseline_attempt", lambda tree: Attempt("baseline", STORY))

    result = clean_html(PAGE)

    assert result.method == "baseline"
    assert result.text == "\n\n".join(STORY)


def test_partial_article_stays_when_the_baseline_covers_no_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core, "extract_with", _partial_extraction)
    monkeypatch.setattr(core, "baseline_attempt", lambda tree: Attempt("baseline", STORY[:5]))

    result = clean_html(PAGE)

    assert result.text == "\n\n".join(STORY[:4])
