"""The real Arabic seed page, as flattened text and wrapped in realistic site chrome.

The seed is read from the shared seeds directory at test time (it is not part of
the repository); these tests are skipped when it is absent.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.cleaner.core import Extracted, clean, clean_html, clean_text
from tests.paths import SEED as SEED_PATH

SEED_TITLE = "لافروف يطلب مشاركة عسكريين أمريكيين في مراقبة الهدنة في سوريا"
SEED_SUBHEADINGS = ("نشر الوثائق المرتبطة بوقف إطلاق النار", "المساعدات الإنسانية")
# First word(s) of the seven body paragraphs, in order.
SEED_PARAGRAPH_STARTS = (
    "قالت",
    "وأضافت",
    "وكان الرئيس",
    "من جهته",
    "وأكد",
    "وكان المتحدث",
    "وتابع",
)
# Chrome the seed page carries after the story, and what the HTML version adds.
SEED_CHROME = ("التعليقات", "الأكثر قراءة", "أهم المواضيع", "أهم التصنيفات")
SITE_NAME = "الخليج الجديد"


@dataclass(frozen=True, slots=True)
class Seed:
    text: str  # the file as it is
    blocks: list[str]  # the story's paragraphs and subheadings, in order, without the title


@pytest.fixture(scope="session")
def seed() -> Seed:
    if not SEED_PATH.is_file():
        pytest.skip(f"seed file {SEED_PATH} is not available")
    text = SEED_PATH.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    end = next(i for i, line in enumerate(lines) if line.startswith("التعليقات"))
    blocks = [line for line in lines[:end] if line != SEED_TITLE]
    return Seed(text=text, blocks=blocks)


def _story_html(blocks: list[str]) -> str:
    return "\n".join(
        f"<h2>{html.escape(b)}</h2>" if b in SEED_SUBHEADINGS else f"<p>{html.escape(b)}</p>"
        for b in blocks
    )


def _headline_list(headlines: list[str]) -> str:
    items = "".join(f'<li><a href="/news/{i}">{h}</a></li>' for i, h in enumerate(headlines))
    return f"<ul>{items}</ul>"


@pytest.fixture(scope="session")
def seed_page(seed: Seed) -> str:
    """The seed story inside an Arabic news site's usual furniture."""
    nav = "".join(
        f'<li><a href="/{slug}">{name}</a></li>'
        for slug, name in (("", "الرئيسية"), ("politics", "سياسة"), ("economy", "اقتصاد"),
                           ("sports", "رياضة"), ("culture", "ثقافة"))
    )  # fmt: skip
    most_read = _headline_list(
        [
            "الجيش السوري يعلن انتهاء الهدنة بعد سبعة أيام من التوتر في حلب",
            "أسعار النفط ترتفع بعد اتفاق أوبك على خفض الإنتاج في الجزائر",
            "مجلس الأمن يعقد جلسة طارئة لبحث الأوضاع الإنسانية في سوريا",
        ]
    )
    topics = _headline_list(["سوريا", "روسيا", "الهدنة"])
    categories = _headline_list(["عربي", "دولي"])
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{SEED_TITLE} | {SITE_NAME}</title>
<meta property="og:title" content="{SEED_TITLE} | {SITE_NAME}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:locale" content="ar_AR">
<meta name="description"
      content="لافروف يطلب من كيري مشاركة عسكريين أمريكيين في مراقبة الهدنة في سوريا.">
<meta property="article:published_time" content="2016-09-17T14:30:00+03:00">
</head><body>
<header><a class="logo" href="/">{SITE_NAME}</a><nav><ul>{nav}</ul></nav>
<form role="search"><input type="search" placeholder="بحث"></form></header>
<main>
<article>
<h1>{SEED_TITLE}</h1>
<div class="meta"><span class="author">وكالات</span>
<time datetime="2016-09-17T14:30:00+03:00">17 سبتمبر 2016</time></div>
{_story_html(seed.blocks)}
</article>
<div class="comments"><h3>التعليقات (0)</h3><span class="count">0</span></div>
<aside class="most-read"><h3>الأكثر قراءة</h3>{most_read}</aside>
<section class="topics"><h3>💡 أهم المواضيع</h3>{topics}</section>
<section class="categories"><h3>✨ أهم التصنيفات</h3>{categories}</section>
</main>
<footer><p>© 2016 {SITE_NAME}. جميع الحقوق محفوظة.</p>
<ul><li><a href="/about">من نحن</a></li><li><a href="/contact">اتصل بنا</a></li></ul></footer>
</body></html>"""


def _paragraphs(result: Extracted) -> list[str]:
    return result.text.split("\n\n")


def _assert_seed_article(result: Extracted, seed: Seed) -> None:
    paragraphs = _paragraphs(result)
    assert result.title == SEED_TITLE
    assert SEED_TITLE not in result.text
    body = [p for p in paragraphs if p not in SEED_SUBHEADINGS]
    assert [p.split()[0] for p in body] == [s.split()[0] for s in SEED_PARAGRAPH_STARTS]
    for start in SEED_PARAGRAPH_STARTS:
        assert sum(p.startswith(start) for p in paragraphs) == 1, start
    for subheading in SEED_SUBHEADINGS:
        assert paragraphs.count(subheading) == 1, subheading  # a paragraph of its own
    # In the original order, with the seed's own words.
    assert paragraphs == [" ".join(block.split()) for block in seed.blocks]
    for chrome in SEED_CHROME:
        assert chrome not in result.text
    assert "0" not in paragraphs


class TestSeedArticle:
    def test_plain_text(self, seed: Seed) -> None:
        result = clean_text(seed.text)

        _assert_seed_article(result, seed)
        assert result.method == "plaintext"

    def test_html_page_with_site_chrome(self, seed: Seed, seed_page: str) -> None:
        result = clean_html(seed_page, "https://thenewkhalij.news/article/lavrov-truce")

        _assert_seed_article(result, seed)
        for chrome in ("الرئيسية", "اقتصاد", "رياضة", "جميع الحقوق", "©", "أسعار النفط"):
            assert chrome not in result.text
        assert result.method == "trafilatura"
        assert result.language_hint == "ar"
        assert result.site_name == SITE_NAME
        assert result.published_at == datetime(2016, 9, 17, 11, 30, tzinfo=UTC)
        assert result.description is not None

    def test_clean_sniffs_both_forms(self, seed: Seed, seed_page: str) -> None:
        assert clean(seed.text).method == "plaintext"
        assert clean(seed_page).method.startswith("trafilatura")
        assert clean(seed_page).text == clean(seed.text).text
