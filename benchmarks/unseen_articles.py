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
- **html**: the article inside a page with common chrome (a menu, a byline, a "Most
  read" box, a copyright footer) through ``clean_html``, the whole HTML path.

Scored with the extraction benchmark's metric (word 4-gram shingles, precision and
recall averaged over articles). Recall below 1 is article text dropped; precision below
1 is chrome kept. The corpora keep some of their sources' own separators ("-----") and
"read also" teasers inside the text; dropping those counts as lost recall here, so 1.0
is not reachable. The most often dropped paragraphs are listed to show what is lost.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence

from benchmarks.extraction import _SHARED_DIR
from services.cleaner.core import NotAnArticle, clean_html, clean_text
from services.cleaner.normalize import normalize
from services.cleaner.plaintext import split_paragraphs
from services.cleaner.scoring import page_counts, score

__all__ = ["main"]

_CORPORA = {"en": "bbc_en.jsonl.gz", "ar": "ant21_ar.jsonl.gz"}
_URL = "https://news.example/world/2024/story"


def _page(title: str, paragraphs: Sequence[str], language: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{language}"><head><title>{html.escape(title)} | '
        "Example News</title></head><body><header><nav><a href='/'>Home</a> "
        "<a href='/world'>World</a> <a href='/business'>Business</a></nav></header>"
        f"<main><article><h1>{html.escape(title)}</h1><p class='byline'>By Jane Doe</p>"
        f"{body}</article><aside><h2>Most read</h2><ul><li><a href='/a'>Storm hits the "
        "coast</a></li><li><a href='/b'>Rates held again</a></li></ul></aside></main>"
        "<footer><p>© 2024 Example News. All rights reserved.</p></footer></body></html>"
    )


def _from_text(title: str, paragraphs: Sequence[str], _language: str) -> str:
    return clean_text("\n\n".join([title, *paragraphs])).text


def _from_html(title: str, paragraphs: Sequence[str], language: str) -> str:
    return clean_html(_page(title, paragraphs, language), _URL).text


Cleaning = Callable[[str, Sequence[str], str], str]


def _articles(language: str, count: int, seed: int) -> list[tuple[str, list[str]]]:
    with gzip.open(_SHARED_DIR / "data" / "topics" / _CORPORA[language], "rt") as lines:
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
        f"{language} {name:<5} {len(articles)} articles  precision={result.precision:.4f} "
        f"recall={result.recall:.4f} F1={result.f1:.4f}  not an article: {dict(rejected)}"
    )
    for paragraph, times in lost.most_common(5):
        print(f"    dropped {times}x: {paragraph!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600, help="articles per language")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for language in _CORPORA:
        articles = _articles(language, args.articles, args.seed)
        _measure("text", _from_text, language, articles)
        _measure("html", _from_html, language, articles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
