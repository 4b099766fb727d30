"""The standfirst: the summary printed under a headline, which extraction leaves out.

News pages print a sentence or two between the headline and the story (the
standfirst, dek or excerpt) in the page's header block, which trafilatura skips as
header furniture. It belongs at the top of the article (news benchmarks' ground
truths count it as part of the body). Three signs of it, each used when the
extracted text does not already start with it:

1. a sentence-sized ``<h2>`` or ``<p>`` right after the ``<h1>`` headline, the
   markup of a dek in most CMS themes;
2. the meta description shown word for word as one element of the body: most sites
   use their standfirst as the description (a description the page does not
   display, SEO text or a truncated teaser, is never added);
3. a short bulleted summary under a "Key points" label ("Key takeaways", "Points
   clés", "النقاط الرئيسية").

trafilatura works on copies of the tree, so these are read from the same tree after
extraction, and only as far as the extracted text leaves them missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.normalize import fold, normalize_line

__all__ = ["MAX_DEK_CHARS", "MIN_STANDFIRST_WORDS", "missing_standfirst"]

# Shorter descriptions ("Latest news", a kicker) are too likely to match some label.
MIN_STANDFIRST_WORDS = 6
# A dek is a sentence or two; a longer block after the headline is the story itself.
MAX_DEK_CHARS = 400
_DEK_TAGS = frozenset({"h2", "p"})
# Neither a byline ("By Jane Doe") nor a dateline ("Updated 4 March") is a summary.
_NOT_A_DEK_RE = re.compile(r"(?:by|updated|published|posted)\b", re.IGNORECASE)
# An extracted summary sits at the top of the text: no need to fold all of it.
_HEAD_PARAGRAPHS = 5
# Levels above the text node that holds the needle: inline markup (<em>, <a>, <span>)
# may split the summary, so its element can sit a little higher.
_MAX_LEVELS_UP = 3
_WORD_RE = re.compile(r"\w+")
_LETTER_WORD_RE = re.compile(r"[^\W\d_]{2,}")  # a word of letters, in any script
# Text nodes of the body holding the needle, found in C rather than by walking the tree.
_TEXT_WITH_NEEDLE = etree.XPath("descendant::body/descendant::text()[contains(., $needle)]")

# Labels of a bulleted summary, as fold() leaves them.
_KEY_POINTS_LABELS = frozenset(
    fold(label)
    for label in (
        "Key points", "Key takeaways", "Takeaways", "At a glance", "In brief",
        "Points clés", "L'essentiel", "À retenir", "En bref",
        "النقاط الرئيسية", "أبرز النقاط", "باختصار",
    )
)  # fmt: skip
_MAX_LABEL_CHARS = 40
# How far above a list its label may sit: the list is often wrapped a few times over.
_LABEL_LEVELS_UP = 3
_MAX_KEY_POINTS = 6
_MIN_KEY_POINT_WORDS = 4


def _needle(description: str) -> str:
    """The description's longest word: rare on the page, and never split by whitespace
    or inline tags the way a phrase can be."""
    words: list[str] = _WORD_RE.findall(description)
    return max(words, key=len)


def _text_owner(text: etree._ElementUnicodeResult) -> HtmlElement | None:
    owner = text.getparent()
    if owner is not None and text.is_tail:  # a tail belongs to its element's parent
        owner = owner.getparent()
    return owner if isinstance(owner, HtmlElement) else None


def _element_showing(element: HtmlElement | None, key: str) -> HtmlElement | None:
    """``element`` or a close ancestor whose whole text folds to ``key``."""
    for _ in range(_MAX_LEVELS_UP + 1):
        if element is None:
            return None
        shown = fold(element.text_content())
        if shown == key:
            return element
        if len(shown) > len(key):
            return None  # a larger block that holds the summary and more
        element = element.getparent()
    return None


def _in_link(element: HtmlElement) -> bool:
    # a teaser card for this article (in a "related" list, say) is not the summary
    return element.tag == "a" or any(True for _ in element.iterancestors("a"))


def _shown_description(tree: HtmlElement, description: str) -> str | None:
    """The meta description as the page shows it in its body, or None.

    Only an element whose whole text is the description (case, punctuation and
    spacing aside), outside any link, counts.
    """
    if len(key := fold(description).split()) < MIN_STANDFIRST_WORDS:
        return None
    wanted = " ".join(key)
    for text in _TEXT_WITH_NEEDLE(tree, needle=_needle(description)):
        element = _element_showing(_text_owner(text), wanted)
        if element is not None and not _in_link(element):
            return normalize_line(element.text_content())
    return None


def _dek_after_headline(tree: HtmlElement) -> str | None:
    """The text of the ``<h2>``/``<p>`` just after the first ``<h1>``, when it reads as a
    summary: a sentence or two, not a byline or a dateline, not a link."""
    headline = next((h1 for h1 in tree.iter("h1") if h1.text_content().strip()), None)
    dek = headline.getnext() if headline is not None else None
    if dek is None or dek.tag not in _DEK_TAGS or next(dek.iter("a"), None) is not None:
        return None
    text = normalize_line(dek.text_content())
    if len(text) > MAX_DEK_CHARS or len(_LETTER_WORD_RE.findall(text)) < MIN_STANDFIRST_WORDS:
        return None  # too long, or too few words: a date and time ("Monday 4 March 2024 17:00")
    return None if _NOT_A_DEK_RE.match(text) else text


def _is_key_points_label(element: HtmlElement | None) -> bool:
    """A bit of text (maybe in a <strong> or beside an icon) reading "Key points"."""
    if element is None or not isinstance(element.tag, str) or len(element) > 2:
        return False
    if any(len(child) for child in element):  # a label holds text, not blocks
        return False
    text = element.text_content()
    return len(text) <= _MAX_LABEL_CHARS and fold(text) in _KEY_POINTS_LABELS


def _is_labelled(bullets: HtmlElement) -> bool:
    """Whether a "Key points" label comes just before the list or before a wrapper
    of it a few levels up."""
    node: HtmlElement | None = bullets
    for _ in range(_LABEL_LEVELS_UP + 1):
        if node is None:
            return False
        if _is_key_points_label(node.getprevious()):
            return True
        node = node.getparent()
    return False


def _mostly_links(element: HtmlElement) -> bool:
    linked = sum(len(a.text_content()) for a in element.iter("a"))
    return linked > len(element.text_content()) / 2


def _key_points(tree: HtmlElement) -> str | None:
    """The items of a labelled bulleted summary ("Key points"), one per line, or None.

    Only a short list of sentences counts, not a list of links (a "Takeaways" menu).
    Found from the page's few lists rather than by testing every element for a label.
    """
    for bullets in tree.iter("ul", "ol"):
        if not _is_labelled(bullets) or _mostly_links(bullets):
            continue
        items = [text for li in bullets.iter("li") if (text := normalize_line(li.text_content()))]
        if 0 < len(items) <= _MAX_KEY_POINTS and all(
            len(item.split()) >= _MIN_KEY_POINT_WORDS for item in items
        ):
            return "\n".join(items)
    return None


def _candidates(tree: HtmlElement, description: str | None, head: str) -> Iterator[str | None]:
    dek = _dek_after_headline(tree)
    yield dek
    # the description is only looked for when neither the text nor the dek holds it
    if description and (key := fold(description)) not in head and key not in fold(dek or ""):
        yield _shown_description(tree, description)
    yield _key_points(tree)


def missing_standfirst(
    tree: HtmlElement,
    description: str | None,
    paragraphs: Sequence[str],
    titles: Iterable[str | None] = (),
) -> list[str]:
    """The page's summary lines (see the module's docstring) that the top of the
    extracted ``paragraphs`` does not hold, in reading order: dek, shown description,
    key points (one paragraph, an item per line). A line that only repeats one of
    the ``titles`` (an ``<h2>`` copy of the headline) is not a summary."""
    head = fold("\n".join(paragraphs[:_HEAD_PARAGRAPHS]))
    missing = dict.fromkeys(fold(title) for title in titles if title)  # never added
    for text in _candidates(tree, description, head):
        if text and (key := fold(text)) not in head and key not in missing:
            missing[key] = text
    return [text for text in missing.values() if text]
