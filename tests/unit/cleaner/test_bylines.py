"""A closing author bio is dropped; the story's own closing paragraphs are not."""

from __future__ import annotations

from services.cleaner.bylines import BIO_MAX_CHARS, strip_author_bio

STORY = [
    "The council approved the bridge on Tuesday after a two-year dispute.",
    "Work starts in May and should take three years, the mayor said.",
    "Residents who opposed the plan said they would appeal.",
]


def test_closing_bio_of_the_byline_author_is_dropped() -> None:
    bio = "Jane Doe is a reporter for Example News. Send tips to jane.doe@example.com."

    assert strip_author_bio([*STORY, bio], ["Jane Doe"]) == STORY


def test_bio_may_use_a_short_first_name_or_a_possessive_site_name() -> None:
    nickname = "Steph Bazzle is a news writer who covers politics."
    possessive = "CNBC's Julia Boorstin is the author of a book about founders."

    assert strip_author_bio([*STORY, nickname], ["Stephanie Bazzle"]) == STORY
    assert strip_author_bio([*STORY, possessive], ["Julia Boorstin"]) == STORY


def test_paragraph_about_someone_else_stays() -> None:
    other = "John Smith is a reporter for Example News."

    assert strip_author_bio([*STORY, other], ["Jane Doe"]) == [*STORY, other]


def test_story_paragraph_naming_the_author_early_in_the_text_stays() -> None:
    # only the last few paragraphs can be a bio, and never the first one
    opening = "Doe is the council's longest-serving member and chairs its transport panel."
    body = [opening, *STORY, *STORY]

    assert strip_author_bio(body, ["Jane Doe"]) == body
    assert strip_author_bio([opening], ["Jane Doe"]) == [opening]


def test_long_closing_paragraph_is_story_not_bio() -> None:
    long_paragraph = "Doe is expected to testify. " + "The hearing continues. " * 40
    assert len(long_paragraph) > BIO_MAX_CHARS

    assert strip_author_bio([*STORY, long_paragraph], ["Jane Doe"]) == [*STORY, long_paragraph]


def test_without_a_full_author_name_nothing_changes() -> None:
    bio = "Staff is a reporter for Example News."

    assert strip_author_bio([*STORY, bio], ["Staff"]) == [*STORY, bio]
    assert strip_author_bio([*STORY, bio], []) == [*STORY, bio]
