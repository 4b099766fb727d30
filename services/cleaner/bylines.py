"""The author's biography that many sites print under an article.

"Jane Doe is a reporter for Example News. Send tips to ..." closes the story on many
news sites, where trafilatura keeps it as the last paragraph: it is about the writer,
not the story (benchmark ground truths leave it out), and it repeats in every article
of that writer, which also blurs near-duplicate fingerprints. The page's byline names
the writer, so a closing paragraph that starts by saying who that writer is, is the bio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["BIO_MAX_CHARS", "strip_author_bio"]

# A bio is a sentence or three; a longer closing paragraph is part of the story.
BIO_MAX_CHARS = 600
# Bios sit at the very end; looking further up would risk a paragraph about a namesake.
_TAIL_PARAGRAPHS = 3
# Words allowed before the surname: first names ("Steph" for a byline's "Stephanie"),
# a possessive site name ("CNBC's Julia Boorstin is ...").
_WORDS_BEFORE_SURNAME = 4
_BIO_VERBS = r"(?:is|was|has been|covers|writes|reports)"
_MIN_SURNAME_CHARS = 3  # initials and particles ("Li" aside) name no one reliably


def _bio_pattern(authors: Sequence[str]) -> re.Pattern[str] | None:
    surnames = {
        words[-1]
        for author in authors
        if len(words := author.split()) >= 2 and len(words[-1]) >= _MIN_SURNAME_CHARS
    }
    if not surnames:
        return None
    names = "|".join(sorted(map(re.escape, surnames)))
    return re.compile(
        rf"(?:\S+\s+){{0,{_WORDS_BEFORE_SURNAME}}}?(?:{names})\s+{_BIO_VERBS}\s",
        re.IGNORECASE,
    )


def strip_author_bio(paragraphs: Sequence[str], authors: Sequence[str]) -> list[str]:
    """``paragraphs`` without a closing biography of one of the (full-name) ``authors``.

    A bio is one of the last few paragraphs, not the first, at most
    :data:`BIO_MAX_CHARS` long, that starts with an author's surname (a few words
    may come first) followed by "is", "was", "has been", "covers", "writes" or
    "reports".
    """
    pattern = _bio_pattern(authors)
    if pattern is None:
        return list(paragraphs)
    tail_start = max(1, len(paragraphs) - _TAIL_PARAGRAPHS)
    return [
        paragraph
        for index, paragraph in enumerate(paragraphs)
        if index < tail_start or len(paragraph) > BIO_MAX_CHARS or pattern.match(paragraph) is None
    ]
