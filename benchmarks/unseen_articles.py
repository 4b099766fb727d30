"""How much real article text the cleaner loses on articles it was never tuned on.

    .venv/bin/python -m benchmarks.unseen_articles [--articles 600] [--seed 1]

The cleaner's chrome rules and page rules were written while looking at the 80 Fundus
pages, so their F1 there says little about other sites. This measures the other side
of a rule: what it wrongly removes. Texts are news articles whose body is known
exactly: ``--articles`` each of BBC News (English) and the ANT corpus (Arabic: Al
Arabiya, BBC Arabic, CNN Arabic, France24, Sky News Arabia), read from
../shared/data/topics at run time. Two paths:

- **text**: the article as plain text, as a flattened page arrives, through
  ``clean_text`` (title split, leading and trailing chrome lines dropped);
- **html**: the article inside a page with the chrome news sites print, in the
  article's language (a menu, byline and date, share buttons; between paragraphs a
  captioned photo, a "read more" link and a "follow us" line; a newsletter sign-up, a
  comment counter, a "most read" box, a copyright footer), through ``clean_html``, the
  whole HTML path.

Scored with the extraction benchmark's metric (word 4-gram shingles, precision and
recall averaged over articles). Recall below 1 is article text dropped; precision below
1 is chrome kept. The corpora keep some of their sources' own separators ("-----") and
"read also" teasers inside the text; dropping those counts as lost recall here, so 1.0
is not reachable. The most often dropped paragraphs are listed to show what is lost.
The html pages also go through plain ``trafilatura.extract``, to show what the chrome
costs an extractor without the cleaner's rules; and, as "html <br>", with the story as
loose text broken by ``<br>`` instead of ``<p>`` elements, as many Arabic sites print it.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import trafilatura

from benchmarks.extraction import _SHARED_DIR
from services.cleaner.core import NotAnArticle, clean_html, clean_text
from services.cleaner.normalize import normalize
from services.cleaner.plaintext import split_paragraphs
from services.cleaner.scoring import page_counts, score

__all__ = ["main"]

_CORPORA = {"en": "bbc_en.jsonl.gz", "ar": "ant21_ar.jsonl.gz"}
_URL = "https://news.example/world/2024/story"


class _Chrome(NamedTuple):
    """Chrome as news sites print it around and inside the story."""

    menu: tuple[str, ...]
    byline: str
    date: str
    share: str
    inline: str  # a "read more" link between paragraphs
    follow: str  # a "follow us" line between paragraphs
    caption: str  # a photo between paragraphs, with its caption
    newsletter: str
    most_read: tuple[str, ...]  # heading, then teasers
    comments: str
    footer: str


_CHROME = {
    "en": _Chrome(
        menu=("Home", "World", "Business", "Sport", "Opinion"),
        byline="By Jane Doe, Staff Reporter",
        date="Published 3 March 2024",
        share="Share this article: Facebook Twitter WhatsApp Email",
        inline="Read more: Storm batters the coast as thousands lose power",
        follow="Follow us on Twitter and Facebook",
        caption="Crowds gathered outside the building on Monday. Photo: Reuters",
        newsletter="Sign up for our daily newsletter",
        most_read=("Most read", "Storm batters the coast", "Interest rates held again"),
        comments="Comments (0)",
        footer="© 2024 Example News. All rights reserved.",
    ),
    "ar": _Chrome(
        menu=("الرئيسية", "سياسة", "اقتصاد", "رياضة", "ثقافة"),
        byline="بقلم: عمر خالد",
        date="نشر في 17 سبتمبر 2016",
        share="شارك: فيسبوك تويتر واتساب",
        inline="اقرأ أيضا: العاصفة تضرب الساحل وآلاف المنازل بلا كهرباء",
        follow="تابعونا على تويتر وفيسبوك",
        caption="حشود أمام المبنى يوم الاثنين. تصوير: رويترز",
        newsletter="اشترك في النشرة البريدية",
        most_read=("الأكثر قراءة", "العاصفة تضرب الساحل", "تثبيت أسعار الفائدة مجددا"),
        comments="التعليقات (0)",
        footer="جميع الحقوق محفوظة © 2024",
    ),
}


def _page(title: str, paragraphs: Sequence[str], language: str) -> str:
    chrome, e = _CHROME[language], html.escape
    menu = "".join(f"<li><a href='/{n}'>{e(item)}</a></li>" for n, item in enumerate(chrome.menu))
    heading, *most_read = chrome.most_read
    teasers = "".join(f"<li><a href='/t{n}'>{e(t)}</a></li>" for n, t in enumerate(most_read))
    body = [f"<p>{e(p)}</p>" for p in paragraphs]
    # between paragraphs, as CMSs insert them: a photo, a "read more" link, a "follow us"
    figure = f"<figure><img src='/photo.jpg' alt=''><figcaption>{e(chrome.caption)}</figcaption>"
    body.insert(min(1, len(body)), f"{figure}</figure>")
    body.insert(min(3, len(body)), f"<p><a href='/related'>{e(chrome.inline)}</a></p>")
    body.insert(min(5, len(body)), f"<p>{e(chrome.follow)}</p>")
    direction = ' dir="rtl"' if language == "ar" else ""
    return (
        f'<!doctype html><html lang="{language}"{direction}><head><meta charset="utf-8">'
        f"<title>{e(title)} | Example News</title></head><body>"
        f"<header><nav><ul>{menu}</ul></nav></header><main><article>"
        f"<h1>{e(title)}</h1><p class='byline'>{e(chrome.byline)}</p>"
        f"<p class='date'>{e(chrome.date)}</p><div class='share'>{e(chrome.share)}</div>"
        f"{''.join(body)}<p class='newsletter'>{e(chrome.newsletter)}</p>"
        f"<div class='comments'>{e(chrome.comments)}</div></article>"
        f"<aside><h2>{e(heading)}</h2><ul>{teasers}</ul></aside></main>"
        f"<footer><p>{e(chrome.footer)}</p></footer></body></html>"
    )


def _page_with_breaks(title: str, paragraphs: Sequence[str], language: str) -> str:
    """The same page with the story as loose text and ``<br>`` breaks (common on Arabic
    sites) instead of ``<p>`` elements."""
    breaks = "<br><br>".join(html.escape(p) for p in paragraphs)
    slot = "story-goes-here"
    return _page(title, [slot], language).replace(f"<p>{slot}</p>", f"<div>{breaks}</div>")


def _from_text(title: str, paragraphs: Sequence[str], _language: str) -> str:
    return clean_text("\n\n".join([title, *paragraphs])).text


def _from_html(title: str, paragraphs: Sequence[str], language: str) -> str:
    return clean_html(_page(title, paragraphs, language), _URL).text


def _from_html_with_breaks(title: str, paragraphs: Sequence[str], language: str) -> str:
    return clean_html(_page_with_breaks(title, paragraphs, language), _URL).text


def _plain_trafilatura(title: str, paragraphs: Sequence[str], language: str) -> str:
    """The same pages through trafilatura alone, for comparison."""
    page = _page(title, paragraphs, language)
    return normalize(trafilatura.extract(page, url=_URL, include_tables=True) or "")


Cleaning = Callable[[str, Sequence[str], str], str]


def _articles(corpora: Path, language: str, count: int, seed: int) -> list[tuple[str, list[str]]]:
    with gzip.open(corpora / _CORPORA[language], "rt") as lines:
        rows = [json.loads(line) for line in lines]
    random.Random(seed).shuffle(rows)
    articles = []
    for row in rows:
        paragraphs = split_paragraphs(normalize(row["text"]))
        if paragraphs and paragraphs[0] == normalize(row["title"]):
            paragraphs = paragraphs[1:]  # some texts repeat their title first
        if sum(map(len, paragraphs)) >= 400:  # articles, not briefs ("text too short")
            articles.append((normalize(row["title"]), paragraphs))
        if len(articles) == count:
            break
    return articles


def _measure(
    name: str, path: Cleaning, language: str, articles: Sequence[tuple[str, list[str]]]
) -> None:
    counts, lost, rejected = [], Counter[str](), Counter[str]()
    for title, paragraphs in articles:
        try:
            text = path(title, paragraphs, language)
        except NotAnArticle as error:
            text = ""
            rejected[str(error).split(" (")[0]] += 1
        counts.append(page_counts("\n\n".join(paragraphs), text))
        kept = set(text.split("\n\n"))
        lost.update(p[:70] for p in paragraphs if p not in kept)
    result = score(counts)
    print(
        f"{language} {name:<16} {len(articles)} articles  precision={result.precision:.4f} "
        f"recall={result.recall:.4f} F1={result.f1:.4f}  not an article: {dict(rejected)}"
    )
    for paragraph, times in lost.most_common(5):
        print(f"    dropped {times}x: {paragraph!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600, help="articles per language")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, default=_SHARED_DIR / "data" / "topics", help="corpora directory"
    )
    args = parser.parse_args(argv)
    for language in _CORPORA:
        articles = _articles(args.data, language, args.articles, args.seed)
        _measure("text", _from_text, language, articles)
        _measure("html", _from_html, language, articles)
        _measure("trafilatura html", _plain_trafilatura, language, articles)
        _measure("html <br>", _from_html_with_breaks, language, articles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
